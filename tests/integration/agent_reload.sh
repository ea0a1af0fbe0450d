#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# agent_reload.sh SCORCH SHAPE: SIGHUP reloads --config while the agent runs
# and pushes.  The config names receiver A and a label env=one; it is
# rewritten to name receiver B and env=two, then the agent gets SIGHUP:
#
#  - the agent logs the reload and keeps going (exit 0 on SIGTERM);
#  - A received windows labelled env=one, B windows labelled env=two, and
#    none of A's after the reload settled;
#  - no window was pushed twice across the two (the push thread is replaced
#    and the spool handed over), and none is left in the spool.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools python3
agent_test_setup "$tmp/a" "$tmp/b"

printf 'push = http://127.0.0.1:%s\nlabel = env=one\n' "$(cat "$tmp/a/port")" >"$tmp/cfg"
"$shape" 9 >/dev/null &
work=$!
"$scorch" agent --interval 1s --config "$tmp/cfg" --output-dir "$tmp/out" 2>"$tmp/agent.log" &
agent=$!
sleep 3.5
printf 'push = http://127.0.0.1:%s\nlabel = env=two\n' "$(cat "$tmp/b/port")" >"$tmp/cfg"
kill -HUP "$agent"
sleep 1.5
accepted() { grep -c '"status": 200' "$1/requests.jsonl" 2>/dev/null || true; }
a_settled=$(accepted "$tmp/a")
sleep 3
kill -TERM "$agent"
rc=0
wait "$agent" || rc=$?
agent=""
kill "$work" 2>/dev/null || true
cat "$tmp/agent.log" >&2
[ "$rc" = 0 ] || fail "agent exited $rc on SIGTERM after a reload"
grep -q "configuration reloaded" "$tmp/agent.log" || fail "no reload logged"

for r in a b; do
	python3 "$here/receiver_log.py" --check "$tmp/$r" || fail "receiver $r: pushes refused or sent twice (above)"
	python3 "$here/receiver_log.py" "$tmp/$r" >"$tmp/$r.received"
done
[ -s "$tmp/a.received" ] || fail "receiver A got nothing before the reload"
[ -s "$tmp/b.received" ] || fail "receiver B got nothing after the reload"
grep -q "env=one" "$tmp/a.received" || fail "A's windows lack env=one"
grep -q "env=two" "$tmp/b.received" || fail "B's windows lack env=two"
[ "$(accepted "$tmp/a")" = "$a_settled" ] || fail "A still received windows after the reload"
dups=$(cat "$tmp/a.received" "$tmp/b.received" | awk '!seen[$5 " " $6]++ { print $5 }' | sort | uniq -d)
[ -z "$dups" ] || fail "pushed more than once across the reload: $dups"
grep -q '"spool_entries": 0' "$tmp/out/status.json" || { cat "$tmp/out/status.json" >&2; fail "spool not empty at exit"; }
echo "agent_reload: $(accepted "$tmp/a") windows to A, then $(accepted "$tmp/b") to B after SIGHUP"
