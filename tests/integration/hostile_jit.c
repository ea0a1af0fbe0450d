/* SPDX-License-Identifier: MIT */
/*
 * A JIT that writes a careless perf map, for hostile_perfmap.sh and
 * hostile_root.sh:
 *
 *   hostile_jit SECONDS [DIR [PREFIX]]
 *
 * puts three functions in anonymous RWX memory (hand-assembled x86-64: a
 * frame, a countdown loop, return) and calls them from jit_caller in the
 * ratio 1:2:1 until SECONDS have passed.  Before that it writes
 * DIR/perf-PID.map (DIR defaults to /tmp, PID is getpid()) naming them
 * PREFIXjit_one, PREFIXjit_two and "PREFIXjit_three;x" (a ';', which
 * folded output must not take for a frame separator), among garbage lines
 * that cover the same addresses: none may name anything.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* push rbp; mov rbp,rsp; mov rcx,imm64; 1: dec rcx; jnz 1b; pop rbp; ret */
static const unsigned char code[] = {
    0x55, 0x48, 0x89, 0xe5, 0x48, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0x48, 0xff, 0xc9, 0x75, 0xfb, 0x5d, 0xc3,
};
#define IMM_OFF 6
#define FN_STRIDE 0x100
#define LOOPS 200000

typedef void (*jit_fn)(void);

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void jit_caller(jit_fn f)
{
	f();
	__asm__ volatile("" ::: "memory");
}

/* The map: good lines among bad ones that a lenient parser would take. */
static int write_map(const char *dir, const char *prefix, uint64_t base)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/perf-%d.map", dir, (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	uint64_t one = base, two = base + FN_STRIDE, three = base + 2 * FN_STRIDE;
	unsigned sz = sizeof(code);
	fprintf(f, "zzzz %x bad_hex_start\n", sz);
	fprintf(f, "%" PRIx64 " 0 zero_size\n", one);
	fprintf(f, "%" PRIx64 " %x\n", two, sz);		     /* no name */
	fprintf(f, "%" PRIx64 "\n", two);			     /* no size */
	fprintf(f, "%" PRIx64 " 10000000000000000 overflow\n", one); /* 17 hex digits */
	fprintf(f, "ffffffffffffff00 1000 wraps_around\n");
	fprintf(f, "-%" PRIx64 " %x negative\n", one, sz);
	fprintf(f, "%" PRIx64 " %x %sjit_one\n", one, sz, prefix);
	fprintf(f, "%" PRIx64 " %x %sjit_two\n", two, sz, prefix);
	fprintf(f, "%" PRIx64 " %x %sjit_three;x\n", three, sz, prefix);
	char line[64];
	int n = snprintf(line, sizeof(line), "%" PRIx64 " %x with", one, sz);
	fwrite(line, 1, (size_t)n, f);
	fwrite("\0nul\n", 1, 5, f); /* a NUL in the name */
	fputs("   \n\n\r\n", f);
	fprintf(f, "%" PRIx64 " %x ", two, sz); /* a 5000-byte name */
	for (int i = 0; i < 5000; i++)
		fputc('L', f);
	fputc('\n', f);
	fprintf(f, "%" PRIx64 "g %x bad_digit\n", three, sz);
	fprintf(f, "%" PRIx64 " %xq bad_size\n", three, sz);
	for (int i = 0; i < 4096; i++) /* binary junk, newlines and NULs included */
		fputc((int)((i * 2654435761u) >> 13 & 0xff), f);
	fputc('\n', f);
	fwrite("7f00 10 nul\0name\n", 1, 17, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	const char *prefix = argc > 3 ? argv[3] : "";
	unsigned char *mem =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		uint64_t loops = LOOPS;
		memcpy(mem + i * FN_STRIDE, code, sizeof(code));
		memcpy(mem + i * FN_STRIDE + IMM_OFF, &loops, sizeof(loops));
	}
	if (write_map(dir, prefix, (uint64_t)(uintptr_t)mem)) {
		perror("perf map");
		return 1;
	}
	jit_fn fns[4] = {(jit_fn)(void *)mem, (jit_fn)(void *)(mem + FN_STRIDE),
			 (jit_fn)(void *)(mem + FN_STRIDE), (jit_fn)(void *)(mem + 2 * FN_STRIDE)};
	for (double end = now() + secs; now() < end;)
		for (int i = 0; i < 4; i++)
			jit_caller(fns[i]);
	return 0;
}
