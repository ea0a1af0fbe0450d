#!/usr/bin/env bash
# Code without CFI: libc_calls.c (its own loop, memcpy/memset, qsort, all
# under main) built with musl-gcc -static -O2 -fomit-frame-pointer
# (Debian's musl libc.a has neither CFI nor frame pointers), recorded with
# the default --unwind auto:
#   - musl's memcpy and memset never move the stack pointer, so they get
#     rows from their code (symbolize/leafcfi.c): at least 10 % of the
#     samples are in them under copy_work and main (none without those rows);
#   - qsort's C code pushes registers and keeps no frame pointer: stacks end
#     there, and the end-of-run warning names the binary with a count that
#     is the samples not reaching main (within 2 % of the samples + 3).
# The same program built with gcc against glibc (CFI in libc.so.6) reaches
# main and gets no such warning.
set -euo pipefail
scorch=$1
. "$(dirname "$0")/lib.sh"
test_setup --bpf
need_tools musl-gcc gcc
src=$here/libc_calls.c
musl-gcc -static -O2 -fomit-frame-pointer -fno-inline -o "$tmp/lc_musl" "$src" || fail "musl-gcc failed"
gcc -O2 -fomit-frame-pointer -fno-inline -o "$tmp/lc_glibc" "$src" || fail "gcc failed"
! readelf -S "$tmp/lc_musl" | grep -q '\.interp' || fail "lc_musl is not static"

rec() { # NAME: records $tmp/NAME for 1.5 s of CPU into $tmp/NAME.folded(.err)
	"$scorch" record -F 999 -o "$tmp/$1.folded" -- "$tmp/$1" 1.5 >/dev/null 2>"$tmp/$1.err" ||
		fail "record $1: $(cat "$tmp/$1.err")"
}
counts() { # FILE COMM: "samples reaching-main" of COMM
	awk -v comm="$2" '{ n = $NF; split($0, f, ";"); if (f[1] != comm) next; t += n; if ($0 ~ /;main(;| |$)/) m += n }
		END { print t + 0, m + 0 }' "$1"
}

rec lc_musl
read -r total main < <(counts "$tmp/lc_musl.folded" lc_musl)
[ "$total" -gt 0 ] || fail "no lc_musl samples: $(cat "$tmp/lc_musl.err")"
line=$(grep "warning: unwind: $tmp/lc_musl: " "$tmp/lc_musl.err") ||
	fail "no report of stacks ending without CFI in lc_musl ($main of $total samples reach main): $(cat "$tmp/lc_musl.err")"
echo "musl: $main of $total samples reach main; $line"
n=$(sed -E 's/.*lc_musl: ([0-9]+) of [0-9]+ samples.*/\1/' <<<"$line")
missing=$((total - main))
awk -v n="$n" -v m="$missing" -v t="$total" 'BEGIN { d = n - m; if (d < 0) d = -d; exit !(d <= t * 0.02 + 3) }' ||
	fail "lc_musl: $n samples reported ending without CFI, $missing of $total do not reach main"
awk -v n="$n" -v t="$total" 'BEGIN { exit !(n >= t * 0.1) }' ||
	fail "lc_musl: only $n of $total samples ended in libc: the workload's shape changed"
grep -Eq "without CFI or frame pointers \([0-9]+ in [A-Za-z_][A-Za-z0-9_]*\)" <<<"$line" ||
	fail "lc_musl: the function most stacks ended in is not named: $line"
leaf=$(share ";main;copy_work;mem(cpy|set)( |$)" "$tmp/lc_musl.folded" lc_musl)
echo "musl: $leaf % of samples in memcpy or memset under copy_work and main"
awk -v v="$leaf" 'BEGIN { exit !(v >= 10) }' || fail "lc_musl: only $leaf % of samples reach main through memcpy or memset"

rec lc_glibc
read -r total main < <(counts "$tmp/lc_glibc.folded" lc_glibc)
echo "glibc: $main of $total samples reach main"
! grep "without CFI or frame pointers" "$tmp/lc_glibc.err" || fail "lc_glibc: stacks reported ending without CFI"
awk -v m="$main" -v t="$total" 'BEGIN { exit !(t > 0 && m >= t * 0.95) }' ||
	fail "lc_glibc: only $main of $total samples reach main"
