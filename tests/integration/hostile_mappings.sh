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

# awk (mawk here) has no strtonum: hex("0x1f") or hex("1f") is 31.
hex='function hex(s,  i, v) { v = 0; sub(/^0x/, "", s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(tolower(s), i, 1)) - 1; return v }'

# The file offsets of FILE's PLT sections (.plt, .plt.got, .plt.sec), a
# "start end" pair a line: a sample in a PLT stub (libc's, from an IFUNC
# resolver the loader runs while relocating) has no symbol to be named by.
plt_ranges() {
	readelf -SW "$1" | awk "$hex"' { sub(/^ *\[ *[0-9]+\] */, "") }
		$1 == ".plt" || $1 == ".plt.got" || $1 == ".plt.sec" { print hex($4), hex($4) + hex($5) }'
}
libc=$(ldd "$bin/hostile_maps" | awk '$1 == "libc.so.6" { print $3 }')
plt_ranges "$bin/hostile_maps" | sed 's/^/hostile_maps /' >"$tmp/plt"
[ -z "$libc" ] || plt_ranges "$libc" | sed 's/^/libc.so.6 /' >>"$tmp/plt"

# The frames of the program or libc in folded file F left unnamed (FILE+0xOFF), PLT stubs aside.
unnamed() {
	{ grep -E '^hostile_maps;' "$1" || true; } | { grep -Eo '(hostile_maps|libc\.so\.6)\+0x[0-9a-f]+' || true; } | sort -u |
		awk -v plt="$tmp/plt" "$hex"' BEGIN { while ((getline l < plt) > 0) { split(l, f, " "); m[++n] = f[1]; lo[n] = f[2]; hi[n] = f[3] } }
			{ split($0, p, "+"); off = hex(p[2]); stub = 0
			  for (i = 1; i <= n; i++) if (m[i] == p[1] && off >= lo[i] && off < hi[i]) stub = 1
			  if (!stub) print }'
}

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
	local left
	left=$(unnamed "$2")
	[ -z "$left" ] || fail "$1: unnamed frames of the program or libc: $(echo $left) in $(grep -F "$(echo "$left" | head -1)" "$2" | head -2)"
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
