#!/usr/bin/env bash
# Python frames of an interpreter in a PID namespace of its own (what a
# container gives it): samples/pyshape.py under Debian's python3.11 run by
# `unshare --fork --pid --mount-proc`, where its threads' ids are not the
# host's.  Each way of profiling it must show its Python functions in at
# least 95 % of its samples and pass record_python.sh's shape checks
# (python_shape.py: 60/30/10 within 3 points, whole stacks under <module>,
# the 30-deep recursion, C extension and callback nesting, the hot lines):
#  - record -- unshare ... python3.11: recorded from inside, the namespace
#    made by the command;
#  - record -p on the namespaced interpreter, from outside;
#  - the agent (system-wide, 2 s windows at 499 Hz), the namespaced
#    interpreter started after it, as agent_python.sh does;
#  - 4 threads (--per-thread), recorded from inside: each thread's samples
#    in its own function.
set -euo pipefail
scorch=$1 sample=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools python3 unshare /usr/bin/python3.11
# A comm of its own: the system-wide run sees every process, and another
# python3.11 (another session's test) is not this one.  The mapped file is
# still /usr/bin/python3.11, where the interpreter is found.
comm=python3.11-ns
ln -s /usr/bin/python3.11 "$tmp/$comm"
py=$tmp/$comm
ns=(unshare --fork --pid --mount-proc --kill-child)
bg=""
at_exit '[ -z "$bg" ] || kill "$bg" 2>/dev/null'

# check MODE FOLDED WHAT: python_shape.py on the interpreter's stacks, and
# Python frames in 95 % of its samples.
check() {
	python3 "$here/python_shape.py" "$1" "$2" "$sample" "$comm" >"$tmp/check" 2>&1 ||
		fail "$3: $(cat "$tmp/check")"
	awk -v p="$3: " '{ print p $0 }' "$tmp/check"
	local s
	s=$(share '_\[p\]' "$2" "$comm")
	awk -v s="$s" 'BEGIN { exit !(s >= 95) }' || fail "$3: Python frames in only $s % of the interpreter's samples"
	echo "$3: Python frames in $s % of the interpreter's samples"
}

# start_ns SECONDS: the namespaced interpreter in the background ($bg is
# unshare); sets nspid to the interpreter's pid as the host sees it, once
# it runs, after checking that it is in a namespace of its own (pid 1 there).
start_ns() {
	"${ns[@]}" "$py" "$sample" "$1" >/dev/null &
	bg=$!
	nspid=""
	for _ in $(seq 100); do
		nspid=$(cat "/proc/$bg/task/$bg/children" 2>/dev/null | awk '{ print $1 }')
		[ -n "$nspid" ] && [ "$(readlink "/proc/$nspid/exe" 2>/dev/null)" = /usr/bin/python3.11 ] && break
		nspid=""
		sleep 0.1
	done
	[ -n "$nspid" ] || fail "the namespaced interpreter did not start"
	local ids
	ids=$(awk '/^NSpid:/ { $1 = ""; print substr($0, 2) }' "/proc/$nspid/status")
	[ "$ids" = "$nspid 1" ] || fail "pid $nspid is not pid 1 of a namespace of its own (NSpid: $ids)"
	sleep 2 # the interpreter set up and in its rounds
}

stop_ns() {
	kill "$bg" 2>/dev/null || true
	wait "$bg" 2>/dev/null || true
	bg=""
}

"$scorch" record --lines -F 999 -o "$tmp/inside.folded" -- "${ns[@]}" "$py" "$sample" 4 >/dev/null 2>"$tmp/err" ||
	fail "record -- unshare exited $?: $(cat "$tmp/err")"
grep -q "python: 1 interpreters" "$tmp/err" || fail "record did not find the one interpreter: $(cat "$tmp/err")"
check single "$tmp/inside.folded" "record -- unshare"

start_ns 60
"$scorch" record --lines -F 999 -d 6 -p "$nspid" -o "$tmp/pid.folded" 2>"$tmp/err" ||
	fail "record -p exited $?: $(cat "$tmp/err")"
check single "$tmp/pid.folded" "record -p (from outside)"
stop_ns

"$scorch" agent --frequency 499 --interval 2s --output-dir "$tmp/agent" 2>"$tmp/agent.log" &
agent=$!
at_exit '[ -z "$agent" ] || kill "$agent" 2>/dev/null'
sleep 1.5
"${ns[@]}" "$py" "$sample" 4 >/dev/null
sleep 0.5
kill -TERM "$agent"
wait "$agent" || fail "agent: $(cat "$tmp/agent.log")"
agent=""
for f in "$tmp/agent"/*.pb.gz; do
	[ -e "$f" ] || fail "the agent wrote no window: $(cat "$tmp/agent.log")"
	"$scorch" convert --lines "$f" -o "$tmp/w.folded" 2>/dev/null || fail "cannot convert $f"
	cat "$tmp/w.folded" >>"$tmp/agent.folded"
done
check single "$tmp/agent.folded" "agent"

"$scorch" record --lines --per-thread -F 999 -o "$tmp/threads.folded" -- "${ns[@]}" "$py" "$sample" 3 4 \
	>/dev/null 2>"$tmp/err" || fail "record (4 threads) exited $?: $(cat "$tmp/err")"
check threads "$tmp/threads.folded" "4 threads"
echo "PASS"
