#!/usr/bin/env bash
# record --wall and --off-cpu on samples/offcpu (-O2 without frame pointers):
# its main thread computes 25 % of the wall time, sleeps 50 % in nanosleep
# and waits 25 % reading a pipe its child fills.
#  - --wall: each share within 3 points of that; the waiting stacks end in
#    [off-cpu] and reach main through the function that blocked, and their
#    kernel stacks say why (do_nanosleep, pipe_read); the total is the run's
#    wall time.
#  - --off-cpu: only the waits, sleeping and reading the pipe 2:1.
#  - pprof: go tool pprof reads the --wall profile as wall/nanoseconds with
#    the same total; scorch converts it back with the same shares; the SVG
#    counts microseconds.
set -euo pipefail
scorch=$1 offcpu=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools go

"$scorch" record --wall -F 999 -o "$tmp/wall.folded" -- "$offcpu" 2 2>"$tmp/err" >/dev/null ||
	fail "record --wall exited $?: $(cat "$tmp/err")"
line=""
for f in "offcpu_compute 25" "offcpu_sleep 50" "offcpu_wait_pipe 25"; do
	set -- $f
	s=$(share ";$1(;| |$)" "$tmp/wall.folded" offcpu)
	line="$line $1 $s %"
	within "$s" "$2" 3 || fail "--wall: $1 has $s % of the wall time, designed $2 %: $(sort -t' ' -k2 -rn "$tmp/wall.folded" | head -3)"
done
echo "--wall:$line"
sleep=$(share ';main;offcpu_sleep;([^;]+;)*do_nanosleep_\[k\];([^;]+;)*\[off-cpu\] ' "$tmp/wall.folded" offcpu)
pipe=$(share ';main;offcpu_wait_pipe;([^;]+;)*[a-z_]*pipe_read_\[k\];([^;]+;)*\[off-cpu\] ' "$tmp/wall.folded" offcpu)
within "$sleep" 50 3 || fail "--wall: only $sleep % in main;offcpu_sleep;...;do_nanosleep;...;[off-cpu]"
within "$pipe" 25 3 || fail "--wall: only $pipe % in main;offcpu_wait_pipe;...;pipe_read;...;[off-cpu]"
echo "waiting stacks through main and the blocking function, with why: sleep $sleep %, pipe $pipe %"
total=$(awk '$1 ~ /^offcpu;/ { t += $NF } END { print t + 0 }' "$tmp/wall.folded")
# 2 s of wall time (50 rounds of 40 ms), in microseconds; a slow machine
# adds to the computing rounds' wall time, never takes from it.
awk -v t="$total" 'BEGIN { exit !(t >= 1.9e6 && t <= 3.0e6) }' || fail "--wall: $total us in all for a 2 s run"
echo "--wall total: $total us"

"$scorch" record --off-cpu -F 999 -o "$tmp/off.folded" -- "$offcpu" 1 2>"$tmp/err" >/dev/null ||
	fail "record --off-cpu exited $?: $(cat "$tmp/err")"
s=$(share ';offcpu_sleep(;| |$)' "$tmp/off.folded" offcpu)
p=$(share ';offcpu_wait_pipe(;| |$)' "$tmp/off.folded" offcpu)
c=$(share ';offcpu_compute(;| |$)' "$tmp/off.folded" offcpu)
# Sleeping and reading the pipe split 2:1; computing only waits when
# preempted, which depends on what else runs (printed, not asserted).
r=$(awk -v s="$s" -v p="$p" 'BEGIN { if (s + p > 0) printf "%.1f", 100 * s / (s + p); else print "nan" }')
within "$r" 66.7 4 || fail "--off-cpu: offcpu_sleep has $r % of the blocked time (sleep $s %, pipe $p %), want 2/3"
echo "--off-cpu: sleep $s %, pipe $p % (sleep is $r % of the two), compute $c % (preempted)"

"$scorch" record --wall -F 999 -o "$tmp/wall.pb.gz" -- "$offcpu" 1 2>"$tmp/err" >/dev/null ||
	fail "record --wall -o .pb.gz exited $?: $(cat "$tmp/err")"
go tool pprof -raw "$tmp/wall.pb.gz" >"$tmp/raw" 2>"$tmp/perr" || fail "go tool pprof: $(cat "$tmp/perr")"
grep -qx 'wall/nanoseconds\[dflt\]' "$tmp/raw" || fail "pprof sample types: $(sed -n '/^Samples:/,+1p' "$tmp/raw")"
gotal=$(go tool pprof -top -unit=us "$tmp/wall.pb.gz" 2>/dev/null | sed -n 's/.* of \([0-9.]*\)us total.*/\1/p' | head -1)
"$scorch" convert "$tmp/wall.pb.gz" -o "$tmp/back.folded" || fail "convert the --wall pprof"
back=$(awk '{ t += $NF } END { print t + 0 }' "$tmp/back.folded")
awk -v a="$gotal" -v b="$back" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 0.01 * a) }' ||
	fail "go tool pprof totals ${gotal} us, scorch read back $back us"
s=$(share ";offcpu_sleep(;| |$)" "$tmp/back.folded" offcpu)
within "$s" 50 4 || fail "read back: offcpu_sleep $s %"
"$scorch" convert "$tmp/wall.pb.gz" -o "$tmp/wall.svg" || fail "convert to SVG"
grep -q 'µs' "$tmp/wall.svg" || fail "the SVG does not count microseconds"
echo "pprof: wall/nanoseconds, go tool pprof ${gotal} us = scorch ${back} us; SVG in µs"
echo "record_offcpu: ok"
