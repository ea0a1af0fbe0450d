#!/bin/sh
# SPDX-License-Identifier: MIT
# How often does `scorch diff` call noise a regression?  Profiles the same
# build of samples/shape PAIRS times in A/A pairs (one run a side, FREQ Hz,
# SECONDS of CPU each) and counts the pairs the default gate fails (exit 1).
# With SLOWDOWN=25 the second run of each pair is the 25 %-slower variant
# instead, and the count is the detection rate.  Needs root (record).
#
#   tests/bench/diff_false_alarm.sh [SCORCH] [SHAPE] [PAIRS] [FREQ] [SECONDS]
#
# Defaults: build/scorch, build/samples/shape, 20 pairs, 99 Hz, 5 s (about
# 4 minutes).  Extra `scorch diff` options can be passed in DIFF_ARGS.
# Measures only; never fails on the rate.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
scorch=${1:-$here/../../build/scorch}
shape=${2:-$here/../../build/samples/shape}
pairs=${3:-20}
freq=${4:-99}
secs=${5:-5}
slow=${SLOWDOWN:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=0 errors=0 i=1
while [ "$i" -le "$pairs" ]; do
	"$scorch" record -F "$freq" -o "$tmp/a.folded" -- "$shape" "$secs" >/dev/null 2>&1
	"$scorch" record -F "$freq" -o "$tmp/b.folded" -- "$shape" "$secs" 40 "$slow" >/dev/null 2>&1
	set +e
	# shellcheck disable=SC2086
	"$scorch" diff "$tmp/a.folded" "$tmp/b.folded" ${DIFF_ARGS:-} >"$tmp/report" 2>&1
	rc=$?
	set -e
	top=$(awk '/^ *[0-9]/ { print $NF " " $5; exit }' "$tmp/report")
	case $rc in
	0) echo "pair $i: pass   (largest inclusive change: $top)" ;;
	1) failed=$((failed + 1)); echo "pair $i: FAILED (largest inclusive change: $top)" ;;
	*) errors=$((errors + 1)); echo "pair $i: error $rc: $(head -1 "$tmp/report")" ;;
	esac
	i=$((i + 1))
done
kind="false alarms (A/A)"
[ "$slow" != 0 ] && kind="detections ($slow % slower shape_thirty)"
echo "diff_false_alarm: $failed of $pairs pairs failed the gate: $kind; $errors errors; $freq Hz, $secs s a run"
