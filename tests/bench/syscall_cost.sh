#!/bin/bash
# SPDX-License-Identifier: MIT
# What a profiler adds to every system call of the program it profiles
# (issue 14): syscall_loop makes getppid or 4 KiB pread calls on a cached
# file in a tight loop for SECS seconds and prints nanoseconds per call;
# it runs alone, under `scorch record` (default --unwind auto, whose hook
# on executable mmaps is the one thing here that touches system calls),
# `scorch record --unwind fp` (no such hook), and `perf record -g`, all at
# 99 Hz, the configurations interleaved and rotated every repetition.
# SCORCH_OLD=PATH adds another scorch binary (config `old`) to compare a
# change against the build before it, in the same run.
#
#   syscall_cost.sh BUILD_DIR [REPS [SECS]]       (defaults 5 and 2)
#
# Prints one row per run, then per configuration and call: min/median/max
# ns per call and the median's excess over the baseline.  Measures only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=${1:?usage: syscall_cost.sh BUILD_DIR [REPS [SECS]]}
reps=${2:-5} secs=${3:-2}
SCORCH=$build/scorch
WORK=${BENCH_TMP:-/tmp/scorch-bench/syscall}
[ -x "$SCORCH" ] || die "build scorch in $build first"
mkdir -p "$WORK"
LOOP=$WORK/syscall_loop
cc -O2 -o "$LOOP" "$here/syscall_loop.c" || die "cannot build syscall_loop"
head -c 4M /dev/zero >"$WORK/data"
cat "$WORK/data" >/dev/null
out=$WORK/runs.txt
echo "rep config call ns load" >"$out"

configs=(base auto fp)
[ -n "${SCORCH_OLD:-}" ] && configs+=(old)
command -v perf >/dev/null && configs+=(perf)

run_one() {
	local rep=$1 cfg=$2 call args ns load
	for call in getppid pread; do
		args=("$LOOP" "$call" "$secs")
		[ "$call" = pread ] && args+=("$WORK/data")
		load=$(loadavg)
		case $cfg in
		base) "${args[@]}" >"$WORK/loop.out" ;;
		auto) "$SCORCH" record -F 99 -o "$WORK/x.folded" -- "${args[@]}" >"$WORK/loop.out" 2>"$WORK/prof.err" ;;
		fp) "$SCORCH" record --unwind fp -F 99 -o "$WORK/x.folded" -- "${args[@]}" >"$WORK/loop.out" 2>"$WORK/prof.err" ;;
		old) "$SCORCH_OLD" record -F 99 -o "$WORK/x.folded" -- "${args[@]}" >"$WORK/loop.out" 2>"$WORK/prof.err" ;;
		perf) perf record -q -g -F 99 -e cpu-clock -o "$WORK/perf.data" -- "${args[@]}" >"$WORK/loop.out" 2>"$WORK/prof.err" ;;
		esac
		ns=$(awk '{ print $2 }' "$WORK/loop.out")
		echo "$rep $cfg $call $ns $load" >>"$out"
		log "rep $rep $cfg $call: $ns ns per call, load $load"
	done
}

interleave "$reps" "${configs[@]}"

cat "$out"
echo
printf '%-6s %-8s %24s %10s\n' config call "ns/call min/median/max" excess
for call in getppid pread; do
	base=$(awk -v c="$call" '$3 == c && $2 == "base" { print $4 }' "$out" | median)
	for cfg in "${configs[@]}"; do
		read -r mn md mx _ < <(awk -v c="$call" -v k="$cfg" '$3 == c && $2 == k { print $4 }' "$out" | stats)
		printf '%-6s %-8s %24s %10s\n' "$cfg" "$call" "$mn/$md/$mx" \
			"$(awk -v m="$md" -v b="$base" 'BEGIN { printf "%+.1f ns", m - b }')"
	done
done
echo "load average (1 min) at the end: $(loadavg), $(nproc) CPUs"
