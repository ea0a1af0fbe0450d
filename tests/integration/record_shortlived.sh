#!/usr/bin/env bash
# Short-lived processes symbolize as well as a long-lived one: a shell loop
# starts 600 processes of 5 ms of CPU each (a static program with symbols);
# the share of their samples whose pc is named must be at least 90 % of the
# share in one 2 s run of the same program.  The share of samples with every
# user frame named is printed, not asserted: frames above the pc come from
# a walk by frame pointers until the process's CFI tables are in, and how
# much of a 5 ms life that is depends on the machine and its load.
set -euo pipefail
scorch=$1 prog=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf

# named FILE [all]: % of shortlived's samples whose pc (the innermost user
# frame) is named, or with "all" every user frame (no "module+0x..." and no
# [unknown]; kernel frames, _[k], are not counted).  Samples inside execve
# are left out: the new image's user stack does not exist yet (one
# [unknown] frame), in a long-lived process as in a short one.  What is
# asserted is what the test is about: whether the maps were read, and the
# file opened, before the process exited.
named() {
	awk -v all="${2:-}" '{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); if (f[1] != "shortlived") next
		if ($0 ~ /;__x64_sys_execve(at)?_\[k\]/) next
		total += n; ok = 1
		for (i = k; i >= 2; i--) {
			if (f[i] ~ /_\[k\]$/) continue
			if (f[i] ~ /\+0x[0-9a-f]+$/ || f[i] == "[unknown]") ok = 0
			if (all != "all") break
		}
		good += ok * n }
		END { if (!total) { print "nan"; exit } printf "%.1f\n", 100 * good / total }' "$1"
}
spin() {
	awk '{ n = $NF; split($0, f, ";"); if (f[1] != "shortlived") next; total += n; if ($0 ~ /;shortlived_spin(;| )/) hit += n }
		END { if (!total) { print "nan"; exit } printf "%.1f\n", 100 * hit / total }' "$1"
}

"$scorch" record -F 999 -o "$tmp/long.folded" -- "$prog" 2000 2>"$tmp/err.long" >/dev/null ||
	fail "record exited $?: $(cat "$tmp/err.long")"
"$scorch" record -F 999 -o "$tmp/short.folded" -- sh -c "for i in \$(seq 600); do '$prog' 5; done" \
	2>"$tmp/err.short" >/dev/null || fail "record exited $?: $(cat "$tmp/err.short")"
cat "$tmp/err.short"

total=$(awk -F';' '$1 == "shortlived" { split($0, a, " "); t += a[length(a)] } END { print t + 0 }' "$tmp/short.folded")
[ "$total" -ge 1000 ] || fail "only $total samples of the short processes"
long=$(named "$tmp/long.folded") short=$(named "$tmp/short.folded")
ratio=$(awk -v s="$short" -v l="$long" 'BEGIN { printf "%.1f\n", 100 * s / l }')
echo "named pcs: long-lived $long %, short-lived $short % ($total samples): $ratio % of long-lived"
echo "every user frame named (not asserted): long-lived $(named "$tmp/long.folded" all) %, short-lived $(named "$tmp/short.folded" all) %"
echo "in shortlived_spin: long-lived $(spin "$tmp/long.folded") %, short-lived $(spin "$tmp/short.folded") %"
awk -v r="$ratio" 'BEGIN { exit !(r >= 90) }' || fail "short-lived processes symbolized at $ratio % of a long-lived one (want >= 90 %)"
echo "record_shortlived: ok"
