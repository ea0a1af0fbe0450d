#!/usr/bin/env bash
# record drains its in-kernel tables while it runs (issue 24): manystacks
# takes a path of its own through 16 levels of two functions on almost
# every sample, and record keeps tables of 1,024 stacks and counts (two
# sets of them).  Asserted, by construction and not by speed: no sample
# lost, none without its stack, every one of the workload's samples (4 s of
# its CPU at 999 Hz) under main, and more distinct paths in the profile than
# both sets of tables hold, so they were drained several times.  The same
# with --wall (time off the CPU drained too), and with a small first set.
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
# A command's first window is small (an eighth: its maps are built before
# the command starts) and flipped as soon as the next window's are built:
# at the defaults (-F 4999, 9,998-entry tables, so a first one of 1,249),
# nothing lost and every sample with its stack.
"$scorch" record -v -F 4999 -o "$tmp/first.folded" -- "$work" 1 2>"$tmp/err" >/dev/null ||
	fail "record -F 4999 exited $?: $(cat "$tmp/err")"
grep -q 'tables drained [0-9]* times (1 a small first set, at ' "$tmp/err" ||
	fail "no small first set drained: $(grep 'tables drained' "$tmp/err")"
grep -q ' 0 lost$' "$tmp/err" || fail "-F 4999: samples lost: $(cat "$tmp/err")"
if grep -q 'without their stacks' "$tmp/err"; then fail "-F 4999: samples without stacks: $(cat "$tmp/err")"; fi
first=$(awk -F';' '$1 == "manystacks" { split($0, a, " "); t += a[length(a)] } END { print t + 0 }' "$tmp/first.folded")
echo "-F 4999: $first samples of manystacks; $(grep -o 'tables drained.*' "$tmp/err")"
[ "$first" -ge 2000 ] || fail "-F 4999: only $first samples of manystacks"
echo "record_drain: ok"
