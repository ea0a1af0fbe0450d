"""A fixed amount of pure-Python work under a 20-deep call stack, for
python_cost.sh: prints the process's CPU seconds when done."""
import sys
import time


def work(n):
    x = 0
    for i in range(n):
        x += i * i % 7
    return x


def descend(depth, n):
    if depth == 0:
        return work(n)
    return descend(depth - 1, n)


def main():
    n = int(float(sys.argv[1]) * 1e6) if len(sys.argv) > 1 else 10_000_000
    t0 = time.process_time()
    for _ in range(10):
        descend(20, n // 10)
    print(f"{time.process_time() - t0:.4f}")


if __name__ == "__main__":
    main()
