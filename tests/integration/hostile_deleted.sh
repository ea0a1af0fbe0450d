#!/usr/bin/env bash
# A binary deleted after exec while it runs, and another file (the same code,
# other function names) put at its path: its frames are named from the file
# it runs, never from the one now at the path.  As root scorch opens it
# through /proc/PID/map_files; with README's four capabilities map_files is
# closed to it, and the deleted main executable is reached through
# /proc/PID/exe.  A normal workload profiled alongside keeps its shape; it
# runs from a directory nobody may enter (0700), so that the verdict does not
# depend on where the checkout is: its file too comes through exe.
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
need_tools setpriv
chmod 755 "$tmp"
mkdir -m 777 "$tmp/out"
mkdir "$tmp/bin"
cp "$scorch" "$tmp/scorch"
cp "$bin/hostile_alpha" "$tmp/bin/work"
"$tmp/bin/work" 8 &
pids+=($!)
victim=$!
mkdir -m 700 "$tmp/closed"
cp "$shape" "$tmp/closed/shape"
"$tmp/closed/shape" 8 >/dev/null &
pids+=($!)
other=$!
sleep 0.3
rm "$tmp/bin/work"
cp "$bin/hostile_beta" "$tmp/bin/work"
grep -q "$tmp/bin/work (deleted)" "/proc/$victim/maps" || fail "the binary does not show as deleted"

# check WHO FILE: the deleted binary named from its own file, shape intact.
check() {
	local n named
	n=$(samples work "$2")
	[ "$n" -gt 100 ] || fail "$1: only $n samples of the deleted binary"
	! grep -q 'beta_spin' "$2" || fail "$1: frames named from the file now at the path: $(grep beta_spin "$2" | head -2)"
	named=$(share ";alpha_spin( |;)" "$2" work)
	within "$named" 100 5 || fail "$1: alpha_spin in $named % of the deleted binary's samples: $(grep '^work;' "$2" | head -3)"
	echo "$1: $n samples of the deleted binary, alpha_spin in $named % of them"
	shape_intact "$2"
}

"$tmp/scorch" record -F 999 -p "$victim,$other" -d 1.5 -o "$tmp/out/root.folded" 2>"$tmp/err" ||
	fail "record as root: $(cat "$tmp/err")"
check root "$tmp/out/root.folded"

as_caps "$FOUR_CAPS" "$tmp/scorch" record -F 999 -p "$victim,$other" -d 1.5 -o "$tmp/out/caps.folded" 2>"$tmp/err" ||
	fail "record with $FOUR_CAPS: $(cat "$tmp/err")"
check "$FOUR_CAPS" "$tmp/out/caps.folded"
echo "hostile_deleted: ok"
