#!/bin/bash
# SPDX-License-Identifier: MIT
# Record overhead: a workload alone and under each profiler, the
# configurations interleaved and their order rotated every repetition.
# Appends one row per run to OUT (a table with a header line).
#
#   record_overhead.sh OUT REPS SECS CONFIG...
#
# CONFIG: base, scorch[fp|dwarf]HZ (scorch record -F HZ [--unwind fp|dwarf];
# no mode: the default, auto), perfHZ (perf record -g), perfdwarfHZ (perf
# record --call-graph dwarf), bpftraceHZ, bccHZ.  Environment: SCORCH, SHAPE,
# HELPER (record_helper), WORK (scratch directory), BCC_KERNEL_SOURCE for bcc,
# WORKLOAD (default shape; or xz, python, sqlite: fixed-work Debian programs
# whose inputs prepare_workload in lib.sh makes, sized by SECS).
#
# Workload shape (the known-shape sample, `shape SECS`, spins for a fixed
# amount of its own CPU time):
# Why rounds and not wall time: shape stops after SECS of its own CPU time,
# and this kernel charges interrupt time (the sampling handler and its BPF
# program) to the interrupted task, so the profiler's cost shows up as fewer
# rounds of work per CPU-second, while its wall time stays near SECS plus
# whatever other load the machine has.  Work rate = rounds / workload CPU s.
# The other workloads do a fixed amount of work, so their cost shows directly
# as more wall time and more workload CPU time (rounds and rate are "-").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

out=$1 reps=$2 secs=$3
shift 3
configs=("$@")
: "${SCORCH:?}" "${SHAPE:?}" "${HELPER:?}" "${WORK:?}"
ncpu=$(nproc)
mkdir -p "$WORK"
WORKLOAD=${WORKLOAD:-shape}
prepare_workload "$WORKLOAD" "$secs" "$WORK/input" # sets WCMD

[ -s "$out" ] || echo "rep config wall cpu rounds rate e2e prof_cpu prof_rss_kb samples lost attach_ms load status" >"$out"

# Launching profilers: PROFILER ... -- helper run -- shape.  The outer helper
# measures the profiler plus the inner helper; the inner one measures shape
# (and itself), so the profiler's own CPU is the difference.
run_launcher() {
	local d=$1
	shift
	"$HELPER" run -o "$d/outer" -- "$@" -- "$HELPER" run -o "$d/inner" -- "${WCMD[@]}" \
		>"$d/work.out" 2>"$d/prof.err" || echo "exit $?" >>"$d/fail"
}

# Attaching profilers: shape is forked stopped (its pid known), the profiler
# started on that pid and shape released once the profiler holds its
# perf_event fds; the profiler gets SIGINT when shape has exited.
run_attached() {
	local d=$1 ready_fds=$2 wpid ppid hpid shpid
	shift 2
	"$HELPER" run -o "$d/inner" -p "$d/wpid" -g -- "${WCMD[@]}" >"$d/work.out" &
	shpid=$!
	wait_file "$d/wpid" 10 || { echo "workload did not start" >>"$d/fail"; return; }
	wpid=$(cat "$d/wpid")
	local cmd=()
	for a in "$@"; do cmd+=("${a//@PID@/$wpid}"); done
	env --default-signal=INT PYTHONUNBUFFERED=1 \
		"$HELPER" run -o "$d/outer" -p "$d/ppid" -r "$ready_fds:$d/ready" -- "${cmd[@]}" \
		>"$d/prof.out" 2>"$d/prof.err" &
	hpid=$!
	if ! wait_file "$d/ready" 60; then
		echo "profiler never attached: $(head -c 300 "$d/prof.err")" >>"$d/fail"
	fi
	sleep 0.02 # the last perf_event fd is open; let its attach ioctl land
	kill -CONT "$wpid"
	wait "$shpid" || echo "workload exit $?" >>"$d/fail"
	ppid=$(cat "$d/ppid" 2>/dev/null || echo)
	if [ -n "$ppid" ] && ! wait_gone "$ppid" INT 60; then
		echo "profiler ignored SIGINT for 60 s, killed" >>"$d/fail"
	fi
	wait "$hpid" || true
}

