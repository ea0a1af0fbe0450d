#!/bin/bash
# SPDX-License-Identifier: MIT
# What `scorch agent --off-cpu` costs on a switch-heavy machine (issue 16):
# pingpong (two threads passing a byte over pipes, two context switches a
# round trip) for SECS seconds with no agent, under the agent (19 Hz, CPU
# samples only) and under `agent --off-cpu`, interleaved and rotated every
# repetition.  Per run: pingpong's round trips per second (the BPF programs
# run in the switching threads, so their cost shows there), the agent
# process's own CPU while pingpong ran (building and writing windows,
# carrying the stacks of waiting threads) as a percentage of one CPU, and
# its RSS at the end.
#
#   agent_offcpu_cost.sh BUILD_DIR [REPS [SECS [INTERVAL]]]   (defaults 5, 10, 2s)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=${1:?usage: agent_offcpu_cost.sh BUILD_DIR [REPS [SECS [INTERVAL]]]}
reps=${2:-5} secs=${3:-10} interval=${4:-2s}
SCORCH=$build/scorch
WORK=${BENCH_TMP:-/tmp/scorch-bench/agent-offcpu}
[ -x "$SCORCH" ] || die "build scorch in $build first"
[ "$(id -u)" = 0 ] || die "needs root (BPF)"
mkdir -p "$WORK"
PP=$WORK/pingpong
cc -O2 -pthread -o "$PP" "$here/pingpong.c" || die "cannot build pingpong"
out=$WORK/runs.txt
echo "rep config round_trips_per_s agent_cpu_pct agent_rss_kib load" >"$out"
agent=""
trap '[ -n "$agent" ] && kill "$agent" 2>/dev/null || true' EXIT

# CPU time of pid in clock ticks (utime + stime).
ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

run_one() {
	local rep=$1 cfg=$2 v load c0 c1 t0 t1 cpu=- rss=-
	load=$(loadavg)
	if [ "$cfg" = base ]; then
		v=$("$PP" "$secs")
	else
		rm -rf "$WORK/out"
		"$SCORCH" agent --interval "$interval" --output-dir "$WORK/out" $([ "$cfg" = offcpu ] && echo --off-cpu) \
			2>"$WORK/agent.log" &
		agent=$!
		wait_file "$WORK/out/status.json" 30 || die "$cfg: agent wrote no status.json: $(cat "$WORK/agent.log")"
		c0=$(ticks "$agent")
		t0=$(date +%s.%N)
		v=$("$PP" "$secs")
		t1=$(date +%s.%N)
		c1=$(ticks "$agent")
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$agent/status")
		kill -TERM "$agent"
		wait "$agent" || die "$cfg: agent exited $?"
		agent=""
		cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" \
			'BEGIN { printf "%.2f", 100 * (b - a) / hz / (t1 - t0) }')
	fi
	echo "$rep $cfg $v $cpu $rss $load" >>"$out"
	log "rep $rep $cfg: $v round trips/s, agent ${cpu} % of a CPU, RSS ${rss} KiB, load $load"
}

interleave "$reps" base agent offcpu

cat "$out"
echo
base=$(awk '$2 == "base" { print $3 }' "$out" | median)
printf '%-7s %30s %9s %24s %22s\n' config "round trips/s min/median/max" "vs alone" "agent CPU % min/med/max" \
	"agent RSS KiB median"
for cfg in base agent offcpu; do
	read -r mn md mx _ < <(awk -v k="$cfg" '$2 == k { print $3 }' "$out" | stats)
	cpu=- rss=-
	if [ "$cfg" != base ]; then
		read -r a b c _ < <(awk -v k="$cfg" '$2 == k { print $4 }' "$out" | stats)
		cpu="$a/$b/$c"
		rss=$(awk -v k="$cfg" '$2 == k { print $5 }' "$out" | median)
	fi
	printf '%-7s %30s %9s %24s %22s\n' "$cfg" "$mn/$md/$mx" "$(awk -v m="$md" -v b="$base" 'BEGIN { printf "%.3f", m / b }')" \
		"$cpu" "$rss"
done
echo "windows of $interval, pingpong $secs s a run, $reps runs each; load average (1 min) at the end: $(loadavg), $(nproc) CPUs"
