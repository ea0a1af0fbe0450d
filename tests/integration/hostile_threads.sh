#!/usr/bin/env bash
# A process with 10,000 threads (each a few microseconds of CPU every 200 ms,
# the main thread spinning), recorded by pid with and without --per-thread,
# and as a command that creates them while recorded (--per-thread): scorch
# completes, names the stacks (main_spin, thread_spin, the sleeps), sees many
# threads apart, and stays within memory.  Prints scorch's peak RSS and
# wall time for each.
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
need_tools /usr/bin/time
nthreads=10000
tasks=$(awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg) # threads on the system
[ $((tasks + nthreads + 500)) -lt "$(cat /proc/sys/kernel/pid_max)" ] ||
	fail "pid_max $(cat /proc/sys/kernel/pid_max) leaves no room for $nthreads threads beside $tasks tasks"
ulimit -u unlimited 2>/dev/null || true

# check WHAT FILE USAGE: samples named, memory and time within bounds.
check() {
	local n named unnamed rss secs
	n=$(samples hostile_threads "$2")
	[ "$n" -gt 300 ] || fail "$1: only $n samples"
	named=$(share ";(main|thread_main);" "$2" hostile_threads)
	unnamed=$(share "(\\[unknown\\]|\\+0x)" "$2" hostile_threads)
	within "$unnamed" 0 5 || fail "$1: $unnamed % of samples with unnamed frames: $(grep -E '(\[unknown\]|\+0x)' "$2" | head -3)"
	grep -Eq ';main_spin( |;)' "$2" && grep -Eq ';thread_main;thread_spin( |;)' "$2" ||
		fail "$1: main_spin or thread_spin missing: $(sort -t' ' -k2 -nr "$2" | head -3)"
	read -r rss secs <"$3"
	[ "$rss" -lt $((512 * 1024)) ] || fail "$1: scorch peaked at $((rss / 1024)) MiB"
	echo "$1: $n samples ($named % under main or thread_main, $unnamed % with an unnamed frame); scorch RSS $((rss / 1024)) MiB, $secs s"
}

"$bin/hostile_threads" "$nthreads" 30 >"$tmp/log" &
pids+=($!)
victim=$!
wait_ready "$victim" "$tmp/log" started
grep -q "started $nthreads" "$tmp/log" || fail "$nthreads threads did not start in 30 s"
[ "$(awk '$1 == "Threads:" { print $2 }' "/proc/$victim/status")" -gt "$nthreads" ] || fail "fewer threads than asked"

rss_time "$tmp/usage" "$scorch" record -F 999 -p "$victim" -d 2 -o "$tmp/p.folded" 2>"$tmp/err" ||
	fail "record -p: $(cat "$tmp/err")"
check "-p, $nthreads threads" "$tmp/p.folded" "$tmp/usage"

rss_time "$tmp/usage" "$scorch" record -F 999 --per-thread -p "$victim" -d 2 -o "$tmp/t.folded" 2>"$tmp/err" ||
	fail "record --per-thread -p: $(cat "$tmp/err")"
check "--per-thread -p, $nthreads threads" "$tmp/t.folded" "$tmp/usage"
tids=$(awk -F';' -v p="$victim" '$1 == "hostile_threads" && $2 == p { print $3 }' "$tmp/t.folded" | sort -u | wc -l)
[ "$tids" -gt 200 ] || fail "--per-thread: only $tids threads apart"
grep -q "^hostile_threads;$victim;$victim;.*main_spin" "$tmp/t.folded" || fail "--per-thread: no main thread row"
echo "  $tids threads seen apart"
kill "$victim"
wait "$victim" 2>/dev/null || true

rss_time "$tmp/usage" "$scorch" record -F 999 --per-thread -o "$tmp/c.folded" -- "$bin/hostile_threads" "$nthreads" 1.5 \
	>/dev/null 2>"$tmp/err" || fail "record -- hostile_threads: $(cat "$tmp/err")"
check "-- CMD --per-thread, $nthreads threads started while recorded" "$tmp/c.folded" "$tmp/usage"
echo "hostile_threads: ok"
