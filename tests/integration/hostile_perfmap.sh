#!/usr/bin/env bash
# A JIT (code copied into anonymous RWX memory) whose /tmp/perf-PID.map has
# good lines among garbage that covers the same code: bad hex, zero and
# overflowing sizes, wrap-around, a missing name or size, a NUL in a name, a
# 5000-byte name, binary junk.  The good lines name the JIT's functions (in
# the ratio it calls them, 1:2:1), no garbage names anything, the bad lines
# are counted, a ';' in a name stays inside its frame through a pprof round
# trip, and shape, profiled alongside, is whole.
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
at_exit 'rm -f "/tmp/perf-${jit:-none}.map"'

"$bin/hostile_jit" 8 /tmp &
pids+=($!)
jit=$!
"$shape" 8 >/dev/null &
pids+=($!)
other=$!
sleep 0.3
[ -s "/tmp/perf-$jit.map" ] || fail "the JIT wrote no perf map"

"$scorch" record -v -F 999 -p "$jit,$other" -d 2 -o "$tmp/jit.folded" 2>"$tmp/err" || fail "record: $(cat "$tmp/err")"
n=$(samples hostile_jit "$tmp/jit.folded")
[ "$n" -gt 100 ] || fail "only $n samples of the JIT"
in_jit=$(share ";jit_caller;jit_(one|two|three:x)_\\[j\\]( |;|$)" "$tmp/jit.folded" hostile_jit)
within "$in_jit" 95 10 || fail "only $in_jit % of the JIT's samples in its named functions: $(grep '^hostile_jit;' "$tmp/jit.folded" | head -5)"
# Of the samples in JIT code, jit_two has about half (it is called twice as often).
two=$(awk '/^hostile_jit;/ && /;jit_(one|two|three:x)_\[j\]/ { t += $NF; if (/;jit_two_\[j\]/) h += $NF } END { printf "%.1f", 100 * h / t }' "$tmp/jit.folded")
within "$two" 50 15 || fail "jit_two has $two % of the JIT's code samples, not about 50"
# Every JIT frame ([j]) is one of the three: no garbage line named anything.
names=$(grep -o '[^;]*_\[j\]' "$tmp/jit.folded" | sort -u | xargs)
[ "$names" = "jit_one_[j] jit_three:x_[j] jit_two_[j]" ] || fail "JIT frames named: $names"
skipped=$(sed -n 's/.*perf maps (\([0-9]*\) bad lines).*/\1/p' "$tmp/err")
[ "${skipped:-0}" -ge 12 ] || fail "want at least 12 bad lines counted, got '${skipped:-}': $(grep 'perf maps' "$tmp/err")"
echo "JIT: $n samples, $in_jit % in jit_one/two/three (jit_two $two % of them); $skipped bad lines skipped"
shape_intact "$tmp/jit.folded"

# A ';' in a JIT name is not a frame separator, through pprof and back.
"$scorch" convert "$tmp/jit.folded" -o "$tmp/jit.pb.gz" 2>"$tmp/err" || fail "convert: $(cat "$tmp/err")"
"$scorch" convert "$tmp/jit.pb.gz" -o "$tmp/back.folded" 2>"$tmp/err" || fail "convert back: $(cat "$tmp/err")"
a=$(grep -c ';jit_caller;jit_three:x_\[j\]' "$tmp/jit.folded" || true)
b=$(grep -c ';jit_caller;jit_three:x_\[j\]' "$tmp/back.folded" || true)
[ "$a" -gt 0 ] && [ "$a" = "$b" ] || fail "jit_three;x: $a rows recorded, $b after pprof"
echo "hostile_perfmap: ok"
