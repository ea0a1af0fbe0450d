/* SPDX-License-Identifier: MIT */
/*
 * A workload of known shape for profiler tests.  main() calls three
 * functions whose work is 60 %, 30 % and 10 % of the total by construction:
 * each runs the same loop body, for 6, 3 and 1 units.  The 10 % branch first
 * recurses 40 frames deep, so a profiler must keep deep stacks whole.
 *
 *   shape [SECONDS [DEPTH [SLOWDOWN_PCT]]]
 *       run for about SECONDS of CPU time (default 3), the 10 % branch
 *       recursing DEPTH deep (default 40), shape_thirty doing SLOWDOWN_PCT %
 *       more work (default 0; 25 makes it 25 % slower, for `scorch diff`)
 *
 * Built with -O2 -fno-omit-frame-pointer -fno-inline (see CMakeLists.txt) so
 * each function keeps its own frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;

#define UNIT_ITERS 200000ULL

/* Called once per unit so that the work functions are not leaves: GCC
 * gives a leaf that needs no stack no frame even with
 * -fno-omit-frame-pointer, and a frame-pointer unwinder then skips its
 * caller.  Its own cost is negligible (one call per 200,000 iterations). */
__attribute__((noinline)) void shape_tick(void)
{
	__asm__ volatile("" ::: "memory");
}

/*
 * Each unit is UNIT_ITERS iterations on average but between half and one and
 * a half times that, at random: with units of a fixed length a round lasts
 * the same time every time and its phases line up with a sampler's fixed
 * period (aliasing), so one run's shares could be several points off.
 */
static uint64_t jitter_state = 0x9e3779b97f4a7c15ULL;

static uint64_t unit_iters(void)
{
	jitter_state ^= jitter_state << 13;
	jitter_state ^= jitter_state >> 7;
	jitter_state ^= jitter_state << 17;
	return UNIT_ITERS / 2 + jitter_state % UNIT_ITERS;
}

/* The loop body every function spins on; inlined into each by the macro. */
#define SPIN(units)                                                          \
	do {                                                                 \
		uint64_t x = sink;                                           \
		for (uint64_t u = 0; u < (units); u++) {                     \
			uint64_t n = unit_iters();                           \
			for (uint64_t i = 0; i < n; i++)                     \
				x = x * 6364136223846793005ULL + 1442695040888963407ULL; \
			shape_tick();                                        \
		}                                                            \
		sink = x;                                                    \
	} while (0)

__attribute__((noinline)) void shape_sixty(void)
{
	SPIN(6);
}

/* Extra work of shape_thirty in units of UNIT_ITERS / 100: SLOWDOWN_PCT * 3. */
static uint64_t thirty_extra;

__attribute__((noinline)) void shape_thirty(void)
{
	SPIN(3);
	if (thirty_extra) {
		uint64_t x = sink;
		for (uint64_t i = 0; i < thirty_extra * (UNIT_ITERS / 100); i++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		shape_tick();
		sink = x;
	}
}

__attribute__((noinline)) void shape_ten_leaf(void)
{
	SPIN(1);
}

__attribute__((noinline)) void shape_ten(int depth)
{
	if (depth > 0)
		shape_ten(depth - 1);
	else
		shape_ten_leaf();
	__asm__ volatile("" ::: "memory"); /* not a tail call: keep the frame */
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	int depth = argc > 2 ? atoi(argv[2]) : 40;
	int slowdown = argc > 3 ? atoi(argv[3]) : 0;
	unsigned long rounds = 0;
	double start = cpu_seconds();

	if (slowdown > 0)
		thirty_extra = 3 * (uint64_t)slowdown;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	jitter_state ^= (uint64_t)now.tv_nsec * 0x2545f4914f6cdd1dULL | 1;

	while (cpu_seconds() - start < seconds) {
		shape_sixty();
		shape_thirty();
		shape_ten(depth);
		rounds++;
	}
	printf("shape: %lu rounds\n", rounds);
	return 0;
}
