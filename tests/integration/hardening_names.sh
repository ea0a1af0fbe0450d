#!/usr/bin/env bash
# A process chooses its own name (comm), which becomes the root frame: names
# that mean something to the folded format ('#' starts a comment line, ';'
# separates frames, a trailing blank joins the count) must not hide or lose
# its samples, through record and a folded -> folded -> pprof -> folded
# round trip.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf

# total FILE: the sum of a folded file's counts.
total() {
	awk '{ n += $NF } END { print n + 0 }' "$1"
}

for name in '#hidden' 'a;b' 'sp ace ' '  '; do
	cp "$shape" "$tmp/$name"
	"$scorch" record -F 499 -o "$tmp/rec.folded" -- "$tmp/$name" 0.3 >/dev/null 2>"$tmp/err" ||
		fail "record of '$name': $(cat "$tmp/err")"
	n=$(total "$tmp/rec.folded")
	[ "$n" -gt 50 ] || fail "'$name': only $n samples"
	"$scorch" convert "$tmp/rec.folded" -o "$tmp/again.folded" 2>"$tmp/err" || fail "convert: $(cat "$tmp/err")"
	"$scorch" convert "$tmp/again.folded" -o "$tmp/rec.pb.gz" 2>"$tmp/err" || fail "convert: $(cat "$tmp/err")"
	"$scorch" convert "$tmp/rec.pb.gz" -o "$tmp/back.folded" 2>"$tmp/err" || fail "convert: $(cat "$tmp/err")"
	for f in again back; do
		m=$(total "$tmp/$f.folded")
		[ "$m" -eq "$n" ] || fail "'$name': $n samples recorded, $m after the round trip to $f.folded: $(head -3 "$tmp/$f.folded")"
	done
	grep -q 'main;shape_sixty' "$tmp/back.folded" || fail "'$name': frames lost"
	echo "'$name': $n samples kept, first line: $(head -1 "$tmp/back.folded" | cut -c1-60)"
	rm -f "$tmp/$name"
done
echo "hardening_names: ok"
