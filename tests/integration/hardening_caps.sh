#!/usr/bin/env bash
# record with exactly the capabilities README's "Privileges" lists, as a
# non-root user (nobody, uid 65534), against a root-owned process:
#  - CAP_BPF + CAP_PERFMON: samples, comm names, every process's maps;
#  - + CAP_SYS_PTRACE + CAP_SYSLOG: user and kernel function names too;
#  - a program run from a directory nobody may enter (0700, as mktemp -d
#    makes, and CI may clone under one) named as well: its file is opened
#    through /proc/PID/exe, not its path;
#  - fewer: a one-line error and exit 2;
#  - a command under record gets none of these capabilities.
set -euo pipefail
scorch=$1 shape=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools setpriv
[ "$(cat /proc/sys/kernel/cap_last_cap)" -ge 39 ] || fail "kernel without CAP_BPF/CAP_PERFMON (needs 5.8+)"
# Binaries and output where nobody can reach them.
chmod 755 "$tmp"
cp "$scorch" "$shape" "$tmp/"
scorch=$tmp/$(basename "$scorch") shape=$tmp/$(basename "$shape")
mkdir -m 777 "$tmp/out"

"$shape" 30 >/dev/null &
pids+=($!)
victim=$!
mkdir -m 700 "$tmp/closed"
cp "$shape" "$tmp/closed/shape_closed"
"$tmp/closed/shape_closed" 30 >/dev/null &
pids+=($!)
closed=$!
sleep 0.3
[ "$(stat -c %u /proc/$victim)" = 0 ] || fail "the profiled process should be root's"

# samples FILE [COMM]: how many samples of shape (or COMM) FILE holds.
samples() {
	awk -v comm="${2:-shape}" -F';' '$1 == comm { split($0, a, " "); n += a[length(a)] } END { print n + 0 }' "$1"
}

# The minimum: sampling works, names of processes, no symbols.
t0=$(cpu_ticks "$victim")
as_caps +bpf,+perfmon "$scorch" record -F 499 -p "$victim" -d 1 -o "$tmp/out/min.folded" 2>"$tmp/err" ||
	fail "record with CAP_BPF,CAP_PERFMON failed: $(cat "$tmp/err")"
n=$(samples "$tmp/out/min.folded") t=$(($(cpu_ticks "$victim") - t0))
enough_samples "$n" 499 "$t" ||
	fail "CAP_BPF,CAP_PERFMON: only $n samples of shape at 499 Hz, which used $t ticks of CPU meanwhile: $(cat "$tmp/err")"
echo "CAP_BPF,CAP_PERFMON: $n samples; $(grep -c warning "$tmp/err" || true) warnings:"
sed 's/^/  /' "$tmp/err"

# The documented set: user and kernel functions named.
full=+bpf,+perfmon,+sys_ptrace,+syslog
t0=$(cpu_ticks "$victim") t1=$(cpu_ticks "$closed")
as_caps "$full" "$scorch" record -F 499 -p "$victim,$closed" -d 1 -o "$tmp/out/full.folded" 2>"$tmp/err" ||
	fail "record with $full failed: $(cat "$tmp/err")"
t0=$(($(cpu_ticks "$victim") - t0)) t1=$(($(cpu_ticks "$closed") - t1))
for comm in shape shape_closed; do
	n=$(samples "$tmp/out/full.folded" $comm) t=$t0
	[ $comm = shape ] || t=$t1
	enough_samples "$n" 499 "$t" || fail "$full: only $n samples of $comm, which used $t ticks of CPU: $(cat "$tmp/err")"
	main=$(share ";main(;| )" "$tmp/out/full.folded" $comm)
	within "$main" 100 10 ||
		fail "$full: $comm's user frames not named (only $main % reach main): $(grep "^$comm;" "$tmp/out/full.folded" | head -2)"
	echo "$full: $n samples of $comm, $main % reach main"
done
! grep -q 'warning' "$tmp/err" || fail "$full: warnings: $(cat "$tmp/err")"

# System-wide too, kernel frames named.
as_caps "$full" "$scorch" record -F 499 -d 1 -o "$tmp/out/sys.folded" 2>"$tmp/err" ||
	fail "system-wide record with $full failed: $(cat "$tmp/err")"
grep -q '^shape;.*main;shape_sixty' "$tmp/out/sys.folded" || fail "$full: system-wide profile misses shape"
! grep -q 'kallsyms\]+0x' "$tmp/out/sys.folded" || fail "$full: kernel frames not named"

# Too few: refused in one line, exit 2, nothing written.
for caps in +bpf +perfmon ""; do
	set +e
	as_caps "$caps" "$scorch" record -d 0.5 -o "$tmp/out/no.folded" 2>"$tmp/err"
	rc=$?
	set -e
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'needs root or CAP_BPF and CAP_PERFMON' "$tmp/err" ||
		fail "caps '$caps': exit $rc, want 2 and one line: $(cat "$tmp/err")"
	[ ! -e "$tmp/out/no.folded" ] || fail "caps '$caps': output written"
done

# The command under record runs without scorch's capabilities.
as_caps "$full" "$scorch" record -o "$tmp/out/cmd.folded" -- sh -c 'grep CapEff /proc/self/status' >"$tmp/caps" 2>"$tmp/err" ||
	fail "record -- CMD with $full failed: $(cat "$tmp/err")"
grep -q 'CapEff:[[:space:]]*0000000000000000$' "$tmp/caps" || fail "the command kept capabilities: $(cat "$tmp/caps")"
echo "hardening_caps: ok"
