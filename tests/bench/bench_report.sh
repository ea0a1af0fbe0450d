#!/bin/bash
# SPDX-License-Identifier: MIT
# Writes the markdown sections of the benchmark suite that follow the shape
# overhead and launch-to-first-sample ones (record_report.sh): overhead on
# Debian programs, post-processing, symbolization, rendering and memory,
# then what was skipped and how to reproduce.  Reads the rows that
# tests/bench/run left in DIR.
#
#   bench_report.sh DIR
#
# Environment (set by tests/bench/run): REPS WSECS PSECS SYMN PROGRAMS QUICK
# SKIPPED.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1

# mmm FILE CONFIG FIELD FMT [SCALE]: "min / median / max" of FIELD.
mmm() {
	col "$1" "$2" "$3" | awk -v s="${5:-1}" '{ print $1 / s }' | stats |
		awk -v f="$4" '$4 == 0 { print "-"; exit } { printf f " / " f " / " f "\n", $1, $2, $3 }'
}
med() { col "$1" "$2" "$3" | median; }
# ratio FILE CONFIG FIELD BASECONFIG: min/median/max of FIELD over BASE's median.
ratio() {
	local b
	b=$(med "$1" "$4" "$3")
	[ "$b" != - ] || { echo -; return; }
	col "$1" "$2" "$3" | awk -v b="$b" '{ print $1 / b }' | stats |
		awk '$4 == 0 { print "-"; exit } { printf "%.3f / %.3f / %.3f\n", $1, $2, $3 }'
}
okruns() { awk -v cfg="$2" 'NR > 1 && $2 == cfg && $NF == "ok"' "$1" | wc -l; }
allruns() { awk -v cfg="$2" 'NR > 1 && $2 == cfg' "$1" | wc -l; }
configs() { awk 'NR > 1 && !seen[$2]++ { print $2 }' "$1"; }
# nreps FILE: the repetitions in FILE (the largest value of its first column).
nreps() { awk 'NR > 1 { if ($1 > m) m = $1 } END { print m + 0 }' "$1"; }
# vals FILE CONFIG WHAT: the values (column 4) of FILE's rows "rep CONFIG WHAT value ...".
vals() { awk -v k="$2" -v w="$3" '$2 == k && $3 == w { print $4 }' "$1"; }
label() {
	case $1 in
	base) echo "no profiler (baseline)" ;;
	scorchfp*) echo "scorch record -F ${1#scorchfp} --unwind fp" ;;
	scorchdwarf*) echo "scorch record -F ${1#scorchdwarf} --unwind dwarf" ;;
	scorchp*) echo "scorch record -F ${1#scorchp} -p PID" ;;
	scorch*) echo "scorch record -F ${1#scorch}" ;;
	perfdwarf*) echo "perf record -F ${1#perfdwarf} --call-graph dwarf" ;;
	perf*) echo "perf record -F ${1#perf} -g" ;;
	bpftrace*) echo "bpftrace profile:hz:${1#bpftrace}" ;;
	bcc*) echo "bcc profile-bpfcc -F ${1#bcc} -f" ;;
	*) echo "$1" ;;
	esac
}
what() {
	case $1 in
	xz) echo "\`xz -9 -T1\` compressing $(ls "$dir"/input/xz-*.txt 2>/dev/null | head -1 | xargs -r stat -c %s | awk '{ printf "%.1f MB", $1 / 1e6 }') of generated text" ;;
	python) echo "\`/usr/bin/python3 -c\` running a fixed number of rounds of a pure-Python loop" ;;
	sqlite) echo "\`sqlite3 :memory:\` importing a generated CSV of $(ls "$dir"/input/sqlite-*.csv 2>/dev/null | head -1 | xargs -r wc -l | awk '{ print $1 }') rows, indexing, grouping and self-joining it" ;;
	esac
}

