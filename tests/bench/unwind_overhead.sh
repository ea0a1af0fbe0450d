#!/bin/bash
# SPDX-License-Identifier: MIT
# Unwinding overhead (issue 5): the known-shape sample built without frame
# pointers (shape_nofp, which spins for a fixed amount of its own CPU time)
# alone, under `scorch record --unwind fp`, `--unwind dwarf` and `perf
# record --call-graph dwarf`, at 99 and 999 Hz, the configurations
# interleaved and their order rotated every repetition.  As in
# record_overhead.sh, the profiler's cost shows as fewer rounds of work per
# CPU-second of the workload (the kernel charges the sampling interrupt and
# its BPF program to the interrupted task); the profiler's own CPU is the
# outer helper's minus the workload's.
#
#   unwind_overhead.sh BUILD_DIR [REPS [SECS]]     (defaults 5 and 3)
#
# Prints one row per run, then per configuration: median work rate, slowdown
# against the baseline, profiler CPU, samples, and profiler CPU per 1,000
# samples (for perf: `perf record` only; its unwinding happens later, in
# `perf report`, whose CPU for one run is printed at the end).  Measures only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=${1:?usage: unwind_overhead.sh BUILD_DIR [REPS [SECS]]}
reps=${2:-5} secs=${3:-3}
SCORCH=$build/scorch SHAPE=$build/samples/shape_nofp
WORK=${BENCH_TMP:-/tmp/scorch-bench/unwind}
HELPER=$WORK/record_helper
[ -x "$SCORCH" ] && [ -x "$SHAPE" ] || die "build scorch and shape_nofp in $build first"
command -v perf >/dev/null || die "perf not found (apt-get install linux-perf)"
mkdir -p "$WORK"
cc -O2 -o "$HELPER" "$here/record_helper.c" || die "cannot build record_helper"
out=$WORK/runs.txt
echo "rep config rate prof_cpu samples load" >"$out"

configs=(base fp99 dwarf99 perfdwarf99 fp999 dwarf999 perfdwarf999)

run_one() {
	local rep=$1 cfg=$2 d=$WORK/run hz
	rm -rf "$d"
	mkdir -p "$d"
	hz=${cfg//[!0-9]/}
	local load
	load=$(loadavg)
	case $cfg in
	base) "$HELPER" run -o "$d/inner" -- "$SHAPE" "$secs" >"$d/work.out" ;;
	fp* | dwarf*)
		"$HELPER" run -o "$d/outer" -- "$SCORCH" record --unwind "${cfg%%[0-9]*}" -F "$hz" -o "$d/x.folded" \
			-- "$HELPER" run -o "$d/inner" -- "$SHAPE" "$secs" >"$d/work.out" 2>"$d/prof.err"
		;;
	perfdwarf*)
		"$HELPER" run -o "$d/outer" -- perf record -F "$hz" --call-graph dwarf -e cpu-clock -o "$d/perf.data" \
			-- "$HELPER" run -o "$d/inner" -- "$SHAPE" "$secs" >"$d/work.out" 2>"$d/prof.err"
		;;
	esac
	local cpu rounds rate pcpu=- samples=-
	cpu=$(field "$d/inner" 2)
	rounds=$(sed -n 's/^shape: \([0-9]*\) rounds/\1/p' "$d/work.out" | tail -1)
	rate=$(awk -v r="$rounds" -v c="$cpu" 'BEGIN { printf "%.2f", r / c }')
	if [ "$cfg" != base ]; then
		pcpu=$(awk -v o="$(field "$d/outer" 2)" -v i="$cpu" 'BEGIN { printf "%.4f", o - i }')
		case $cfg in
		perf*) samples=$(sed -n 's/.*(\([0-9]*\) samples).*/\1/p' "$d/prof.err" | tail -1) ;;
		*) samples=$(sed -n 's/^scorch: \([0-9]*\) samples.*/\1/p' "$d/prof.err" | tail -1) ;;
		esac
	fi
	echo "$rep $cfg $rate $pcpu ${samples:--} $load" >>"$out"
	log "rep $rep $cfg: rate $rate rounds/cpu-s, profiler cpu $pcpu s, samples ${samples:--}, load $load"
	if [ "$cfg" = perfdwarf999 ] && [ "$rep" = 1 ]; then
		"$HELPER" run -o "$d/report" -- perf report -i "$d/perf.data" --stdio >/dev/null 2>&1 || true
		cp "$d/report" "$WORK/perf_report_999"
	fi
}

interleave "$reps" "${configs[@]}"

cat "$out"
base=$(col "$out" base rate | median)
echo
printf '%-13s %8s %9s %10s %8s %14s\n' config rate slowdown prof_cpu samples cpu_ms/1k_smp
for cfg in "${configs[@]}"; do
	rate=$(col "$out" "$cfg" rate | median)
	slow=$(awk -v r="$rate" -v b="$base" 'BEGIN { printf "%.1f%%", 100 * (1 - r / b) }')
	pcpu=$(col "$out" "$cfg" prof_cpu | median)
	smp=$(col "$out" "$cfg" samples | median)
	per=$(awk -v c="$pcpu" -v s="$smp" 'BEGIN { if (s + 0 > 0) printf "%.1f", 1e6 * c / s; else print "-" }')
	printf '%-13s %8s %9s %10s %8s %14s\n' "$cfg" "$rate" "$slow" "$pcpu" "$smp" "$per"
done
[ -s "$WORK/perf_report_999" ] &&
	echo "perf report (unwinds the 999 Hz run, rep 1): $(awk '{ print $2 }' "$WORK/perf_report_999") s CPU"
echo "load average (1 min) at the end: $(loadavg), $(nproc) CPUs shared with other work"
