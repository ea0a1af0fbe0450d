#!/usr/bin/env bash
# --unwind dwarf on the known-shape sample built without frame pointers
# (shape_nofp): at least 95 % of samples reach main and each function's
# share is within 3 points of its design (60/30/10), nothing lost, none
# walked by frame pointers for want of its tables at its start; the
# 41-deep recursion comes out whole.  --unwind fp on the same binary is
# printed for comparison, not asserted.  The same workload with its CFI
# only in a separate debug file.  Then stacks through libc callbacks,
# a signal frame and the PLT (samples/unwind_cases).  Then --unwind auto on
# the frame-pointer build keeps record_shape's figures.  Last, a command
# that runs a program again and again: the tables of each run, kept after it
# exits, are taken by the next run, not compiled again.
set -euo pipefail
scorch=$1 shape_nofp=$2 shape=$3
. "$(dirname "$0")/lib.sh"
test_setup --bpf
comm=$(basename "$shape_nofp" | cut -c1-15)

shares() { # FILE COMM: one line of figures
	local out="" f
	for f in shape_sixty shape_thirty shape_ten; do
		out="$out $f $(share ";$f(;|$| )" "$1" "$2")"
	done
	echo "$out main $(share ";main(;| )" "$1" "$2")"
}

"$scorch" record --unwind fp -F 999 -o "$tmp/fp.folded" -- "$shape_nofp" 2 2>"$tmp/err" >/dev/null ||
	fail "record --unwind fp exited $?: $(cat "$tmp/err")"
echo "fp:   $(shares "$tmp/fp.folded" "$comm") (% of samples; not asserted)"

"$scorch" record --unwind dwarf -F 999 -o "$tmp/dwarf.folded" -- "$shape_nofp" 3 2>"$tmp/err" >/dev/null ||
	fail "record --unwind dwarf exited $?: $(cat "$tmp/err")"
cat "$tmp/err"
echo "dwarf: $(shares "$tmp/dwarf.folded" "$comm")"
grep -q ' 0 lost$' "$tmp/err" || fail "samples lost: $(cat "$tmp/err")"
grep -q 'user stacks from CFI tables' "$tmp/err" || fail "no unwind report: $(cat "$tmp/err")"
# Its program's and loader's tables, compiled before it ran, are set at its
# exec by the BPF side: no sample waits for scorch to read the process,
# however late scorch's thread runs.
grep -q ', 0 by frame pointers (tables not loaded yet)' "$tmp/err" ||
	fail "the command's samples before its tables were read: $(grep 'unwind:' "$tmp/err")"
for f in "shape_sixty 60" "shape_thirty 30" "shape_ten 10"; do
	set -- $f
	s=$(share ";$1(;|$| )" "$tmp/dwarf.folded" "$comm")
	within "$s" "$2" 3 || fail "--unwind dwarf: $1 has $s % of the samples, designed $2 %"
done
main=$(share ";main(;| )" "$tmp/dwarf.folded" "$comm")
within "$main" 100 5 || fail "--unwind dwarf: only $main % of samples reach main"
depth=$(awk '{ sub(/ [0-9]+$/, ""); n = 0; k = split($0, f, ";"); for (i = 1; i <= k; i++) n += f[i] == "shape_ten"; if (n > m) m = n } END { print m + 0 }' "$tmp/dwarf.folded")
[ "$depth" -eq 41 ] || fail "--unwind dwarf: deepest shape_ten chain is $depth frames, want 41"

# Deeper than the frame limit: a visible [truncated] root, counted.
"$scorch" record --unwind dwarf -F 999 -o "$tmp/deep.folded" -- "$shape_nofp" 0.5 300 2>"$tmp/err" >/dev/null
grep -q "^$comm;\[truncated\];shape_ten;" "$tmp/deep.folded" || fail "no [truncated] root: $(head -c 300 "$tmp/deep.folded")"
grep -q 'deeper than 127 frames' "$tmp/err" || fail "truncation not reported: $(cat "$tmp/err")"

# Built without unwind tables, the CFI only in a separate debug file's
# .debug_frame (samples/shape_split and its .debug next to it): whole
# stacks as with .eh_frame.  Without the debug file nothing reaches main.
split=$(dirname "$shape_nofp")/shape_split
[ -x "$split" ] && [ -f "$split.debug" ] || fail "$split (and its .debug) is not built"
"$scorch" record -v --unwind dwarf -F 999 -o "$tmp/split.folded" -- "$split" 2 2>"$tmp/err" >/dev/null ||
	fail "record --unwind dwarf (shape_split) exited $?: $(cat "$tmp/err")"
grep -q ', 1 with a debug file' "$tmp/err" || fail "shape_split: no table from its debug file: $(grep unwind "$tmp/err")"
echo "separate .debug_frame: $(shares "$tmp/split.folded" shape_split)"
main=$(share ";main(;| )" "$tmp/split.folded" shape_split)
within "$main" 100 5 || fail "shape_split: only $main % of samples reach main"
for f in "shape_sixty 60" "shape_thirty 30" "shape_ten 10"; do
	set -- $f
	s=$(share ";$1(;|$| )" "$tmp/split.folded" shape_split)
	within "$s" "$2" 4 || fail "shape_split: $1 has $s % of the samples, designed $2 %"
