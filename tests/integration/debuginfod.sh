#!/usr/bin/env bash
# Debug files from a real debuginfod server (Debian's debuginfod, in a
# network namespace of its own, so it listens on nothing but that
# namespace's loopback): a workload stripped of every symbol (dbgd_work),
# its debug file served by the server.
#   1. Without servers: frames are dbgd_work+0x..., and scorch says why and
#      what would help.
#   2. With the server: named with file:line and the inlined call, as with
#      the debug file installed locally (--debug-dir).
#   3. The server stopped, the same cache: named again, from the cache.
#   4. A server without the file (404): module+0x, "not on the servers".
#   5. No server listening: module+0x, "unreachable".
#   6. A server that accepts and never answers: record gives up at
#      --debuginfod-deadline, not at the library's 90 s timeout.
set -euo pipefail
scorch=$1 dir=$2
. "$(dirname "$0")/lib.sh"
need_bpf
need_tools debuginfod python3 unshare ip objcopy
# Into a network namespace first: test_setup's $tmp would not be removed across exec.
if [ -z "${SCORCH_NETNS:-}" ]; then
	exec unshare --net env SCORCH_NETNS=1 "$0" "$@"
fi
test_setup
ip link set lo up
server=
at_exit '[ -z "$server" ] || kill "$server" 2>/dev/null'
bin=$dir/stripped/dbgd_work
[ -x "$bin" ] && [ -f "$dir/debug/dbgd_work.debug" ] || fail "$dir: dbgd_work and its debug file are not built"
bid=$(readelf -n "$bin" | awk '/Build ID/ { print $3 }')
[ -n "$bid" ] || fail "dbgd_work has no build ID"
! grep -q '\.symtab' < <(readelf -S "$bin") || fail "dbgd_work is not stripped"
port=$((20000 + RANDOM % 20000))
url=http://127.0.0.1:$port

# named FILE: % of dbgd_work's samples in dbgd_hot under main.
named() { share ';main( [^;]*)?;dbgd_hot( |;|$)' "$1" dbgd_work; }
rec() { # OUT [ARGS...]: record the workload for 1 s of CPU; stderr in OUT.err
	local out=$1
	shift
	"$scorch" record -F 999 "$@" -o "$out" -- "$bin" 1 >/dev/null 2>"$out.err" || fail "record $*: $(cat "$out.err")"
}
start_server() { # DIR: serves the debug files under DIR once it has indexed them (a database of its own)
	# Without our DEBUGINFOD_* variables: it would forward misses to them.
	env -u DEBUGINFOD_URLS -u DEBUGINFOD_CACHE_PATH debuginfod -p "$port" -d "$tmp/db-$(basename "$1").sqlite" -F "$1" -t 0 -g 0 >"$tmp/server.log" 2>&1 &
	server=$!
}
wait_url() { # URL: until the server answers it with 200
	python3 - "$1" <<'EOF'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
EOF
}
wait_served() { # BUILD_ID: until the server has indexed it
	wait_url "$url/buildid/$1/debuginfo" || fail "the server never served $1: $(tail -5 "$tmp/server.log")"
}

# 1. No server named: unnamed, and said why.
rec "$tmp/none.folded" --no-debuginfod
n=$(named "$tmp/none.folded")
within "$n" 0 5 || fail "without debug info, $n % of samples named dbgd_hot"
grep -q "^dbgd_work;.*dbgd_work+0x" "$tmp/none.folded" || fail "no dbgd_work+0x frames: $(head -3 "$tmp/none.folded")"
grep -q "stripped/dbgd_work: [0-9]* addresses unnamed: no symbol table and no debug file" "$tmp/none.folded.err" ||
	fail "no reason for the unnamed file: $(cat "$tmp/none.folded.err")"
grep -q "stripped/dbgd_work: .*; no Debian package installed it" "$tmp/none.folded.err" ||
	fail "no package hint for the file no package lists: $(grep 'addresses unnamed' "$tmp/none.folded.err")"
echo "no server: dbgd_hot $n %; $(grep 'addresses unnamed' "$tmp/none.folded.err")"
# Debian's stripped interpreter: its package (python3.11-minimal, whose name
# is not cut at its first dot) and the package holding its symbols.
py=/usr/bin/python3.11
if [ -x $py ] && dpkg -S $py >/dev/null 2>&1 && ! readelf -S $py | grep -q '\.symtab'; then
	"$scorch" record -F 999 --no-debuginfod -o "$tmp/py.folded" -- $py -c 'for i in range(3000000): pass' \
		2>"$tmp/py.folded.err" || fail "record $py: $(cat "$tmp/py.folded.err")"
	pyid=$(readelf -n $py | awk '/Build ID/ { print $3 }')
	if [ -e "/usr/lib/debug/.build-id/${pyid:0:2}/${pyid:2}.debug" ]; then
		echo "python3.11's debug file is installed: its package hint not checked"
	else
		grep -q "^scorch: $py: [0-9]* addresses unnamed: .*; it is from Debian package python3.11-minimal: apt install python3.11-dbg" \
			"$tmp/py.folded.err" || fail "no package hint for $py: $(grep unnamed "$tmp/py.folded.err")"
		echo "python: $(grep "$py: .*unnamed" "$tmp/py.folded.err")"
	fi
