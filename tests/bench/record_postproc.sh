#!/bin/bash
# SPDX-License-Identifier: MIT
# Post-processing: the time from the end of a system-wide recording to its
# output written.  A busy workload (python3 running a pure-Python loop, plus
# whatever else the machine runs) is started, then the profiler records every
# CPU at HZ; once it holds one perf_event per CPU it runs for SECS more, gets
# SIGINT, and the time from that SIGINT to its exit is the post-processing
# (symbolization, the model and the writer for scorch; for perf record,
# finishing perf.data and collecting build-ids).  perf then needs `perf
# script` plus a collapse to folded (perf_collapse.awk, one count a sample),
# timed separately.  Configurations interleaved, order rotated every
# repetition.
#
#   record_postproc.sh OUT REPS SECS HZ CONFIG...
#
# CONFIG: folded, svg, pprof (scorch record -o x.folded / x.svg / x.pb.gz),
# perf (perf record -a -g, perf script, collapse).  Environment: SCORCH,
# HELPER, WORK.  Appends "rep config post_s script_s total_s prof_cpu
# prof_rss_kb samples stacks out_bytes load status" rows to OUT (script_s:
# perf script + collapse, - for scorch; total_s = post_s + script_s).
#
# scorch does not report its own post-processing time, so it is measured
# from outside: SIGINT to exit.  Peak RSS and CPU are the whole process's
# (recording and post-processing together).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

out=$1 reps=$2 secs=$3 hz=$4
shift 4
configs=("$@")
: "${SCORCH:?}" "${HELPER:?}" "${WORK:?}"
ncpu=$(nproc)
mkdir -p "$WORK"
[ -s "$out" ] || echo "rep config post_s script_s total_s prof_cpu prof_rss_kb samples stacks out_bytes load status" >"$out"

now() { date +%s.%N; }

run_one() {
	local rep=$1 cfg=$2 d=$WORK/post busy ppid hpid t0 t1 t2 post script=- total samples=- stacks=- bytes=- status=ok load
	rm -rf "$d"
	mkdir -p "$d"
	load=$(loadavg)
	/usr/bin/python3 -c "
import time
def f(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s
t = time.time()
while time.time() - t < $secs + 60: f(10000)" &
	busy=$!
	local cmd
	case $cfg in
	folded | svg) cmd=("$SCORCH" record -F "$hz" -o "$d/x.$cfg") ;;
	pprof) cmd=("$SCORCH" record -F "$hz" -o "$d/x.pb.gz") ;;
	perf) cmd=(perf record -a -g -F "$hz" -e cpu-clock -o "$d/perf.data") ;;
	*) die "unknown config $cfg" ;;
	esac
	env --default-signal=INT "$HELPER" run -o "$d/outer" -p "$d/ppid" -r "$ncpu:$d/ready" -- "${cmd[@]}" \
		>"$d/prof.out" 2>"$d/prof.err" &
	hpid=$!
	wait_file "$d/ready" 60 || echo "profiler never attached: $(head -c 300 "$d/prof.err")" >>"$d/fail"
	sleep "$secs"
	ppid=$(cat "$d/ppid")
	t0=$(now)
	wait_gone "$ppid" INT 300 || echo "profiler ignored SIGINT, killed" >>"$d/fail"
	local rc=0
	wait "$hpid" || rc=$?
	# perf record exits 130 after SIGINT, having written perf.data
	[ "$rc" = 0 ] || { [ "$cfg" = perf ] && [ "$rc" = 130 ]; } || echo "profiler exit $rc" >>"$d/fail"
	t1=$(now)
	kill "$busy" 2>/dev/null || true
	wait "$busy" 2>/dev/null || true
	post=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	case $cfg in
	perf)
		"$HELPER" run -o "$d/script" -- sh -c \
			'perf script -i "$1" -F comm,ip,sym,dso 2>/dev/null | LC_ALL=C awk -f "$2" >"$3"' \
			sh "$d/perf.data" "$here/perf_collapse.awk" "$d/x.folded" || echo "perf script failed" >>"$d/fail"
		t2=$(now)
		script=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
		samples=$(sed -n 's/.*(\([0-9]*\) samples).*/\1/p' "$d/prof.err" | tail -1)
		stacks=$(wc -l <"$d/x.folded")
		bytes=$(stat -c %s "$d/x.folded")
		;;
	*)
		read -r samples stacks < <(sed -n 's/^scorch: \([0-9]*\) samples.*, \([0-9]*\) unique stacks.*/\1 \2/p' "$d/prof.err" | tail -1) || true
		bytes=$(stat -c %s "$d"/x.* 2>/dev/null || echo -)
		;;
	esac
	total=$(awk -v a="$post" -v b="$script" 'BEGIN { printf "%.3f", a + (b == "-" ? 0 : b) }')
	if [ -e "$d/fail" ]; then
		status=fail
		log "post $cfg rep $rep: $(tr '\n' ' ' <"$d/fail")"
		mkdir -p "$WORK/failed"
		cp -r "$d" "$WORK/failed/post-$cfg-$rep"
	fi
	echo "$rep $cfg $post $script $total $(field "$d/outer" 2) $(field "$d/outer" 5) ${samples:--} ${stacks:--} $bytes $load $status" >>"$out"
	log "post rep $rep $cfg: SIGINT to exit $post s, perf script + collapse $script s, ${samples:--} samples, ${stacks:--} stacks, rss $(field "$d/outer" 5) KiB"
}

interleave "$reps" "${configs[@]}"
