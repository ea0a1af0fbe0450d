#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare `go tool pprof -raw` output with a folded file (used by pprof_go.sh).

    pprof_check.py stacks FOLDED RAW [PERIOD_NS]
        Every stack of FOLDED (kind suffixes _[k] _[i] _[j] removed, as pprof
        has no such notion) appears in RAW with the same count, and nothing
        else does.  With PERIOD_NS, each sample's second value (cpu
        nanoseconds) must be count * PERIOD_NS.
    pprof_check.py total RAW
        Prints the sum of the first sample value in RAW.

Exits 1 with a one-line reason on the first mismatch.
"""
import re
import sys
from collections import Counter

SUFFIX = re.compile(r"_\[[kij]\]$")
LOC = re.compile(r"^\s*(\d+): 0x[0-9a-f]+ (?:M=\d+ )?(?:\[F\] )?(.*)$")
LINE = re.compile(r"^(.*) (\S*):(-?\d+) s=-?\d+(?:\(.*\))?$")


def parse_raw(path):
    """Returns ([(values, [location ids leaf first])], {id: [names innermost first]})."""
    samples, locs, section, cur = [], {}, None, None
    # The agent's windows hold every process on the machine, whose names are
    # bytes: one that is not UTF-8 must not end the check.
    with open(path, encoding="utf-8", errors="backslashreplace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line in ("Samples:", "Locations", "Mappings"):
                section = line
                continue
            if section == "Samples:" and ":" in line and re.match(r"^\s+-?\d", line):
                values, _, ids = line.partition(": ")
                if not re.fullmatch(r"[\s\d-]+", values):
                    continue  # a label line such as "comm:[app]"
                samples.append(([int(v) for v in values.split()], [int(i) for i in ids.split()]))
            elif section == "Locations":
                m = LOC.match(line)
                if m:
                    cur = int(m.group(1))
                    locs[cur] = []
                    rest = m.group(2)
                else:
                    rest = line.strip()
                n = LINE.match(rest)
                if n and cur is not None:
                    locs[cur].append(n.group(1))
    return samples, locs


def folded_stacks(path):
    want = Counter()
    with open(path, encoding="utf-8", errors="backslashreplace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            stack, _, count = line.rpartition(" ")
            frames = [SUFFIX.sub("", fr) for fr in stack.split(";")]
            want[";".join(frames)] += int(count)
    return want


def raw_stacks(samples, locs, period):
    got = Counter()
    for values, ids in samples:
        if period and values[1] != values[0] * period:
            sys.exit(f"sample {values}: cpu value is not count * {period}")
        frames = []
        for lid in reversed(ids):  # root first
            frames.extend(reversed(locs[lid]))  # caller, then inlined callees
        got[";".join(frames)] += values[0]
    return got


def main():
    if sys.argv[1] == "total":
        samples, _ = parse_raw(sys.argv[2])
        print(sum(v[0] for v, _ in samples))
        return
    want = folded_stacks(sys.argv[2])
    samples, locs = parse_raw(sys.argv[3])
    period = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    got = raw_stacks(samples, locs, period)
    if got != want:
        missing = sorted((want - got).items())[:3]
        extra = sorted((got - want).items())[:3]
        sys.exit(f"stacks differ: missing {missing}, unexpected {extra}")
    print(f"{len(want)} stacks, {sum(want.values())} samples match")


if __name__ == "__main__":
    main()
