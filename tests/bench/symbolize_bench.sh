#!/bin/sh
# SPDX-License-Identifier: MIT
# Symbolizer benchmark: 1,000,000 random addresses over a large C++ binary
# with DWARF (generated: symbolize_gen.py, 16 files x 50 functions, -O2 -g),
# libc (debug info from libc6-dbg) and libstdc++ (the DWARF build from
# libstdc++6-12-dbg, through LD_LIBRARY_PATH), in full and names-only modes.
#
#   tests/bench/symbolize_bench.sh [BUILD_DIR] [N]
#
# SYM_WORK (default /tmp/scorch-bench/symbolize) holds the generated program;
# SYM_SIZE="FILES FUNCS" sizes it (default "16 50"; tests/bench/run --quick
# uses a small one).  Measures only; never fails on a slow figure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
n=${2:-1000000}
work=${SYM_WORK:-/tmp/scorch-bench/symbolize}
size=${SYM_SIZE:-16 50}
mkdir -p "$work"

if [ ! -x "$work/big" ]; then
	# shellcheck disable=SC2086
	python3 "$here/symbolize_gen.py" "$work/src" $size
	echo "bench: compiling the generated C++ program (a minute or so)" >&2
	(cd "$work/src" && for f in gen*.cc main.cc; do echo "$f"; done |
		xargs -P "$(nproc)" -I{} sh -c 'g++ -O2 -g -fno-omit-frame-pointer -c {} -o {}.o')
	g++ -o "$work/big" "$work"/src/*.o
fi
cc -O2 -I"$root" "$here/symbolize_bench.c" "$build/symbolize/libscorch_symbolize.a" \
	"$build/base/libscorch_base.a" -lelf -ldw -lz -llzma -liberty -o "$work/symbolize_bench"

stdcxx=/usr/lib/x86_64-linux-gnu/debug
[ -f "$stdcxx/libstdc++.so.6" ] || echo "bench: no $stdcxx/libstdc++.so.6 (apt install libstdc++6-12-dbg): libstdc++ without DWARF" >&2
fifo=$work/fifo
rm -f "$fifo"
mkfifo "$fifo"
LD_LIBRARY_PATH=$stdcxx "$work/big" <"$fifo" >/dev/null &
pid=$!
exec 3>"$fifo"
sleep 1
echo "big: $(du -m "$work/big" | cut -f1) MiB; pid $pid"
for mode in full names; do
	"$work/symbolize_bench" "$pid" "$mode" "$n"
done
exec 3>&-
wait "$pid" || true
rm -f "$fifo"
