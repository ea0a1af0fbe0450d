#!/usr/bin/env python3
"""Checks a folded profile (--lines) of samples/pyshape.py against its shape.

python_shape.py [--co-name] single|perfmap|threads PROFILE.folded SAMPLE.py [COMM]
With COMM, only stacks whose first frame (the comm root) is COMM count.
--co-name: the interpreter names functions by co_name, without their class
(3.10 has no co_qualname): a method's bare name counts as Class.method.
Prints what it measured; exits 1 naming the first check that failed.
"""
import ast
import collections
import re
import sys

# "name file:line_[p]"; a file name may have spaces ("<frozen importlib._bootstrap>"), a qualname not.
FRAME = re.compile(r"^(?P<name>\S+)(?: (?P<file>.+?)(?::(?P<line>\d+))?)?_\[p\]$")


def parse(path):
    """Yields (count, frames) with frames root first as (name, file, line, python)."""
    # A system-wide profile (the agent's) holds every process on the machine,
    # whose names are bytes: one that is not UTF-8 must not end the check.
    with open(path, encoding="utf-8", errors="backslashreplace") as f:
        for row in f:
            row = row.rstrip("\n")
            if not row or row.startswith("#"):
                continue
            stack, count = row.rsplit(" ", 1)
            frames = []
            for text in stack.split(";"):
                m = FRAME.match(text)
                if m:
                    frames.append((m["name"], m["file"], int(m["line"] or 0), True))
                else:  # native: "name file:line", "name_[k]", ...
                    frames.append((text.split(" ")[0], None, 0, False))
            yield int(count), frames


def method_names(sample):
    """Bare name -> Class.name of the sample's methods, where the bare name is one method's."""
    with open(sample) as f:
        tree = ast.parse(f.read())
    seen = collections.defaultdict(list)
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
            seen[fn.name].append(f"{cls.name}.{fn.name}")
    return {name: quals[0] for name, quals in seen.items() if len(quals) == 1}


def qualify(rows, names):
    """rows with each Python frame's bare method name made Class.name."""
    for n, frames in rows:
        yield n, [(names.get(f[0], f[0]) if f[3] else f[0], *f[1:]) for f in frames]


def marked_lines(sample):
    lines = {}
    with open(sample) as f:
        for no, text in enumerate(f, 1):
            m = re.search(r"# (HOT\d+)", text)
            if m:
                lines[m[1]] = no
    return lines


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def share(part, whole):
    return 100.0 * part / whole if whole else 0.0


def check_lines(rows, sample):
    """The hot statement of each function is the line its leaf samples name most."""
    want = marked_lines(sample)
    leaf_lines = collections.defaultdict(collections.Counter)
    for n, frames in rows:
        py = [f for f in frames if f[3]]
        if py:
            leaf_lines[py[-1][0]][py[-1][2]] += n
    for fn, mark in (("hot_sixty", "HOT60"), ("Worker.thirty", "HOT30"), ("gen_ten_items", "HOT10")):
        if fn not in leaf_lines:
            continue
        line, got = leaf_lines[fn].most_common(1)[0]
        total = sum(leaf_lines[fn].values())
        print(f"{fn}: line {line} in {share(got, total):.1f} % of its leaf samples (the {mark} line is {want[mark]})")
        if line != want[mark]:
            fail(f"{fn}: hottest line {line}, not {want[mark]}")