fi

# The debug file installed locally, as the reference.
mkdir -p "$tmp/local/.build-id/${bid:0:2}"
cp "$dir/debug/dbgd_work.debug" "$tmp/local/.build-id/${bid:0:2}/${bid:2}.debug"
rec "$tmp/local.folded" --no-debuginfod --lines --debug-dir "$tmp/local"
loc=$(named "$tmp/local.folded")
within "$loc" 100 5 || fail "with the debug file installed, only $loc % of samples named dbgd_hot"

# 2. From the server.
start_server "$dir/debug"
wait_served "$bid"
export DEBUGINFOD_URLS=$url DEBUGINFOD_CACHE_PATH=$tmp/cache
rec "$tmp/served.folded" --lines
srv=$(named "$tmp/served.folded")
within "$srv" 100 5 || fail "from the server, only $srv % of samples named dbgd_hot: $(cat "$tmp/served.folded.err")"
grep -q ';dbgd_hot [^;]*dbgd_work\.c:[0-9][0-9]*;dbgd_mix [^;]*dbgd_work\.c:[0-9]' "$tmp/served.folded" ||
	fail "from the server: no dbgd_mix inlined in dbgd_hot with lines: $(sort -t' ' -k2 -rn "$tmp/served.folded" | head -3)"
# The workload's functions with their lines, as from the local debug file.
for f in 'dbgd_hot dbgd_work.c' 'dbgd_mix dbgd_work.c' 'main dbgd_work.c'; do
	for r in local served; do
		grep -qE "(^|;)${f%% *} [^;]*${f#* }:[0-9]" "$tmp/$r.folded" || fail "$r: no '$f:LINE' frame"
	done
done
echo "from the server: dbgd_hot $srv % (local debug file: $loc %), with lines and the inlined dbgd_mix"

# 3. Server gone, the cache answers.
kill "$server"
wait "$server" 2>/dev/null || true
server=
rec "$tmp/cached.folded" --lines
c=$(named "$tmp/cached.folded")
within "$c" 100 5 || fail "from the cache, only $c % of samples named dbgd_hot: $(cat "$tmp/cached.folded.err")"
echo "from the cache (server stopped): dbgd_hot $c %"

# 4. A server that does not have the file.
mkdir -p "$tmp/empty"
start_server "$tmp/empty"
wait_url "$url/metrics" || fail "the empty server never answered"
export DEBUGINFOD_CACHE_PATH=$tmp/cache404
rec "$tmp/404.folded"
n=$(named "$tmp/404.folded")
within "$n" 0 5 || fail "a server without the file: $n % named: $(cat "$tmp/404.folded.err"; tail -5 "$tmp/server.log")"
grep -q "stripped/dbgd_work: [0-9]* addresses unnamed: not on the debuginfod servers" "$tmp/404.folded.err" ||
	fail "404 not reported: $(cat "$tmp/404.folded.err")"
echo "server without the file: $(grep 'addresses unnamed' "$tmp/404.folded.err")"
kill "$server"
wait "$server" 2>/dev/null || true
server=

# 5. Nobody listening.
export DEBUGINFOD_CACHE_PATH=$tmp/cache-dead
rec "$tmp/dead.folded"
grep -q "stripped/dbgd_work: [0-9]* addresses unnamed: debuginfod servers unreachable" "$tmp/dead.folded.err" ||
	fail "a dead server not reported: $(cat "$tmp/dead.folded.err")"
echo "no server listening: $(grep 'addresses unnamed' "$tmp/dead.folded.err")"

# 6. A server that never answers: the deadline holds.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
conns = []
end = time.time() + 120
while time.time() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except socket.timeout:
        pass
' "$port" &
server=$!
sleep 0.5
export DEBUGINFOD_CACHE_PATH=$tmp/cache-hang
t0=$(date +%s.%N)
rec "$tmp/hang.folded" --debuginfod-deadline 2
t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
grep -q "gave up waiting after 2 s" "$tmp/hang.folded.err" || fail "no deadline reported: $(cat "$tmp/hang.folded.err")"
# 1 s of work, 2 s of deadline, a second for a transfer to notice: far
# below the library's own 90 s timeout on a slow machine too.
awk -v t="$t" 'BEGIN { exit !(t < 30) }' || fail "record took $t s with a 2 s debuginfod deadline"
echo "silent server: record took $t s with --debuginfod-deadline 2; $(grep 'gave up' "$tmp/hang.folded.err")"
echo "debuginfod: ok"
