#!/usr/bin/env bash
# record --wall and --off-cpu on samples/offcpu (-O2 without frame pointers):
# its main thread computes 25 % of the wall time, sleeps 50 % in nanosleep
# and waits 25 % reading a pipe its child fills, on an idle machine; on a
# loaded one a sleep or read returns late, so the shares asserted are those
# offcpu measured of its own phases and printed.
#  - --wall: each share within 3 points of that; the waiting stacks end in
#    [off-cpu] and reach main through the function that blocked, and their
#    kernel stacks say why (do_nanosleep, pipe_read); the total is the run's
#    wall time (its phases', within 5 %).
#  - --off-cpu: only the waits, sleeping and reading the pipe as measured
#    (2:1 on an idle machine).
#  - pprof: go tool pprof reads the --wall profile as wall/nanoseconds with
#    the same total; scorch converts it back with the same shares; the SVG
#    counts microseconds.
set -euo pipefail
scorch=$1 offcpu=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools go

# measured FILE PHASE: the share (%) of PHASE (compute, sleep or pipe) in the
# wall time offcpu measured of its phases, from its last line (FILE).
measured() {
	awk -v ph="$2" '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
		END { printf "%.1f\n", 100 * v[ph] / (v["compute"] + v["sleep"] + v["pipe"]) }' "$1"
}

"$scorch" record --wall -F 999 -o "$tmp/wall.folded" -- "$offcpu" 2 2>"$tmp/err" >"$tmp/out" ||
	fail "record --wall exited $?: $(cat "$tmp/err")"
cat "$tmp/out"
line=""
for f in "offcpu_compute compute" "offcpu_sleep sleep" "offcpu_wait_pipe pipe"; do
	set -- $f
	s=$(share ";$1(;| |$)" "$tmp/wall.folded" offcpu) want=$(measured "$tmp/out" "$2")
	line="$line $1 $s % (measured $want)"
	within "$s" "$want" 3 ||
		fail "--wall: $1 has $s % of the wall time, offcpu measured $want %: $(sort -t' ' -k2 -rn "$tmp/wall.folded" | head -3)"
done
echo "--wall:$line"
sleep=$(share ';main;offcpu_sleep;([^;]+;)*do_nanosleep_\[k\];([^;]+;)*\[off-cpu\] ' "$tmp/wall.folded" offcpu)
pipe=$(share ';main;offcpu_wait_pipe;([^;]+;)*[a-z_]*pipe_read_\[k\];([^;]+;)*\[off-cpu\] ' "$tmp/wall.folded" offcpu)
within "$sleep" "$(measured "$tmp/out" sleep)" 3 || fail "--wall: only $sleep % in main;offcpu_sleep;...;do_nanosleep;...;[off-cpu]"
within "$pipe" "$(measured "$tmp/out" pipe)" 3 || fail "--wall: only $pipe % in main;offcpu_wait_pipe;...;pipe_read;...;[off-cpu]"
echo "waiting stacks through main and the blocking function, with why: sleep $sleep %, pipe $pipe %"
total=$(awk '$1 ~ /^offcpu;/ { t += $NF } END { print t + 0 }' "$tmp/wall.folded")
# The phases' wall time (2 s on an idle machine), in microseconds, within 5 %.
phases=$(awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1) } END { printf "%.0f\n", 1e6 * (v["compute"] + v["sleep"] + v["pipe"]) }' "$tmp/out")
within "$total" "$phases" "$((phases / 20))" || fail "--wall: $total us in all, offcpu's phases took $phases us"
echo "--wall total: $total us (the phases: $phases us)"

"$scorch" record --off-cpu -F 999 -o "$tmp/off.folded" -- "$offcpu" 1 2>"$tmp/err" >"$tmp/out" ||
	fail "record --off-cpu exited $?: $(cat "$tmp/err")"
s=$(share ';offcpu_sleep(;| |$)' "$tmp/off.folded" offcpu)
p=$(share ';offcpu_wait_pipe(;| |$)' "$tmp/off.folded" offcpu)
c=$(share ';offcpu_compute(;| |$)' "$tmp/off.folded" offcpu)
# Sleeping and reading the pipe split as measured (2:1 idle); computing
# only waits when preempted, which depends on what else runs (printed, not
# asserted).
r=$(awk -v s="$s" -v p="$p" 'BEGIN { if (s + p > 0) printf "%.1f", 100 * s / (s + p); else print "nan" }')
ms=$(measured "$tmp/out" sleep) mp=$(measured "$tmp/out" pipe)
want=$(awk -v s="$ms" -v p="$mp" 'BEGIN { printf "%.1f", 100 * s / (s + p) }')
within "$r" "$want" 4 || fail "--off-cpu: offcpu_sleep has $r % of the blocked time (sleep $s %, pipe $p %), measured $want %"
echo "--off-cpu: sleep $s %, pipe $p % (sleep is $r % of the two), compute $c % (preempted)"

"$scorch" record --wall -F 999 -o "$tmp/wall.pb.gz" -- "$offcpu" 1 2>"$tmp/err" >"$tmp/out" ||
	fail "record --wall -o .pb.gz exited $?: $(cat "$tmp/err")"
go tool pprof -raw "$tmp/wall.pb.gz" >"$tmp/raw" 2>"$tmp/perr" || fail "go tool pprof: $(cat "$tmp/perr")"
grep -qx 'wall/nanoseconds\[dflt\]' "$tmp/raw" || fail "pprof sample types: $(sed -n '/^Samples:/,+1p' "$tmp/raw")"
gotal=$(go tool pprof -top -unit=us "$tmp/wall.pb.gz" 2>/dev/null | sed -n 's/.* of \([0-9.]*\)us total.*/\1/p' | head -1)
"$scorch" convert "$tmp/wall.pb.gz" -o "$tmp/back.folded" || fail "convert the --wall pprof"
back=$(awk '{ t += $NF } END { print t + 0 }' "$tmp/back.folded")
awk -v a="$gotal" -v b="$back" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 0.01 * a) }' ||
	fail "go tool pprof totals ${gotal} us, scorch read back $back us"
s=$(share ";offcpu_sleep(;| |$)" "$tmp/back.folded" offcpu)
within "$s" "$(measured "$tmp/out" sleep)" 4 || fail "read back: offcpu_sleep $s %, measured $(measured "$tmp/out" sleep) %"
"$scorch" convert "$tmp/wall.pb.gz" -o "$tmp/wall.svg" || fail "convert to SVG"
grep -q 'µs' "$tmp/wall.svg" || fail "the SVG does not count microseconds"
echo "pprof: wall/nanoseconds, go tool pprof ${gotal} us = scorch ${back} us; SVG in µs"
echo "record_offcpu: ok"
