#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""svg_gen: writes a deterministic folded file for the SVG benchmark.

The stacks walk a random call graph (each function calls a few others, some
far more often than the rest), so that they share prefixes as real profiles
do.  Usage: svg_gen.py OUT [--stacks N] [--seed S]
Defaults: 100,000 unique stacks of depth 10 to 60, about 180 MB, seed 1.
"""
import argparse
import random


def make_names(rng, n):
    spaces = ["app", "net", "io", "core", "util", "db", "http", "json", "sched", "mem"]
    types = ["Buffer", "Request", "Session", "Parser", "Node", "Table", "Worker", "Queue"]
    verbs = ["handle", "process", "parse", "flush", "lookup", "insert", "visit", "encode",
             "decode", "dispatch", "update", "read", "write", "poll", "compute"]
    args = ["int", "unsigned long", "char const*", "std::string const&", "void*",
            "std::vector<unsigned char, std::allocator<unsigned char> > const&",
            "std::shared_ptr<Context>", "double", "bool", "long"]
    names = []
    for i in range(n):
        ns = rng.choice(spaces)
        t = rng.choice(types)
        tmpl = "<%s>" % rng.choice(args) if rng.random() < 0.4 else ""
        a = ", ".join(rng.choice(args) for _ in range(rng.randint(0, 3)))
        name = "%s::%s%s::%s_%d(%s)" % (ns, t, tmpl, rng.choice(verbs), i, a)
        r = rng.random()
        if r < 0.05:
            name = "sys_%s_%d_[k]" % (rng.choice(verbs), i)
        elif r < 0.10:
            name += "_[i]"
        elif r < 0.13:
            name = "Interpreted::%s_%d_[j]" % (rng.choice(verbs), i)
        names.append(name)
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--stacks", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--functions", type=int, default=20000)
    o = ap.parse_args()
    rng = random.Random(o.seed)
    names = make_names(rng, o.functions)
    callees = [[rng.randrange(o.functions) for _ in range(rng.randint(2, 8))]
               for _ in range(o.functions)]
    roots = ["_start", "__libc_start_main", "main"]
    seen = set()
    with open(o.out, "w") as f:
        while len(seen) < o.stacks:
            depth = rng.randint(10, 60)
            fn = rng.randrange(64)  # a few entry points
            stack = []
            for _ in range(depth - len(roots)):
                stack.append(fn)
                c = callees[fn]
                # Skewed: the first callee is taken far more often.
                fn = c[min(int(rng.expovariate(1.2)), len(c) - 1)]
            key = tuple(stack)
            if key in seen:
                continue
            seen.add(key)
            count = int(rng.paretovariate(1.1)) + rng.randint(0, 9)
            f.write(";".join(roots + [names[i] for i in stack]))
            f.write(" %d\n" % count)


if __name__ == "__main__":
    main()