# parse CONFIG DIR: prints "samples lost" for the run in DIR.
parse() {
	local cfg=$1 d=$2
	case $cfg in
	scorch*)
		sed -n 's/^scorch: \([0-9]*\) samples.* \([0-9]*\) lost.*/\1 \2/p' "$d/prof.err" | tail -1
		;;
	perf*)
		local n lost
		n=$(sed -n 's/.*(\([0-9]*\) samples).*/\1/p' "$d/prof.err" | tail -1)
		lost=$(perf report -i "$d/perf.data" --stats 2>/dev/null |
			awk '/LOST(_SAMPLES)? events:/ { s += $3 } END { print s + 0 }')
		echo "${n:--} ${lost:--}"
		;;
	bpftrace*)
		# @[ USTACK, KSTACK]: N -- a sample whose user stack is empty lost
		# it (shape never runs without a user stack); an empty kernel
		# stack is just a sample taken in user mode.
		awk '
			/^@\[/ { ent = 1; inu = 1; uf = 0; sub(/^@\[/, "") }
			ent {
				if (inu) { if ($0 ~ /^,( |$)/) inu = 0; else if ($0 ~ /[^ ]/) uf++ }
				if (match($0, /\]: [0-9]+$/)) {
					c = substr($0, RSTART + 3) + 0; tot += c
					if (uf == 0) lost += c
					ent = 0
				}
			}
			END { print tot + 0, lost + 0 }' "$d/prof.out"
		;;
	bcc*)
		# folded lines end in a count; bcc writes [Missed User Stack] /
		# [Missed Kernel Stack] where get_stackid failed (not -EFAULT).
		awk '
			/^[^ ].* [0-9]+$/ { c = $NF; tot += c; if (/\[Missed (User|Kernel) Stack\]/) lost += c }
			END { print tot + 0, lost + 0 }' "$d/prof.out"
		;;
	*) echo "- -" ;;
	esac
}

run_one() {
	local rep=$1 cfg=$2 d=$WORK/run
	local load wall cpu rounds rate e2e pcpu prss samples lost attach status
	rm -rf "$d"
	mkdir -p "$d"
	load=$(loadavg)
	case $cfg in
	base) "$HELPER" run -o "$d/inner" -- "${WCMD[@]}" >"$d/work.out" || echo "exit $?" >>"$d/fail" ;;
	scorchp*) # attached to the running workload, as bpftrace and bcc
		run_attached "$d" "$ncpu" "$SCORCH" record -F "${cfg#scorchp}" -p @PID@ -o "$d/x.folded"
		;;
	scorch*)
		local mode=${cfg#scorch} unwind=()
		mode=${mode%%[0-9]*}
		[ -z "$mode" ] || unwind=(--unwind "$mode")
		run_launcher "$d" "$SCORCH" record "${unwind[@]}" -F "${cfg##*[!0-9]}" -o "$d/x.folded"
		;;
	perfdwarf*) run_launcher "$d" perf record -F "${cfg#perfdwarf}" --call-graph dwarf -e cpu-clock -o "$d/perf.data" ;;
	perf*) run_launcher "$d" perf record -F "${cfg#perf}" -g -e cpu-clock -o "$d/perf.data" ;;
	bpftrace*)
		run_attached "$d" $((2 * ncpu)) bpftrace -B line \
			-e "profile:hz:${cfg#bpftrace} /pid == @PID@/ { @[ustack, kstack] = count(); }"
		;;
	bcc*) run_attached "$d" "$ncpu" profile-bpfcc -F "${cfg#bcc}" -f -p @PID@ ;;
	*) die "unknown config $cfg" ;;
	esac
	wall=$(field "$d/inner" 1)
	cpu=$(field "$d/inner" 2)
	rounds=$(sed -n 's/^shape: \([0-9]*\) rounds/\1/p' "$d/work.out" | tail -1)
	rounds=${rounds:--}
	[ "$WORKLOAD" = shape ] || rounds=-
	rate=-
	if [ "$rounds" != - ] && [ "$cpu" != - ]; then
		rate=$(awk -v r="$rounds" -v c="$cpu" 'BEGIN { printf "%.2f", r / c }')
	fi
	e2e=- pcpu=- prss=- attach=-
	case $cfg in
	base) ;;
	scorchp*) # attached: the profiler's rusage is its own
		pcpu=$(field "$d/outer" 2)
		prss=$(field "$d/outer" 5)
		attach=$(field "$d/ready" 1)
		;;
	scorch* | perf*)
		e2e=$(field "$d/outer" 1)
		pcpu=$(awk -v o="$(field "$d/outer" 2)" -v i="$cpu" 'BEGIN { printf "%.4f", o - i }')
		prss=$(field "$d/outer" 5)
		;;
	*)
		pcpu=$(field "$d/outer" 2)
		prss=$(field "$d/outer" 5)
		attach=$(field "$d/ready" 1)
		;;
	esac
	read -r samples lost < <(parse "$cfg" "$d") || true
	status=ok
	if [ -e "$d/fail" ]; then
		status=fail
		log "$cfg rep $rep: $(tr '\n' ' ' <"$d/fail")"
		mkdir -p "$WORK/failed"
		cp -r "$d" "$WORK/failed/$cfg-$rep"
	fi
	echo "$rep $cfg $wall $cpu $rounds $rate $e2e $pcpu $prss ${samples:--} ${lost:--} $attach $load $status" >>"$out"
	log "$WORKLOAD rep $rep $cfg: wall $wall s, $rounds rounds, profiler cpu $pcpu s, rss $prss KiB, samples ${samples:--}, lost ${lost:--}"
}

interleave "$reps" "${configs[@]}"
