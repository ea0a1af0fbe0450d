#!/bin/bash
# SPDX-License-Identifier: MIT
# Launch to first sample: the time from the exec of `PROFILER record ... --
# CMD` to CMD's first instruction in main.  Both scorch and perf attach before
# they release the command, so this is the attach cost a user waits for; the
# first sample follows within one period (0.2 ms at 4999 Hz).
#
#   record_firstsample.sh OUT REPS SECS CONFIG...
#
# CONFIG: scorch (the defaults: --unwind auto), scorch-fp, scorch-dwarf,
# scorch-auto (scorch with --unwind MODE), perf (all at -F 4999).  `record_helper launch` stamps
# CLOCK_MONOTONIC into the environment just before exec'ing the profiler;
# `record_helper mark` (statically linked) reads it first thing in main and
# then execs `shape SECS`.  Each run's profile is checked to hold samples.
# Appends "rep config ms samples load status" rows to OUT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

out=$1 reps=$2 secs=$3
shift 3
configs=("$@")
: "${SCORCH:?}" "${SHAPE:?}" "${HELPER:?}" "${WORK:?}"
mkdir -p "$WORK"
[ -s "$out" ] || echo "rep config ms samples load status" >"$out"

run_one() {
	local rep=$1 cfg=$2 d=$WORK/first ms samples status=ok load
	rm -rf "$d"
	mkdir -p "$d"
	load=$(loadavg)
	case $cfg in
	scorch | scorch-fp | scorch-dwarf | scorch-auto)
		local mode=()
		[ "$cfg" = scorch ] || mode=(--unwind "${cfg#scorch-}")
		"$HELPER" launch "$d/t" -- "$SCORCH" record "${mode[@]}" -F 4999 -o "$d/x.folded" \
			-- "$HELPER" mark -- "$SHAPE" "$secs" >/dev/null 2>"$d/err" || status=fail
		samples=$(awk '{ s += $NF } END { print s + 0 }' "$d/x.folded" 2>/dev/null || echo 0)
		;;
	perf)
		"$HELPER" launch "$d/t" -- perf record -F 4999 -g -e cpu-clock -o "$d/perf.data" \
			-- "$HELPER" mark -- "$SHAPE" "$secs" >/dev/null 2>"$d/err" || status=fail
		samples=$(sed -n 's/.*(\([0-9]*\) samples).*/\1/p' "$d/err" | tail -1)
		;;
	*) die "unknown config $cfg" ;;
	esac
	ms=$(field "$d/t" 1)
	[ "${samples:-0}" -gt 0 ] || status=fail
	[ "$status" = ok ] || log "$cfg rep $rep failed: $(head -c 300 "$d/err")"
	echo "$rep $cfg $ms ${samples:--} $load $status" >>"$out"
	log "rep $rep $cfg: launch to workload start $ms ms, ${samples:--} samples"
}

interleave "$reps" "${configs[@]}"
