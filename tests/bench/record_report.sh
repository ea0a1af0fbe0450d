#!/bin/bash
# SPDX-License-Identifier: MIT
# Writes the markdown report of the record benchmark to stdout from the rows
# of record_overhead.sh and record_firstsample.sh.
#
#   record_report.sh OVERHEAD.tsv FIRSTSAMPLE.tsv
#
# Environment (set by tests/bench/run): REPS SECS QUICK LOAD_BEFORE
# LOAD_AFTER BUSY TOP_BEFORE SKIPPED ELAPSED SCORCH_REV; REPORT_TAIL=0 leaves
# out the Skipped and Reproduce sections (bench_report.sh writes them after
# the other measurements).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ov=$1 fs=$2

label() {
	case $1 in
	base) echo "no profiler (baseline)" ;;
	scorchp*) echo "scorch record -F ${1#scorchp} -p PID" ;;
	scorch*) echo "scorch record -F ${1#scorch}" ;;
	perf*) echo "perf record -F ${1#perf} -g -e cpu-clock" ;;
	bpftrace*) echo "bpftrace profile:hz:${1#bpftrace}" ;;
	bcc*) echo "bcc profile-bpfcc -F ${1#bcc} -f" ;;
	*) echo "$1" ;;
	esac
}

# mmm FILE CONFIG FIELD FMT [SCALE]: "min / median / max" of FIELD over the
# config's successful runs, each value divided by SCALE.
mmm() {
	col "$1" "$2" "$3" | awk -v s="${5:-1}" '{ print $1 / s }' | stats |
		awk -v f="$4" '$4 == 0 { print "-"; exit } { printf f " / " f " / " f "\n", $1, $2, $3 }'
}
med() {
	col "$1" "$2" "$3" | median
}
okruns() {
	awk -v cfg="$2" 'NR > 1 && $2 == cfg && $NF == "ok"' "$1" | wc -l
}
allruns() {
	awk -v cfg="$2" 'NR > 1 && $2 == cfg' "$1" | wc -l
}

configs=$(awk 'NR > 1 && !seen[$2]++ { print $2 }' "$ov")
base_rate=$(med "$ov" base rate)
base_wall=$(med "$ov" base wall)

echo "# scorch benchmark suite"
echo
if [ "${QUICK:-0}" = 1 ]; then
	echo "**--quick run**: 2 repetitions of a short workload, scorch only. The figures only show that"
	echo "the suite works; do not quote them."
	echo
fi
echo "Written by \`tests/bench/run\` on $(date -u '+%Y-%m-%d %H:%M UTC') in ${ELAPSED:-?} s; scorch at ${SCORCH_REV:-?}."
echo
echo "## Machine"
echo
machine_info
echo "- Load average before the run: ${LOAD_BEFORE:-?}; after: ${LOAD_AFTER:-?}"
echo "- Whole machine busy on average during the run: ${BUSY:-?} % of one CPU (the benchmark itself"
echo "  keeps about 100 % busy: the workload, plus the profiler's own CPU)"
echo "- Busiest processes at the start: ${TOP_BEFORE:-?}"
# A run whose SECS of CPU took over 10 % longer in wall time waited for a CPU.
slowest=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
	$idx["wall"] != "-" && $idx["wall"] > m { m = $idx["wall"] } END { print m + 0 }' "$ov")
if [ "${BUSY:-0}" -gt 130 ] || awk -v w="$slowest" -v s="${SECS:-0}" 'BEGIN { exit !(s > 0 && w > 1.1 * s) }'; then
	echo
	echo "**The machine was shared during this run**: other work competed for the CPUs (the slowest"
	echo "workload run needed $(printf '%.2f' "$slowest") s of wall time for ${SECS:-?} s of CPU), so wall times and the profilers'"
	echo "CPU times are noisier than on a quiet machine. The work rate (rounds per CPU-second) is the"
	echo "figure least affected, but its baseline still spreads by a few per cent."
