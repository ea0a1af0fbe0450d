#!/usr/bin/env bash
# Python frames in the agent: samples/pyshape.py under Debian's python3.11,
# started after the agent (found at its announcements like any process),
# profiled system-wide in 2 s windows at 499 Hz.  All its windows together
# pass the same shape checks as record's (python_shape.py: 60/30/10 within
# 3 points, whole stacks under <module>, the 30-deep recursion, the C
# extension and the callback from C nested, the hot lines); and with
# --no-python the eval loop's native frames come back.
set -euo pipefail
scorch=$1 sample=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools python3 /usr/bin/python3.11
# Run through a link of its own name, so that its comm is its own: the agent
# records the whole machine, and another python3.11 there (a receiver
# waiting on a socket, another session's test) is not this test's.  The
# mapped file is still /usr/bin/python3.11, where the interpreter is found.
comm=python3.11-mine
ln -s /usr/bin/python3.11 "$tmp/$comm"
py=$tmp/$comm

# run NAME [AGENT_ARGS...]: the agent around a 4 s pyshape run; every
# window's stacks in $tmp/NAME.folded.
run() {
	local name=$1 agent f
	shift
	"$scorch" agent --frequency 499 --interval 2s --output-dir "$tmp/$name" "$@" 2>"$tmp/$name.log" &
	agent=$!
	pids+=("$agent")
	sleep 1.5
	"$py" "$sample" 4 >/dev/null
	sleep 0.5
	kill -TERM "$agent"
	wait "$agent" || fail "agent $*: $(cat "$tmp/$name.log")"
	for f in "$tmp/$name"/*.pb.gz; do
		[ -e "$f" ] || fail "agent $* wrote no window: $(cat "$tmp/$name.log")"
		"$scorch" convert --lines "$f" -o "$tmp/w.folded" 2>/dev/null || fail "cannot convert $f"
		cat "$tmp/w.folded" >>"$tmp/$name.folded"
	done
}

run python
python3 "$here/python_shape.py" single "$tmp/python.folded" "$sample" "$comm" >"$tmp/check" 2>&1 ||
	fail "agent: $(cat "$tmp/check")"
sed 's/^/agent: /' "$tmp/check"

run native --no-python
! grep -q '_\[p\]' < <(grep "^$comm;" "$tmp/native.folded") || fail "agent --no-python: Python frames"
s=$(share ';_PyEval_EvalFrameDefault' "$tmp/native.folded" "$comm")
awk -v s="$s" 'BEGIN { exit !(s >= 90) }' || fail "agent --no-python: only $s % of python's samples in the eval loop"
echo "agent --no-python: $s % of python's samples in _PyEval_EvalFrameDefault, no Python frames"
echo "PASS"
