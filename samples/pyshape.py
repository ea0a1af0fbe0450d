"""A Python workload of known shape, for scorch's Python frames.

Each round runs three pure-Python functions for 60, 30 and 10 ms of the
thread's own CPU time (time.thread_time), so their shares of CPU time are
60/30/10 % by construction, whatever the machine's speed:

  hot_sixty      60 %  a plain loop (its hot statement is marked HOT60)
  Worker.thirty  30 %  a method, reached through a recursion 30 deep
  gen_ten        10 %  a generator consumed by a loop

hot_sixty also calls into a C extension (hashlib) and has C call back into
Python (sorted with a key function), within its 60 ms.
Usage: pyshape.py SECONDS [THREADS]: SECONDS of each thread's CPU time (not
wall time: on a loaded machine the interpreter's start would otherwise be a
bigger share of fewer rounds); with THREADS > 1, thread i runs only
function i % 3, so that per-thread stacks can be told apart.
"""
import hashlib
import sys
import threading
import time

MS = 0.001
CHUNK = 200  # iterations between looks at the clock


def sort_key(v):
    x = 0
    for i in range(100):
        x += i * v % 3  # KEY
    return x


def hot_sixty(budget):
    end = time.thread_time() + budget
    x = len(hashing())  # into a C extension
    x += sorted(range(300), key=sort_key)[0]  # C calling back into Python
    while time.thread_time() < end:
        for i in range(CHUNK):
            x += i * i % 7  # HOT60
    return x


class Worker:
    def thirty(self, budget):
        end = time.thread_time() + budget
        x = 0
        while time.thread_time() < end:
            for i in range(CHUNK):
                x += i * i % 7  # HOT30
        return x

    def descend(self, depth, budget):
        if depth == 0:
            return self.thirty(budget)
        return self.descend(depth - 1, budget)


def gen_ten_items(end):
    while time.thread_time() < end:
        for i in range(CHUNK):
            yield i * i % 7  # HOT10


def gen_ten(budget):
    x = 0
    for v in gen_ten_items(time.thread_time() + budget):
        x += v
    return x


def hashing():
    return hashlib.sha256(b"scorch" * 262144).hexdigest()


def one_round(worker):
    hot_sixty(60 * MS)
    worker.descend(29, 30 * MS)
    gen_ten(10 * MS)


def run(seconds):
    worker = Worker()
    end = time.thread_time() + seconds  # CPU time: as many rounds on a loaded machine
    rounds = 0
    while time.thread_time() < end:
        one_round(worker)
        rounds += 1
    return rounds


def run_one(which, seconds):
    worker = Worker()
    fn = [lambda: hot_sixty(10 * MS), lambda: worker.descend(29, 10 * MS), lambda: gen_ten(10 * MS)][which]
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        fn()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if threads <= 1:
        print(f"pyshape: {run(seconds)} rounds", flush=True)
        return
    ts = [threading.Thread(target=run_one, args=(i % 3, seconds), name=f"py{i}") for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"pyshape: {threads} threads", flush=True)


if __name__ == "__main__":
    main()
