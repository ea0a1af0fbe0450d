#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pprof_go.sh SCORCH [PPROF_LABELS]: the real pprof client against our files.
#
#  1. pprof_known.folded (kernel, inlined and JIT frames, names with spaces,
#     recursion) -> `scorch convert -o x.pb.gz`; `go tool pprof -raw` shows the
#     same stacks with the same counts, `-top` the same total.
#  2. PPROF_LABELS (a helper that writes a profile with pid/tid/comm labels and
#     a period): `-tags` shows the labels, `-raw` the cpu values, and scorch
#     reads it back with comm and pid as root frames.
#  3. A CPU and a heap profile written by Go's runtime/pprof convert to folded
#     with the same total as go tool pprof reports, and back to pprof.
#
# Needs go (Debian golang-go) and python3; without them it skips (exit 77),
# or fails when CI=true.  Never touches the network.
set -euo pipefail
scorch=$1 labels=${2:-}
. "$(dirname "$0")/lib.sh"
test_setup
need_tools go python3
go_offline
export GOFLAGS=-mod=mod GO111MODULE=on
check="python3 $here/pprof_check.py"

# "Showing nodes accounting for 28, 100% of 28 total" -> 28
top_total() {
	sed -n 's/.* of \([0-9][0-9]*\) total.*/\1/p' < <(go tool pprof -top -symbolize=none -sample_index=samples "$1" 2>/dev/null) |
		head -n 1
}

folded_total() {
	awk '{ s += $NF } END { print s + 0 }' "$1"
}

# 1. folded -> pprof, read by go tool pprof.
known=$here/pprof_known.folded
"$scorch" convert "$known" -o "$tmp/known.pb.gz" || fail "convert $known"
# -symbolize=none: show names as stored (pprof otherwise shortens C++ names).
go tool pprof -raw -symbolize=none "$tmp/known.pb.gz" >"$tmp/known.raw" 2>"$tmp/err" ||
	fail "go tool pprof -raw: $(cat "$tmp/err")"
$check stacks "$known" "$tmp/known.raw" || fail "-raw stacks differ from $known"
want=$(folded_total "$known")
got=$(top_total "$tmp/known.pb.gz")
[ "$got" = "$want" ] || fail "-top total $got, folded total $want"
grep -q 'simd_step (inline)' < <(go tool pprof -top "$tmp/known.pb.gz" 2>/dev/null) ||
	fail "-top does not show the inlined frame"
"$scorch" convert "$tmp/known.pb.gz" -o "$tmp/known.folded" || fail "convert back"
sort "$tmp/known.folded" >"$tmp/known.sorted"
sort "$known" | cmp -s - "$tmp/known.sorted" || fail "folded -> pprof -> folded is not the identity"
echo "pprof_go: folded -> pprof: stacks, total $want and kinds survive go tool pprof"

# 2. labels, period and mappings from the helper.
if [ -n "$labels" ]; then
	"$labels" "$tmp/labels.pb.gz" || fail "pprof_labels"
	go tool pprof -tags "$tmp/labels.pb.gz" >"$tmp/tags" 2>&1 || fail "-tags: $(cat "$tmp/tags")"
	for want in 'comm:' 'app' 'other tool' 'pid:' '1234' 'tid:' '1235'; do
		grep -q -- "$want" "$tmp/tags" || fail "-tags does not show '$want'"
	done
	go tool pprof -raw "$tmp/labels.pb.gz" >"$tmp/labels.raw" 2>/dev/null || fail "-raw labels"
	printf 'main;work;helper_[i] 5\nmain;work;do_sys_open_[k] 2\nmain 3\n' >"$tmp/labels.want"
	$check stacks "$tmp/labels.want" "$tmp/labels.raw" 10000000 || fail "labels -raw"
	grep -q '\[FN\]\[FL\]\[LN\]\[IN\]' "$tmp/labels.raw" || fail "mapping flags not shown"
	"$scorch" convert "$tmp/labels.pb.gz" -o "$tmp/labels.folded" || fail "convert labels"
	grep -qx 'app;1234;main;work;helper_\[i\] 5' "$tmp/labels.folded" ||
		fail "root labels lost: $(cat "$tmp/labels.folded")"
	echo "pprof_go: labels, period, mapping flags and root labels survive"
fi

# 3. profiles written by Go itself.
mkdir -p "$tmp/burn"
cat >"$tmp/burn/go.mod" <<'EOF'
module burn

go 1.19
EOF
cat >"$tmp/burn/main.go" <<'EOF'
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

var sink [][]byte

//go:noinline
func burn(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

func main() {
	runtime.MemProfileRate = 4096
	cpu, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		panic(err)
	}
	x := 0
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
		x += burn(200000)
		sink = append(sink, make([]byte, 1<<12))
	}
	pprof.StopCPUProfile()
	cpu.Close()
	heap, err := os.Create(os.Args[2])
	if err != nil {
		panic(err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(heap); err != nil {
		panic(err)
	}
	heap.Close()
	if x == 42 {
		println(len(sink))
	}
}
EOF
(cd "$tmp/burn" && go build -o "$tmp/burn/burn" .) >"$tmp/err" 2>&1 || fail "go build: $(cat "$tmp/err")"
"$tmp/burn/burn" "$tmp/go-cpu.pprof" "$tmp/go-heap.pprof" || fail "running the Go program"
for kind in cpu heap; do
	in=$tmp/go-$kind.pprof
	"$scorch" convert "$in" -o "$tmp/go-$kind.folded" || fail "convert Go $kind profile"
	if grep -vqE '^.+ [0-9]+$' "$tmp/go-$kind.folded"; then
		fail "Go $kind profile: malformed folded line"
	fi
	"$scorch" convert "$tmp/go-$kind.folded" -o "$tmp/go-$kind.check.folded" ||
		fail "our folded output of the Go $kind profile does not parse"
	go tool pprof -raw "$in" >"$tmp/go-$kind.raw" 2>/dev/null || fail "-raw Go $kind"
	"$scorch" convert "$in" -o "$tmp/go-$kind.pb.gz" || fail "Go $kind profile back to pprof"
	go tool pprof -raw "$tmp/go-$kind.pb.gz" >/dev/null 2>&1 || fail "go cannot read our copy of its $kind profile"
done
want=$($check total "$tmp/go-cpu.raw")
got=$(folded_total "$tmp/go-cpu.folded")
[ "$want" -gt 0 ] || fail "the Go CPU profile has no samples"
[ "$got" = "$want" ] || fail "Go CPU profile: folded total $got, pprof total $want"
grep -q 'main\.burn' "$tmp/go-cpu.folded" || fail "main.burn missing from the Go CPU profile"
got=$(top_total "$tmp/go-cpu.pb.gz")
[ "$got" = "$want" ] || fail "Go CPU profile re-written: -top total $got, want $want"
echo "pprof_go: Go CPU ($want samples) and heap profiles convert to folded and back"
echo "pprof_go: PASS"