echo "## Overhead on Debian programs (${REPS:-?} runs each)"
echo
echo "Fixed-work programs: each does the same work every run, so a profiler's cost is the extra"
echo "**wall time** and the extra **CPU time of the workload** (this kernel charges the sampling"
echo "interrupt and its BPF program to the interrupted task). Ratios are each run's figure over the"
echo "baseline's median; 1.000 = no cost. Launching (scorch, perf) and attaching (bpftrace, bcc)"
echo "profilers are run as for shape above; the profiler's own CPU and peak RSS are beside each."
echo "Each workload takes about ${WSECS:-?} s of CPU alone."
for p in ${PROGRAMS:-}; do
	f=$dir/overhead-$p.tsv
	[ -s "$f" ] || continue
	echo
	echo "### $p: $(what "$p")"
	echo
	echo "| configuration | ok runs | workload wall s (min / median / max) | wall vs baseline | workload CPU s (min / median / max) | CPU vs baseline | profiler CPU s (median) | profiler peak RSS MiB (median) | samples (median) | lost (median) |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for c in $(configs "$f"); do
		pc=$(med "$f" "$c" prof_cpu | awk '$1 != "-" { printf "%.3f", $1 } $1 == "-" { print "-" }')
		pr=$(med "$f" "$c" prof_rss_kb | awk '$1 != "-" { printf "%.1f", $1 / 1024 } $1 == "-" { print "-" }')
		echo "| $(label "$c") | $(okruns "$f" "$c")/$(allruns "$f" "$c") | $(mmm "$f" "$c" wall %.3f) | $(ratio "$f" "$c" wall base) | $(mmm "$f" "$c" cpu %.3f) | $(ratio "$f" "$c" cpu base) | $pc | $pr | $(med "$f" "$c" samples) | $(med "$f" "$c" lost) |"
	done
done
echo

f=$dir/postproc.tsv
if [ -s "$f" ]; then
	echo "## Post-processing: end of a ${PSECS:-?} s system-wide 999 Hz recording to output written (${REPS:-?} runs each)"
	echo
	echo "A busy python3 loop runs throughout (plus whatever else the machine runs). The profiler"
	echo "records every CPU; ${PSECS:-?} s after it holds its perf_event fds it gets SIGINT, and the time"
	echo "from that SIGINT to its exit is its post-processing. scorch reports no timing of its own"
	echo "for this, so it is measured from outside (its \`-d\` summary gives the sampling time only)."
	echo "For scorch that is symbolization, the model and the writer; for \`perf record -a -g\` it is"
	echo "finishing perf.data and collecting build-ids, after which \`perf script -F comm,ip,sym,dso\`"
	echo "and a collapse to folded (tests/bench/perf_collapse.awk; stackcollapse-perf.pl is not in"
	echo "Debian) are timed as a second step. The collapse counts each sample once (perf's own"
	echo "folded output is weighted by period unless told otherwise). Ratios: over scorch's folded"
	echo "median total. perf -g walks frame pointers only, so its stacks of the python3 loop are"
	echo "shorter and fewer unique than scorch's (whose default unwinding reads CFI)."
	echo
	echo "| output | ok runs | SIGINT to exit s (min / median / max) | perf script + collapse s (min / median / max) | total s (min / median / max) | total vs scorch folded | process CPU s (median) | peak RSS MiB (min / median / max) | samples (median) | unique stacks (median) | output bytes (median) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for c in $(configs "$f"); do
		case $c in
		perf) l="perf record -a -g + perf script + collapse (folded)" ;;
		pprof) l="scorch record -o x.pb.gz" ;;
		*) l="scorch record -o x.$c" ;;
		esac
		echo "| $l | $(okruns "$f" "$c")/$(allruns "$f" "$c") | $(mmm "$f" "$c" post_s %.3f) | $(mmm "$f" "$c" script_s %.3f) | $(mmm "$f" "$c" total_s %.3f) | $(ratio "$f" "$c" total_s folded) | $(med "$f" "$c" prof_cpu | awk '$1 != "-" { printf "%.3f", $1 } $1 == "-" { print "-" }') | $(mmm "$f" "$c" prof_rss_kb %.1f 1024) | $(med "$f" "$c" samples) | $(med "$f" "$c" stacks) | $(med "$f" "$c" out_bytes) |"
	done
	echo
fi

f=$dir/symbolize.tsv
if [ "$(wc -l <"$f" 2>/dev/null || echo 0)" -gt 1 ]; then
	echo "## Symbolization: addresses per second ($(awk 'NR > 1 { r[$1] } END { print length(r) }' "$f") runs)"
	echo
	echo "tests/bench/symbolize_bench.sh: ${SYMN:-?} random addresses spread over a generated C++"
	echo "program with DWARF, libc (libc6-dbg) and libstdc++ (libstdc++6-12-dbg), a third each,"
	echo "through scorch's symbolizer library. **Cold**: the first pass in a fresh process, loading"
	echo "and indexing every file it touches (the page cache is warm); **warm**: the same addresses"
	echo "again, lookups alone. *full* resolves inlined frames and lines from DWARF; *names* only"
	echo "symbol tables. No Debian tool symbolizes a batch of addresses in a live process the same way"
	echo "(perf's is inside \`perf script\`, timed under post-processing), so the ratio is warm over cold."
	echo
	echo "| mode | cold addresses/s (min / median / max) | warm addresses/s (min / median / max) | warm vs cold (median) |"
	echo "|---|---|---|---|"
	for m in full names; do
		cold=$(awk -v m="$m" 'NR > 1 && $2 == m && $4 > 0 { print $3 / $4 }' "$f" | stats)
		warm=$(awk -v m="$m" 'NR > 1 && $2 == m && $5 > 0 { print $3 / $5 }' "$f" | stats)
		fmt() { awk '$4 == 0 { print "-"; exit } { printf "%.3g / %.3g / %.3g\n", $1, $2, $3 }'; }
		r=$(echo "$cold $warm" | awk '$4 > 0 && $8 > 0 { printf "%.1fx", $6 / $2 }')
		echo "| $m | $(echo "$cold" | fmt) | $(echo "$warm" | fmt) | ${r:--} |"
	done
	echo
