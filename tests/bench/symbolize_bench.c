/* SPDX-License-Identifier: MIT */
/*
 * symbolize_bench PID [full|names] [N]: symbolizes N (default 1,000,000)
 * random addresses spread over the executable mappings of PID's main binary,
 * libc and libstdc++ (a third each), twice: the first pass loads and indexes
 * everything it touches (the first load), the second measures lookups alone.
 * Prints times, frames per address, DWARF bytes, the cache's size and our
 * peak RSS.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "symbolize/procmaps.h"
#include "symbolize/symbolizer.h"

struct target {
	const char *what;
	uint64_t lo[8], hi[8];
	size_t n;
	uint64_t span;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field), NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* Executable mappings of PID whose path matches each target. */
static int find_targets(uint32_t pid, struct target *t, size_t nt)
{
	struct procmaps m;
	if (procmaps_read(pid, &m))
		return -1;
	for (size_t i = 0; i < m.n; i++) {
		const struct procmap *p = &m.maps[i];
		const char *base = strrchr(p->path, '/');
		for (size_t j = 0; base && j < nt; j++) {
			bool match = j == 0 ? i == 0 || !strcmp(p->path, m.maps[0].path) : !!strstr(base, t[j].what);
			if (match && t[j].n < 8) {
				t[j].lo[t[j].n] = p->start;
				t[j].hi[t[j].n++] = p->end;
				t[j].span += p->end - p->start;
			}
		}
	}
	procmaps_release(&m);
	for (size_t j = 0; j < nt; j++)
		if (!t[j].n)
			return -1;
	return 0;
}

static uint64_t pick(const struct target *t, uint64_t r)
{
	uint64_t off = r % t->span;
	for (size_t i = 0; i < t->n; i++) {
		if (off < t->hi[i] - t->lo[i])
			return t->lo[i] + off;
		off -= t->hi[i] - t->lo[i];
	}
	return t->lo[0];
}

static double pass(struct symbolizer *s, uint32_t pid, const uint64_t *addrs, size_t n, size_t *frames,
		   size_t *named)
{
	struct sym_batch b;
	double t0 = now();
	sym_batch_init(&b);
	*frames = *named = 0;
	for (size_t i = 0; i < n; i += 10000) {
		size_t k = n - i < 10000 ? n - i : 10000;
		if (symbolizer_resolve_user(s, pid, 1, addrs + i, k, &b))
			exit(1);
		*frames += b.nframes;
		for (size_t j = 0; j < k; j++)
			*named += b.frames[b.first[j]].name != NULL;
	}
	sym_batch_release(&b);
	return now() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: symbolize_bench PID [full|names] [N]\n");
		return 2;
	}
	uint32_t pid = (uint32_t)atoi(argv[1]);
	bool names = argc > 2 && !strcmp(argv[2], "names");
	size_t n = argc > 3 ? (size_t)atol(argv[3]) : 1000000;
	struct target t[3] = { { .what = "main" }, { .what = "libc.so" }, { .what = "libstdc++" } };
	if (find_targets(pid, t, 3)) {
		fprintf(stderr, "symbolize_bench: pid %" PRIu32 ": binary, libc or libstdc++ not mapped\n", pid);
		return 1;
	}
	uint64_t *a = malloc(2 * n * sizeof(*a)), x = 88172645463325252ull;
	for (size_t i = 0; i < 2 * n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		a[i] = pick(&t[i % 3], x);
	}
	struct symbolizer_opts o = { .names_only = names, .dwarf_cache_bytes = (size_t)1 << 30 };
	struct symbolizer *s = NULL;
	size_t frames, named;
	long rss0 = rss_kib("VmRSS:");
	if (symbolizer_new(&o, &s) || symbolizer_track(s, pid, 1))
		return 1;
	double cold = pass(s, pid, a, n, &frames, &named);
	double warm = pass(s, pid, a + n, n, &frames, &named);
	struct symbolizer_stats st;
	symbolizer_stats(s, &st);
	printf("mode %s: %zu addresses, first pass (loads) %.3f s, second pass %.3f s (%.0f ns/address)\n",
	       names ? "names" : "full", n, cold, warm, warm * 1e9 / (double)n);
	printf("  %.2f frames/address, %.1f %% named, %" PRIu64 " files, %" PRIu64 " debug files, %" PRIu64
	       " DWARF loads\n",
	       (double)frames / (double)n, 100.0 * (double)named / (double)n, st.files, st.debug_files, st.dwarf_loads);
	printf("  DWARF sections %.1f MiB: first pass %.1f ms per MiB; DWARF cache %.1f MiB\n",
	       st.dwarf_file_bytes / 1048576.0,
	       st.dwarf_file_bytes ? (cold - warm) * 1e3 / (st.dwarf_file_bytes / 1048576.0) : 0.0,
	       st.dwarf_bytes / 1048576.0);
	printf("  peak RSS %.1f MiB (%.1f MiB before)\n",
	       rss_kib("VmHWM:") / 1024.0, rss0 / 1024.0);
	symbolizer_free(s);
	free(a);
	return 0;
}
