#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# agent_pyroscope.sh SCORCH SHAPE: scorch agent --push judged by
# pyroscope_receiver.py, the stand-in for Pyroscope's ingestion that makes
# Pyroscope's decisions (each traced to its source there, and proven against
# real clients by pyroscope_clients.sh).
#
#  1. System-wide, --off-cpu, 2 s windows, ~10 s, while a memfd executable
#     (exe "/memfd:sealed-shape (deleted)"), a binary whose path is not UTF-8
#     and the machine's kernel threads run: every request is accepted;
#     process_cpu series carry the profile types
#     process_cpu:cpu:nanoseconds:cpu:nanoseconds and
#     process_cpu:samples:count:cpu:nanoseconds, off_cpu series
#     off_cpu:off_cpu:nanoseconds::; the memfd program and kernel threads
#     (rcu_preempt, kworker/0_1H: ':' is no service name rune) have
#     services; the non-UTF-8 path arrives
#     repaired (U+FFFD); no series has a pid or comm label; no service has
#     more label sets than --push-series-max allows, plus its catch-all;
#     with a receiver that takes at most 40 samples a profile and
#     --push-max-samples 40, profiles are split and none is refused.
#  2. The receiver answers 503, then takes the retry, then answers 422: the
#     503'd window arrives (the same profile ID), the 422'd one is dropped
#     and counted with the server's message in status.json, and every window
#     behind it arrives.
#  3. The receiver is down (503) for 30 s: windows older than --push-max-age
#     (20 s; the receiver refuses past 25 s) are dropped unsent and counted,
#     the rest arrive once it is up, none is refused, and the spool drains.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools python3
agent_test_setup "$tmp/state" "$tmp/state2" "$tmp/state3"

# restart_receiver N DIR OPTION...: receiver N (0-based in the order started)
# again on its port, with Pyroscope's flags OPTION...
restart_receiver() {
	local n=$1 dir=$2 p
	p=$(cat "$dir/port")
	shift 2
	kill "${pids[$n]}"
	wait "${pids[$n]}" 2>/dev/null || true
	rm -f "$dir/port"
	start_receiver "$dir" --port "$p" "$@"
	pids[$n]=${pids[-1]}
	unset 'pids[-1]'
}
# The first receiver takes 40 samples a profile: the agent splits to that.
restart_receiver 0 "$tmp/state" --validation.max-profile-stacktrace-samples 40
port1=$port

# The program the agent's stop must be awaited for, and a check that it exited 0.
stop_agent() {
	kill -TERM "$agent"
	local rc=0
	wait "$agent" || rc=$?
	agent=""
	[ "$rc" = 0 ] || { cat "$1" >&2; fail "agent exited $rc on SIGTERM"; }
}

# ---- 1: system-wide, every request accepted
# A memfd executable, as sealed binaries (runc, some packers) run.
python3 -c '
import os, sys
fd = os.memfd_create("sealed-shape", 0)
os.write(fd, open(sys.argv[1], "rb").read())
os.execv("/proc/self/fd/%d" % fd, ["shape", sys.argv[2]])' "$shape" 9 >/dev/null &
memfd=$!
# A binary whose path is not UTF-8.
bad=$(printf '%s/bad\xff\xfename' "$tmp")
cp "$shape" "$bad"
"$bad" 9 >/dev/null &
badp=$!
# Work for the kernel's threads: a file written and synced every 20 ms wakes
# the block layer's and the file system's workers (kworker, jbd2), which
# then run on a CPU (kernel threads are sampled on the CPU; their waits are
# not followed), at 99 Hz sampled many times in 10 s.
( end=$(($(date +%s) + 12)); while [ "$(date +%s)" -lt "$end" ]; do
	dd if=/dev/zero of="$tmp/synced" bs=64k count=1 conv=fsync status=none; sleep 0.02; done ) &
syncer=$!
"$scorch" agent --off-cpu --frequency 99 --interval 2s --output-dir "$tmp/out" --push "http://127.0.0.1:$port1" \
	--push-series-max 4 --push-max-samples 40 --label env=ci 2>"$tmp/agent.log" &
agent=$!
sleep 10
stop_agent "$tmp/agent.log"
wait "$memfd" "$badp" "$syncer"
# The kernel's threads (children of kthreadd, pid 2) by the names services get.
for p in $(ps -o pid= --ppid 2); do cat "/proc/$p/comm" 2>/dev/null; done |
	sed 's/[^A-Za-z0-9_./-]/_/g' | sort -u >"$tmp/kthreads"
python3 - "$tmp/state" "$tmp/out/status.json" "$tmp/kthreads" <<'EOF' || { cat "$tmp/agent.log" >&2; fail "system-wide pushes (above)"; }
import collections, json, re, sys
state, status = sys.argv[1], json.load(open(sys.argv[2]))
kthreads = set(open(sys.argv[3]).read().split())
reqs = [json.loads(l) for l in open(state + "/requests.jsonl")]
series = [json.loads(l) for l in open(state + "/series.jsonl")]
bad = [r for r in reqs if r["status"] != 200]
assert reqs and not bad, "%d of %d requests refused: %s" % (len(bad), len(reqs), bad[:3])
assert status["pushed"] == len(reqs) and status["push_refused"] == 0, status
assert status["push_splits"] > 0, status
types = collections.defaultdict(set)
for s in series:
    types[s["labels"]["__name__"]].update(s["profile_types"])
