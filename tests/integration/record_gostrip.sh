#!/usr/bin/env bash
# A stripped Go binary (-ldflags='-s -w': no symbol table, no DWARF, no
# .debug_frame; only Go's own .gopclntab) profiles as its unstripped build
# does.  samples/goshape is built twice with Debian's go (offline) and each
# build recorded at 999 Hz; for the stripped one:
#   - goSixty/goThirty/goTen's shares within 3 points of the unstripped
#     build's (which are within 5 of their design, 60/30/10),
#   - >= 95 % of its samples from runtime.goexit (the goroutine's root: its
#     stacks are whole, the frameless leaf spin's caller work included),
#   - functions named (no module+0x frames), with file:line under --lines,
#   - the run says its names came from .gopclntab and its unwind rows from
#     Go's frame sizes;
# and a stripped PIE build (its table in .data.rel.ro.gopclntab, found by
# searching, its text start 0 in the file) likewise reaches runtime.goexit.
set -euo pipefail
scorch=$1 src=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools go readelf

# Offline, and nothing written outside $tmp.
export GOFLAGS=-mod=mod GO111MODULE=on GOTOOLCHAIN=local GOPROXY=off GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath"
mkdir -p "$tmp/full" "$tmp/strip" "$tmp/pie"
(cd "$src" && go build -o "$tmp/full/goshape" . && go build -ldflags='-s -w' -o "$tmp/strip/goshape" . &&
	go build -buildmode=pie -ldflags='-s -w' -o "$tmp/pie/goshape" .) \
	>"$tmp/err" 2>&1 || fail "go build: $(cat "$tmp/err")"
sections=$(readelf -SW "$tmp/strip/goshape")
grep -q ' \.gopclntab ' <<<"$sections" || fail "stripped build has no .gopclntab"
! grep -qE ' \.(symtab|debug_frame|eh_frame|debug_info) ' <<<"$sections" || fail "stripped build is not stripped"

# record BUILD OUT SECONDS [OPTION...]: records goshape for SECONDS of its CPU.
record() {
	local build=$1 out=$2 secs=$3
	shift 3
	"$scorch" record -F 999 "$@" -o "$out" -- "$tmp/$build/goshape" "$secs" 2>"$tmp/$build.err" >/dev/null ||
		fail "record $build exited $?: $(cat "$tmp/$build.err")"
	cat "$tmp/$build.err"
	local n
	n=$(awk '$1 ~ /^goshape;/ { t += $NF } END { print t + 0 }' "$out")
	[ "$n" -ge $((secs * 300)) ] || fail "$build: only $n samples of goshape"
}
record full "$tmp/full.folded" 3
record strip "$tmp/strip.folded" 3

for f in "goSixty 60" "goThirty 30" "goTen 10"; do
	set -- $f
	want=$(share ";main\\.$1;main\\.work;main\\.spin( |$)" "$tmp/full.folded" goshape)
	got=$(share ";main\\.$1;main\\.work;main\\.spin( |$)" "$tmp/strip.folded" goshape)
	echo "main.$1: stripped $got %, unstripped $want % (designed $2 %)"
	within "$want" "$2" 5 || fail "unstripped main.$1 has $want % of the samples, designed $2 %"
	within "$got" "$want" 3 || fail "stripped main.$1 has $got % of the samples, unstripped $want %"
done
root=$(share "^goshape;runtime\\.goexit;main\\.main\\.func1;main\\.goWork;" "$tmp/strip.folded" goshape)
echo "stripped stacks from runtime.goexit: $root %"
within "$root" 100 5 || fail "only $root % of the stripped build's stacks reach runtime.goexit;main.main.func1"
unnamed=$(share "\\+0x" "$tmp/strip.folded" goshape)
echo "stripped stacks with an unnamed frame: $unnamed %"
within "$unnamed" 0 1 || fail "$unnamed % of the stripped build's stacks have unnamed frames: $(grep -m3 '+0x' "$tmp/strip.folded")"
grep -q "goshape: [0-9]* addresses named from .gopclntab (go1.18-1.19 layout)" "$tmp/strip.err" ||
	fail "the run does not say the names came from .gopclntab"
grep -q "unwind: [1-9][0-9]* rows from Go's frame sizes (.gopclntab) for 1 files" "$tmp/strip.err" ||
	fail "the run does not say the unwind rows came from .gopclntab"

# --lines: file:line from the table's line numbers.
record strip "$tmp/lines.folded" 1 --lines
grep -qE ";main\\.spin [^;]*/goshape/main\\.go:4[0-9]( |$)" "$tmp/lines.folded" ||
	fail "no main.spin main.go:line frame under --lines: $(grep -m2 'main.spin' "$tmp/lines.folded")"

record pie "$tmp/pie.folded" 2
root=$(share "^goshape;runtime\\.goexit;main\\.main\\.func1;main\\.goWork;" "$tmp/pie.folded" goshape)
echo "stripped PIE stacks from runtime.goexit: $root %"
within "$root" 100 5 || fail "only $root % of the stripped PIE's stacks reach runtime.goexit;main.main.func1"
grep -qE ";main\\.goSixty;main\\.work;main\\.spin " "$tmp/pie.folded" || fail "no whole goSixty stack in the PIE's"
echo "record_gostrip: ok"
