"""A Python workload of known shape, for scorch's Python frames.

Each round does a fixed number of loop iterations in three pure-Python
functions, in the ratio 60:30:10, so their shares of CPU time are known
by construction:

  hot_sixty      60 %  a plain loop (the hot statement is marked HOT60)
  Worker.thirty  30 %  a method, reached through a recursion 30 deep
  gen_ten        10 %  a generator, consumed by sum()

plus a call into a C extension (hashlib) that is a small part of the work.
Usage: pyshape.py SECONDS [THREADS]; with THREADS > 1 each thread runs one
function of its own (thread i runs function i % 3) so that per-thread
stacks can be told apart.
"""
import hashlib
import sys
import threading
import time

UNIT = 20000  # loop iterations per share point of a round


def hot_sixty(n):
    x = 0
    for i in range(n):
        x += i * i % 7  # HOT60
    return x


class Worker:
    def thirty(self, n):
        x = 0
        for i in range(n):
            x += i * i % 7  # HOT30
        return x

    def descend(self, depth, n):
        if depth == 0:
            return self.thirty(n)
        return self.descend(depth - 1, n)


def gen_ten_items(n):
    for i in range(n):
        yield i * i % 7  # HOT10


def gen_ten(n):
    return sum(gen_ten_items(n))


def hashing():
    return hashlib.sha256(b"scorch" * 4096).hexdigest()


def one_round(worker):
    hot_sixty(60 * UNIT)
    worker.descend(29, 30 * UNIT)
    gen_ten(10 * UNIT)
    hashing()


def run(seconds):
    worker = Worker()
    end = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < end:
        one_round(worker)
        rounds += 1
    return rounds


def run_one(which, seconds):
    worker = Worker()
    fn = [lambda: hot_sixty(10 * UNIT), lambda: worker.descend(29, 10 * UNIT), lambda: gen_ten(10 * UNIT)][which]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
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
