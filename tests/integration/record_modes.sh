#!/usr/bin/env bash
# record's other modes: -p with -d, -p ending when its process exits, system-wide -d, -K/-U, --per-pid,
# --cgroup, children of a command followed, SIGINT writing a whole profile,
# and bad input refused with one line and exit 2 before anything is written.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools setpriv

"$shape" 20 >/dev/null &
pids+=($!)
sleep 0.3

# -p: only that process, folded to stdout.
t=$(cpu_ticks "${pids[0]}")
"$scorch" record -F 499 -p "${pids[0]}" -d 1 >"$tmp/p.folded" 2>"$tmp/p.err"
# Read before sampling starts: no sample waits for its process's tables.
grep -q ', 0 by frame pointers (tables not loaded yet)' "$tmp/p.err" ||
	fail "-p: samples taken before the process's unwind tables: $(grep 'unwind:' "$tmp/p.err")"
t=$(($(cpu_ticks "${pids[0]}") - t))
n=$(awk '{ split($1, a, ";"); if (a[1] != "shape") bad = 1; n += $NF } END { print bad ? -1 : n + 0 }' "$tmp/p.folded")
[ "$n" -ge 0 ] || fail "-p: samples not from shape: $(grep -v '^shape;' "$tmp/p.folded" | head -3)"
enough_samples "$n" 499 "$t" || fail "-p: only $n samples at 499 Hz of shape, which used $t ticks of CPU"

# -p without -d ends when the process exits (perf record -p does): a
# profile of it is written, and the run does not last until the guard.
"$shape" 1 >/dev/null &
short=$!
rc=0
timeout 120 "$scorch" record -F 499 -p "$short" -o "$tmp/exit.folded" 2>"$tmp/exit.err" || rc=$?
wait "$short" 2>/dev/null || true
[ "$rc" -eq 0 ] || fail "-p without -d: exit $rc after its process exited (124: still sampling at the guard): $(tail -2 "$tmp/exit.err")"
grep -q '^shape;.*;main;shape_sixty' "$tmp/exit.folded" || fail "-p without -d: no samples of the process: $(head -2 "$tmp/exit.folded")"

# System-wide: the busy process is in it.
"$scorch" record -F 499 -d 1 -o "$tmp/sys.folded" 2>/dev/null
grep -q '^shape;.*;main;shape_sixty' "$tmp/sys.folded" || fail "system-wide: shape missing"

# -U: no kernel frames; -K: nothing but kernel frames or [unknown].
"$scorch" record -F 499 -p "${pids[0]}" -d 0.5 -U -o "$tmp/u.folded" 2>/dev/null
! grep -q '_\[k\]' "$tmp/u.folded" || fail "-U recorded kernel frames"
"$scorch" record -F 499 -p "${pids[0]}" -d 0.5 -K -o "$tmp/k.folded" 2>/dev/null
! grep -q 'shape_sixty' "$tmp/k.folded" || fail "-K recorded user frames"

# --per-pid puts the pid in the root frame.
"$scorch" record -F 499 -p "${pids[0]}" -d 0.5 --per-pid -o "$tmp/pp.folded" 2>/dev/null
grep -q "^shape.${pids[0]};" "$tmp/pp.folded" || fail "--per-pid: no root frame with pid ${pids[0]}: $(head -1 "$tmp/pp.folded")"

# --cgroup: a cgroup with only our sample in it.
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
cg=$cg2/scorch-test-$$
if [ -n "$cg2" ] && mkdir "$cg" 2>/dev/null; then
	"$shape" 3 >/dev/null &
	inner=$!
	echo "$inner" >"$cg/cgroup.procs"
	t=$(cpu_ticks "$inner")
	"$scorch" record -F 499 -d 1 --cgroup "scorch-test-$$" -o "$tmp/cg.folded" 2>/dev/null
	t=$(($(cpu_ticks "$inner") - t))
	kill "$inner" 2>/dev/null || true
	wait "$inner" 2>/dev/null || true
	rmdir "$cg" || true
	n=$(awk '{ n += $NF } END { print n + 0 }' "$tmp/cg.folded")
	enough_samples "$n" 499 "$t" || fail "--cgroup: only $n samples at 499 Hz of a process that used $t ticks of CPU"
	# Only the inner process ran in the cgroup: one process, so one pid label path.
	! grep -qv '^shape;' "$tmp/cg.folded" || fail "--cgroup let other tasks in: $(grep -v '^shape;' "$tmp/cg.folded" | head -2)"
else
	echo "note: cannot create a cgroup here; --cgroup not tested"
fi

# Children of the command are followed.
"$scorch" record -F 999 -o "$tmp/kids.folded" -- sh -c "$shape 0.5 >/dev/null & $shape 0.5 >/dev/null; wait" 2>/dev/null
n=$(awk -F';' '$1 == "shape" { split($0, a, " "); n += a[length(a)] } END { print n + 0 }' "$tmp/kids.folded")
[ "$n" -gt 700 ] || fail "children: only $n samples in shape (two 0.5 s children at 999 Hz)"

# SIGINT: the profile is written whole, under its name only.
env --default-signal=INT "$scorch" record -F 999 -o "$tmp/int.folded" -- "$shape" 10 2>/dev/null &
rec=$!
sleep 1
kill -INT "$rec"
wait "$rec" || true
[ -s "$tmp/int.folded" ] || fail "SIGINT: no profile written"
"$scorch" convert "$tmp/int.folded" >/dev/null || fail "SIGINT: profile does not parse"
! ls "$tmp"/.int.folded.* 2>/dev/null || fail "SIGINT: temporary file left behind"

# Bad input: one line, exit 2, nothing written.
expect_error() {
	local want=$1
	shift
	set +e
	"$scorch" record "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "record $*: exit $rc, want 2"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "record $*: want one line: $(cat "$tmp/err")"
	grep -q "$want" "$tmp/err" || fail "record $*: want '$want': $(cat "$tmp/err")"
}
expect_error "frequency" -F 0 -d 1
expect_error "perf_event_max_sample_rate" -F 100000000 -d 1
expect_error "no such process" -p 2147483647 -d 1
expect_error "command not found" -- /no/such/command
expect_error "cannot write" -o /no/such/dir/x.folded -d 1
expect_error "extension" -o "$tmp/x.unknown" -d 1
expect_error "CPU" -C 100000 -d 1
# A copy nobody can run wherever the checkout is (CI clones where it likes,
# perhaps under a directory closed to others).
chmod 755 "$tmp"
cp "$scorch" "$tmp/scorch-copy"
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$tmp/scorch-copy" record -d 1 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "CAP_BPF" "$tmp/err" || fail "unprivileged: exit $rc: $(cat "$tmp/err")"
echo "record_modes: ok"
