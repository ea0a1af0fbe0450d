#!/bin/bash
# SPDX-License-Identifier: MIT
# Rendering and memory against unique stacks: `scorch convert IN.folded -o
# OUT` to .svg, .pb.gz and .folded (read + model + write, no rendering: the
# reference the SVG and pprof writers add to) for generated profiles of each
# STACKS unique stacks (gen_folded.py, depth 10 to 60, seed 1), plus one
# profile of SAMPLES1M samples over 50,000 unique stacks converted to pprof.
# Wall time and peak RSS from wait4() (record_helper).  Configurations
# interleaved, order rotated every repetition; when flamegraph.pl is on PATH
# (not packaged in Debian) it renders the same files as a baseline.
#
#   convert_bench.sh OUT REPS SAMPLES1M STACKS...
#
# Environment: SCORCH, HELPER, WORK; inputs cached in $BENCH_CACHE (default
# /tmp/scorch-bench).  Appends "rep config stacks samples in_bytes wall
# rss_kb out_bytes status" rows to OUT; config is svg-N, pprof-N, folded-N,
# flamegraph-N or pprof1m.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

out=$1 reps=$2 big=$3
shift 3
sizes=("$@")
: "${SCORCH:?}" "${HELPER:?}" "${WORK:?}"
cache=${BENCH_CACHE:-/tmp/scorch-bench}
mkdir -p "$WORK" "$cache"
[ -s "$out" ] || echo "rep config stacks samples in_bytes wall rss_kb out_bytes status" >"$out"
ref=$(command -v flamegraph.pl || true)

input() { # CONFIG: the input file of CONFIG, generated when missing
	local n f
	case $1 in
	pprof1m)
		n=50000
		[ "$big" -ge 50000 ] || n=$((big / 20 > 0 ? big / 20 : 1))
		f=$cache/pprof-$n-$big.folded
		[ -s "$f" ] || python3 "$here/gen_folded.py" -n "$n" --total "$big" -o "$f"
		;;
	*)
		n=${1#*-}
		f=$cache/render-$n.folded
		[ -s "$f" ] || python3 "$here/gen_folded.py" -n "$n" -o "$f"
		;;
	esac
	echo "$f"
}

configs=()
for n in "${sizes[@]}"; do
	configs+=("svg-$n" "pprof-$n" "folded-$n")
	[ -z "$ref" ] || configs+=("flamegraph-$n")
done
configs+=(pprof1m)
for c in "${configs[@]}"; do input "$c" >/dev/null; done # generate outside the timed loop

run_one() {
	local rep=$1 cfg=$2 d=$WORK/conv in o status=ok
	rm -rf "$d"
	mkdir -p "$d"
	in=$(input "$cfg")
	cat "$in" >/dev/null # warm the page cache
	case $cfg in
	svg-*) o=$d/out.svg ;;
	pprof*) o=$d/out.pb.gz ;;
	folded-*) o=$d/out.folded ;;
	flamegraph-*) o=$d/out.svg ;;
	esac
	if [ "${cfg%%-*}" = flamegraph ]; then
		"$HELPER" run -o "$d/t" -- sh -c '"$1" "$2" >"$3"' sh "$ref" "$in" "$o" 2>"$d/err" || status=fail
	else
		"$HELPER" run -o "$d/t" -- "$SCORCH" convert "$in" -o "$o" 2>"$d/err" || status=fail
	fi
	[ -s "$o" ] || status=fail
	[ "$status" = ok ] || log "convert $cfg rep $rep failed: $(head -c 300 "$d/err")"
	local stacks samples
	read -r stacks samples < <(awk '{ n++; s += $NF } END { print n + 0, s + 0 }' "$in")
	echo "$rep $cfg $stacks $samples $(stat -L -c %s "$in") $(field "$d/t" 1) $(field "$d/t" 5) $(stat -c %s "$o" 2>/dev/null || echo -) $status" >>"$out"
	log "convert rep $rep $cfg: $(field "$d/t" 1) s, peak RSS $(field "$d/t" 5) KiB"
}

interleave "$reps" "${configs[@]}"
