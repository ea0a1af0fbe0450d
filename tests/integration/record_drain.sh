#!/usr/bin/env bash
# record drains its in-kernel tables while it runs (issue 24): manystacks
# takes a path of its own through 16 levels of two functions on almost
# every sample, and record keeps tables of 1,024 stacks and counts (two
# sets of them).  Asserted, by construction and not by speed: no sample
# lost, none without its stack, every one of the workload's samples (4 s of
# its CPU at 999 Hz) under main, and more distinct paths in the profile than
# both sets of tables hold, so they were drained several times.  The same
# with --wall (time off the CPU drained too).
set -euo pipefail
scorch=$1 work=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf

entries=1024

# check FOLDED ERR MINSAMPLES: the assertions on one recording.
check() {
	local folded=$1 err=$2 min=$3
	grep -q ' 0 lost$' "$err" || fail "samples lost: $(cat "$err")"
	if grep -q 'without their stacks' "$err"; then fail "samples without stacks: $(cat "$err")"; fi
	# No sample of the workload counted without its stack: a lone [unknown]
	# (the command before its exec, still named scorch, may have one
	# unnamed address of the old image: not the workload's).
	local bare
	bare=$(awk -F';' '$1 == "manystacks" { sub(/ [0-9]+$/, ""); ok = 0; for (i = 2; i <= NF; i++) if ($i != "[unknown]" && $i !~ /^\[(off-cpu|truncated)\]$/) ok = 1; if (!ok) print }' "$folded" | head -3)
	[ -z "$bare" ] || fail "samples without frames: $bare"
	local samples paths main
	samples=$(awk -F';' '$1 == "manystacks" { split($0, a, " "); t += a[length(a)] } END { print t + 0 }' "$folded")
	echo "manystacks: $samples samples"
	[ "$samples" -ge "$min" ] || fail "only $samples samples of manystacks, want at least $min"
	main=$(share ";main(;| )" "$folded" manystacks)
	echo "reach main: $main %"
	within "$main" 100 2 || fail "only $main % of samples reach main"
	# Distinct paths: stacks through all 16 levels, each its own line.
	paths=$(grep -c ';bit15_[01];descend;leaf' "$folded" || true)
	echo "distinct paths: $paths (tables of $entries)"
	[ "$paths" -gt $((2 * entries)) ] || fail "$paths distinct paths, want more than both tables' $((2 * entries))"
	local drains
	drains=$(sed -n 's/.*tables drained \([0-9]*\) times.*/\1/p' "$err")
	echo "drains: $drains"
	[ "${drains:-0}" -ge 3 ] || fail "tables drained ${drains:-0} times, want at least 3"
}

"$scorch" record -v -F 999 --stack-entries $entries --count-entries $entries -o "$tmp/cpu.folded" -- "$work" 4 \
	2>"$tmp/err" >/dev/null || fail "record exited $?: $(cat "$tmp/err")"
grep -v '^scorch: debug: \(BPF\|symbols\)' "$tmp/err" || true
check "$tmp/cpu.folded" "$tmp/err" 3000

# --wall: the CPU samples as time, the same stacks; waits drained too.
"$scorch" record -v --wall -F 999 --stack-entries $entries --count-entries $entries -o "$tmp/wall.folded" -- \
	"$work" 3 2>"$tmp/err" >/dev/null || fail "record --wall exited $?: $(cat "$tmp/err")"
grep -v '^scorch: debug: \(BPF\|symbols\)' "$tmp/err" || true
# Wall profiles count microseconds: a sample is ~1001 of them.
awk '{ n = $NF; sub(/ [0-9]+$/, ""); printf "%s %d\n", $0, (n + 500) / 1001 }' "$tmp/wall.folded" >"$tmp/wall-samples.folded"
check "$tmp/wall-samples.folded" "$tmp/err" 2200
echo "record_drain: ok"