fi

f=$dir/syscall.tsv
if [ "$(wc -l <"$f" 2>/dev/null || echo 0)" -gt 1 ]; then
	echo "## Cost added to each system call ($(nreps "$f") runs each)"
	echo
	echo "tests/bench/syscall_cost.sh: \`getppid\` and a 4 KiB \`pread\` of a cached file in a tight loop"
	echo "for a fixed wall time, alone and under each profiler at 99 Hz; nanoseconds per call, the"
	echo "configurations interleaved. A hook on system calls costs every call of the machine; scorch's"
	echo "default (\`--unwind auto\`) learns of library loads from a uprobe on the dynamic loader instead."
	echo
	echo "| configuration | call | ns per call (min / median / max) | excess over no profiler (median) |"
	echo "|---|---|---|---|"
	for call in getppid pread; do
		base=$(vals "$f" base "$call" | median)
		for c in $(configs "$f"); do
			case $c in
			base) l="no profiler" ;;
			auto) l="scorch record -F 99" ;;
			fp) l="scorch record -F 99 --unwind fp" ;;
			old) l="scorch record -F 99 (\$SCORCH_OLD)" ;;
			perf) l="perf record -g -F 99" ;;
			*) l=$c ;;
			esac
			m=$(vals "$f" "$c" "$call" | stats)
			echo "| $l | $call | $(echo "$m" | awk '{ printf "%.1f / %.1f / %.1f", $1, $2, $3 }') | $(echo "$m" | awk -v b="$base" '{ printf "%+.1f ns", $2 - b }') |"
		done
	done
	echo
fi

f=$dir/offcpu.tsv
if [ "$(wc -l <"$f" 2>/dev/null || echo 0)" -gt 1 ]; then
	echo "## Following context switches (\`--off-cpu\`, \`--wall\`; $(nreps "$f") runs each)"
	echo
	echo "tests/bench/offcpu_cost.sh: two threads pass a byte over pipes (two context switches a round"
	echo "trip) for a fixed wall time, alone and under each profiler; round trips per second, the"
	echo "configurations interleaved. Debian's perf has no \`--off-cpu\` (built without BPF skeletons),"
	echo "and offcputime-bpfcc needs kprobes (listed only where it ran)."
	echo
	echo "| configuration | round trips/s (min / median / max) | vs alone (median) |"
	echo "|---|---|---|"
	base=$(vals "$f" base pingpong | median)
	for c in $(configs "$f"); do
		case $c in
		base) l="no profiler" ;;
		cpu) l="scorch record -F 99 (CPU samples only)" ;;
		offcpu) l="scorch record --off-cpu" ;;
		wall) l="scorch record --wall" ;;
		bcc) l="offcputime-bpfcc (system-wide)" ;;
		*) l=$c ;;
		esac
		m=$(vals "$f" "$c" pingpong | stats)
		echo "| $l | $(echo "$m" | awk '{ printf "%.0f / %.0f / %.0f", $1, $2, $3 }') | $(echo "$m" | awk -v b="$base" '{ printf "%.3f", $2 / b }') |"
	done
	echo
	for c in base wall; do
		m=$(vals "$f" "$c" offcpu_wall_s | stats)
		echo "- samples/offcpu 1 ($([ "$c" = base ] && echo alone || echo "under scorch record --wall -F 999, scorch's start and end included")): wall s $(echo "$m" | awk '{ printf "%.3f / %.3f / %.3f", $1, $2, $3 }')"
	done
	echo
fi

