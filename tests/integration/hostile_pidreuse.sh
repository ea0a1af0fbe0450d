#!/usr/bin/env bash
# A pid reused during a recording: one process exits and another takes its
# pid (forced through /proc/sys/kernel/ns_last_pid).  Both run a binary
# called hostile_work (the same comm), with the same code at the same
# addresses; only their function names differ (alpha_spin, beta_spin), so
# symbolizing one with the other's maps or files would give the wrong name.
# With --per-pid both land under the same pid: each must keep its own name,
# with about its own share of the samples.  Recorded following a command, and
# system-wide.
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
[ -w /proc/sys/kernel/ns_last_pid ] || fail "cannot write /proc/sys/kernel/ns_last_pid"
mkdir "$tmp/a" "$tmp/b"
cp "$bin/hostile_alpha" "$tmp/a/hostile_work"
cp "$bin/hostile_beta" "$tmp/b/hostile_work"

# check HOW FILE LOG: alpha and beta under one pid, each named as itself.
check() {
	local pid a b
	pid=$(sed -n 's/^pid \([0-9]*\) reused.*/\1/p' "$3")
	[ -n "$pid" ] || fail "$1: no pid reused: $(cat "$3")"
	a=$(awk -v p="hostile_work;$pid;" 'index($0, p) == 1 && /;alpha_spin( |;)/ { n += $NF } END { print n + 0 }' "$2")
	b=$(awk -v p="hostile_work;$pid;" 'index($0, p) == 1 && /;beta_spin( |;)/ { n += $NF } END { print n + 0 }' "$2")
	[ "$a" -gt 100 ] && [ "$b" -gt 100 ] ||
		fail "$1: pid $pid: $a samples named alpha_spin, $b beta_spin; want both over 100: $(grep "^hostile_work;" "$2" | head -4)"
	# Each ran the same time: neither took the other's samples.
	within "$(awk -v a="$a" -v b="$b" 'BEGIN { print 100 * a / (a + b) }')" 50 15 ||
		fail "$1: pid $pid: alpha_spin $a samples, beta_spin $b: not about even"
	echo "$1: pid $pid ($(cut -d' ' -f4- "$3")): alpha_spin $a samples, beta_spin $b"
}

"$scorch" record -F 999 --per-pid -o "$tmp/cmd.folded" -- \
	"$bin/hostile_pidreuse" "$tmp/a/hostile_work" "$tmp/b/hostile_work" 1 >"$tmp/log" 2>"$tmp/err" ||
	fail "record -- hostile_pidreuse: $(cat "$tmp/err" "$tmp/log")"
check "record -- CMD" "$tmp/cmd.folded" "$tmp/log"

"$shape" 3 >/dev/null &
pids+=($!)
other=$!
# System-wide until both have run (SIGTERM writes the profile).
"$scorch" record -F 999 --per-pid -o "$tmp/sys.folded" 2>"$tmp/err" &
rec=$!
sleep 0.5
"$bin/hostile_pidreuse" "$tmp/a/hostile_work" "$tmp/b/hostile_work" 0.8 >"$tmp/log" || fail "hostile_pidreuse failed"
kill -TERM "$rec"
wait "$rec" || fail "system-wide record: $(cat "$tmp/err")"
check system-wide "$tmp/sys.folded" "$tmp/log"
# Our shape's rows (other processes may be called shape too), pid folded away.
sed -n "s/^shape;$other;/shape;/p" "$tmp/sys.folded" >"$tmp/sys-shape.folded"
shape_intact "$tmp/sys-shape.folded"
# A followed child exits and a process outside the command takes its pid
# while the command still runs: the newcomer is not the command's, and none
# of its samples (beta_spin) may be recorded.
"$scorch" record -F 999 --per-pid -o "$tmp/follow.folded" -- bash -c \
	'"$1" 0.4 --cpu & echo $! >"$2"; wait; sleep 2' - "$tmp/a/hostile_work" "$tmp/child" 2>"$tmp/err" &
rec=$!
for _ in $(seq 100); do
	[ -s "$tmp/child" ] && ! kill -0 "$(cat "$tmp/child")" 2>/dev/null && break
	sleep 0.05
done
child=$(cat "$tmp/child")
"$bin/hostile_pidreuse" --pid "$child" "$tmp/b/hostile_work" 1 >"$tmp/log" || fail "could not take pid $child again"
wait "$rec" || fail "record -- bash: $(cat "$tmp/err")"
a=$(awk '/;alpha_spin( |;)/ { n += $NF } END { print n + 0 }' "$tmp/follow.folded")
b=$(awk '/;beta_spin( |;)/ { n += $NF } END { print n + 0 }' "$tmp/follow.folded")
[ "$a" -gt 100 ] || fail "followed child: only $a samples of alpha_spin"
[ "$b" = 0 ] || fail "pid $child reused by a process outside the command: $b of its samples recorded"
echo "followed child's pid $child reused outside the command: alpha_spin $a samples, beta_spin $b"
echo "hostile_pidreuse: ok"
