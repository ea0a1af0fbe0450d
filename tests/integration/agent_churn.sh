#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# agent_churn.sh SCORCH SHAPE: processes of a few milliseconds, started one
# after another, are often gone (a zombie, or reaped) by the time the agent
# reads the announcement of their first sample.  Every sample of a process
# still carries its service_name: the BPF side kept the name and cgroup of
# each announced process that exited (capture_process_state), where reading
# /proc/PID found nothing (5 % of the samples had no service_name before).
# The processes read while alive carry their exe too.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools go
agent_test_setup
mkdir -p "$tmp/out"

"$scorch" agent --frequency 99 --interval 2s --output-dir "$tmp/out" 2>"$tmp/agent.log" &
agent=$!
sleep 1
# Two loops of 2 ms processes for 6 s: /bin/true between them, shorter still.
for _ in 1 2; do
	( end=$(($(date +%s) + 6)); while [ "$(date +%s)" -lt "$end" ]; do "$shape" 0.002 >/dev/null; /bin/true; done ) &
done
wait $(jobs -p | grep -v "^$agent\$")
sleep 2.5
kill -TERM "$agent"
rc=0
wait "$agent" || rc=$?
agent=""
[ "$rc" = 0 ] || { cat "$tmp/agent.log" >&2; fail "agent exited $rc on SIGTERM"; }

# One line per sample (go tool pprof -raw: a sample's line, then its labels):
# its count and labels.
for f in "$tmp/out"/*.pb.gz; do
	go tool pprof -raw "$f" >"$tmp/raw" 2>"$tmp/err" || { cat "$tmp/err" >&2; fail "pprof cannot read $f"; }
	awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 }
		s && /^ *[0-9]+ +[0-9]+:/ { if (l != "") print l; l = $1; next }
		s && l != "" { l = l " " $0 }
		END { if (l != "") print l }' "$tmp/raw" >>"$tmp/samples"
done
withpid=$(awk '/pid:\[/ { n += $1 } END { print n + 0 }' "$tmp/samples")
unnamed=$(awk '/pid:\[/ && !/service_name:\[/ { n += $1 } END { print n + 0 }' "$tmp/samples")
shapes=$(awk '/exe:\[[^]]*samples\/shape\]/ { n += $1 } END { print n + 0 }' "$tmp/samples")
[ "$withpid" -gt 100 ] || fail "only $withpid samples of processes in the windows"
[ "$unnamed" = 0 ] || fail "$unnamed of $withpid samples of processes have no service_name, e.g. $(grep 'pid:\[' "$tmp/samples" | grep -v 'service_name:\[' | head -3)"
[ "$shapes" -gt 0 ] || fail "no sample labelled with shape's exe (of $withpid)"
# Some were read only after they exited, from what the BPF side kept of them.
exited=$(sed -n 's/.*"processes_exited_unread": \([0-9]*\).*/\1/p' "$tmp/out/status.json")
unread=$(sed -n 's/.*"processes_unread": \([0-9]*\).*/\1/p' "$tmp/out/status.json")
[ "${exited:-0}" -gt 0 ] || { cat "$tmp/out/status.json" >&2; fail "no process was labelled after its exit (status.json above)"; }
echo "agent_churn: ok ($withpid samples of processes, all with a service_name; $shapes with shape's exe; $exited processes labelled after their exit, $unread never read)"
