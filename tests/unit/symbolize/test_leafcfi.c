/* SPDX-License-Identifier: MIT */
/*
 * leafcfi: rows for the fixture's (leaffix.c) functions without CFI that
 * never move rsp nor write rbp, and none for the others; the rows the
 * file's own CFI gave are kept.
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

#include "symbolize/cfi.h"
#include "symbolize/leafcfi.h"

#include "fixsym.h"

static bool same_row(const struct cfi_row *a, const struct cfi_row *b)
{
	return a && b && a->cfa_type == b->cfa_type && a->cfa_offset == b->cfa_offset &&
	       a->rbp_type == b->rbp_type && a->rbp_offset == b->rbp_offset;
}

/* Whether every pc of [addr, addr + size) has CFA = rsp + 8, rbp unchanged. */
static bool leaf_rows(const struct cfi_table *t, uint64_t addr, uint64_t size)
{
	for (uint64_t pc = addr; pc < addr + size; pc++) {
		const struct cfi_row *r = cfi_table_find(t, pc);
		if (!r || r->cfa_type != CFI_CFA_RSP || r->cfa_offset != 8 ||
		    r->rbp_type != CFI_RBP_UNCHANGED)
			return false;
	}
	return true;
}

static bool gap(const struct cfi_table *t, uint64_t pc)
{
	const struct cfi_row *r = cfi_table_find(t, pc);
	return !r || r->cfa_type == CFI_CFA_GAP;
}

static void test_fixture(void **state)
{
	(void)state;
	struct cfi_table before, t;
	uint64_t a, n;
	int fd = open(LEAFFIX, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cfi_compile(fd, -1, &before), 0);
	assert_int_equal(cfi_compile(fd, -1, &t), 0);
	/* Without CFI before. */
	const char *all[] = {"leaffix_copy", "leaffix_calls", "leaffix_push",
			     "leaffix_sub",  "leaffix_rbp",   "leaffix_junk"};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		a = fixsym(fd, all[i], &n);
		assert_true(gap(&before, a));
	}
	int added = leafcfi_add(fd, &t);
	assert_true(added >= 2);
	for (size_t i = 1; i < t.n; i++) {
		assert_true(t.rows[i - 1].pc < t.rows[i].pc);
		assert_false(same_row(&t.rows[i - 1], &t.rows[i]));
	}
	/* No size: up to leaffix_calls, the next symbol (padding between). */
	uint64_t calls, calls_size;
	a = fixsym(fd, "leaffix_copy", &n);
	calls = fixsym(fd, "leaffix_calls", &calls_size);
	assert_int_equal(n, 0);
	assert_true(leaf_rows(&t, a, calls - a));
	assert_true(leaf_rows(&t, calls, calls_size));
	/* After leaffix_calls comes leaffix_push: a gap again. */
	a = fixsym(fd, "leaffix_push", &n);
	assert_int_equal(a, calls + calls_size);
	for (size_t i = 2; i < sizeof(all) / sizeof(all[0]); i++) {
		a = fixsym(fd, all[i], &n);
		for (uint64_t pc = a; pc < a + n; pc++)
			assert_true(gap(&t, pc));
	}
	/* The C function's rows, at every pc, are what its CFI said. */
	a = fixsym(fd, "leaffix_c", &n);
	assert_true(n > 0);
	for (uint64_t pc = a; pc < a + n; pc++)
		assert_true(same_row(cfi_table_find(&before, pc), cfi_table_find(&t, pc)));
	/* Every pc that had a row other than a gap keeps it. */
	for (size_t i = 0; i < before.n; i++)
		if (before.rows[i].cfa_type != CFI_CFA_GAP)
			assert_true(same_row(&before.rows[i], cfi_table_find(&t, before.rows[i].pc)));
	cfi_table_release(&before);
	cfi_table_release(&t);
	close(fd);
}

/* Stripped of .symtab: its .dynsym bounds the exported functions. */
static void test_stripped(void **state)
{
	(void)state;
	struct cfi_table t;
	int fd = open(LEAFFIX_STRIPPED, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cfi_compile(fd, -1, &t), 0);
	size_t n = t.n;
	assert_true(leafcfi_add(fd, &t) >= 2);
	assert_true(t.n > n);
	cfi_table_release(&t);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixture),
	    cmocka_unit_test(test_stripped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
