#!/usr/bin/env bash
# --unwind dwarf on the known-shape sample built without frame pointers
# (shape_nofp): at least 95 % of samples reach main and each function's
# share is within 3 points of its design (60/30/10), nothing lost; the
# 41-deep recursion comes out whole.  --unwind fp on the same binary is
# printed for comparison, not asserted.  Then --unwind auto on the
# frame-pointer build keeps record_shape's figures.
set -euo pipefail
scorch=$1 shape_nofp=$2 shape=$3
. "$(dirname "$0")/lib.sh"
need_bpf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
comm=$(basename "$shape_nofp" | cut -c1-15)

shares() { # FILE COMM: one line of figures
	local out="" f
	for f in shape_sixty shape_thirty shape_ten; do
		out="$out $f $(share ";$f(;|$| )" "$1" "$2")"
	done
	echo "$out main $(share ";main(;| )" "$1" "$2")"
}

"$scorch" record --unwind fp -F 999 -o "$tmp/fp.folded" -- "$shape_nofp" 2 2>"$tmp/err" >/dev/null ||
	fail "record --unwind fp exited $?: $(cat "$tmp/err")"
echo "fp:   $(shares "$tmp/fp.folded" "$comm") (% of samples; not asserted)"

"$scorch" record --unwind dwarf -F 999 -o "$tmp/dwarf.folded" -- "$shape_nofp" 3 2>"$tmp/err" >/dev/null ||
	fail "record --unwind dwarf exited $?: $(cat "$tmp/err")"
cat "$tmp/err"
echo "dwarf: $(shares "$tmp/dwarf.folded" "$comm")"
grep -q ' 0 lost$' "$tmp/err" || fail "samples lost: $(cat "$tmp/err")"
grep -q 'user stacks from CFI tables' "$tmp/err" || fail "no unwind report: $(cat "$tmp/err")"
for f in "shape_sixty 60" "shape_thirty 30" "shape_ten 10"; do
	set -- $f
	s=$(share ";$1(;|$| )" "$tmp/dwarf.folded" "$comm")
	within "$s" "$2" 3 || fail "--unwind dwarf: $1 has $s % of the samples, designed $2 %"
done
main=$(share ";main(;| )" "$tmp/dwarf.folded" "$comm")
within "$main" 100 5 || fail "--unwind dwarf: only $main % of samples reach main"
depth=$(awk '{ sub(/ [0-9]+$/, ""); n = 0; k = split($0, f, ";"); for (i = 1; i <= k; i++) n += f[i] == "shape_ten"; if (n > m) m = n } END { print m + 0 }' "$tmp/dwarf.folded")
[ "$depth" -eq 41 ] || fail "--unwind dwarf: deepest shape_ten chain is $depth frames, want 41"

# Deeper than the frame limit: a visible [truncated] root, counted.
"$scorch" record --unwind dwarf -F 999 -o "$tmp/deep.folded" -- "$shape_nofp" 0.5 300 2>"$tmp/err" >/dev/null
grep -q "^$comm;\[truncated\];shape_ten;" "$tmp/deep.folded" || fail "no [truncated] root: $(head -c 300 "$tmp/deep.folded")"
grep -q 'deeper than 127 frames' "$tmp/err" || fail "truncation not reported: $(cat "$tmp/err")"

# auto on the frame-pointer build: the same shape as with frame pointers.
"$scorch" record --unwind auto -F 999 -o "$tmp/auto.folded" -- "$shape" 2 2>"$tmp/err" >/dev/null ||
	fail "record --unwind auto exited $?: $(cat "$tmp/err")"
echo "auto (frame-pointer build): $(shares "$tmp/auto.folded" shape)"
main=$(share ";main(;| )" "$tmp/auto.folded" shape)
within "$main" 100 5 || fail "--unwind auto: only $main % of samples reach main"
echo "record_unwind: ok"
