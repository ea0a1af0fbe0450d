# Shared by the integration tests: BPF availability and assertions.
# A test that needs BPF fails under CI=true when it cannot run, and skips
# (exit 77, which ctest reports as skipped) elsewhere.

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

# share PATTERN FILE COMM: percentage of COMM's samples whose stack matches PATTERN.
share() {
	awk -v pat="$1" -v comm="$3" '
		{ n = $NF; split($0, f, ";"); if (f[1] != comm) next; total += n; if ($0 ~ pat) hit += n }
		END { if (!total) { print "nan"; exit } printf "%.1f\n", 100 * hit / total }' "$2"
}

# within VALUE TARGET TOLERANCE: true when |VALUE - TARGET| <= TOLERANCE.
within() {
	awk -v v="$1" -v t="$2" -v tol="$3" 'BEGIN { d = v - t; if (d < 0) d = -d; exit !(v == v + 0 && d <= tol) }'
}

# start_receiver DIR: agent_receiver.py, the stand-in for Pyroscope's ingest
# API (127.0.0.1 only), keeping its state in DIR; sets receiver_pid (for the
# caller to kill at exit) and receiver_port once it listens.
start_receiver() {
	mkdir -p "$1"
	python3 "$(dirname "$0")/agent_receiver.py" "$1" &
	receiver_pid=$!
	for _ in $(seq 50); do [ -f "$1/port" ] && break; sleep 0.1; done
	[ -f "$1/port" ] || fail "receiver did not start"
	receiver_port=$(cat "$1/port")
}

# agent_test_setup: what the agent tests with a receiver share: $tmp (removed
# at exit), Go's caches in it and no network for `go tool pprof`, the
# receiver in $tmp/state listening on $port.  At exit the receiver and
# $agent are killed (set agent to the agent's pid while it runs, and back to
# "" once it has been waited for).
agent_test_setup() {
	tmp=$(mktemp -d)
	agent=""
	recv=""
	trap agent_test_cleanup EXIT
	export HOME="$tmp" GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off
	start_receiver "$tmp/state"
	recv=$receiver_pid
	port=$receiver_port
}

agent_test_cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null || true
	[ -n "$recv" ] && kill "$recv" 2>/dev/null || true
	rm -rf "$tmp"
}
