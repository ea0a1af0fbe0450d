/* SPDX-License-Identifier: MIT */
/*
 * stackends: a profile of samples whose outermost frames are in the leafcfi
 * fixture (symbolize's leaffix.c, mapped at a made-up address): ends in
 * code without CFI are counted for the file, ends in code with CFI, in
 * leaf code given rows from its code, in a root, or in kernel frames are
 * not.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "formats/profile.h"
#include "profiler/stackends.h"
#include "symbolize/cfi.h"

#include "../symbolize/fixsym.h"

#define BIAS 0x7f0000000000ull

/* A sample of count whose stack is the frames named, root first, each at
 * the fixture's function of that name plus 1 (the root at root_at's when
 * given), and a kernel frame below when kernel_leaf. */
static void add(struct profile *p, uint32_t map, int fd, const char *const *names, size_t n, int64_t count,
		bool kernel_leaf, const char *root_at)
{
	uint32_t ids[8];
	for (size_t i = 0; i < n; i++) {
		int64_t name = profile_intern_cstr(p, names[i]);
		assert_true(name > 0);
		const char *at = i == 0 && root_at ? root_at : names[i];
		struct frame f = {.name = (uint32_t)name,
				  .kind = FRAME_USER,
				  .mapping = map,
				  .address = BIAS + fixsym(fd, at, NULL) + 1};
		int64_t id = profile_frame(p, &f);
		assert_true(id >= 0);
		ids[i] = (uint32_t)id;
	}
	if (kernel_leaf) {
		int64_t name = profile_intern_cstr(p, "do_syscall_64");
		struct frame f = {
		    .name = (uint32_t)name, .kind = FRAME_KERNEL, .address = 0xffffffff81000000ull};
		ids[n++] = (uint32_t)profile_frame(p, &f);
	}
	int64_t set = profile_labelset(p, NULL, 0);
	assert_true(set >= 0);
	assert_int_equal(profile_add(p, ids, n, (uint32_t)set, count), 0);
}

static void test_ends(void **state)
{
	(void)state;
	struct cfi_table t;
	int fd = open(LEAFFIX, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cfi_compile(fd, -1, &t), 0);
	assert_true(t.nsegs > 0);
	struct profile *p = profile_new();
	assert_non_null(p);
	int64_t path = profile_intern_cstr(p, LEAFFIX);
	struct mapping m = {.start = BIAS + t.segs[0].vaddr,
			    .limit = BIAS + t.segs[0].vaddr + t.segs[0].filesz,
			    .offset = t.segs[0].offset,
			    .file = (uint32_t)path};
	int64_t map = profile_mapping(p, &m);
	assert_true(map > 0);
	cfi_table_release(&t);

	const char *push[] = {"leaffix_push"};		     /* no CFI: counted */
	const char *sub[] = {"leaffix_sub", "leaffix_push"}; /* no CFI at the root: counted */
	const char *c[] = {"leaffix_c"};		     /* CFI: an unreadable stack, not counted */
	const char *copy[] = {"leaffix_copy"};		     /* rows from its code */
	const char *start[] = {"_start", "leaffix_push"};    /* a root, though without CFI */
	add(p, (uint32_t)map, fd, push, 1, 5, false, NULL);
	add(p, (uint32_t)map, fd, push, 1, 2, true, NULL);
	add(p, (uint32_t)map, fd, sub, 2, 3, false, NULL);
	add(p, (uint32_t)map, fd, c, 1, 7, false, NULL);
	add(p, (uint32_t)map, fd, copy, 1, 11, false, NULL);
	add(p, (uint32_t)map, fd, start, 2, 13, false, "leaffix_push");

	struct stackend_file *f = NULL;
	size_t n = 0;
	assert_int_equal(stackends_find(p, NULL, NULL, &f, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].path, LEAFFIX);
	assert_int_equal(f[0].samples, 10);
	assert_string_equal(f[0].top, "leaffix_push");
	assert_int_equal(f[0].top_samples, 7);
	free(f);
	profile_free(p);
	close(fd);
}

/* A profile without user frames in files: nothing. */
static void test_empty(void **state)
{
	(void)state;
	struct profile *p = profile_new();
	struct stackend_file *f = (void *)1;
	size_t n = 9;
	assert_int_equal(stackends_find(p, NULL, NULL, &f, &n), 0);
	assert_int_equal(n, 0);
	assert_null(f);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ends),
	    cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
