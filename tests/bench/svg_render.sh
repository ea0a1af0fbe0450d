#!/bin/sh
# SPDX-License-Identifier: MIT
# Times rendering a flame graph from a big folded file:
# `scorch convert BIG.folded -o OUT.svg`, RUNS times, and prints min/median/max
# wall seconds, peak RSS and the SVG's size and frame count.  When
# flamegraph.pl is on PATH (Debian does not package it), each scorch run is
# followed by a flamegraph.pl run on the same file and the ratio of medians
# is printed too.
#
#   tests/bench/svg_render.sh [SCORCH] [BIG.folded] [RUNS]
#
# Defaults: build-svg/scorch, /tmp/scorch-bench/big.folded (made with
# gen_folded.py -n 100000 when missing: 100,000 unique stacks of depth 10 to
# 60, about 175 MB, seed 1), 5 runs.  SVG options can be passed in SVG_ARGS.
# Measures only; never fails on a slow run.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
scorch=${1:-$here/../../build-svg/scorch}
big=${2:-/tmp/scorch-bench/big.folded}
runs=${3:-5}
out=$(mktemp --suffix=.svg)
ref_out=$(mktemp --suffix=.svg)
log=$(mktemp)
times=$(mktemp)
ref_times=$(mktemp)
trap 'rm -f "$out" "$ref_out" "$log" "$times" "$ref_times"' EXIT

if [ ! -f "$big" ]; then
	mkdir -p "$(dirname "$big")"
	python3 "$here/gen_folded.py" -n 100000 -o "$big"
fi
ref=$(command -v flamegraph.pl || true)

# Runs "$@" under /usr/bin/time and appends "WALL RSS_KB" to the file $1.
timed() {
	dest=$1
	shift
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$log" "$@"
	t1=$(date +%s.%N)
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
	echo "$t0 $t1 $rss" | awk '{ printf "%.3f %d\n", $2 - $1, $3 }' >>"$dest"
}

summary() {
	sort -n "$2" | awk -v what="$1" '
		{ wall[NR] = $1; if ($2 > rss) rss = $2 }
		END {
			printf "%s: %d runs, wall s: min %.3f  median %.3f  max %.3f, peak RSS %.1f MiB\n",
				what, NR, wall[1], wall[int((NR + 1) / 2)], wall[NR], rss / 1024
		}'
}

median() {
	sort -n "$1" | awk '{ w[NR] = $1 } END { print w[int((NR + 1) / 2)] }'
}

cat "$big" >/dev/null # warm the page cache
i=0
while [ "$i" -lt "$runs" ]; do
	# shellcheck disable=SC2086
	timed "$times" "$scorch" convert "$big" -o "$out" ${SVG_ARGS:-}
	if [ -n "$ref" ]; then
		timed "$ref_times" sh -c '"$1" "$2" >"$3"' sh "$ref" "$big" "$ref_out"
	fi
	i=$((i + 1))
done

printf "input: %s (%.1f MB, %d stacks)\n" "$big" "$(($(wc -c <"$big") / 100000))e-1" "$(wc -l <"$big")"
summary "scorch convert -o .svg" "$times"
printf "svg: %d bytes, %d frames\n" "$(wc -c <"$out")" "$(grep -c '^<g class="f' "$out")"
if [ -n "$ref" ]; then
	summary "flamegraph.pl" "$ref_times"
	printf "flamegraph.pl svg: %d bytes\n" "$(wc -c <"$ref_out")"
	awk -v a="$(median "$ref_times")" -v b="$(median "$times")" \
		'BEGIN { printf "speed-up (median flamegraph.pl / median scorch): %.1fx\n", a / b }'
else
	echo "flamegraph.pl: not on PATH (not packaged in Debian 12); no comparison"
fi
