/* SPDX-License-Identifier: MIT */
/*
 * folded_bench FILE [RUNS]: times the folded reader (profile_read_path) and
 * the folded writer (folded_write to /dev/null) separately, RUNS times each,
 * and prints min/median/max.  Built by folded_read.sh against build-model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "formats/folded.h"
#include "formats/format.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("%-6s s: min %.3f  median %.3f  max %.3f\n", what, t[0], t[n / 2], t[n - 1]);
}

int main(int argc, char **argv)
{
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	double rt[64], wt[64];
	struct format_error fe = {""};
	FILE *null = fopen("/dev/null", "w");

	if (argc < 2 || runs < 1 || runs > 64 || !null) {
		fprintf(stderr, "usage: folded_bench FILE [RUNS <= 64]\n");
		return 2;
	}
	for (int i = 0; i < runs; i++) {
		struct profile *p = profile_new();
		double t0 = now();
		if (!p || profile_read_path(argv[1], p, &fe)) {
			fprintf(stderr, "folded_bench: %s\n", fe.msg);
			return 2;
		}
		double t1 = now();
		if (folded_write(p, false, null)) {
			fprintf(stderr, "folded_bench: write failed\n");
			return 2;
		}
		double t2 = now();
		rt[i] = t1 - t0;
		wt[i] = t2 - t1;
		if (!i)
			printf("%zu unique stacks, %zu frames, %zu strings, total %lld\n",
			       profile_nsamples(p), profile_nframes(p), profile_nstrs(p),
			       (long long)profile_total(p));
		profile_free(p);
	}
	report("read", rt, runs);
	report("write", wt, runs);
	fclose(null);
	return 0;
}