fi
echo
echo "## Method"
echo
echo "- Workload: \`samples/shape ${SECS:-?}\` (build/samples/shape), which spins until it has used ${SECS:-?} s"
echo "  of its own CPU time and prints how many rounds of work it did. ${REPS:-?} repetitions; every"
echo "  repetition runs each configuration once, in an order rotated by one each repetition."
echo "- This kernel charges interrupt time (the sampling handler and its BPF program) to the"
echo "  interrupted task (no IRQ time accounting), so a profiler's cost to the workload shows up as"
echo "  fewer rounds per CPU-second. **Slowdown = baseline's median work rate / the run's work rate**"
echo "  (1.000 = no cost). Wall time stays near ${SECS:-?} s plus any wait for a CPU."
echo "- scorch and perf launch the workload (\`PROFILER record ... -- shape\`); bpftrace and bcc"
echo "  attach to it: the workload is forked stopped, the profiler started on its pid, and the"
echo "  workload released once the profiler holds one perf_event per CPU; the profiler gets SIGINT"
echo "  (started with \`env --default-signal=INT\`, resent every 3 s) when the workload has exited."
echo "- Profiler CPU (user+sys) and peak RSS come from wait4() on the profiler (tests/bench/"
echo "  record_helper.c). For launching profilers the workload's own rusage (measured by a nested"
echo "  helper) is subtracted. They include start-up, sampling and writing the output; for perf"
echo "  they do not include \`perf script\` (symbolization), which perf leaves to a second step."
echo "  bpftrace and bcc symbolize user stacks at exit through /proc/PID, and the workload has"
echo "  exited by then, so they print raw addresses / [unknown] and spend no CPU on user symbols;"
echo "  scorch symbolizes everything."
echo "- Lost stacks: scorch's own count (stderr \"N lost\"); perf: LOST events in"
echo "  \`perf report --stats\`; bpftrace: samples whose user stack is empty (a failed"
echo "  get_stackid, or a sample inside the workload's execve); bcc: samples under"
echo "  [Missed User/Kernel Stack]."
echo "- Peak RSS is user memory only. BPF maps live in kernel memory and are not in it: scorch"
echo "  preallocates its stack and count tables (about 1.1 KiB a stack, sized from -F, CPUs and -d;"
echo "  64k stacks for a command without -d), bcc a 16k-entry stack map, bpftrace its own maps."
echo

echo "## Workload slowdown (shape ${SECS:-?}, ${REPS:-?} runs each)"
echo
echo "| configuration | ok runs | rounds per CPU-s (min / median / max) | slowdown vs baseline (min / median / max) | workload wall s (min / median / max) | wall vs baseline (median) |"
echo "|---|---|---|---|---|---|"
for c in $configs; do
	slow=$(col "$ov" "$c" rate | awk -v b="$base_rate" '{ print b / $1 }' | stats |
		awk '$4 == 0 { print "-"; exit } { printf "%.3f / %.3f / %.3f\n", $1, $2, $3 }')
	wr=$(med "$ov" "$c" wall | awk -v b="$base_wall" '$1 != "-" { printf "%.3f", $1 / b }')
	echo "| $(label "$c") | $(okruns "$ov" "$c")/$(allruns "$ov" "$c") | $(mmm "$ov" "$c" rate %.1f) | $slow | $(mmm "$ov" "$c" wall %.3f) | ${wr:--} |"
done
echo

sc_cpu=$(med "$ov" scorch999 prof_cpu)
echo "## Profiler cost (same runs)"
echo
echo "| configuration | own CPU s (min / median / max) | CPU vs scorch -F 999 (median) | peak RSS MiB (min / median / max) | samples (median) | lost stacks (min / median / max) | launch-to-attach ms (median) | end-to-end wall s (median) |"
echo "|---|---|---|---|---|---|---|---|"
for c in $configs; do
	[ "$c" = base ] && continue
	r=$(med "$ov" "$c" prof_cpu | awk -v s="${sc_cpu:--}" '$1 != "-" && s != "-" && s > 0 { printf "%.1fx", $1 / s }')
	echo "| $(label "$c") | $(mmm "$ov" "$c" prof_cpu %.3f) | ${r:--} | $(mmm "$ov" "$c" prof_rss_kb %.1f 1024) | $(med "$ov" "$c" samples) | $(mmm "$ov" "$c" lost %d) | $(med "$ov" "$c" attach_ms) | $(med "$ov" "$c" e2e | awk '{ print ($1 == "-") ? "-" : sprintf("%.3f", $1) }') |"
done
echo
echo "Launch-to-attach (bpftrace, bcc): from the fork of the profiler until it holds its perf_event"
echo "fds, polled every 2 ms (bpftrace: 2 per CPU, its output buffers and the probe; bcc: 1 per CPU)."
echo "End-to-end wall (scorch, perf): \`PROFILER record -- shape\` from exec to exit, against the"
echo "baseline's $(printf '%.3f' "${base_wall:-0}") s median."
echo

echo "## Launch to first sample (\`record -F 4999 -- shape 0.2\`, $(($(wc -l <"$fs") - 1)) runs)"
echo
echo "From just before the exec of the profiler to the workload's first instruction in main: the"
echo "profiler attaches before it releases the command, and the first sample follows within one"
echo "period (0.2 ms). Every run's profile was checked to hold samples."
echo
echo "| profiler | ok runs | ms (min / median / max) | vs scorch (median) | samples (median) |"
echo "|---|---|---|---|---|"
fs_sc=$(med "$fs" scorch ms)
for c in $(awk 'NR > 1 && !seen[$2]++ { print $2 }' "$fs"); do
	r=$(med "$fs" "$c" ms | awk -v s="$fs_sc" '$1 != "-" && s > 0 { printf "%.2fx", $1 / s }')
	echo "| $c record | $(okruns "$fs" "$c")/$(allruns "$fs" "$c") | $(mmm "$fs" "$c" ms %.1f) | ${r:--} | $(med "$fs" "$c" samples) |"
