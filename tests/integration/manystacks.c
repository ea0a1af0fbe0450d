/* SPDX-License-Identifier: MIT */
/*
 * manystacks SECONDS: a recursion whose call path spells out a counter's
 * bits, 16 levels each through one of two functions (bitN_0, bitN_1), so
 * that there are 65,536 distinct stacks by construction; each leaf spins a
 * little (~0.1 ms here) and the next value takes the next path.  Almost
 * every sample at 999 Hz has a stack no other sample has.  Runs until the
 * process has used SECONDS of CPU (default 4), not wall time: a loaded
 * machine gives it as many samples, only later.  The workload of
 * record_drain.sh; built with frame pointers, nothing inlined.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define BITS 16

volatile uint64_t manystacks_sink;

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void leaf(unsigned v)
{
	for (unsigned i = 0; i < 50000; i++)
		manystacks_sink += (uint64_t)(v ^ i) * 2654435761u;
}

__attribute__((noinline)) static void descend(unsigned v, int n);

/* Level n's two ways down: which one a path takes is bit n of its value. */
#define BIT(n)                                                                                                        \
	__attribute__((noinline)) static void bit##n##_0(unsigned v)                                                  \
	{                                                                                                             \
		descend(v, n + 1);                                                                                    \
		manystacks_sink++;                                                                                    \
	}                                                                                                             \
	__attribute__((noinline)) static void bit##n##_1(unsigned v)                                                  \
	{                                                                                                             \
		descend(v, n + 1);                                                                                    \
		manystacks_sink++;                                                                                    \
	}
BIT(0) BIT(1) BIT(2) BIT(3) BIT(4) BIT(5) BIT(6) BIT(7) BIT(8) BIT(9) BIT(10) BIT(11) BIT(12) BIT(13) BIT(14) BIT(15)

#define WAYS(n) { bit##n##_0, bit##n##_1 }
static void (*const ways[BITS][2])(unsigned) = {
	WAYS(0), WAYS(1), WAYS(2),  WAYS(3),  WAYS(4),  WAYS(5),  WAYS(6),  WAYS(7),
	WAYS(8), WAYS(9), WAYS(10), WAYS(11), WAYS(12), WAYS(13), WAYS(14), WAYS(15),
};

__attribute__((noinline)) static void descend(unsigned v, int n)
{
	if (n == BITS)
		leaf(v);
	else
		ways[n][(v >> n) & 1](v);
	manystacks_sink++;
}

int main(int argc, char **argv)
{
	double end = cpu_s() + (argc > 1 ? atof(argv[1]) : 4);
	for (unsigned v = 0;; v++)
		if (descend(v, 0), (v & 15) == 15 && cpu_s() >= end)
			break;
	return 0;
}
