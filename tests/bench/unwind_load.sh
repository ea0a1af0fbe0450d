#!/bin/bash
# SPDX-License-Identifier: MIT
# What loading the sampling BPF object costs with each --unwind mode: the
# whole bpf_object__load (maps created, vmlinux BTF read, programs verified),
# the verifier's own time on the sampling program and the instructions it
# processed, from `scorch record -v` (which asks the verifier for its
# statistics).  Modes interleaved, REPS runs each; min/median/max.
#
#   unwind_load.sh BUILD_DIR [REPS]      (default 10)
#
# Measures only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=${1:?usage: unwind_load.sh BUILD_DIR [REPS]}
reps=${2:-10}
work=${BENCH_TMP:-/tmp/scorch-bench}/load
mkdir -p "$work"
out=$work/load.tsv
echo "rep config load_ms verify_ms insns" >"$out"

run_one() {
	local rep=$1 cfg=$2 line
	"$build/scorch" record -v --unwind "$cfg" -o "$work/x.folded" -- true 2>"$work/err" >/dev/null ||
		die "--unwind $cfg: $(tail -3 "$work/err")"
	line=$(sed -n 's/.*BPF object loaded in \([0-9.]*\) ms; sampler verified in \([0-9.]*\) ms, \([0-9]*\) instructions.*/\1 \2 \3/p' "$work/err")
	[ -n "$line" ] || die "--unwind $cfg: no load figures in: $(cat "$work/err")"
	echo "$rep $cfg $line" >>"$out"
}

interleave "$reps" fp dwarf
printf '%-6s %-26s %-26s %s\n' mode "load ms (min med max)" "verifier ms (min med max)" "insns"
for m in fp dwarf; do
	read -r l1 l2 l3 _ < <(col "$out" "$m" load_ms | stats)
	read -r v1 v2 v3 _ < <(col "$out" "$m" verify_ms | stats)
	printf '%-6s %-26s %-26s %s\n' "$m" "$l1 $l2 $l3" "$v1 $v2 $v3" "$(col "$out" "$m" insns | median)"
done
echo "load average (1 min): $(loadavg), $(nproc) CPUs"
