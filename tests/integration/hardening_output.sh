#!/usr/bin/env bash
# -o never follows a symlink planted at the output path and never truncates
# a file it did not create: the profile goes to a temporary file renamed into
# place, so a symlink or a hard link at the destination is replaced and what
# it pointed at is untouched; a dangling symlink's target is never created; a
# device or FIFO is written in place, never replaced; a directory is refused.
# For record (needs BPF) and convert.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf

printf 'main;a 1\nmain;b 2\n' >"$tmp/in.folded"

# check_planted NAME CMD...: runs CMD (which writes -o $tmp/NAME) against a
# symlink, a hard link and a dangling symlink planted at $tmp/NAME.
check_planted() {
	local name=$1 out=$tmp/$1
	shift
	# A symlink to a victim file.
	echo "victim data" >"$tmp/victim"
	ln -sfn "$tmp/victim" "$out"
	"$@" 2>"$tmp/err" >/dev/null || fail "$*: $(cat "$tmp/err")"
	[ "$(cat "$tmp/victim")" = "victim data" ] || fail "$*: followed the symlink into the victim"
	[ -f "$out" ] && [ ! -L "$out" ] && [ -s "$out" ] || fail "$*: the symlink was not replaced by the profile"
	# A hard link to the victim.
	rm -f "$out"
	ln "$tmp/victim" "$out"
	"$@" 2>"$tmp/err" >/dev/null || fail "$*: $(cat "$tmp/err")"
	[ "$(cat "$tmp/victim")" = "victim data" ] || fail "$*: wrote through a hard link into the victim"
	[ "$(stat -c %i "$out")" != "$(stat -c %i "$tmp/victim")" ] || fail "$*: the hard link was not replaced"
	# A dangling symlink: its target is not created.
	rm -f "$out" "$tmp/victim"
	ln -s "$tmp/created" "$out"
	"$@" 2>"$tmp/err" >/dev/null || fail "$*: $(cat "$tmp/err")"
	[ ! -e "$tmp/created" ] || fail "$*: created the target of a dangling symlink"
	[ -f "$out" ] && [ ! -L "$out" ] || fail "$*: the dangling symlink was not replaced"
	# No temporary file left.
	[ -z "$(cd "$tmp" && ls -A | grep "^\.$name\." || true)" ] || fail "$*: temporary file left: $(ls -A "$tmp")"
	rm -f "$out"
}

# check_special CMD...: CMD writes -o $tmp/special; a device and a FIFO there
# are written in place and stay what they are; a directory is refused.
check_special() {
	local out=$tmp/special
	rm -rf "$out"
	mknod -m 666 "$out" c 1 3 # /dev/null
	"$@" 2>"$tmp/err" >/dev/null || fail "$* to a device: $(cat "$tmp/err")"
	[ -c "$out" ] || fail "$*: the device at -o was replaced"
	rm -f "$out"
	mkfifo "$out"
	cat "$out" >"$tmp/fifo_data" &
	local reader=$!
	"$@" 2>"$tmp/err" >/dev/null || fail "$* to a FIFO: $(cat "$tmp/err")"
	wait "$reader"
	[ -p "$out" ] || fail "$*: the FIFO at -o was replaced"
	[ -s "$tmp/fifo_data" ] || fail "$*: nothing written into the FIFO"
	rm -f "$out"
	mkdir "$out"
	echo keep >"$out/file"
	set +e
	"$@" 2>"$tmp/err" >/dev/null
	local rc=$?
	set -e
	[ "$rc" -ne 0 ] || fail "$*: a directory at -o was accepted"
	[ "$(ls -A "$out")" = file ] && [ "$(cat "$out/file")" = keep ] || fail "$*: the directory was changed"
	rm -rf "$out"
}

check_planted out.folded "$scorch" convert "$tmp/in.folded" -o "$tmp/out.folded"
check_planted out.pb.gz "$scorch" convert "$tmp/in.folded" -o "$tmp/out.pb.gz"
check_planted out.svg "$scorch" convert "$tmp/in.folded" -o "$tmp/out.svg"
check_planted rec.folded "$scorch" record -F 199 -o "$tmp/rec.folded" -- "$shape" 0.2
check_planted rec.pb.gz "$scorch" record -F 199 -d 0.2 -o "$tmp/rec.pb.gz"
check_special "$scorch" convert "$tmp/in.folded" --format folded -o "$tmp/special"
check_special "$scorch" record -F 199 --format folded -o "$tmp/special" -- "$shape" 0.2

# A run that fails leaves an existing profile whole.
echo "old profile" >"$tmp/keep.folded"
! "$scorch" record -p 999999999 -d 0.2 -o "$tmp/keep.folded" 2>/dev/null || fail "record -p of no process succeeded"
! "$scorch" convert "$tmp/missing.folded" -o "$tmp/keep.folded" 2>/dev/null || fail "convert of a missing file succeeded"
[ "$(cat "$tmp/keep.folded")" = "old profile" ] || fail "a failed run changed the existing output"
[ "$(cd "$tmp" && ls -A | grep -c '^\.keep')" = 0 ] || fail "a failed run left a temporary file: $(ls -A "$tmp")"
echo "hardening_output: ok"
