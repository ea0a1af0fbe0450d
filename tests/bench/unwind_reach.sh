#!/bin/bash
# SPDX-License-Identifier: MIT
# Stack completeness on Debian binaries built without frame pointers (issue
# 5): `scorch record --unwind dwarf` and `perf record --call-graph dwarf`
# sample the same run (perf runs under scorch, which follows it and the
# workload), and each reports the share of the workload's samples whose stack
# reaches main's caller, __libc_start_call_main (xz and python3 are stripped,
# so main itself has no name), of the samples that have a user stack (see
# reach_folded).  Also prints the share with --unwind fp.
#
#   unwind_reach.sh BUILD_DIR [HZ]      (default 999)
#
# Workloads: `xz -9 -T1` on 6.9 MB of generated text, and python3 running a
# pure-Python loop for 4 CPU seconds.  Measures only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=${1:?usage: unwind_reach.sh BUILD_DIR [HZ]}
hz=${2:-999}
scorch=$build/scorch
work=${BENCH_TMP:-/tmp/scorch-bench/reach}
command -v perf >/dev/null || die "perf not found (apt-get install linux-perf)"
mkdir -p "$work"
seq 1 1000000 >"$work/data"
py='import time
def f(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s
t = time.process_time()
while time.process_time() - t < 4: f(100000)'

# reach_folded FILE COMM: "samples percent kernel_only" for COMM's samples
# that have a user stack, and how many have none.  Those are samples in
# exit_group after the address space is gone (exit_mm, then unmapping it):
# scorch's per-CPU events see them, perf's per-task events are torn down
# before exit_mm and never do (0 of ~3400 xz samples, against 4 with
# `perf record -a`), so they are left out of both sides' share.
reach_folded() {
	awk -F';' -v c="$2" '$1 == c {
			n = $NF; sub(/.* /, "", n); line = $0; sub(/ [0-9]+$/, "", line)
			k = split(line, f, ";"); user = 0
			for (i = 2; i <= k; i++) if (f[i] !~ /_\[k\]$/) user = 1
			if (!user) { ko += n; next }
			t += n; if ($0 ~ /__libc_start_call_main/) h += n
		}
		END { printf "%d %.1f %d\n", t, t ? 100 * h / t : 0, ko }' "$1"
}

# reach_perf DATA COMM: the same from perf script's output.
reach_perf() {
	perf script -i "$1" --comm "$2" -F ip,sym 2>/dev/null |
		awk 'BEGIN { RS = "" } { t++; if ($0 ~ /__libc_start_call_main/) h++ } END { printf "%d %.1f\n", t, t ? 100 * h / t : 0 }'
}

run() { # NAME COMM CMD...
	local name=$1 comm=$2
	shift 2
	"$scorch" record --unwind dwarf -F "$hz" -o "$work/$name.folded" -- \
		perf record -F "$hz" --call-graph dwarf -e cpu-clock -o "$work/$name.data" -- "$@" \
		>/dev/null 2>"$work/$name.err" || die "$name: $(tail -3 "$work/$name.err")"
	"$scorch" record --unwind fp -F "$hz" -o "$work/$name.fp.folded" -- "$@" >/dev/null 2>&1
	read -r sn sp sk < <(reach_folded "$work/$name.folded" "$comm")
	read -r pn pp < <(reach_perf "$work/$name.data" "$comm")
	read -r fn fpp _ < <(reach_folded "$work/$name.fp.folded" "$comm")
	printf '%-8s scorch --unwind dwarf %5.1f %% of %d | perf --call-graph dwarf %5.1f %% of %d | scorch --unwind fp %5.1f %% of %d\n' \
		"$name" "$sp" "$sn" "$pp" "$pn" "$fpp" "$fn"
	printf '%-8s (scorch: %d more samples without a user stack, in exit after the address space is gone; with them %s %%)\n' \
		"" "$sk" "$(awk -v n="$sn" -v p="$sp" -v k="$sk" 'BEGIN { printf "%.1f", n + k ? p * n / (n + k) : 0 }')"
	grep '^scorch: unwind' "$work/$name.err" || true
}

run xz xz xz -9 -T1 -c "$work/data"
run python3 python3 python3 -c "$py"
echo "load average (1 min): $(loadavg), $(nproc) CPUs"
