#!/usr/bin/env bash
# Executables whose sections are damaged but which still run (the loader
# needs only the program headers): section headers past the end, absurd
# section counts and sizes, links out of range, the file truncated after its
# last loaded byte, scrambled symbols, CFI, DWARF and build ID note (see
# hostile_elfmangle.c).  All are recorded at once with the undamaged
# program and shape: scorch exits 0, the undamaged program and the copies
# whose symbol table is intact are named, shape is whole.  Then once more
# with --lines (DWARF lines read from the scrambled DWARF too).
set -euo pipefail
scorch=$1 shape=$2 bin=$3
. "$(dirname "$0")/hostile_lib.sh"
test_setup --bpf
modes="shoff xnum sizes links truncate symtab cfi dwarf note"
for m in $modes; do
	"$bin/hostile_elfmangle" "$bin/hostile_alpha" "$tmp/m_$m" "$m" || fail "cannot make the $m copy"
	chmod +x "$tmp/m_$m"
	"$tmp/m_$m" 0.01 || fail "the $m copy does not run"
done
# CPU time, not wall time: under load a wall-time run gets so little CPU
# that its start-up (exec, the loader) becomes a share of its samples.
run="for m in $modes; do $tmp/m_\$m 1 --cpu & done; $bin/hostile_alpha 1 --cpu & $shape 1 >/dev/null; wait"

"$scorch" record -F 999 -o "$tmp/rec.folded" -- sh -c "$run" 2>"$tmp/err" || fail "record: $(cat "$tmp/err")"
for m in $modes hostile_alpha; do
	c=$m
	[ "$m" = hostile_alpha ] || c=m_$m
	n=$(samples "$c" "$tmp/rec.folded")
	[ "$n" -gt 30 ] || fail "$c: only $n samples"
	named=$(share ";alpha_spin( |;)" "$tmp/rec.folded" "$c")
	case $m in
	cfi | dwarf | note | hostile_alpha)
		within "$named" 100 5 || fail "$c: its symbol table is whole, yet alpha_spin names only $named % of its samples: $(grep "^$c;" "$tmp/rec.folded" | head -3)"
		;;
	esac
	echo "$c: $n samples, alpha_spin in $named %"
done
shape_intact "$tmp/rec.folded"

"$scorch" record -F 999 --lines -o "$tmp/lines.folded" -- sh -c "$run" 2>"$tmp/err" || fail "record --lines: $(cat "$tmp/err")"
n=$(samples m_dwarf "$tmp/lines.folded")
[ "$n" -gt 30 ] || fail "--lines: only $n samples of the scrambled DWARF copy"
grep -q '^hostile_alpha;.*;alpha_spin [^ ;]*hostile_work.c:[0-9]' "$tmp/lines.folded" ||
	fail "--lines: the undamaged program has no source lines: $(grep '^hostile_alpha;' "$tmp/lines.folded" | head -2)"
echo "--lines: m_dwarf $n samples; the undamaged program has its lines"
echo "hostile_elf: ok"
