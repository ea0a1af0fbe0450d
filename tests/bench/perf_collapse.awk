# SPDX-License-Identifier: MIT
# Collapses `perf script -F comm,ip,sym,dso` output (one block per sample:
# a line with the comm, then one "ADDR SYM (DSO)" line per frame, leaf
# first, a blank line between samples) into folded stacks, root first, like
# stackcollapse-perf.pl (not packaged in Debian).  Kernel frames get the
# _[k] suffix, as in scorch's folded output.
#
# Each sample counts 1: the folded count is a sample count.  Weighting by
# the period field instead (what perf's own stackcollapse script does
# unless told otherwise) makes counts depend on cpu-clock's period in ns and
# does not compare with scorch's sample counts.
#
#   perf script -i perf.data -F comm,ip,sym,dso | awk -f perf_collapse.awk
BEGIN { RS = ""; FS = "\n" }
{
	comm = $1
	sub(/^[ \t]+/, "", comm)
	sub(/[ \t]+$/, "", comm)
	gsub(/ /, "_", comm)
	s = ""
	for (i = NF; i >= 2; i--) {
		line = $i
		sub(/^[ \t]*[0-9a-f]+ /, "", line)
		dso = ""
		if (match(line, / \([^()]*\)$/)) {
			dso = substr(line, RSTART + 2, RLENGTH - 3)
			line = substr(line, 1, RSTART - 1)
		}
		sub(/\+0x[0-9a-f]+$/, "", line)
		if (line == "" || line == "[unknown]")
			line = "[unknown]"
		if (dso ~ /kernel\.kallsyms|^\[kernel/)
			line = line "_[k]"
		gsub(/;/, ":", line)
		s = s ";" line
	}
	n[comm s]++
}
END { for (k in n) print k, n[k] }
