#!/usr/bin/env bash
# Python frames under any CPython interpreter, checked by hand (CI tests
# Debian's 3.11 only: building other versions takes too long there).
#
#   tests/manual/python_version.sh SCORCH PYTHON [SECONDS]
#
# e.g. tests/manual/python_version.sh build/scorch /work/py/inst314/bin/python3.14
# Runs samples/pyshape.py (SECONDS of CPU time, default 3) under PYTHON:
#  - record --: python_shape.py's checks (whole stacks under <module>, the
#    30-deep recursion, C extension and callback nesting, the hot lines),
#    hot_sixty/Worker.thirty/gen_ten within 2 points of 60/30/10, Python
#    frames in 95 % of the interpreter's samples;
#  - 4 threads (--per-thread): each thread's samples in its own function;
#  - the same as the first in a PID namespace of its own (unshare --pid).
# Before 3.11 functions are named by co_name (python_shape.py --co-name).
# Prints the figures; exits 1 at the first check that fails.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 SCORCH PYTHON [SECONDS]" >&2; exit 2; }
scorch=$(realpath "$1") py=$2 secs=${3:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
sample=$root/samples/pyshape.py
shape=$root/tests/integration/python_shape.py
# shellcheck source=../integration/lib.sh
. "$root/tests/integration/lib.sh"
test_setup --bpf
need_tools python3 unshare "$py"
comm=$(basename "$py" | cut -c1-15)
version=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
opt=()
"$py" -c 'import sys; sys.exit(sys.version_info >= (3, 11))' && opt=(--co-name)
echo "$py: Python $version (comm $comm)"

# check MODE FOLDED WHAT: the threads' stacks are all the profile's (3.14
# names its threads' comm after them: py0, py1 ...), a single thread's
# those of the interpreter (not unshare's).
check() {
	local only=("$comm")
	[ "$1" = single ] || only=()
	python3 "$shape" "${opt[@]}" "$1" "$2" "$sample" "${only[@]}" >"$tmp/check" 2>&1 || fail "$3: $(cat "$tmp/check")"
	awk -v p="$3: " '{ print p $0 }' "$tmp/check"
	[ "$1" = single ] || return 0
	awk '/% \(designed [0-9]+ %\)$/ { got = $2; want = $5; d = got - want; if (d < 0) d = -d;
		if (d > 2) { print $1 " " got " %, not within 2 points of " want " %"; bad = 1 } }
		END { exit bad }' "$tmp/check" >"$tmp/bad" || fail "$3: $(cat "$tmp/bad")"
	local s
	s=$(share '_\[p\]' "$2" "$comm")
	awk -v s="$s" 'BEGIN { exit !(s >= 95) }' || fail "$3: Python frames in only $s % of the interpreter's samples"
	echo "$3: Python frames in $s % of the interpreter's samples"
}

run() { # NAME WHAT RECORD_OPTION... -- COMMAND...
	local name=$1 what=$2
	shift 2
	"$scorch" record --lines -F 999 -o "$tmp/$name.folded" "$@" >/dev/null 2>"$tmp/err" ||
		fail "$what: record exited $?: $(cat "$tmp/err")"
	grep -q "python: 1 interpreters" "$tmp/err" || fail "$what: the interpreter not found: $(cat "$tmp/err")"
}

run single "record --" -- "$py" "$sample" "$secs"
check single "$tmp/single.folded" "record --"
run threads "4 threads" --per-thread -- "$py" "$sample" "$secs" 4
check threads "$tmp/threads.folded" "4 threads"
run ns "PID namespace" -- unshare --fork --pid --mount-proc "$py" "$sample" "$secs"
check single "$tmp/ns.folded" "PID namespace"
echo "PASS: Python $version"
