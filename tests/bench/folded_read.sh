#!/bin/sh
# SPDX-License-Identifier: MIT
# Times `scorch convert BIG.folded -o OUT.folded` (folded read + model + folded
# write) RUNS times and prints min/median/max wall seconds and the peak RSS.
#
#   tests/bench/folded_read.sh [SCORCH] [BIG.folded] [RUNS] [OUT]
#
# Defaults: build-model/scorch, /tmp/scorch-bench/big.folded (generated with
# gen_folded.py -n 100000 when missing, about 175 MB), 5 runs, /tmp/x.folded.
# Set ARGS to time another command line, e.g. ARGS="-o /tmp/x.svg".
# Then times the folded reader and writer alone (folded_bench.c).
# Measures only; never fails on a slow run.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
scorch=${1:-$here/../../build-model/scorch}
big=${2:-/tmp/scorch-bench/big.folded}
runs=${3:-5}
out=${4:-/tmp/x.folded}
args=${ARGS:--o $out}

if [ ! -f "$big" ]; then
	mkdir -p "$(dirname "$big")"
	python3 "$here/gen_folded.py" -n 100000 -o "$big"
fi
log=$(mktemp)
times=$(mktemp)
trap 'rm -f "$log" "$times"' EXIT

# Warm the page cache so the first run is not an outlier.
cat "$big" >/dev/null
i=0
while [ "$i" -lt "$runs" ]; do
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	/usr/bin/time -v -o "$log" "$scorch" convert "$big" $args
	t1=$(date +%s.%N)
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
	echo "$t0 $t1 $rss" | awk '{ printf "%.3f %d\n", $2 - $1, $3 }' >>"$times"
	i=$((i + 1))
done
size=$(wc -c <"$big")
sort -n "$times" | awk -v big="$big" -v size="$size" -v args="$args" '
	{ wall[NR] = $1; if ($2 > rss) rss = $2 }
	END {
		printf "convert %s (%.1f MB) %s: %d runs\n", big, size / 1e6, args, NR
		printf "wall s: min %.3f  median %.3f  max %.3f\n", wall[1], wall[int((NR + 1) / 2)], wall[NR]
		printf "peak RSS: %.1f MiB\n", rss / 1024
	}'

# The reader and the writer alone (no process start, no disk), when built.
root=$here/../..
bench=$(mktemp)
if cc -O2 -I"$root" "$here/folded_bench.c" "$root/build-model/formats/libscorch_formats.a" \
	"$root/build-model/base/libscorch_base.a" -lprotobuf-c -lz -lm -o "$bench" 2>/dev/null; then
	"$bench" "$big" "$runs"
fi
rm -f "$bench"
