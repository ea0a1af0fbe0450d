#!/usr/bin/env bash
# The agent unwinds user stacks with CFI tables by default: shape_nofp (no
# frame pointers) profiled by `scorch agent` reaches main in nearly every
# sample; with --unwind fp, the control, it does not.
set -euo pipefail
scorch=$1 shape_nofp=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf

# reach MODE: % of shape_nofp's samples after the first window that reach main.
reach() {
	"$shape_nofp" 6 >/dev/null &
	pids+=($!)
	"$scorch" agent --frequency 199 --interval 2s --output-dir "$tmp/$1" --unwind "$1" 2>"$tmp/$1.log" &
	local agent=$!
	sleep 4.5
	kill -TERM "$agent"
	wait "$agent" || fail "agent --unwind $1: $(cat "$tmp/$1.log")"
	# Every window but the first (files named by their start), as one
	# folded file: in the first, shape_nofp's stacks are walked by frame
	# pointers until its tables are in, and how many samples that is
	# depends on the machine's load (7.3 % beside a busy loop on each CPU).
	local f n=0 first=1
	for f in "$tmp/$1"/*.pb.gz; do
		[ -e "$f" ] || fail "agent --unwind $1 wrote no window: $(cat "$tmp/$1.log")"
		[ -z "$first" ] || { first=""; continue; }
		"$scorch" convert "$f" -o "$tmp/w.folded" 2>/dev/null || fail "cannot convert $f"
		cat "$tmp/w.folded" >>"$tmp/$1.folded"
	done
	n=$(awk '$1 ~ /^shape_nofp;/ { n += $NF } END { print n + 0 }' "$tmp/$1.folded")
	[ "$n" -gt 100 ] || fail "agent --unwind $1: only $n samples of shape_nofp in its windows"
	share ";main;" "$tmp/$1.folded" shape_nofp
}
auto=$(reach auto)
fp=$(reach fp)
within "$auto" 100 5 || fail "agent (default unwinding): $auto % of shape_nofp's samples reach main"
[ "${fp%.*}" -lt 50 ] || fail "agent --unwind fp: $fp % reach main; the control should lose main"
echo "agent_unwind: ok (shape_nofp reaching main: $auto % with CFI tables, $fp % with frame pointers)"
