# shellcheck shell=bash
# Shared by the integration tests (bash): how a test starts, BPF and tool
# checks, assertions.  Every test starts the same way, its arguments named
# first:
#
#	#!/usr/bin/env bash
#	# What it runs and what it asserts.
#	set -euo pipefail
#	scorch=$1 shape=$2
#	. "$(dirname "$0")/lib.sh"        # or hostile_lib.sh, which sources this
#	test_setup --bpf
#	need_tools go                      # the tools it needs beyond bash's
#
# A test that needs BPF or a tool fails under CI=true when it cannot run,
# and skips (exit 77, which ctest reports as skipped) elsewhere.

[ -n "${BASH_VERSION:-}" ] || { echo "FAIL: $0: lib.sh needs bash" >&2; exit 1; }

# test_setup [--bpf]: the start every test shares.  With --bpf, need_bpf
# first.  Exports LC_ALL=C and sets
#   here  the test's directory (absolute);
#   tmp   a new directory, removed at exit;
#   pids  an array for background processes, killed at exit.
# At exit the commands given to at_exit run (the last one first), then pids
# are killed, then $tmp is removed; the test's exit status stays its own.
test_setup() {
	case ${1:-} in
	--bpf) need_bpf ;;
	"") ;;
	*) fail "test_setup: unknown argument $1" ;;
	esac
	export LC_ALL=C
	here=$(cd "$(dirname "$0")" && pwd)
	pids=()
	_at_exit=()
	tmp=$(mktemp -d)
	trap _test_exit EXIT
}

# at_exit CMD: CMD (a string, evaluated then) runs at exit, before pids are
# killed and $tmp is removed; a failing CMD does not change the exit status.
at_exit() {
	_at_exit+=("$1")
}

_test_exit() {
	local i
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit[i]}" || true
	done
	if [ ${#pids[@]} -gt 0 ]; then
		kill "${pids[@]}" 2>/dev/null || true
	fi
	rm -rf "$tmp" || true
}

need_bpf() {
	local why=""
	if [ "$(id -u)" != 0 ]; then
		why="not root"
	elif [ ! -r /sys/kernel/btf/vmlinux ]; then
		why="no kernel BTF at /sys/kernel/btf/vmlinux"
	fi
	if [ -n "$why" ]; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: cannot load BPF in CI: $why" >&2
			exit 1
		fi
		echo "SKIP: needs BPF: $why" >&2
		exit 77
	fi
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# need_tools TOOL...: each on PATH; like need_bpf, a missing one fails under
# CI=true and skips elsewhere.
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 && continue
		[ "${CI:-}" = true ] && fail "$t missing"
		echo "SKIP: $t not found" >&2
		exit 77
	done
}

# share PATTERN FILE COMM [BASE]: percentage of COMM's samples (only those
# whose stack matches BASE, when given) whose stack matches PATTERN.
share() {
	awk -v pat="$1" -v comm="$3" -v base="${4:-}" '
		{ n = $NF; split($0, f, ";"); if (f[1] != comm || $0 !~ base) next; total += n; if ($0 ~ pat) hit += n }
		END { if (!total) { print "nan"; exit } printf "%.1f\n", 100 * hit / total }' "$2"
}

# cpu_ticks PID...: the CPU time (user + system) the processes have used so
# far, in clock ticks (getconf CLK_TCK a second); a gone one counts 0.
cpu_ticks() {
	local p v t=0
	for p in "$@"; do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# enough_samples N HZ TICKS: N samples at HZ are at least 20, and at least a
# quarter of what TICKS clock ticks of the processes' CPU time, measured
# around the whole record, give (cpu-clock samples CPU time; the rest of the
# window is the BPF load).  A count that follows the CPU the machine gave
# the processes, not the wall time: a loaded machine gives them less.
enough_samples() {
	awk -v n="$1" -v hz="$2" -v t="$3" -v tck="$(getconf CLK_TCK)" 'BEGIN { exit !(n >= 20 && n >= 0.25 * hz * t / tck) }'
}

# within VALUE TARGET TOLERANCE: true when |VALUE - TARGET| <= TOLERANCE;
# false when VALUE is not a number (share's "nan": no samples), which
# mawk would otherwise take as one.
within() {
	awk -v v="$1" -v t="$2" -v tol="$3" 'BEGIN {
		if (v !~ /^-?[0-9]+(\.[0-9]+)?$/) exit 1
		d = v - t; if (d < 0) d = -d; exit !(d <= tol) }'
}

# as_caps CAPS CMD...: runs CMD as nobody with exactly CAPS (e.g.
# +bpf,+perfmon).
as_caps() {
	local caps=-all${1:+,$1}
	shift
	setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
		--inh-caps="$caps" --ambient-caps="$caps" --bounding-set="$caps" "$@"
}

# go_offline: go tool pprof keeps its caches in $tmp and uses no network.
go_offline() {
	export HOME="$tmp" GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off
}

# start_receiver DIR [OPTION...]: pyroscope_receiver.py, the stand-in for
# Pyroscope's ingestion (127.0.0.1 only; options are its, Pyroscope's flag
# names), keeping its state in DIR; sets receiver_port once it listens.  It
# is killed at exit (in pids).
start_receiver() {
	mkdir -p "$1"
	python3 "$here/pyroscope_receiver.py" "$@" &
	pids+=($!)
	for _ in $(seq 50); do [ -f "$1/port" ] && break; sleep 0.1; done
	[ -f "$1/port" ] || fail "receiver did not start"
	receiver_port=$(cat "$1/port")
}

# agent_test_setup DIR...: after test_setup, what the agent tests with
# receivers share: go_offline, one receiver per DIR ($port is the first
# one's), and $agent killed at exit before them (set it to the agent's pid
# while it runs, and back to "" once it has been waited for).
agent_test_setup() {
	local d
	go_offline
	agent=""
	at_exit '[ -z "$agent" ] || kill "$agent" 2>/dev/null'
	port=""
	for d in "$@"; do
		start_receiver "$d"
		port=${port:-$receiver_port}
	done
}