done
echo

echo "## Issue 2's and issue 27's targets, from the medians above"
echo
tgt() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
echo "| target | measured | met |"
echo "|---|---|---|"
yn() { awk "BEGIN { print ($1) ? \"yes\" : \"no\" }"; }
bt_cpu=$(med "$ov" bpftrace999 prof_cpu)
if [ "$bt_cpu" != - ] && [ "$sc_cpu" != - ]; then
	tgt "own CPU <= 1/4 of bpftrace's (999 Hz)" "$(printf '%.3f s vs %.3f s' "$sc_cpu" "$bt_cpu")" "$(yn "$sc_cpu <= $bt_cpu / 4")"
else
	tgt "own CPU <= 1/4 of bpftrace's (999 Hz)" "scorch $(printf '%.3f' "$sc_cpu") s; bpftrace not measured" "-"
fi
sp_cpu=$(med "$ov" scorchp999 prof_cpu)
if [ "$bt_cpu" != - ] && [ "$sp_cpu" != - ]; then
	tgt "own CPU attached with -p <= 1/4 of bpftrace's (999 Hz; issue 27)" "$(printf '%.3f s vs %.3f s' "$sp_cpu" "$bt_cpu")" "$(yn "$sp_cpu <= $bt_cpu / 4")"
fi
rss=$(col "$ov" scorch999 prof_rss_kb | stats | awk '{ printf "%.1f", $3 / 1024 }')
tgt "peak RSS < 20 MiB (999 Hz, worst run)" "$rss MiB" "$(yn "$rss < 20")"
tgt "launch to first sample < 50 ms" "$(printf '%.1f' "$fs_sc") ms" "$([ "$fs_sc" = - ] && echo - || yn "$fs_sc < 50")"
fs_pf=$(med "$fs" perf ms)
if [ "$fs_sc" != - ] && [ "$fs_pf" != - ]; then
	tgt "launch to first sample <= 1/4 of perf's (issue 27)" "$(printf '%.1f ms vs %.1f ms (%.2fx)' "$fs_sc" "$fs_pf" "$(awk -v a="$fs_sc" -v b="$fs_pf" 'BEGIN { print a / b }')")" "$(yn "$fs_sc <= $fs_pf / 4")"
fi
lost=$(col "$ov" scorch99 lost; col "$ov" scorch999 lost; col "$ov" scorch4999 lost)
lost=$(echo "$lost" | awk '{ s += $1 } END { print s + 0 }')
tgt "zero lost stacks (all scorch runs)" "$lost" "$(yn "$lost == 0")"
cheapest=
for c in perf999 bpftrace999 bcc999; do
	r=$(med "$ov" "$c" rate)
	[ "$r" = - ] && continue
	if [ -z "$cheapest" ] || awk -v a="$r" -v b="${cheapest#* }" 'BEGIN { exit !(a > b) }'; then
		cheapest="$c $r"
	fi
done
sr=$(med "$ov" scorch999 rate)
if [ -n "$cheapest" ] && [ "$sr" != - ]; then
	cs=$(awk -v b="$base_rate" -v r="${cheapest#* }" 'BEGIN { printf "%.3f", b / r }')
	ss=$(awk -v b="$base_rate" -v r="$sr" 'BEGIN { printf "%.3f", b / r }')
	tgt "slowdown <= the cheapest other tool's (999 Hz; 0.005 allowed for noise)" \
		"scorch $ss vs $(label "${cheapest%% *}") $cs" "$(yn "$ss <= $cs + 0.005")"
else
	tgt "slowdown <= the cheapest other tool's (999 Hz)" "no other tool measured" "-"
fi
echo

[ "${REPORT_TAIL:-1}" = 1 ] || exit 0
echo "## Skipped"
echo
if [ -n "${SKIPPED:-}" ]; then
	printf '%s' "$SKIPPED" | awk -F'|' 'NF { printf "- %s: %s\n", $1, $2 }'
else
	echo "Nothing: perf, bpftrace and bcc were all measured."
fi
fails=$(awk 'FNR > 1 && $NF != "ok" { n++ } END { print n + 0 }' "$ov" "$fs")
[ "$fails" = 0 ] || { echo; echo "$fails run(s) failed and are left out of the figures; see the bench log."; }
echo
echo "## Reproduce"
echo
echo '    sudo tests/bench/run            # full: 5 repetitions, perf, bpftrace and bcc installed if missing'
echo '    sudo tests/bench/run --quick    # 2 repetitions, scorch only (CI)'
echo
echo "Raw rows: \$BENCH_TMP/overhead.tsv and firstsample.tsv (default /tmp/scorch-bench/record)."