f=$dir/python.tsv
if [ "$(wc -l <"$f" 2>/dev/null || echo 0)" -gt 1 ]; then
	echo "## Python frames ($(nreps "$f") runs each)"
	echo
	echo "tests/bench/python_cost.sh: a fixed amount of pure-Python work under a 20-deep Python stack"
	echo "(Debian's python3.11, pinned to CPU 0), alone and under \`scorch record -F 999 -C 0\` with and"
	echo "without \`--no-python\`, interleaved: the workload's CPU seconds, the sampler's time per run"
	echo "from the kernel's BPF statistics (every sample on CPU 0 is the workload's), and the verifier's"
	echo "figures for the sampling program."
	echo
	echo "| configuration | workload CPU s (min / median / max) | vs alone | sampler µs per sample (median) | verified in (median) | instructions verified |"
	echo "|---|---|---|---|---|---|"
	base=$(vals "$f" base cpu_s | median)
	for c in base nopy py; do
		case $c in
		base) l="no profiler" ;;
		nopy) l="scorch record --no-python" ;;
		py) l="scorch record (Python frames)" ;;
		esac
		m=$(vals "$f" "$c" cpu_s | stats)
		ns=$(vals "$f" "$c" ns_per_run | median)
		vt=$(vals "$f" "$c" verify_ms | median)
		ni=$(vals "$f" "$c" verified_insns | median)
		echo "| $l | $(echo "$m" | awk '{ printf "%.3f / %.3f / %.3f", $1, $2, $3 }') | $(echo "$m" | awk -v b="$base" '{ printf "%.3f", $2 / b }') | $([ "$c" = base ] && echo - || awk -v n="$ns" 'BEGIN { printf "%.2f", n / 1000 }') | $([ "$c" = base ] && echo - || echo "$vt ms") | $([ "$c" = base ] && echo - || echo "$ni") |"
	done
	echo
fi

f=$dir/convert.tsv
if [ -s "$f" ]; then
	echo "## Rendering and memory against unique stacks (\`scorch convert\`, $(awk 'NR > 1 { if ($1 > m) m = $1 } END { print m + 0 }' "$f") runs each)"
	echo
	echo "Generated folded profiles (tests/bench/gen_folded.py, depth 10 to 60, C++-like names, seed"
	echo "1). Wall time and peak RSS of the whole \`scorch convert IN -o OUT\` process (wait4()). The"
	echo "baseline is the same input converted to folded (read, model and write without rendering):"
	echo "flamegraph.pl, the usual renderer, is not packaged in Debian (it is timed too when on PATH)."
	echo "Record's post-processing memory is in the post-processing table above (its unique stacks"
	echo "beside it)."
	echo
	echo "| conversion | unique stacks | samples | input MB | ok runs | wall s (min / median / max) | vs folded->folded (median) | peak RSS MiB (min / median / max) | output MB |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for c in $(configs "$f" | sort -t- -k2 -n -s); do
		n=${c#*-}
		case $c in
		svg-*) l="folded -> SVG" ;;
		pprof1m) l="folded -> pprof ($(med "$f" "$c" samples | awk '{ printf "%g", $1 }') samples)"; n= ;;
		pprof-*) l="folded -> pprof" ;;
		folded-*) l="folded -> folded (baseline)" ;;
		flamegraph-*) l="flamegraph.pl -> SVG" ;;
		esac
		r=-
		if [ -n "$n" ]; then
			r=$(awk -v a="$(med "$f" "$c" wall)" -v b="$(med "$f" "folded-$n" wall)" 'BEGIN { if (b > 0 && a != "-") printf "%.2fx", a / b; else print "-" }')
		fi
		echo "| $l | $(med "$f" "$c" stacks) | $(med "$f" "$c" samples) | $(med "$f" "$c" in_bytes | awk '{ printf "%.1f", $1 / 1e6 }') | $(okruns "$f" "$c")/$(allruns "$f" "$c") | $(mmm "$f" "$c" wall %.3f) | $r | $(mmm "$f" "$c" rss_kb %.1f 1024) | $(med "$f" "$c" out_bytes | awk '{ printf "%.2f", $1 / 1e6 }') |"
	done
	echo
fi

echo "## Skipped"
echo
if [ -n "${SKIPPED:-}" ]; then
	printf '%s' "$SKIPPED" | awk -F'|' 'NF { printf "- %s: %s\n", $1, $2 }'
else
	echo "Nothing."
fi
fails=$(awk 'FNR > 1 && $NF == "fail" { n++ } END { print n + 0 }' "$dir"/*.tsv)
[ "$fails" = 0 ] || { echo; echo "$fails run(s) failed and are left out of the figures; see the bench log and $dir/failed."; }
echo
echo "## Reproduce"
echo
echo '    sudo tests/bench/run            # full: 5 repetitions; perf, bpftrace, bcc, sqlite3 installed if missing'
echo '    sudo tests/bench/run --quick    # smoke run of every measurement, tiny sizes, no installs (CI)'
echo
echo "Options: --reps, --secs, --work-secs, --post-secs, --sym-n, --stacks, --samples (see --help)."
echo "Raw rows: \$BENCH_TMP/*.tsv (default /tmp/scorch-bench/record)."
