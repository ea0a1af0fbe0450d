#!/usr/bin/env bash
# scorch diff as a CI gate on real profiles: samples/shape against the same
# program with shape_thirty 25 % slower (5 runs a side at 999 Hz, 2 s of CPU
# each) must fail the gate with shape_thirty as the top regression (exit 1);
# the same build against itself (runs 1-3 against 4-5) must pass (exit 0).
# At 99 Hz the sample's run-to-run spread (the loop aliases with the timer)
# hides a 5-point change in any run count that fits a test; see
# tests/bench/diff_false_alarm.sh for the 99 Hz A/A rate.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf

for i in 1 2 3 4 5; do
	"$scorch" record -F 999 -o "$tmp/base$i.folded" -- "$shape" 2 2>"$tmp/err" >/dev/null ||
		fail "record base $i: $(cat "$tmp/err")"
	"$scorch" record -F 999 -o "$tmp/slow$i.pb.gz" -- "$shape" 2 40 25 2>"$tmp/err" >/dev/null ||
		fail "record slow $i: $(cat "$tmp/err")"
done

set +e
"$scorch" diff --base "$tmp"/base{1,2,3,4,5}.folded --new "$tmp"/slow{1,2,3,4,5}.pb.gz \
	-o "$tmp/diff.svg" >"$tmp/report" 2>"$tmp/err"
rc=$?
set -e
cat "$tmp/report"
[ "$rc" -eq 1 ] || fail "25 % slower shape_thirty: exit $rc, want 1: $(cat "$tmp/err")"
top=$(sed -n 's/^verdict: REGRESSION[^:]*): \([^ ]*\) .*/\1/p' "$tmp/report")
[ "$top" = shape_thirty ] || fail "top regression is '$top', want shape_thirty"
grep -q '<svg' "$tmp/diff.svg" || fail "no differential flame graph"

set +e
"$scorch" diff --base "$tmp"/base{1,2,3}.folded --new "$tmp"/base{4,5}.folded --report json >"$tmp/aa.json"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "A/A comparison: exit $rc, want 0: $(head -c 400 "$tmp/aa.json")"
grep -q '"verdict":"pass"' "$tmp/aa.json" || fail "A/A verdict: $(head -c 200 "$tmp/aa.json")"

# Errors exit 2 with one line.
set +e
"$scorch" diff "$tmp/base1.folded" "$tmp/missing.folded" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "unreadable input: exit $rc: $(cat "$tmp/err")"
echo "diff_gate: ok"
