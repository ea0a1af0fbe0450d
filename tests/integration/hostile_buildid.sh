#!/usr/bin/env bash
# Files that share a build ID note but not their symbols: each process is
# named from its own file.  scorch shares one file's loaded data with
# another of the same build ID (container images copy libraries), so the
# note must not be all it trusts:
#   a stripped copy started first (it is loaded first) beside the original:
#   the original keeps its .symtab names;
#   hostile_secret and hostile_boxed carry one forged build ID and the same
#   code, their functions named HOST_SECRET_FUNCTION and boxed_spin: started
#   secret first, boxed is still named boxed_spin, never the other's name.
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
need_tools strip
strip -o "$tmp/alpha_stripped" "$bin/hostile_alpha"
cp "$bin/hostile_secret" "$bin/hostile_boxed" "$bin/hostile_alpha" "$tmp/"
# Started in this order, they get increasing pids: build resolves processes
# by pid, so the stripped copy and the secret are loaded first.
for prog in alpha_stripped hostile_secret hostile_alpha hostile_boxed; do
	"$tmp/$prog" 6 &
	pids+=($!)
	sleep 0.05
done
sleep 0.3
list=$(IFS=,; echo "${pids[*]}")
"$scorch" record -F 999 -p "$list" -d 2 -o "$tmp/out.folded" 2>"$tmp/err" || fail "record: $(cat "$tmp/err")"

# named COMM FUNCTION: nearly all of COMM's samples are in FUNCTION.
named() {
	local n s
	n=$(samples "$1" "$tmp/out.folded")
	[ "$n" -gt 50 ] || fail "only $n samples of $1"
	s=$(share ";$2( |;)" "$tmp/out.folded" "$1")
	within "$s" 100 5 || fail "$1: $2 in $s % of its samples: $(grep "^$1;" "$tmp/out.folded" | head -3)"
	echo "  $1: $n samples, $2 in $s % of them"
}
named hostile_alpha alpha_spin
named hostile_boxed boxed_spin
named hostile_secret HOST_SECRET_FUNCTION
! grep -q HOST_SECRET_FUNCTION < <(grep '^hostile_boxed;' "$tmp/out.folded") ||
	fail "hostile_boxed named from the file that forged its build ID"
[ "$(samples alpha_stripped "$tmp/out.folded")" -gt 50 ] || fail "no samples of the stripped copy"
echo "hostile_buildid: ok"
