/* SPDX-License-Identifier: MIT */
/*
 * A workload spending part of its time in libc, all of it called from
 * main: memcpy and memset of 1 MiB buffers (copy_work: in musl, assembly
 * that never moves the stack pointer), qsort of ints (sort_work: in musl,
 * C code that pushes registers, calling back int_cmp), and the rest in its
 * own loop (own_work).  tests/integration/record_stackends.sh builds it with
 * musl-gcc -static (a libc without CFI or frame pointers) and with gcc.
 *
 *   libc_calls [SECONDS]   about SECONDS of CPU time (default 2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile uint64_t sink;
static char a[1 << 20], b[1 << 20];

__attribute__((noinline)) static void own_work(void)
{
	uint64_t x = sink;
	for (int i = 0; i < 4000000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	sink = x;
}

__attribute__((noinline)) static void copy_work(void)
{
	for (int i = 0; i < 100; i++) {
		memset(b, i, sizeof(b));
		memcpy(a, b, sizeof(a));
		sink += (uint64_t)a[i * 4099 % sizeof(a)];
	}
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

__attribute__((noinline)) static void sort_work(void)
{
	static int v[1 << 13];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		v[i] = (int)((i * 2654435761u) >> 7);
	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), int_cmp);
	sink += (uint64_t)v[12345];
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	while ((double)clock() / CLOCKS_PER_SEC < secs) {
		own_work();
		copy_work();
		sort_work();
	}
	printf("%llu\n", (unsigned long long)sink);
	return 0;
}
