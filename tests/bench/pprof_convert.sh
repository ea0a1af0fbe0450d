#!/bin/sh
# SPDX-License-Identifier: MIT
# Times `scorch convert X.folded -o X.pb.gz` (folded read + model + pprof write)
# and the way back (`scorch convert X.pb.gz -o Y.folded`) RUNS times each and
# prints min/median/max wall seconds and the peak RSS.  Target (issue 3): a
# profile of 1,000,000 samples converts to pprof in under 1 s.
#
#   tests/bench/pprof_convert.sh [SCORCH] [STACKS] [SAMPLES] [RUNS]
#
# Defaults: build-pprof/scorch, 50000 unique stacks holding 1000000 samples
# (gen_folded.py, about 85 MB, cached in /tmp/scorch-bench), 5 runs.
# Measures only; never fails on a slow run.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
scorch=${1:-$here/../../build-pprof/scorch}
stacks=${2:-50000}
samples=${3:-1000000}
runs=${4:-5}
dir=/tmp/scorch-bench
in=$dir/pprof-$stacks-$samples.folded
out=$dir/pprof-$stacks-$samples.pb.gz
back=$dir/pprof-$stacks-$samples.back.folded

mkdir -p "$dir"
[ -f "$in" ] || python3 "$here/gen_folded.py" -n "$stacks" --total "$samples" -o "$in"
log=$(mktemp)
times=$(mktemp)
trap 'rm -f "$log" "$times"' EXIT

# time_runs LABEL IN OUT: RUNS conversions, then one summary line block.
time_runs() {
	: >"$times"
	cat "$2" >/dev/null # warm the page cache
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(date +%s.%N)
		/usr/bin/time -v -o "$log" "$scorch" convert "$2" -o "$3"
		t1=$(date +%s.%N)
		rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
		echo "$t0 $t1 $rss" | awk '{ printf "%.3f %d\n", $2 - $1, $3 }' >>"$times"
		i=$((i + 1))
	done
	sort -n "$times" | awk -v label="$1" -v size="$(wc -c <"$2")" '
		{ wall[NR] = $1; if ($2 > rss) rss = $2 }
		END {
			printf "%s (input %.1f MB): %d runs\n", label, size / 1e6, NR
			printf "  wall s: min %.3f  median %.3f  max %.3f   peak RSS %.1f MiB\n",
			       wall[1], wall[int((NR + 1) / 2)], wall[NR], rss / 1024
		}'
}

sort "$in" >"$dir/sorted.tmp"
echo "profile: $stacks unique stacks, $samples samples ($in)"
time_runs "folded -> pprof" "$in" "$out"
echo "  output: $(wc -c <"$out") bytes gzip"
time_runs "pprof -> folded" "$out" "$back"
if sort "$back" | cmp -s - "$dir/sorted.tmp"; then
	echo "round trip: identical folded output"
else
	echo "round trip: folded output DIFFERS from the input"
fi
rm -f "$dir/sorted.tmp"
