#!/usr/bin/env bash
# The main thread exits (pthread_exit) and another works on: the process
# stays followed (the pid filter drops a process only when its whole thread
# group is dead) and its frames are named (the leader's /proc/PID/maps reads
# empty: a live thread's maps and /proc directory stand in).
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
need_bpf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$scorch" record -F 999 -o "$tmp/out.folded" -- "$bin/hostile_leader" 1.5 2>"$tmp/err" ||
	fail "record -- hostile_leader: $(cat "$tmp/err")"
n=$(samples hostile_leader "$tmp/out.folded")
[ "$n" -gt 500 ] || fail "only $n samples of the process after its leader exited: $(head -3 "$tmp/out.folded")"
named=$(share ";survivor_spin( |;)" "$tmp/out.folded" hostile_leader)
within "$named" 100 5 || fail "survivor_spin in $named % of the samples: $(head -3 "$tmp/out.folded")"
echo "hostile_leader: ok ($n samples after the leader's pthread_exit, survivor_spin in $named %)"