def single(rows, sample, native_roots=True):
    total = sum(n for n, _ in rows)
    def main_module(f):
        return f[3] and f[0] == "<module>" and (f[1] or "").endswith("pyshape.py")

    module = sum(n for n, fr in rows if any(main_module(f) for f in fr))
    # Whole stacks are counted among the samples of the functions the
    # workload budgets (nearly all of its CPU time by construction), not of
    # all samples: the interpreter's start and imports take a share that
    # the machine's speed decides.  A stack that lost its root still has one
    # of them at the top, so it counts against the share.
    budgeted = ("hot_sixty", "Worker.thirty", "Worker.descend", "gen_ten", "gen_ten_items")
    work = [(n, fr) for n, fr in rows if any(f[3] and f[0] in budgeted for f in fr)]
    complete = sum(n for n, fr in work if [f[0] for f in fr if f[3]][:3] == ["<module>", "main", "run"])
    nwork = sum(n for n, _ in work)
    print(f"samples {total}; under <module>: {share(module, total):.1f} %; "
          f"in the budgeted functions {share(nwork, total):.1f} %, <module>;main;run in {share(complete, nwork):.1f} % of those")
    if share(nwork, total) < 50 or share(complete, nwork) < 95:
        fail("fewer than 95 % of the budgeted functions' samples have a complete Python stack under <module>")
    # The native frames around the Python ones: the interpreter's C stack
    # (Py_RunMain) sits above <module>, and no native eval frame is left
    # where Python frames were.
    outside = []
    for n, fr in rows:
        i = next((i for i, f in enumerate(fr) if main_module(f)), None)
        if i is not None and "Py_RunMain" not in [f[0] for f in fr[:i]]:
            outside.append((n, ";".join(f[0] for f in fr)))
    print(f"samples whose <module> is not under Py_RunMain: {sum(n for n, _ in outside)}")
    if native_roots and sum(n for n, _ in outside) > 0.01 * module:
        fail("more than 1 % of <module>'s samples not under Py_RunMain, e.g. " + outside[0][1])
    evals = sum(n for n, fr in rows if any(f[0].startswith("_PyEval_EvalFrameDefault") for f in fr))
    print(f"samples still showing _PyEval_EvalFrameDefault: {share(evals, total):.1f} %")
    if share(evals, total) > 2:
        fail("eval loop frames left in more than 2 % of samples")
    run = [(n, fr) for n, fr in rows if any(f[3] and f[0] == "run" for f in fr)]
    whole = sum(n for n, _ in run)
    want = {"hot_sixty": 60, "Worker.thirty": 30, "gen_ten": 10}
    for fn, pct in want.items():
        got = share(sum(n for n, fr in run if any(f[3] and f[0] == fn for f in fr)), whole)
        print(f"{fn}: {got:.1f} % (designed {pct} %)")
        if abs(got - pct) > 3:
            fail(f"{fn}: {got:.1f} %, not within 3 points of {pct} %")
    depth = collections.Counter()
    for n, fr in run:
        if any(f[0] == "Worker.thirty" for f in fr):
            depth[sum(1 for f in fr if f[0] == "Worker.descend")] += n
    deep = share(depth[30], sum(depth.values()))
    print(f"Worker.thirty under 30 Worker.descend frames: {deep:.1f} %")
    if deep < 95:
        fail("the recursion 30 deep is not whole in 95 % of Worker.thirty's samples")
    gen = sum(n for n, fr in run if [f[0] for f in fr if f[3]][-2:] == ["gen_ten", "gen_ten_items"])
    print(f"gen_ten;gen_ten_items (the generator's frame under its consumer): {gen} samples")
    if not gen:
        fail("no sample in the generator's own frame")
    # Native code called from Python sits under its caller's Python frame
    # (hashlib's code in libcrypto under hashing), and Python called back
    # from C under the C frames that called it (sort_key under sorted()'s
    # frames, under hot_sixty).
    def names(fr):
        return [f[0] for f in fr]

    crypto = [(n, fr) for n, fr in run if any("libcrypto" in f[0] or "_hashlib" in f[0] for f in fr)]
    good = sum(n for n, fr in crypto if "hashing" in names(fr))
    print(f"libcrypto under hashing: {good} of {sum(n for n, _ in crypto)} samples in libcrypto")
    if not good or good < 0.95 * sum(n for n, _ in crypto):
        fail("hashlib's C code is not under the Python frame that called it")
    keyed = [(n, fr) for n, fr in run if "sort_key" in names(fr)]
    good = 0
    for n, fr in keyed:
        nm = names(fr)
        i, j = nm.index("hot_sixty") if "hot_sixty" in nm else -1, nm.index("sort_key")
        good += n if 0 <= i < j and any(not f[3] for f in fr[i + 1:j]) else 0
    print(f"sort_key under native frames under hot_sixty: {good} of {sum(n for n, _ in keyed)} samples")
    if not good or good < 0.95 * sum(n for n, _ in keyed):
        fail("the key function sorted() calls back is not nested under sorted's C frames")
    check_lines(rows, sample)


def threads(rows, sample):
    """--per-thread: each worker thread's samples are in its own function."""
    total = sum(n for n, _ in rows)
    fns = ("hot_sixty", "Worker.thirty", "gen_ten")
    per_tid = collections.defaultdict(collections.Counter)
    for n, fr in rows:
        if not any(f[3] and f[0] == "run_one" for f in fr):
            continue
        tid = fr[2][0]  # comm;pid;tid;...
        hit = [fn for fn in fns if any(f[3] and f[0] == fn for f in fr)]
        per_tid[tid][hit[0] if len(hit) == 1 else "?"] += n
    whole = sum(sum(c.values()) for c in per_tid.values())
    print(f"samples {total}; in the threads' run_one: {share(whole, total):.1f} %")
    if share(whole, total) < 90:
        fail("fewer than 90 % of samples in the threads' Python frames")
    owners = collections.Counter()
    for tid, c in sorted(per_tid.items()):
        fn, got = c.most_common(1)[0]
        print(f"thread {tid}: {share(got, sum(c.values())):.1f} % of its {sum(c.values())} samples in {fn}")
        if fn == "?" or got < 0.98 * sum(c.values()):
            fail(f"thread {tid}: its samples are not all in one function: {dict(c)}")
        owners[fn] += 1
    if owners != collections.Counter({"hot_sixty": 2, "Worker.thirty": 1, "gen_ten": 1}):
        fail(f"the 4 threads' functions: {dict(owners)}, not hot_sixty twice, Worker.thirty and gen_ten")
    check_lines(rows, sample)


def main():
    args = sys.argv[1:]
    co_name = args[:1] == ["--co-name"]
    if co_name:
        args = args[1:]
    mode, path, sample = args[:3]
    rows = list(parse(path))
    if co_name:
        rows = list(qualify(rows, method_names(sample)))
    if len(args) > 3:
        rows = [(n, fr) for n, fr in rows if fr and fr[0][0] == args[3]]
    if mode == "threads":
        threads(rows, sample)
    else:
        # perfmap: under -X perf every Python call is a native eval loop
        # call through a trampoline, so the 30-deep recursion fills the
        # native stack's 127 frames and its root is cut.
        single(rows, sample, native_roots=mode != "perfmap")
    print("OK")


if __name__ == "__main__":
    main()
