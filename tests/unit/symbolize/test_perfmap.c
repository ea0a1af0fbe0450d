/* SPDX-License-Identifier: MIT */
/* perf maps: parsing with garbage lines, overlap rules, and JIT frames of a
 * live process (this one) through the symbolizer. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize/perfmap.h"
#include "symbolize/symbolizer.h"

static const char MAP[] = "1000 100 jit_alpha\n"
			  "0x2000 0x10 LazyCompile:~beta /app/x.js:3:10\n"
			  "garbage\n"
			  "3000\n"
			  "3000 zz bad_size\n"
			  "4000 0 zero_size\n"
			  "ffffffffffffffff 10 wraps\n"
			  "12345678901234567 10 too_long\n"
			  "5000 10 \n"
			  "\n"
			  "1080 10 jit_inner_newer\r\n"
			  "6000 10 py::main:/app/m.py";

static void test_parse(void **state)
{
	(void)state;
	struct perfmap *m = NULL;
	assert_int_equal(perfmap_parse(MAP, sizeof(MAP) - 1, &m), 0);
	assert_int_equal(perfmap_count(m), 4);
	assert_int_equal(perfmap_skipped(m), 7);
	assert_string_equal(perfmap_lookup(m, 0x1000), "jit_alpha");
	assert_string_equal(perfmap_lookup(m, 0x10ff), "jit_alpha");
	assert_string_equal(perfmap_lookup(m, 0x1085), "jit_inner_newer"); /* later line wins */
	assert_null(perfmap_lookup(m, 0x1100));
	assert_string_equal(perfmap_lookup(m, 0x200f), "LazyCompile:~beta /app/x.js:3:10");
	assert_null(perfmap_lookup(m, 0x2010));
	assert_string_equal(perfmap_lookup(m, 0x6000), "py::main:/app/m.py");
	assert_null(perfmap_lookup(m, 0x3000));
	assert_null(perfmap_lookup(m, 0xfff));
	perfmap_free(m);
}

/* The ranges are disjoint, sorted, and agree with perfmap_lookup: the
 * overlapped line is cut around the later one. */
static void test_ranges(void **state)
{
	(void)state;
	static const uint64_t want[][2] = { { 0x1000, 0x1080 }, { 0x1080, 0x1090 }, { 0x1090, 0x1100 },
					    { 0x2000, 0x2010 }, { 0x6000, 0x6010 } };
	struct perfmap *m = NULL;
	uint64_t start, end;
	const char *name;
	assert_int_equal(perfmap_parse(MAP, sizeof(MAP) - 1, &m), 0);
	assert_int_equal(perfmap_ranges(m), 5);
	for (size_t i = 0; i < 5; i++) {
		assert_true(perfmap_range(m, i, &start, &end, &name));
		assert_int_equal(start, want[i][0]);
		assert_int_equal(end, want[i][1]);
		assert_string_equal(name, perfmap_lookup(m, start));
	}
	assert_false(perfmap_range(m, 5, &start, &end, &name));
	perfmap_free(m);
}

/* Random bytes never crash the parser, and every name it keeps is non-empty. */
static void test_garbage(void **state)
{
	(void)state;
	char buf[4096];
	srand(42);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (char)(round & 1 ? "0123456789abcdef x\n"[rand() % 19] : rand());
		struct perfmap *m = NULL;
		assert_int_equal(perfmap_parse(buf, sizeof(buf), &m), 0);
		for (uint64_t a = 0; a < 0x10000; a += 0x101) {
			const char *n = perfmap_lookup(m, a);
			assert_true(!n || n[0]);
		}
		perfmap_free(m);
	}
}

/* Anonymous executable memory named by /tmp/perf-PID.map. */
static void test_jit_frames(void **state)
{
	(void)state;
	char path[64];
	uint8_t *code = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(code != MAP_FAILED);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%" PRIx64 " 100 jit_hot_loop\nnot a line\n%" PRIx64 " 20 _ZN2js4evalEv\n",
		(uint64_t)(uintptr_t)code, (uint64_t)(uintptr_t)code + 0x200);
	fclose(f);

	struct symbolizer *s = NULL;
	struct sym_batch b;
	uint64_t addrs[] = { (uint64_t)(uintptr_t)code + 0x10, (uint64_t)(uintptr_t)code + 0x205,
			     (uint64_t)(uintptr_t)code + 0x1000 };
	assert_int_equal(symbolizer_new(NULL, &s), 0);
	sym_batch_init(&b);
	assert_int_equal(symbolizer_resolve_user(s, (uint32_t)getpid(), 1, addrs, 3, &b), 0);
	assert_string_equal(b.frames[0].name, "jit_hot_loop");
	assert_true(b.frames[0].jit);
	assert_string_equal(b.frames[0].module, path);
	assert_string_equal(b.frames[1].name, "js::eval()");
	assert_string_equal(b.frames[1].system_name, "_ZN2js4evalEv");
	assert_null(b.frames[2].name);
	assert_int_equal(b.frames[2].miss, SYM_MISS_ANON);
	struct symbolizer_stats st;
	symbolizer_stats(s, &st);
	assert_int_equal(st.jit_maps, 1);
	assert_int_equal(st.jit_skipped, 1);
	sym_batch_release(&b);
	symbolizer_free(s);
	unlink(path);
	munmap(code, 8192);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_jit_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
