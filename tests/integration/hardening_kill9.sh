#!/usr/bin/env bash
# kill -9 of scorch leaves nothing behind: its BPF programs, links and maps
# and its perf events are held only by its file descriptors, so the kernel
# frees them when it dies; no surviving process (the profiled command) holds
# any of them, and the -o directory is as it was: a profile already there
# stays whole and no temporary file is left.
# Ids are taken from the victim's own fds, so other scorch runs on the
# machine do not disturb the test.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools bpftool
at_exit 'kill -9 "${pids[@]}" 2>/dev/null'

# ids KIND PID: the BPF object ids (prog_id, map_id, link_id) held by PID's fds.
# (These helpers tolerate an fd that closes while they look.)
ids() {
	{ cat /proc/"$2"/fdinfo/* 2>/dev/null || true; } | awk -v k="$1_id:" '$1 == k { print $2 }' | sort -un
}

# perf_fds PID: how many perf event fds PID holds.
perf_fds() {
	{ find /proc/"$1"/fd -lname 'anon_inode:\[perf_event\]' 2>/dev/null || true; } | wc -l
}

# perf_links PID: how many of PID's BPF links attach a program to a perf event.
perf_links() {
	{ cat /proc/"$1"/fdinfo/* 2>/dev/null || true; } | awk '$1 == "link_type:" && $2 == "perf"' | wc -l
}

# sampling PID: PID's perf events all have a program attached and one of
# its programs is the full sampler, on_sample. A launched command is first
# sampled by on_sample_boot; on_sample is loaded in the background after the
# command's exec, so the ids are taken once it is there, and the test checks
# that the later objects are freed too.
sampling() {
	local n id list
	n=$(perf_fds "$1")
	[ "$n" -gt 0 ] && [ "$(perf_links "$1")" -eq "$n" ] || return 1
	list=$(bpftool prog list)
	for id in $(ids prog "$1"); do
		grep -q "^$id: perf_event  name on_sample " <<<"$list" && return 0
	done
	return 1
}

# wait_attached PID: until PID is sampling.
wait_attached() {
	for _ in $(seq 100); do
		sampling "$1" && return 0
		kill -0 "$1" 2>/dev/null || fail "scorch exited before attaching: $(cat "$tmp/err")"
		sleep 0.1
	done
	fail "scorch did not attach on_sample within 10 s: $(cat "$tmp/err"); its programs: $(ids prog "$1" | tr '\n' ' ')"
}

# gone KIND ID...: every id has left bpftool's KIND list (freeing is deferred
# a little after the last fd closes).
gone() {
	local kind=$1 id
	shift
	for id in "$@"; do
		for _ in $(seq 50); do
			bpftool "$kind" show id "$id" >/dev/null 2>&1 || continue 2
			sleep 0.1
		done
		fail "$kind $id still exists 5 s after kill -9: $(bpftool "$kind" show id "$id" 2>&1 | head -3)"
	done
}

# run_and_kill ARGS...: record with ARGS, kill -9 once attached, check.
run_and_kill() {
	local out=$tmp/out/prof.folded
	rm -rf "$tmp/out"
	mkdir "$tmp/out"
	echo "old profile 1" >"$out"
	"$scorch" record -F 99 -o "$out" "$@" 2>"$tmp/err" >/dev/null &
	local pid=$!
	pids+=("$pid")
	wait_attached "$pid"
	local progs maps links kids
	kids=$(pgrep -P "$pid" || true)
	progs=$(ids prog "$pid")
	maps=$(ids map "$pid")
	links=$(ids link "$pid")
	[ -n "$progs" ] && [ -n "$maps" ] || fail "no BPF programs or maps found on scorch's fds"
	echo "attached: $(perf_fds "$pid") perf events, progs $(echo $progs), links $(echo $links)"

	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	# shellcheck disable=SC2086
	{ gone prog $progs; gone link $links; gone map $maps; }
	# No surviving process holds a BPF object or a perf event of ours.
	local p
	for p in $kids; do
		[ "$(perf_fds "$p")" -eq 0 ] || fail "profiled command $p holds a perf event"
		! grep -q . < <(find /proc/"$p"/fd -lname 'anon_inode:bpf*' 2>/dev/null) ||
			fail "profiled command $p holds a BPF object"
	done
	[ "$(cat "$out")" = "old profile 1" ] || fail "-o destination changed by a killed run: $(head -c 200 "$out")"
	local left
	left=$(cd "$tmp/out" && ls -A | grep -vx prof.folded || true)
	[ -z "$left" ] || fail "left in the -o directory: $left"
	kill -9 $kids 2>/dev/null || true
}

# System-wide for 30 s, killed after it attached.
run_and_kill -d 30
# A command: the profiled process runs on, holding nothing of scorch's.
run_and_kill -- "$shape" 30
echo "hardening_kill9: ok"
