#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# agent_windows.sh SCORCH SHAPE: scorch agent for 3+ windows of 2 s while
# short shape runs start and exit, pushing to a local stand-in for Pyroscope
# (pyroscope_receiver.py, 127.0.0.1 only) that is down (503) for one window.
#
#  - every window file is read by `go tool pprof -raw`, and `-tags` shows the
#    labels: host, pid, comm, exe, cgroup, service_name and the --label pairs;
#  - every push is accepted as Pyroscope would (none refused but during the
#    outage), carries the tenant header, and each window's profile arrives
#    exactly once (no profile ID twice), every window included, the ones sent
#    while the server was down too;
#  - a server that holds a request unanswered for 5 s (longer than two
#    windows) delays no window: pushes run on their own thread;
#  - SIGTERM writes the last window and exits 0, with the spool empty;
#  - the spool survives a restart: windows an agent could not send before it
#    stopped are sent by the next one, once each.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools go python3
agent_test_setup "$tmp/state"
mkdir -p "$tmp/out"

started=$(date +%s)
"$scorch" agent --interval 2s --output-dir "$tmp/out" --push "http://127.0.0.1:$port" \
	--push-header 'X-Scope-OrgID: t1' --label env=ci --label team=perf 2>"$tmp/agent.log" &
agent=$!

