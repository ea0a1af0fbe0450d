#!/usr/bin/env bash
# A container whose files point at the host's: scorch opens a process's
# files inside its root (mount namespace, pivot_root), where an absolute
# symlink means the container's "/", never ours.  The host holds a root-only
# file (an ELF naming HOST_SECRET_FUNCTION, the same code and build ID as
# the container's binary) and a perf map naming it; in the container:
#   /bin/work_dl   its .gnu_debuglink names secret.debug (the host file's
#                  CRC), and /bin/secret.debug -> HOST/secret.debug;
#   /bin/work_del  deletes itself once running, leaving a symlink
#                  -> HOST/secret.debug at its path;
#   /bin/boxjit    a JIT whose /tmp -> HOST (which has perf-1.map).
# Recorded as root, then with README's four capabilities and
# CAP_DAC_READ_SEARCH (no map_files: paths are opened through the root): no
# frame is ever named from the host's files, each container process is named
# from its own, and shape, profiled alongside, is whole.
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
need_tools setpriv objcopy
# The host's files, outside /tmp (which the container replaces with a link).
host=$(mktemp -d /run/scorch-hostile.XXXXXX)
at_exit 'rm -rf "$host"'
chmod 755 "$tmp" "$host"
mkdir -m 777 "$tmp/out"
cp "$scorch" "$tmp/scorch"

root=$tmp/root
mkdir -m 755 "$root" "$root/bin"
mkdir -p -m 755 "$root$host" # the same path inside: where the JIT's own map goes
cp "$bin/hostile_secret" "$host/secret.debug"
printf '1000 7ffffffff000 HOST_SECRET_FUNCTION\n' >"$host/perf-1.map"
chmod 600 "$host/secret.debug" "$host/perf-1.map"
# work_dl without a build ID: the debug link's CRC is all that is checked.
objcopy --remove-section .note.gnu.build-id --add-gnu-debuglink="$host/secret.debug" \
	"$bin/hostile_boxed" "$root/bin/work_dl"
ln -s "$host/secret.debug" "$root/bin/secret.debug"
cp "$bin/hostile_boxed" "$root/bin/work_del"
cp "$bin/hostile_jit_static" "$root/bin/boxjit"
ln -s "$host" "$root/tmp"

# contained PROG ARGS...: starts PROG in the container; its host pid in $last.
contained() {
	"$bin/hostile_enter" "$root" "$@" &
	pids+=($!)
	local enter=$! i
	for i in $(seq 50); do
		last=$(pgrep -P "$enter" || true)
		[ -n "$last" ] && return
		sleep 0.05
	done
	fail "$1 did not start in the container"
}
contained /bin/work_dl 12
dl=$last
contained /bin/work_del 12 --replace-self "$host/secret.debug"
del=$last
contained /bin/boxjit 12 /tmp boxed_
jit=$last
"$shape" 12 >/dev/null &
pids+=($!)
other=$!
sleep 0.5
[ "$(readlink "$root/bin/work_del")" = "$host/secret.debug" ] || fail "work_del did not replace itself"
grep -q ' /bin/work_del (deleted)$' "/proc/$del/maps" || fail "work_del: maps do not show /bin/work_del (deleted)"
grep -q ' /bin/work_dl$' "/proc/$dl/maps" || fail "work_dl: maps do not show its path inside the container"
[ -s "$root$host/perf-1.map" ] || fail "the JIT wrote no perf map inside the container"
[ "$(awk '$1 == "NSpid:" { print $NF }' "/proc/$jit/status")" = 1 ] || fail "the JIT is not pid 1 of its namespace"

# check WHO FILE
check() {
	! grep -q HOST_SECRET_FUNCTION "$2" ||
		fail "$1: frames of $(grep HOST_SECRET_FUNCTION "$2" | cut -d';' -f1 | sort -u | xargs) named from the host's files: $(grep HOST_SECRET_FUNCTION "$2" | cut -c1-150 | head -3)"
	local c n named
	for c in work_dl work_del; do
		n=$(samples "$c" "$2")
		[ "$n" -gt 50 ] || fail "$1: only $n samples of $c"
		named=$(share ";boxed_spin( |;)" "$2" "$c")
		within "$named" 100 5 || fail "$1: $c: boxed_spin in only $named % of its samples: $(grep "^$c;" "$2" | head -3)"
		echo "$1: $c: $n samples, boxed_spin in $named %"
	done
	n=$(samples boxjit "$2")
	[ "$n" -gt 50 ] || fail "$1: only $n samples of boxjit"
	named=$(share ";boxed_jit_(one|two|three:x)_\\[j\\]( |;)" "$2" boxjit)
	within "$named" 95 45 || fail "$1: boxjit: its own perf map names only $named % of its samples: $(grep "^boxjit;" "$2" | head -3)"
	for c in one two three:x; do
		grep -q "^boxjit;.*;jit_caller;boxed_jit_${c}_\\[j\\] " "$2" || fail "$1: boxjit: no samples in boxed_jit_$c under jit_caller"
	done
	echo "$1: boxjit: $n samples, $named % in its JIT functions"
	shape_intact "$2"
}

"$tmp/scorch" record -F 999 -p "$dl,$del,$jit,$other" -d 2 -o "$tmp/out/root.folded" 2>"$tmp/err" ||
	fail "record as root: $(cat "$tmp/err")"
check root "$tmp/out/root.folded"

caps=$FOUR_CAPS,+dac_read_search
as_caps "$caps" "$tmp/scorch" record -F 999 -p "$dl,$del,$jit,$other" -d 2 -o "$tmp/out/caps.folded" 2>"$tmp/err" ||
	fail "record with $caps: $(cat "$tmp/err")"
check "$caps" "$tmp/out/caps.folded"
echo "hostile_root: ok"
