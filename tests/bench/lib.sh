# SPDX-License-Identifier: MIT
# Shared functions for the record benchmark (tests/bench/run, record_*.sh).
# Sourced, not run.  Measures only: nothing here fails on a slow figure.

# log MSG...: progress on stderr.
log() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

# stats: reads numbers (one per line) on stdin, prints "min median max n".
# The median of an even count is the mean of the two middle values.
stats() {
	sort -g | awk '
		NF { v[++n] = $1 }
		END {
			if (n == 0) { print "- - - 0"; exit }
			m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			print v[1], m, v[n], n
		}'
}

# median: the median of the numbers on stdin.
median() {
	stats | awk '{ print $2 }'
}

# col FILE CONFIG FIELD: FIELD (a column name of FILE's header) of every
# row of FILE whose "config" column is CONFIG, one per line.
col() {
	awk -v cfg="$2" -v name="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$idx["config"] == cfg && $idx[name] != "-" { print $idx[name] }' "$1"
}

# field FILE N: the Nth whitespace-separated word of FILE's first line, or -
# when the file is missing.
field() {
	if [ -s "$1" ]; then
		awk -v n="$2" 'NR == 1 { print $n }' "$1"
	else
		echo -
	fi
}

# wait_gone PID SIGNAL TIMEOUT_S: sends SIGNAL to PID, then again every 3 s
# while it lives (bpftrace 0.17 sometimes misses one SIGINT); SIGKILL after
# TIMEOUT_S.  Returns 1 when it had to be killed.
wait_gone() {
	local pid=$1 sig=$2 timeout=$3 t=0
	kill "-$sig" "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
		t=$((t + 1))
		if [ $((t % 60)) -eq 0 ]; then
			kill "-$sig" "$pid" 2>/dev/null || true
		fi
		if [ "$t" -ge $((timeout * 20)) ]; then
			kill -KILL "$pid" 2>/dev/null || true
			return 1
		fi
	done
	return 0
}

# wait_file PATH TIMEOUT_S: waits until PATH exists; 1 on timeout.
wait_file() {
	local t=0
	while [ ! -e "$1" ]; do
		sleep 0.01
		t=$((t + 1))
		[ "$t" -lt $(($2 * 100)) ] || return 1
	done
}

# machine_info: markdown lines describing this machine.
machine_info() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	echo "- CPU: ${cpu:-unknown}, $(nproc) online CPUs ($(grep -c '^processor' /proc/cpuinfo) present)"
	echo "- Memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- Kernel: $(uname -sr) ($(uname -m)); perf_event_max_sample_rate $(cat /proc/sys/kernel/perf_event_max_sample_rate 2>/dev/null || echo ?)"
	if [ -r /etc/os-release ]; then
		echo "- OS: $(. /etc/os-release && echo "$PRETTY_NAME")"
	fi
	if [ -e /sys/bus/event_source/devices/cpu ]; then
		echo "- Hardware PMU: present (all profilers still use cpu-clock for comparability)"
	else
		echo "- Hardware PMU: absent (every profiler uses the software cpu-clock event)"
	fi
}

# loadavg: the 1-minute load average.
loadavg() {
	awk '{ print $1 }' /proc/loadavg
}

# apt_install PKG...: installs Debian packages when root and apt-get exists.
APT_UPDATED=
apt_install() {
	[ "$(id -u)" -eq 0 ] || return 1
	command -v apt-get >/dev/null || return 1
	if [ -z "$APT_UPDATED" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

# need_tool CMD PKG: CMD on PATH, installing PKG if needed.  On failure it
# adds "CMD|reason" to $SKIPPED and returns 1.
SKIPPED=${SKIPPED:-}
skip() {
	SKIPPED="$SKIPPED$1|$2
"
	log "skipped $1: $2"
}
need_tool() {
	command -v "$1" >/dev/null && return 0
	log "installing $2 for $1"
	apt_install "$2" || true
	command -v "$1" >/dev/null && return 0
	skip "$1" "not installed and apt-get install $2 failed (not root, or no package)"
	return 1
}

# bcc_headers CACHE: bcc compiles its program against kernel headers.  The
# running kernel usually has none packaged, so take Debian's
# linux-headers-amd64 (installed if missing) and merge its two halves (the
# arch tree and the -common tree it includes) into one symlink tree under
# CACHE, which BCC_KERNEL_SOURCE then names.  Sets BCC_KERNEL_SOURCE and
# returns 0 when a 1-second profile-bpfcc run works.
bcc_headers() {
	local cache=$1 arch common ver tree
	if [ -n "${BCC_KERNEL_SOURCE:-}" ] && [ -d "$BCC_KERNEL_SOURCE" ]; then
		:
	elif [ -d "/lib/modules/$(uname -r)/build" ]; then
		: # headers for the running kernel: bcc finds them itself
	else
		arch=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
		if [ -z "$arch" ]; then
			log "installing linux-headers-amd64 for bcc"
			apt_install linux-headers-amd64 || true
			arch=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
		fi
		[ -n "$arch" ] || { BCC_WHY="no /usr/src/linux-headers-*-amd64 (apt-get install linux-headers-amd64 failed)"; return 1; }
		ver=${arch#/usr/src/linux-headers-}
		ver=${ver%-amd64}
		common=/usr/src/linux-headers-$ver-common
		tree=$cache/kheaders-$ver
		if [ ! -e "$tree/.done" ]; then
			rm -rf "$tree"
			mkdir -p "$tree"
			[ -d "$common" ] && cp -rs "$common/." "$tree/"
			cp -rsf "$arch/." "$tree/"
			touch "$tree/.done"
		fi
		export BCC_KERNEL_SOURCE=$tree
	fi
	if ! timeout 60 profile-bpfcc -F 99 -f 1 >"$cache/bcc-check.out" 2>&1; then
		# shellcheck disable=SC2034 # read by the caller
		BCC_WHY="profile-bpfcc fails to compile its program with BCC_KERNEL_SOURCE=${BCC_KERNEL_SOURCE:-unset}: $(grep -m1 -iE 'error|exception' "$cache/bcc-check.out" || true)"
		return 1
	fi
}
