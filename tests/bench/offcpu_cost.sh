#!/bin/bash
# SPDX-License-Identifier: MIT
# What following context switches costs (issue 16): pingpong (two threads
# passing a byte over pipes, two switches a round trip) for SECS seconds,
# alone, under `scorch record` (CPU samples only), `scorch record
# --off-cpu`, `scorch record --wall`, and offcputime-bpfcc (system-wide,
# as it is used; when installed, with BCC_KERNEL_SOURCE from lib.sh's
# bcc_headers).  Debian's perf has no --off-cpu (built without BPF
# skeletons: "option off-cpu is being ignored"), so it is not measured.
# Then the wall time of samples/offcpu (25 % computing, 75 % waiting)
# alone and under --wall.  Interleaved, rotated every repetition.
#
#   offcpu_cost.sh BUILD_DIR [REPS [SECS]]       (defaults 5 and 2)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=${1:?usage: offcpu_cost.sh BUILD_DIR [REPS [SECS]]}
reps=${2:-5} secs=${3:-2}
SCORCH=$build/scorch OFFCPU=$build/samples/offcpu
WORK=${BENCH_TMP:-/tmp/scorch-bench/offcpu}
[ -x "$SCORCH" ] && [ -x "$OFFCPU" ] || die "build scorch and samples/offcpu in $build first"
mkdir -p "$WORK"
PP=$WORK/pingpong
cc -O2 -pthread -o "$PP" "$here/pingpong.c" || die "cannot build pingpong"
out=$WORK/runs.txt
echo "rep config what value load" >"$out"

configs=(base cpu offcpu wall)
if ! command -v offcputime-bpfcc >/dev/null; then
	log "offcputime-bpfcc not measured: not installed (apt-get install bpfcc-tools)"
elif ! bcc_headers "$(dirname "$WORK")"; then
	log "offcputime-bpfcc not measured: $BCC_WHY"
elif ! timeout 60 offcputime-bpfcc 1 >"$WORK/bcc-check.out" 2>&1; then
	log "offcputime-bpfcc not measured: it does not run here: $(grep -m1 -iE 'error|exception|cannot|failed' "$WORK/bcc-check.out" || tail -1 "$WORK/bcc-check.out")"
else
	configs+=(bcc)
fi

run_one() {
	local rep=$1 cfg=$2 v w load bccpid=
	load=$(loadavg)
	case $cfg in
	base) v=$("$PP" "$secs") ;;
	cpu) v=$("$SCORCH" record -F 99 -o "$WORK/x.folded" -- "$PP" "$secs" 2>/dev/null) ;;
	offcpu) v=$("$SCORCH" record --off-cpu -F 99 -o "$WORK/x.folded" -- "$PP" "$secs" 2>"$WORK/offcpu.err") ;;
	wall) v=$("$SCORCH" record --wall -F 99 -o "$WORK/x.folded" -- "$PP" "$secs" 2>/dev/null) ;;
	bcc)
		offcputime-bpfcc -f "$((${secs%.*} + 8))" >"$WORK/bcc.out" 2>"$WORK/bcc.err" &
		bccpid=$!
		sleep 6 # compiling its program
		v=$("$PP" "$secs")
		kill -INT "$bccpid" 2>/dev/null || true
		wait "$bccpid" 2>/dev/null || true
		;;
	esac
	echo "$rep $cfg pingpong $v $load" >>"$out"
	log "rep $rep $cfg: $v round trips/s, load $load"
	case $cfg in
	base | wall)
		local t0 t1
		t0=$(date +%s.%N)
		if [ "$cfg" = base ]; then "$OFFCPU" 1 >/dev/null; else "$SCORCH" record --wall -F 999 -o "$WORK/y.folded" -- "$OFFCPU" 1 >/dev/null 2>&1; fi
		t1=$(date +%s.%N)
		w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		echo "$rep $cfg offcpu_wall_s $w $load" >>"$out"
		;;
	esac
}

interleave "$reps" "${configs[@]}"

cat "$out"
echo
base=$(awk '$2 == "base" && $3 == "pingpong" { print $4 }' "$out" | median)
printf '%-8s %34s %10s\n' config "round trips/s min/median/max" "vs alone"
for cfg in "${configs[@]}"; do
	read -r mn md mx _ < <(awk -v k="$cfg" '$2 == k && $3 == "pingpong" { print $4 }' "$out" | stats)
	printf '%-8s %34s %10s\n' "$cfg" "$mn/$md/$mx" "$(awk -v m="$md" -v b="$base" 'BEGIN { printf "%.3f", m / b }')"
done
for cfg in base wall; do
	read -r mn md mx _ < <(awk -v k="$cfg" '$2 == k && $3 == "offcpu_wall_s" { print $4 }' "$out" | stats)
	echo "samples/offcpu 1 ($cfg, includes scorch's start and end for wall): wall s $mn/$md/$mx"
done
echo "load average (1 min) at the end: $(loadavg), $(nproc) CPUs"
