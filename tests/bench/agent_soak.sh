#!/bin/sh
# SPDX-License-Identifier: MIT
# agent_soak.sh SCORCH SHAPE [MINUTES [INTERVAL [HZ]]]: the agent's own cost
# under process churn.  `scorch agent` at HZ (default 19) on every CPU (windows of INTERVAL,
# default 10s, files into a temporary directory) while a load generator
# starts 200 short-lived processes a second (SOAK_RATE; half /bin/true,
# half `shape 0.005`, 5 ms of CPU each; tests/bench/spawner.c).  Every 10 s it samples the agent's CPU
# time and RSS from /proc.  Prints the samples, then CPU % of one core over
# the run and after the first minute, RSS at 1 minute and at the end, and
# the spread of RSS from the first minute on (min/median/max, and how far
# from the 1-minute value).
# AGENT_ARGS adds options to the agent's command line (e.g. --off-cpu).
# SOAK_PUSH=1 also pushes every window to tests/integration/pyroscope_receiver.py
# (the stand-in for Pyroscope, on 127.0.0.1) and sums up at the end what it
# took: requests, accepted, refused by reason, series per service.
# Needs root (BPF).  Measures only: nothing here fails on a figure.
set -eu
export LC_ALL=C
die() {
	printf 'agent_soak: %s\n' "$*" >&2
	exit 1
}
scorch=$1
shape=$2
minutes=${3:-30}
interval=${4:-10s}
hz=${5:-19}
[ "$(id -u)" = 0 ] || die "needs root (BPF)"

tmp=$(mktemp -d)
agent=""
load=""
receiver=""
cleanup() {
	[ -n "$load" ] && kill "$load" 2>/dev/null || true
	[ -n "$agent" ] && kill "$agent" 2>/dev/null || true
	[ -n "$receiver" ] && kill "$receiver" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
push=""
if [ "${SOAK_PUSH:-}" = 1 ]; then
	mkdir -p "$tmp/receiver"
	python3 "$(dirname "$0")/../integration/pyroscope_receiver.py" "$tmp/receiver" &
	receiver=$!
	for _ in $(seq 50); do [ -f "$tmp/receiver/port" ] && break; sleep 0.1; done
	[ -f "$tmp/receiver/port" ] || die "receiver did not start"
	push="--push http://127.0.0.1:$(cat "$tmp/receiver/port")"
fi

# shellcheck disable=SC2086 # AGENT_ARGS is a list of options
# shellcheck disable=SC2086 # push is a list of options too
"$scorch" agent --frequency "$hz" --interval "$interval" --output-dir "$tmp/out" --retention 10m ${AGENT_ARGS:-} $push \
	2>"$tmp/agent.log" &
agent=$!
sleep 1
kill -0 "$agent" 2>/dev/null || { cat "$tmp/agent.log" >&2; die "agent did not start"; }

# ~200 processes a second, half /bin/true and half shape 0.005, paced, up
# to 16 at once (spawner.c; a loop waiting for each child made ~150 here).
cc -O2 -o "$tmp/spawner" "$(dirname "$0")/spawner.c" || die "cannot build spawner.c"
"$tmp/spawner" "$shape" "${SOAK_RATE:-200}" "$tmp/spawned" &
load=$!

tck=$(getconf CLK_TCK)
t0=$(date +%s)
end=$((t0 + minutes * 60))
printf '%8s %10s %10s %8s %10s\n' seconds cpu_s rss_kib procs compile_s
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 10
	kill -0 "$agent" 2>/dev/null || { cat "$tmp/agent.log" >&2; die "agent exited"; }
	cpu=$(awk -v tck="$tck" '{ printf "%.2f", ($14 + $15) / tck }' "/proc/$agent/stat")
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$agent/status")
	# Table compiles (status.json, each window) follow the files new to the
	# machine, whoever runs them: shown apart, to compare runs on a busy machine.
	comp=$(sed -n 's/.*"unwind_compile_ms": \([0-9]*\).*/\1/p' "$tmp/out/status.json" 2>/dev/null)
	printf '%8d %10s %10s %8s %10s\n' $(($(date +%s) - t0)) "$cpu" "$rss" "$(cat "$tmp/spawned" 2>/dev/null || echo 0)" \
		"$(awk -v ms="${comp:-0}" 'BEGIN { printf "%.2f", ms / 1000 }')" | tee -a "$tmp/samples"
done
kill "$load" 2>/dev/null || true
load=""
kill -TERM "$agent"
wait "$agent" || true
agent=""
awk -v min="$minutes" '
	{ t[NR] = $1; c[NR] = $2; r[NR] = $3; p[NR] = $4; k[NR] = $5 }
	END {
		n = NR; w = 6 < n ? 6 : 1  # row 6: 60 s
		printf "agent over %d min: %.2f %% of one core overall, %.2f %% after the first minute\n",
			min, 100 * c[n] / t[n], 100 * (c[n] - c[w]) / (t[n] - t[w])
		printf "after the first minute without CFI table compiles: %.2f %% of one core (compiles %.2f s)\n",
			100 * (c[n] - c[w] - (k[n] - k[w])) / (t[n] - t[w]), k[n] - k[w]
		printf "RSS: %d KiB at %d s, %d KiB at %d s (%+.1f %%); %.0f processes/s started\n",
			r[w], t[w], r[n], t[n], 100 * (r[n] - r[w]) / r[w], p[n] / t[n]
	}' "$tmp/samples"
# Flatness: every reading from the first minute on, against the one at 60 s.
awk 'NR >= 6 { print $3 }' "$tmp/samples" | sort -n | awk -v first="$(awk 'NR == 6 { print $3 }' "$tmp/samples")" '
	{ v[NR] = $1 }
	END {
		if (!NR || !first) exit
		lo = 100 * (v[1] - first) / first; hi = 100 * (v[NR] - first) / first
		printf "RSS from 1 min on: min/median/max %d/%d/%d KiB over %d readings, %+.1f %% to %+.1f %% of the 1-minute value\n",
			v[1], v[int((NR + 1) / 2)], v[NR], NR, lo, hi
	}'
grep -c . "$tmp/agent.log" >/dev/null && tail -3 "$tmp/agent.log" >&2
ls "$tmp/out" | grep -c 'pb.gz$' | sed 's/^/window files kept: /'
cat "$tmp/out/status.json"
[ -z "$receiver" ] || python3 - "$tmp/receiver" <<'PY'
import collections, json, statistics, sys
state = sys.argv[1]
reqs = [json.loads(l) for l in open(state + "/requests.jsonl")]
series = [json.loads(l) for l in open(state + "/series.jsonl")]
ok = sum(r["status"] == 200 for r in reqs)
refused = collections.Counter("%d %s" % (r["status"], r["reason"] or r["code"]) for r in reqs if r["status"] != 200)
per = collections.defaultdict(set)
for s in series:
    l = dict(s["labels"])
    per[l.get("service_name")].add(tuple(sorted(l.items())))
counts = sorted(len(v) for v in per.values())
print("receiver: %d requests, %d accepted, refused by reason: %s" % (len(reqs), ok, dict(refused) or "none"))
print("receiver: %d distinct series (label sets) in %d services; per service min/median/max %d/%d/%d"
      % (sum(counts), len(counts), counts[0], statistics.median(counts), counts[-1]) if counts else "receiver: no series")
PY
