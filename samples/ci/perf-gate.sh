#!/bin/sh
# SPDX-License-Identifier: MIT
# perf-gate: fails a CI job when a change makes a benchmark measurably slower
# somewhere.  Profiles the benchmark of the base build and of the changed
# build RUNS times each with `scorch record`, then gates on `scorch diff`:
# exit 0 no significant regression, 1 a regression (the report says where),
# 2 an error.  Copy it into your CI and adapt the two commands.
#
#   perf-gate.sh [options] -- BASE_CMD... -- NEW_CMD...
#     -r RUNS      runs per side (default 5; more runs, smaller changes found)
#     -F HZ        sampling frequency (default 999)
#     -o DIR       keep profiles, report.md and diff.svg in DIR (default: a
#                  temporary directory, removed)
#     -s SCORCH    the scorch binary (default: scorch on PATH)
#     -- ...       anything after a third "--" is passed to `scorch diff`
#                  (e.g. --fail-on 1 --min-samples 50)
#
# Example (GitHub Actions, as root, after building both commits):
#   samples/ci/perf-gate.sh -o perf -- ./base/bench --quick -- ./new/bench --quick
# and publish perf/report.md as a comment and perf/diff.svg as an artifact.
set -eu

runs=5 freq=999 dir= scorch=scorch
while getopts r:F:o:s: opt; do
	case $opt in
	r) runs=$OPTARG ;;
	F) freq=$OPTARG ;;
	o) dir=$OPTARG ;;
	s) scorch=$OPTARG ;;
	*) echo "usage: perf-gate.sh [-r RUNS] [-F HZ] [-o DIR] [-s SCORCH] -- BASE_CMD... -- NEW_CMD... [-- DIFF_ARGS...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
# Split the rest at "--" into the base command, the new command and diff args.
base= new= extra= part=base
for a in "$@"; do
	if [ "$a" = -- ]; then
		part=$([ "$part" = base ] && echo new || echo extra)
		continue
	fi
	q=$(printf "'%s'" "$(printf %s "$a" | sed "s/'/'\\\\''/g")")
	eval "$part=\"\${$part} \$q\""
done
if [ -z "$base" ] || [ -z "$new" ]; then
	echo "perf-gate: need a base and a new command (perf-gate.sh -- BASE... -- NEW...)" >&2
	exit 2
fi
if [ -z "$dir" ]; then
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"

# Alternate base and new runs so that drift in the machine hits both sides.
i=1 bases= news=
while [ "$i" -le "$runs" ]; do
	for side in base new; do
		eval "cmd=\$$side"
		out="$dir/$side$i.pb.gz"
		eval "\"$scorch\" record -F $freq -o \"$out\" -- $cmd" >/dev/null 2>"$dir/record.err" || {
			echo "perf-gate: $side run $i failed: $(tail -1 "$dir/record.err")" >&2
			exit 2
		}
		if [ "$side" = base ]; then bases="$bases $out"; else news="$news $out"; fi
	done
	i=$((i + 1))
done

set +e
# shellcheck disable=SC2086
eval "\"$scorch\" diff --base $bases --new $news -o \"$dir/diff.svg\" --report markdown $extra" >"$dir/report.md"
rc=$?
set -e
cat "$dir/report.md"
case $rc in
0) echo "perf-gate: pass" ;;
1) echo "perf-gate: FAIL: a function's share of the benchmark grew significantly (see above)" ;;
*) echo "perf-gate: error (scorch diff exited $rc)" >&2 ;;
esac
exit "$rc"