done

# Stacks through libc and a signal frame (samples/unwind_cases, no frame
# pointers), one case a run, so that a case's samples are the whole run:
# a qsort comparator called back from libc, a pthread start routine, a hot
# loop in a SIGPROF handler (handler <- signal trampoline <- interrupted
# function <- main) for half the case's CPU time, a call that spins inside a
# PLT stub: shares the workload fixes, whatever the timer or the load.  The same runs with --unwind
# fp are printed as a control (their shares are near 0: every one of these
# assertions fails on them).
cases=$(dirname "$shape_nofp")/unwind_cases
[ -x "$cases" ] || fail "$cases is not built"
at_least() { awk -v v="$1" -v m="$2" 'BEGIN { exit !(v == v + 0 && v >= m) }'; }
case_run() { # MODE CASE: records one case into $tmp/CASE.MODE.folded
	"$scorch" record --unwind "$1" -F 999 -o "$tmp/$2.$1.folded" -- "$cases" 0.4 "$2" 2>"$tmp/err" >/dev/null ||
		fail "record --unwind $1 ($2) exited $?: $(cat "$tmp/err")"
}
check_case() { # CASE PATTERN MIN WHAT: at least MIN % of the case's samples match PATTERN
	local dwarf fp
	dwarf=$(share "$2" "$tmp/$1.dwarf.folded" unwind_cases)
	fp=$(share "$2" "$tmp/$1.fp.folded" unwind_cases)
	echo "$1: $dwarf % $4 (at least $3; --unwind fp: $fp %)"
	at_least "$dwarf" "$3" ||
		fail "$1: only $dwarf % of samples $4: $(sort -t' ' -k2 -rn "$tmp/$1.dwarf.folded" | head -3)"
}
for c in qsort thread signal plt; do
	case_run dwarf "$c"
	case_run fp "$c"
done
check_case qsort ';main;case_qsort;[^;]*qsort[^;]*;([^;]+;)*cases_cmp(;| )' 70 \
	"in the comparator under main;case_qsort;qsort"
check_case thread '^unwind_cases;(__clone3|clone3|__clone|clone);start_thread;cases_thread(;| )' 80 \
	"in the thread under clone3;start_thread"
check_case signal ';main;case_signal;cases_interrupted;([^;]+;)*(__restore_rt|libc[.]so[.]6[+]0x[0-9a-f]+);cases_handler(;| )' 25 \
	"in the handler under the trampoline, the interrupted function and main"
check_case signal ';main;case_signal;cases_interrupted(;| )' 90 "under main;case_signal;cases_interrupted"
# The call spins in the stub (its GOT slot points at its own jump) for the
# case's CPU time: nearly every sample has its pc there, wherever the timer
# lands, and only the stub's CFI rule takes it to main.  The stub is named
# as objdump and perf name it.  Kernel frames on top (an interrupt taken
# there) still have their user pc in the stub.
check_case plt ';main;case_plt;cases_plt_loop;toupper@plt(;[^;]*_[[]k[]])* [0-9]+$' 90 "in toupper's PLT stub under main"
check_case plt ';main;case_plt;cases_plt_loop(;| )' 90 "under main;case_plt;cases_plt_loop"

# auto on the frame-pointer build: the same shape as with frame pointers.
"$scorch" record --unwind auto -F 999 -o "$tmp/auto.folded" -- "$shape" 2 2>"$tmp/err" >/dev/null ||
	fail "record --unwind auto exited $?: $(cat "$tmp/err")"
echo "auto (frame-pointer build): $(shares "$tmp/auto.folded" shape)"
main=$(share ";main(;| )" "$tmp/auto.folded" shape)
within "$main" 100 5 || fail "--unwind auto: only $main % of samples reach main"

# bash runs shape_nofp and sleep 5 times each; each exits (and is
# forgotten, swept each second) before the next starts.  Compiled again
# each run that is 2 files a run beside bash's own (15 files at fc68697);
# kept, the later runs take them again.
"$scorch" record -F 999 -o "$tmp/churn.folded" -- bash -c \
	'for i in 1 2 3 4 5; do "$0" 0.3 >/dev/null; sleep 1.5; done' "$shape_nofp" 2>"$tmp/err" ||
	fail "record (churn) exited $?: $(cat "$tmp/err")"
line=$(grep 'unwind: .* user stacks from CFI tables' "$tmp/err") || fail "churn: no unwind line: $(cat "$tmp/err")"
files=$(sed -E 's/.*; ([0-9]+) files \(.*/\1/' <<<"$line")
reused=$(sed -E 's/.*, ([0-9]+) kept after their last process exited.*/\1/' <<<"$line")
[[ "$files" =~ ^[0-9]+$ && "$reused" =~ ^[0-9]+$ ]] || fail "churn: cannot read the unwind line: $line"
[ "$files" -lt 10 ] && [ "$reused" -ge 4 ] ||
	fail "churn: $files files compiled, $reused taken again after their process exited (want < 10 and >= 4): $line"
echo "churn: 5 runs of shape_nofp and sleep: $files files compiled, $reused tables taken again"
echo "record_unwind: ok"
