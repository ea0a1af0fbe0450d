#!/bin/bash
# SPDX-License-Identifier: MIT
# What Python frames cost (issue 15): tests/bench/pywork.py (a fixed
# amount of pure-Python work under a 20-deep Python call stack) under
# Debian's python3.11, pinned to CPU 0, alone, under `scorch record -F 999
# -C 0 --no-python` and under `scorch record -F 999 -C 0` (Python frames
# walked).  Interleaved, rotated every repetition.  Per configuration: the
# workload's CPU seconds (its slowdown against alone), the sampler's
# nanoseconds per run from the kernel's BPF statistics
# (kernel.bpf_stats_enabled, read mid-run; every sample on CPU 0 is the
# workload's), and the verifier's figures for the sampling program
# (record -v).
#
#   python_cost.sh BUILD_DIR [REPS [MILLION_ITERATIONS]]   (defaults 5 and 60: ~2.5 s)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=${1:?usage: python_cost.sh BUILD_DIR [REPS [MILLION_ITERATIONS]]}
reps=${2:-5} million=${3:-60}
SCORCH=$build/scorch PY=/usr/bin/python3.11
WORK=${BENCH_TMP:-/tmp/scorch-bench/python}
[ -x "$SCORCH" ] || die "build scorch in $build first"
[ -x "$PY" ] || die "no $PY (apt-get install python3.11)"
need_tool bpftool
mkdir -p "$WORK"
out=$WORK/runs.txt
echo "rep config what value load" >"$out"
stats_before=$(cat /proc/sys/kernel/bpf_stats_enabled)
echo 1 >/proc/sys/kernel/bpf_stats_enabled
trap 'echo "$stats_before" >/proc/sys/kernel/bpf_stats_enabled' EXIT

# run_time_ns and run_cnt of the running sampler.
prog_stats() {
	{ bpftool prog show name on_sample 2>/dev/null || true; } |
		sed -n 's/.*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \2/p' | head -1  || true
}

run_one() {
	local rep=$1 cfg=$2 load v a b flags
	load=$(loadavg)
	if [ "$cfg" = base ]; then
		v=$(taskset -c 0 "$PY" "$here/pywork.py" "$million")
	else
		flags=""
		[ "$cfg" = nopy ] && flags=--no-python
		# shellcheck disable=SC2086 # one flag or none
		taskset -c 0 "$SCORCH" record -v -F 999 -C 0 $flags -o "$WORK/x.folded" -- "$PY" "$here/pywork.py" "$million" \
			>"$WORK/v.out" 2>"$WORK/$cfg.err" &
		local pid=$!
		sleep 0.5
		a=$(prog_stats)
		sleep 1
		b=$(prog_stats)
		wait "$pid"
		v=$(cat "$WORK/v.out")
		if [ -n "$a" ] && [ -n "$b" ]; then
			echo "$rep $cfg ns_per_run $(echo "$a $b" | awk '{ printf "%.0f", ($3 - $1) / ($4 - $2) }') $load" >>"$out"
		fi
		sed -n 's/.*BPF object loaded in \([0-9.]*\) ms; sampler verified in \([0-9.]*\) ms, \([0-9]*\) instructions.*/\1 \2 \3/p' \
			"$WORK/$cfg.err" | while read -r l vt n; do
			echo "$rep $cfg load_ms $l $load"
			echo "$rep $cfg verify_ms $vt $load"
			echo "$rep $cfg verified_insns $n $load"
		done >>"$out"
	fi
	echo "$rep $cfg cpu_s $v $load" >>"$out"
	log "rep $rep $cfg: $v CPU s, load $load"
}

interleave "$reps" base nopy py

cat "$out"
echo
base=$(awk '$2 == "base" && $3 == "cpu_s" { print $4 }' "$out" | median)
printf '%-6s %28s %9s %26s %22s %18s\n' config "workload CPU s min/median/max" "vs alone" "sampler ns/run min/med/max" \
	"verify ms min/med/max" "insns verified"
for cfg in base nopy py; do
	read -r mn md mx _ < <(awk -v k="$cfg" '$2 == k && $3 == "cpu_s" { print $4 }' "$out" | stats)
	ns=$(awk -v k="$cfg" '$2 == k && $3 == "ns_per_run" { print $4 }' "$out" | stats | awk '{ print $1 "/" $2 "/" $3 }')
	vt=$(awk -v k="$cfg" '$2 == k && $3 == "verify_ms" { print $4 }' "$out" | stats | awk '{ print $1 "/" $2 "/" $3 }')
	ni=$(awk -v k="$cfg" '$2 == k && $3 == "verified_insns" { print $4 }' "$out" | median)
	printf '%-6s %28s %9s %26s %22s %18s\n' "$cfg" "$mn/$md/$mx" "$(awk -v m="$md" -v b="$base" 'BEGIN { printf "%.3f", m / b }')" \
		"${ns:--}" "${vt:--}" "${ni:--}"
done
echo "load average (1 min) at the end: $(loadavg), $(nproc) CPUs"
