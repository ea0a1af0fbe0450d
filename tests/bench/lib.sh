# SPDX-License-Identifier: MIT
# Shared functions for the record benchmark (tests/bench/run, record_*.sh).
# Sourced, not run.  Measures only: nothing here fails on a slow figure.

# log MSG...: progress on stderr.
# interleave REPS CONFIG...: calls run_one REP CONFIG for every configuration
# in every repetition, the order rotated by one each repetition, so that no
# configuration always runs first, last or after the same neighbour.
interleave() {
	local reps=$1 rep k n
	shift
	n=$#
	local configs=("$@")
	for ((rep = 1; rep <= reps; rep++)); do
		for ((k = 0; k < n; k++)); do
			run_one "$rep" "${configs[$(((k + rep - 1) % n))]}"
		done
	done
}

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
# row of FILE whose "config" column is CONFIG, one per line; rows whose
# "status" column (when there is one) is not ok are left out.
col() {
	awk -v cfg="$2" -v name="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$idx["config"] == cfg && $idx[name] != "-" && (!("status" in idx) || $idx["status"] == "ok") { print $idx[name] }' "$1"
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

# prepare_workload NAME SECS DIR: sets the array WCMD to the command of
# workload NAME sized to take about SECS CPU seconds on a 2020s x86 core,
# making its input under DIR (deterministic, reused when present).
#   shape   samples/shape SECS ($SHAPE): spins for SECS of its own CPU
#   xz      xz -9 -T1 on generated text (about 2.5 MB per second)
#   python  /usr/bin/python3 running a pure-Python loop (30M rounds a second)
#   sqlite  sqlite3 :memory: importing a generated CSV (180k rows a second),
#           then an index, a GROUP BY, a self-join and a group_concat
# The last three do a fixed amount of work: their cost under a profiler is
# more wall time and more CPU time for the same output.
prepare_workload() {
	local name=$1 secs=$2 dir=$3 n py
	mkdir -p "$dir"
	case $name in
	shape) WCMD=("${SHAPE:?}" "$secs") ;;
	xz)
		n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 2500000 }')
		if [ ! -s "$dir/xz-$n.txt" ]; then
			awk -v n="$n" 'BEGIN {
				srand(1)
				for (i = 0; i < 5000; i++) { w = ""; l = 2 + int(rand() * 8)
					for (j = 0; j < l; j++) w = w sprintf("%c", 97 + int(rand() * 26)); v[i] = w }
				while (b < n) { s = ""; for (j = 0; j < 8; j++) s = s v[int(rand() * 5000)] " "
					s = s int(rand() * 1000000); print s; b += length(s) + 1 }
			}' >"$dir/xz-$n.txt"
		fi
		WCMD=(sh -c 'exec xz -9 -T1 -c "$1" >/dev/null' sh "$dir/xz-$n.txt")
		;;
	python)
		n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 30000000 }')
		py="def f(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s
print(sum(f(100000) for _ in range($n // 100000)))"
		WCMD=(/usr/bin/python3 -c "$py")
		;;
	sqlite)
		n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 180000 }')
		if [ ! -s "$dir/sqlite-$n.sql" ]; then
			awk -v n="$n" 'BEGIN { srand(1); for (i = 0; i < n; i++)
				printf "%d,%d,k%d,%.3f\n", i, int(rand() * 1000), int(rand() * n / 6), rand() * 100 }' \
				>"$dir/sqlite-$n.csv"
			cat >"$dir/sqlite-$n.sql" <<-SQL
				CREATE TABLE t(id INTEGER, grp INTEGER, k TEXT, v REAL);
				.mode csv
				.import $dir/sqlite-$n.csv t
				CREATE INDEX t_k ON t(k);
				SELECT grp, count(*), sum(v), avg(v) FROM t GROUP BY grp ORDER BY 3 DESC LIMIT 3;
				SELECT count(*) FROM t a JOIN t b ON a.k = b.k WHERE a.id < b.id;
				SELECT k, group_concat(id) FROM t GROUP BY k ORDER BY length(group_concat(id)) DESC LIMIT 1;
			SQL
		fi
		WCMD=(sqlite3 :memory: ".read $dir/sqlite-$n.sql")
		;;
	*) die "unknown workload $name" ;;
	esac
}
