#!/bin/sh
# SPDX-License-Identifier: MIT
# agent_pair.sh SCORCH_A SCORCH_B SHAPE [SECONDS]: two builds' agents side by
# side (19 Hz, 10 s windows) under one load (spawner.c, 200 processes a
# second, as agent_soak.sh), for SECONDS (default 180).  On a machine other
# sessions share, the agent's cost follows what they run (it profiles them
# too), and runs taken one after the other see different loads; side by side
# both see the same.  Run it again with A and B swapped: the order of start
# and each agent profiling the other cancel out.  Prints every 10 s each
# agent's CPU seconds and RSS, then CPU % of one core after the first minute
# and B/A, RSS min/median/max from the first minute on, samples and lost.
# Needs root (BPF).  Measures only.
set -eu
export LC_ALL=C
[ "$(id -u)" = 0 ] || { echo "agent_pair: needs root (BPF)" >&2; exit 1; }
a=$1 b=$2 shape=$3 secs=${4:-180}
tmp=$(mktemp -d)
pa="" pb="" ps=""
cleanup() {
	for p in $ps $pa $pb; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
cc -O2 -o "$tmp/spawner" "$(dirname "$0")/spawner.c" || exit 1
"$a" agent --frequency 19 --interval 10s --output-dir "$tmp/a" --retention 10m 2>"$tmp/a.log" &
pa=$!
"$b" agent --frequency 19 --interval 10s --output-dir "$tmp/b" --retention 10m 2>"$tmp/b.log" &
pb=$!
sleep 1
"$tmp/spawner" "$shape" 200 "$tmp/spawned" &
ps=$!
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
uptime
t0=$(date +%s)
printf '%8s %8s %8s %8s %8s %8s\n' seconds cpu_a cpu_b rss_a rss_b procs
while [ $(($(date +%s) - t0)) -lt "$secs" ]; do
	sleep 10
	printf '%8d %8s %8s %8s %8s %8s\n' $(($(date +%s) - t0)) "$(cpu $pa)" "$(cpu $pb)" "$(rss $pa)" "$(rss $pb)" \
		"$(cat "$tmp/spawned" 2>/dev/null || echo 0)" | tee -a "$tmp/samples"
done
kill "$ps"
ps=""
kill -TERM "$pa" "$pb"
wait "$pa" "$pb" || true
pa="" pb=""
uptime
awk 'NR == 6 { t0 = $1; a0 = $2; b0 = $3 } { t = $1; a = $2; b = $3; p = $6 }
	END { printf "after the first minute: A %.2f %%, B %.2f %% of one core, B/A %.2f; %.0f processes/s\n",
		100 * (a - a0) / (t - t0), 100 * (b - b0) / (t - t0), (b - b0) / (a - a0), p / t }' "$tmp/samples"
for c in 4 5; do
	awk -v c=$c 'NR >= 6 { print $c }' "$tmp/samples" | sort -n | awk -v c=$c '{ v[NR] = $1 }
		END { printf "RSS %s from 1 min on: min/median/max %d/%d/%d KiB\n", c == 4 ? "A" : "B", v[1], v[int((NR + 1) / 2)], v[NR] }'
done
for s in a b; do
	printf '%s: ' "$s"
	sed -n 's/.*"\(samples_total\|lost_total\)": \([0-9]*\).*/\1 \2/p' "$tmp/$s/status.json" | tr '\n' ' '
	echo
done