# Short-lived processes all along: shape runs of 0.3 s CPU, one after another.
( end=$(($(date +%s) + 16)); while [ "$(date +%s)" -lt "$end" ]; do "$shape" 0.3 >/dev/null; done ) &
load=$!
sleep 3
touch "$tmp/state/down"  # the server is down for more than one window
sleep 2.5
rm -f "$tmp/state/down"
sleep 1.5
touch "$tmp/state/hang"  # then it stalls: the next request waits 5 s for an answer
before=$(ls "$tmp/out"/*.pb.gz | wc -l)
sleep 5
during=$(($(ls "$tmp/out"/*.pb.gz | wc -l) - before))
rm -f "$tmp/state/hang"
[ -s "$tmp/state/held" ] || fail "no request reached the stalled server"
# 5 s of 2 s windows: two or three close while the request waits.
[ "$during" -ge 2 ] || fail "$during window files written in 5 s while a push was stalled, want >= 2"
wait "$load"
sleep 4
kill -TERM "$agent"
rc=0
wait "$agent" || rc=$?
agent=""
cat "$tmp/agent.log" >&2
[ "$rc" = 0 ] || fail "agent exited $rc on SIGTERM"

# Window files: at least 3 whole windows plus the last partial one.
nfiles=$(ls "$tmp/out"/*.pb.gz | wc -l)
[ "$nfiles" -ge 4 ] || fail "$nfiles window files, want at least 4"
# A window without samples (an idle machine) is written empty and not pushed.
busy=0
for f in "$tmp/out"/*.pb.gz; do
	go tool pprof -raw "$f" >"$tmp/raw" 2>"$tmp/err" || { cat "$tmp/err" >&2; fail "pprof cannot read $f"; }
	grep -q "^Samples:" "$tmp/raw" || fail "$f: no samples section in pprof -raw"
	awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && /^ *[0-9]+ +[0-9]+:/ { n++ } END { exit !n }' "$tmp/raw" || continue
	busy=$((busy + 1))
	echo "$f" >>"$tmp/busy"
	go tool pprof -tags "$f" >"$tmp/tags" 2>/dev/null || fail "pprof -tags $f"
	for key in host pid comm cgroup service_name env team; do
		grep -q "^ *$key:" "$tmp/tags" || { cat "$tmp/tags" >&2; fail "$f: no '$key' label"; }
	done
	# exe is read through /proc/PID/exe, which a process that is already
	# exiting no longer has: a window of only such processes (rm, readlink
	# from the test's own shell) has none; one with shape in it must.
	if grep -q "shape" "$tmp/tags"; then
		grep -q "^ *exe:" "$tmp/tags" || { cat "$tmp/tags" >&2; fail "$f: no 'exe' label"; }
	fi
	grep -q "ci" "$tmp/tags" || fail "$f: --label env=ci missing"
done
# Each window holds its own samples only: a closed window's maps are
# emptied (capture_window_clear) before they take samples again, so all the
# windows together hold no more than 19 Hz on every CPU for the agent's run
# (with a margin); samples left behind would be counted again in every
# later window.
total=0
for f in "$tmp/out"/*.pb.gz; do
	n=$(go tool pprof -raw "$f" 2>/dev/null | awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && /^ *[0-9]+ +[0-9]+:/ { n += $1 } END { print n + 0 }')
	total=$((total + n))
done
most=$((19 * $(nproc) * ($(date +%s) - started + 2) * 3 / 2))
[ "$total" -le "$most" ] || fail "the windows hold $total samples, more than $most (19 Hz on $(nproc) CPUs): samples counted in two windows?"
[ "$total" -gt 0 ] || fail "no samples in any window"
# The shape runs are labelled with their executable and service.
cat "$tmp/out"/*.pb.gz >/dev/null
found=0
for f in "$tmp/out"/*.pb.gz; do
	grep -q "$shape" < <(go tool pprof -tags "$f" 2>/dev/null) && found=1
done
[ "$found" = 1 ] || fail "no window has exe=$shape"

# Pushes: accepted, with the tenant header, each once, every window there.
python3 "$here/receiver_log.py" --check "$tmp/state" || fail "pushes refused or sent twice (above)"
[ -s "$tmp/state/refused" ] || fail "the receiver never refused a request (the outage did not happen)"
python3 "$here/receiver_log.py" "$tmp/state" >"$tmp/received"
[ -s "$tmp/received" ] || fail "nothing pushed"
awk '$4 != "t1" { bad = 1 } END { exit bad }' "$tmp/received" || fail "a push without X-Scope-OrgID: t1"
[ "$busy" -ge 3 ] || fail "$busy windows with samples, want at least 3"
for f in $(cat "$tmp/busy"); do
	b=$(basename "$f" .pb.gz)
	t=$(date -u -d "$(echo "$b" | sed -E 's/T([0-9]+)-([0-9]+)-([0-9]+)Z/ \1:\2:\3/')" +%s)
	awk -v t="$t" '$1 == t { ok = 1 } END { exit !ok }' "$tmp/received" || fail "window $b ($t) never arrived"
done
grep -q "env=ci" "$tmp/received" || fail "static labels missing from the series"
grep -q "host=" "$tmp/received" || fail "host label missing from the series"
awk '$2 == "shape" && $3 == "process_cpu" { ok = 1 } END { exit !ok }' "$tmp/received" ||
	fail "no process_cpu series for the shape service"
for p in $(awk '$2 == "shape" { print $6 }' "$tmp/received" | sort -u); do
	go tool pprof -raw "$tmp/state/profiles/$p" >/dev/null 2>&1 || fail "pushed profile $p unreadable"
done
grep -q '"spool_entries": 0' "$tmp/out/status.json" || { cat "$tmp/out/status.json" >&2; fail "spool not empty at exit"; }
grep -q '"push_failures": [1-9]' "$tmp/out/status.json" || fail "status.json does not count the push failures"

# Restart: the server is down for a whole run; the next run sends its windows.
accepted() { grep -c '"status": 200' "$1/requests.jsonl" || true; }
before=$(accepted "$tmp/state")
touch "$tmp/state/down"
"$shape" 6 >/dev/null &
work=$!
"$scorch" agent --interval 1s --output-dir "$tmp/out2" --push "http://127.0.0.1:$port" \
	--push-header 'X-Scope-OrgID: t1' 2>"$tmp/agent2.log" &
agent=$!
sleep 3
kill -TERM "$agent"
wait "$agent" || fail "agent (server down) exited $?"
agent=""
spooled=$(ls "$tmp/out2/spool" | grep -c '\.push$' || true)
[ "$spooled" -ge 2 ] || { cat "$tmp/agent2.log" >&2; fail "$spooled windows spooled while the server was down, want >= 2"; }
rm -f "$tmp/state/down"
"$scorch" agent --interval 1s --output-dir "$tmp/out2" --push "http://127.0.0.1:$port" \
	--push-header 'X-Scope-OrgID: t1' 2>>"$tmp/agent2.log" &
agent=$!
sleep 2.5
kill -TERM "$agent"
wait "$agent" || fail "agent (restarted) exited $?"
agent=""
left=$(ls "$tmp/out2/spool" | grep -c '\.push$' || true)
[ "$left" = 0 ] || fail "$left windows still spooled after the restart"
wait "$work"
after=$(accepted "$tmp/state")
[ $((after - before)) -ge "$spooled" ] || fail "restart sent $((after - before)) windows, $spooled were spooled"
python3 "$here/receiver_log.py" --check "$tmp/state" || fail "pushes refused or sent twice after the restart (above)"
echo "agent_windows: restart: $spooled spooled windows sent by the next run"
echo "agent_windows: $nfiles windows, $after pushes, $(wc -l <"$tmp/state/refused") refused during the outage"
