/* SPDX-License-Identifier: MIT */
/* elfseg: the one rule turning a mapping's file offsets into file addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbolize/elfseg.h"

/* libc-like: two segments, file address = offset. */
static const struct elf_segment libc[] = {{0x0, 0x0, 0x26000}, {0x26000, 0x26000, 0x150000}};

static void test_bias(void **state)
{
	(void)state;
	uint64_t bias = 0;
	/* Mapped at 0x7f0000026000 from offset 0x26000. */
	assert_int_equal(elfseg_bias(libc, 2, 0x7f0000026000, 0x26000, &bias), 0);
	assert_int_equal(0x7f0000026000 + 0x10 - bias, 0x26010);
	assert_int_equal(elfseg_bias(libc, 2, 0x7f0000000000, 0x900000, &bias), -ERANGE);
}

/* A non-PIE executable whose segment starts past a page boundary: the
 * kernel maps it from the boundary, and the mapping's start belongs to it. */
static void test_page_before_segment(void **state)
{
	(void)state;
	const struct elf_segment shifted[] = {{0x1200, 0x401200, 0x500}};
	uint64_t bias = 1, vaddr = 0;
	assert_int_equal(elfseg_bias(shifted, 1, 0x401000, 0x1000, &bias), 0);
	assert_int_equal(bias, 0);
	assert_int_equal(elfseg_vaddr(shifted, 1, 0x1234, &vaddr), 0);
	assert_int_equal(vaddr, 0x401234);
	/* The page before the boundary is no segment's. */
	assert_int_equal(elfseg_vaddr(shifted, 1, 0xfff, &vaddr), -ERANGE);
	/* Past the segment's bytes. */
	assert_int_equal(elfseg_vaddr(shifted, 1, 0x1700, &vaddr), -ERANGE);
}

/* Segments sharing a page (-z noseparate-code): an offset inside one's
 * bytes is that one's, though it lies in the other's first page too. */
static void test_shared_page(void **state)
{
	(void)state;
	const struct elf_segment segs[] = {{0x0, 0x0, 0x1238}, {0x1238, 0x2238, 0x800}};
	uint64_t vaddr = 0;
	assert_int_equal(elfseg_vaddr(segs, 2, 0x1100, &vaddr), 0);
	assert_int_equal(vaddr, 0x1100);
	assert_int_equal(elfseg_vaddr(segs, 2, 0x1300, &vaddr), 0);
	assert_int_equal(vaddr, 0x2300);
	assert_ptr_equal(elfseg_find(segs, 2, 0x1238), &segs[1]);
	/* An empty segment owns nothing. */
	const struct elf_segment empty[] = {{0x3000, 0x3000, 0}};
	assert_null(elfseg_find(empty, 1, 0x3000));
	assert_null(elfseg_find(empty, 1, 0x3100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bias),
	    cmocka_unit_test(test_page_before_segment),
	    cmocka_unit_test(test_shared_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
