#!/usr/bin/env bash
# record the known-shape sample at 999 Hz: each function's share within 5
# points of its design (60/30/10), at least 95 % of its samples reach main,
# no sample lost, and the command's exit status passed on.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf

"$scorch" record -F 999 -o "$tmp/shape.folded" -- "$shape" 3 2>"$tmp/err" >/dev/null ||
	fail "record exited $?: $(cat "$tmp/err")"
cat "$tmp/err"
grep -q ' 0 lost$' "$tmp/err" || fail "samples lost: $(cat "$tmp/err")"
[ -s "$tmp/shape.folded" ] || fail "empty profile"

total=$(awk -F';' '$1 == "shape" { split($0, a, " "); t += a[length(a)] } END { print t + 0 }' "$tmp/shape.folded")
[ "$total" -ge 2500 ] || fail "only $total samples of shape in 3 s at 999 Hz"

for f in "shape_sixty 60" "shape_thirty 30" "shape_ten 10"; do
	set -- $f
	s=$(share ";$1(;|$| )" "$tmp/shape.folded" shape)
	echo "$1: $s % (designed $2 %)"
	within "$s" "$2" 5 || fail "$1 has $s % of the samples, designed $2 %"
done
main=$(share ";main(;| )" "$tmp/shape.folded" shape)
echo "reach main: $main %"
within "$main" 100 5 || fail "only $main % of samples reach main"

# The recursion is 40 deep: the deepest shape_ten stack has 41 of them.
depth=$(awk '{ sub(/ [0-9]+$/, ""); n = 0; k = split($0, f, ";"); for (i = 1; i <= k; i++) n += f[i] == "shape_ten"; if (n > m) m = n } END { print m + 0 }' "$tmp/shape.folded")
[ "$depth" -eq 41 ] || fail "deepest shape_ten chain is $depth frames, want 41"

# A recursion deeper than the 127-frame limit ends in a visible [truncated]
# frame at the root side, and the run says how many samples were cut.
"$scorch" record -F 999 -o "$tmp/deep.folded" -- "$shape" 0.5 300 2>"$tmp/err" >/dev/null
grep -q '^shape;\[truncated\];shape_ten;' "$tmp/deep.folded" || fail "no [truncated] root: $(head -c 300 "$tmp/deep.folded")"
grep -q 'deeper than 127 frames' "$tmp/err" || fail "truncation not reported: $(cat "$tmp/err")"

# The command's exit status is scorch's.
set +e
"$scorch" record -o "$tmp/x.folded" -- sh -c 'exit 7' 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 7 ] || fail "exit status $rc, want the command's 7"
echo "record_shape: ok"
