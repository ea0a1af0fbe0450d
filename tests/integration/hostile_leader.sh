#!/usr/bin/env bash
# The main thread exits (pthread_exit) and another works on: the process
# stays followed (the pid filter drops a process only when its whole thread
# group is dead) and its frames are named (the leader's /proc/PID/maps reads
# empty: a live thread's maps and /proc directory stand in).  Built without
# frame pointers, its stacks stay whole: the unwinder's tables, refreshed at
# each announcement, are read through the live thread too (they were wiped:
# 1 stack of 1,497 reached the thread's start); and libc, if the leader's
# exit made its first open fail, is opened again through the live thread
# (one CI run: 0 of 1,491 stacks reached start_thread).
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
"$scorch" record -F 999 -o "$tmp/out.folded" -- "$bin/hostile_leader" 1.5 2>"$tmp/err" ||
	fail "record -- hostile_leader: $(cat "$tmp/err")"
n=$(samples hostile_leader "$tmp/out.folded")
[ "$n" -gt 500 ] || fail "only $n samples of the process after its leader exited: $(head -3 "$tmp/out.folded")"
named=$(share ";survivor_spin( |;)" "$tmp/out.folded" hostile_leader)
within "$named" 100 5 || fail "survivor_spin in $named % of the samples: $(head -3 "$tmp/out.folded")"

"$scorch" record -F 999 --unwind dwarf -o "$tmp/nofp.folded" -- "$bin/hostile_leader_nofp" 1.5 2>"$tmp/err" ||
	fail "record -- hostile_leader_nofp: $(cat "$tmp/err")"
whole=$(share ";start_thread;.*survivor_spin( |;)" "$tmp/nofp.folded" hostile_leader_)
within "$whole" 100 5 || fail "without frame pointers, $whole % of the samples reach start_thread: $(sort -t' ' -k2 -nr "$tmp/nofp.folded" | head -3)
record said: $(cat "$tmp/err")"
echo "hostile_leader: ok ($n samples after the leader's pthread_exit, survivor_spin in $named %; without frame pointers $whole % whole)"
