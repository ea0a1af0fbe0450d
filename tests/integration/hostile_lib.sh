# shellcheck shell=bash
# Shared by the hostile_*.sh tests, sourced instead of lib.sh (which it sources).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# samples COMM FILE: how many samples of COMM a folded FILE holds.
samples() {
	awk -v comm="$1" -F';' '$1 == comm { split($0, a, " "); n += a[length(a)] } END { print n + 0 }' "$2"
}

# shape_intact FILE: shape, profiled alongside a hostile process, is whole:
# its samples named up to main, shape_sixty about 60 % of them.
shape_intact() {
	local n main sixty
	n=$(samples shape "$1")
	[ "$n" -gt 100 ] || fail "only $n samples of shape, profiled alongside"
	main=$(share ";main;" "$1" shape)
	sixty=$(share ";main;shape_sixty( |;)" "$1" shape)
	within "$main" 100 5 || fail "shape, profiled alongside: only $main % of its samples reach main"
	within "$sixty" 60 15 || fail "shape, profiled alongside: shape_sixty has $sixty % of it, not about 60"
	echo "  shape alongside: $n samples, $main % reach main, shape_sixty $sixty %"
}

# README's documented set for record as another user.
FOUR_CAPS=+bpf,+perfmon,+sys_ptrace,+syslog

# wait_ready PID LOG WORD: waits up to 30 s for WORD in LOG, the workload's
# word that it has set itself up; fails if PID exits first.
wait_ready() {
	local _
	for _ in $(seq 120); do
		grep -q "$3" "$2" && return
		kill -0 "$1" 2>/dev/null || fail "workload $1 exited: $(cat "$2")"
		sleep 0.25
	done
}

# rss_time OUT CMD...: runs CMD under /usr/bin/time; OUT gets "MAXRSS_KIB SECONDS".
rss_time() {
	local out=$1
	shift
	/usr/bin/time -f '%M %e' -o "$out" "$@"
}
