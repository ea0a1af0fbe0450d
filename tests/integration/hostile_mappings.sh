#!/usr/bin/env bash
# A process with 5,000 executable mappings: 500 one-page files (distinct
# inodes, each a truncated ELF) and 4,500 mappings of its own code segment
# with a page of hole between them, its hot function called through every
# copy in turn.  Recorded by pid and as a command (mapping while recorded),
# with the usual default of 1024 open files: scorch completes, the hot
# function is named wherever it runs, libc too, and memory stays bounded.
# Prints scorch's peak RSS and wall time.
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
need_tools /usr/bin/time
nfiles=500 ncopies=4500
mkdir "$tmp/a" "$tmp/b"
ulimit -n 1024

# check WHAT FILE USAGE
check() {
	local n hot rss secs
	n=$(samples hostile_maps "$2")
	[ "$n" -gt 300 ] || fail "$1: only $n samples"
	# Of the hot loop's samples (main;maps_run;maps_hot, the middle frame
	# lost by frame pointers, or unnamed): creating and mapping the files
	# before it takes a share of the run that the machine decides.
	hot=$(share ";maps_hot( |;)" "$2" hostile_maps ";main;(maps_run|maps_hot|hostile_maps[+]0x)")
	within "$hot" 100 10 ||
		fail "$1: maps_hot names only $hot % of the hot loop's samples; others: $(grep -E ';main;(maps_run|hostile_maps[+])' "$2" | grep -v ";maps_hot" | sort -t' ' -k2 -nr | head -4)"
	# A PLT stub is named too (libc's, called by an IFUNC resolver the
	# loader runs while relocating, is func@plt).
	! grep -Eq '^hostile_maps;.*(hostile_maps|libc\.so\.6)\+0x' "$2" ||
		fail "$1: unnamed frames of the program or libc: $(grep -E '^hostile_maps;.*(hostile_maps|libc\.so\.6)\+0x' "$2" | head -3)"
	read -r rss secs <"$3"
	[ "$rss" -lt $((512 * 1024)) ] || fail "$1: scorch peaked at $((rss / 1024)) MiB"
	echo "$1: $n samples, maps_hot in $hot % of the hot loop's; scorch RSS $((rss / 1024)) MiB, $secs s"
}

"$bin/hostile_maps" "$tmp/a" "$nfiles" "$ncopies" 30 >"$tmp/log" &
pids+=($!)
victim=$!
wait_ready "$victim" "$tmp/log" mapped
n=$(grep -c ' r-xp ' "/proc/$victim/maps" || true)
[ "$n" -gt $((nfiles + ncopies)) ] || fail "only $n executable mappings"
rss_time "$tmp/usage" "$scorch" record -F 999 -p "$victim" -d 2 -o "$tmp/p.folded" 2>"$tmp/err" ||
	fail "record -p: $(cat "$tmp/err")"
check "-p, $n executable mappings" "$tmp/p.folded" "$tmp/usage"
kill "$victim"
wait "$victim" 2>/dev/null || true

rss_time "$tmp/usage" "$scorch" record -F 999 -o "$tmp/c.folded" -- "$bin/hostile_maps" "$tmp/b" "$nfiles" "$ncopies" 2 \
	>/dev/null 2>"$tmp/err" || fail "record -- hostile_maps: $(cat "$tmp/err")"
check "-- CMD, mapping while recorded" "$tmp/c.folded" "$tmp/usage"
echo "hostile_mappings: ok"