assert types["process_cpu"] == {"process_cpu:cpu:nanoseconds:cpu:nanoseconds",
                                "process_cpu:samples:count:cpu:nanoseconds"}, types
assert types["off_cpu"] == {"off_cpu:off_cpu:nanoseconds::"}, types
assert set(types) == {"process_cpu", "off_cpu"}, types
svcs = {s["labels"]["service_name"] for s in series}
assert "memfd_sealed-shape" in svcs, sorted(svcs)
assert svcs & kthreads, (sorted(svcs), sorted(kthreads))
assert any(re.fullmatch("bad_+name", v) for v in svcs), sorted(svcs)
exes = {s["labels"].get("exe", "") for s in series}
assert any("/bad\ufffdname" in e for e in exes), sorted(exes)
for s in series:
    assert not {"pid", "comm"} & set(s["labels"]), s["labels"]
    assert s["labels"]["env"] == "ci" and s["labels"].get("host"), s["labels"]
# The budget: at most 4 label sets of process labels a service, and the
# catch-all (service name alone).
sets = collections.defaultdict(set)
for s in series:
    l = s["labels"]
    sets[(l["__name__"], l["service_name"])].add(tuple(l.get(k) for k in ("exe", "cgroup", "container_id")))
worst = max(len(v) for v in sets.values())
assert worst <= 5, max(sets.items(), key=lambda kv: len(kv[1]))
print("agent_pyroscope: %d requests accepted, %d series, %d services (kernel threads: %s), at most %d label"
      " sets a service, %d profiles split" % (len(reqs), len(series), len(svcs), " ".join(sorted(svcs & kthreads)),
                                              worst, status["push_splits"]))
EOF

# ---- 2: 503, the retry taken, 422: one window dropped, the rest arrive
printf '503\npass\n422\n' >"$tmp/state2/script"
"$shape" 8 >/dev/null &
work=$!
"$scorch" agent --interval 1s --output-dir "$tmp/out2" --push "http://127.0.0.1:$(cat "$tmp/state2/port")" \
	--label service=app 2>"$tmp/agent2.log" &
agent=$!
sleep 6
stop_agent "$tmp/agent2.log"
wait "$work"
python3 - "$tmp/state2" "$tmp/out2/status.json" <<'EOF' || { cat "$tmp/agent2.log" >&2; fail "503 then 422 (above)"; }
import json, sys
state, status = sys.argv[1], json.load(open(sys.argv[2]))
reqs = [json.loads(l) for l in open(state + "/requests.jsonl")]
codes = [r["status"] for r in reqs]
assert codes[:3] == [503, 200, 422] and set(codes[3:]) == {200}, codes
# The retry is the same window: the same profile ID.
assert reqs[0]["ids"] == reqs[1]["ids"] != reqs[2]["ids"], [r["ids"] for r in reqs[:3]]
assert status["push_refused"] == 1 and status["push_failures"] == 1, status
assert status["pushed"] == len(reqs) - 2, (status["pushed"], len(reqs))
assert "HTTP 422" in status["push_last_refusal"] and "scripted" in status["push_last_refusal"], status
assert status["spool_entries"] == 0, status
print("agent_pyroscope: 503 retried, 422 dropped (%r), %d behind it accepted"
      % (status["push_last_refusal"], len(reqs) - 3))
EOF

# ---- 3: down for 30 s; too old is dropped unsent, the rest drains
port3=$(cat "$tmp/state3/port")
restart_receiver 2 "$tmp/state3" --validation.reject-older-than 25s
touch "$tmp/state3/down"
"$shape" 40 >/dev/null &
work=$!
"$scorch" agent --interval 2s --output-dir "$tmp/out3" --push "http://127.0.0.1:$port3" \
	--push-max-age 20s --label service=app 2>"$tmp/agent3.log" &
agent=$!
sleep 30
rm -f "$tmp/state3/down"
# Drained once the spool is empty (backoff up to 32 s after 30 s of failures).
for _ in $(seq 45); do
	sleep 1
	grep -q '"spool_entries": 0,' "$tmp/out3/status.json" 2>/dev/null &&
		grep -q '"pushed": [1-9]' "$tmp/out3/status.json" && break
done
stop_agent "$tmp/agent3.log"
kill "$work" 2>/dev/null || true
wait "$work" 2>/dev/null || true
python3 - "$tmp/state3" "$tmp/out3/status.json" <<'EOF' || { cat "$tmp/agent3.log" >&2; fail "30 s outage (above)"; }
import json, sys
state, status = sys.argv[1], json.load(open(sys.argv[2]))
reqs = [json.loads(l) for l in open(state + "/requests.jsonl")]
down = [r for r in reqs if r["status"] == 503]
ok = [r for r in reqs if r["status"] == 200]
other = [r for r in reqs if r["status"] not in (200, 503)]
assert down, "no request while the receiver was down"
assert not other, other[:3]
assert status["push_expired"] >= 3, status
assert len(ok) >= 3, len(ok)
assert status["spool_entries"] == 0, status
print("agent_pyroscope: outage: %d windows dropped as too old, %d sent after it, none refused"
      % (status["push_expired"], len(ok)))
EOF
