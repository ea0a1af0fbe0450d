/* SPDX-License-Identifier: MIT */
/*
 * Thousands of executable mappings, for hostile_mappings.sh:
 *
 *   hostile_maps DIR NFILES NCOPIES SECONDS
 *
 * creates NFILES one-page files DIR/fNNNNN (each the first page of our own
 * executable: a truncated ELF) and maps each executable: NFILES mappings of
 * distinct files.  Then maps our own executable segment NCOPIES more times,
 * a page of hole between copies, and until SECONDS of CPU time have passed calls
 * maps_hot (position independent, no data) through every copy in turn, from
 * maps_run.  Prints "mapped N" when done mapping.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

typedef uint64_t (*hot_fn)(uint64_t x, uint64_t n);

/* CPU time: the hot phase is as long on a loaded machine as on an idle one. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) uint64_t maps_hot(uint64_t x, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return x;
}

__attribute__((noinline)) uint64_t maps_run(hot_fn *fns, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		x = fns[i](x, 20000);
	return x;
}

/* Our executable mapping that holds maps_hot: start, end, file offset. */
static int own_segment(uint64_t *start, uint64_t *end, uint64_t *off)
{
	char line[4096];
	uint64_t hot = (uint64_t)(uintptr_t)maps_hot;
	FILE *f = fopen("/proc/self/maps", "r");
	int found = -1;
	while (f && fgets(line, sizeof(line), f)) {
		char perms[8];
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64, start, end, perms, off) == 4 &&
		    perms[2] == 'x' && *start <= hot && hot < *end) {
			found = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: hostile_maps DIR NFILES NCOPIES SECONDS\n");
		return 2;
	}
	int nfiles = atoi(argv[2]), ncopies = atoi(argv[3]);
	double secs = atof(argv[4]);
	char page[PAGE], path[4096];
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0 || pread(self, page, PAGE, 0) != PAGE)
		return 1;
	for (int i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%05d", argv[1], i);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, page, PAGE) != PAGE ||
		    mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED) {
			perror(path);
			return 1;
		}
		close(fd);
	}
	uint64_t start, end, off;
	if (own_segment(&start, &end, &off))
		return 1;
	size_t len = (size_t)(end - start), stride = len + PAGE;
	char *area = mmap(NULL, stride * (size_t)ncopies, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hot_fn *fns = calloc((size_t)ncopies, sizeof(*fns));
	if (area == MAP_FAILED || !fns)
		return 1;
	for (int i = 0; i < ncopies; i++) {
		char *c = mmap(area + (size_t)i * stride, len, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED,
			       self, (off_t)off);
		if (c == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		fns[i] = (hot_fn)(void *)(c + ((uint64_t)(uintptr_t)maps_hot - start));
	}
	printf("mapped %d\n", nfiles + ncopies);
	fflush(stdout);
	uint64_t x = 1;
	for (double stop = now() + secs; now() < stop;)
		x = maps_run(fns, (size_t)ncopies, x);
	return (int)(x & 0);
}
