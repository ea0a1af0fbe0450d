/* SPDX-License-Identifier: MIT */
/*
 * The unwind-table compiler against binutils: every row `readelf
 * --debug-dump=frames-interp` prints for a file must be what the compiled
 * table says at that address (CFA base and offset, where rbp is saved, the
 * outermost frame), and an FDE's end not followed by another must be a gap.
 * Files: a fixture built with -O2 -fomit-frame-pointer (.eh_frame), the same
 * without .eh_frame_hdr, the same with only .debug_frame, in the file or in
 * a separate debug file, and the system's libc (signal trampoline, PLT).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/array.h"
#include "symbolize/cfi.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

struct range {
	uint64_t lo, hi;
};

struct check {
	size_t rows, rows_rsp, rows_rbp, rows_rbp_saved, rows_exp, rows_end;
	struct range *fdes;
	size_t nfdes, cap;
};

static void compile(const char *path, struct cfi_table *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cfi_compile(fd, -1, t), 0);
	close(fd);
	assert_true(t->n > 0);
	for (size_t i = 1; i < t->n; i++)
		assert_true(t->rows[i - 1].pc < t->rows[i].pc);
}

/* Index of column name in a "   LOC   CFA   rbx   rbp   ra" header, or -1. */
static int column(char *const *cols, int ncols, const char *name)
{
	for (int i = 0; i < ncols; i++)
		if (!strcmp(cols[i], name))
			return i;
	return -1;
}

static int split(char *line, char **cols, int max)
{
	int n = 0;
	for (char *tok = strtok(line, " \t\n"); tok && n < max; tok = strtok(NULL, " \t\n"))
		if (tok[0] != '(') /* "r10 (r10)": a register rule's name, one column */
			cols[n++] = tok;
	return n;
}

/* Checks one row of readelf's table against the compiled table. */
static void check_row(const struct cfi_table *t, struct check *c, char **v, int n, int cfa_col, int rbp_col,
		      int ra_col)
{
	uint64_t loc = strtoull(v[0], NULL, 16);
	const struct cfi_row *r = cfi_table_find(t, loc);
	assert_non_null(r);
	c->rows++;
	print_message("%s", ""); /* keeps cmocka's output ordered */
	if (getenv("TEST_CFI_VERBOSE"))
		print_message("%#" PRIx64 ": cfa %s type %u off %d\n", loc, v[cfa_col], r->cfa_type, r->cfa_offset);
	if (ra_col >= 0 && ra_col < n && !strcmp(v[ra_col], "u")) {
		assert_int_equal(r->cfa_type, CFI_CFA_END);
		c->rows_end++;
		return;
	}
	const char *cfa = v[cfa_col];
	if (!strcmp(cfa, "exp")) {
		assert_true(r->cfa_type == CFI_CFA_PLT || r->cfa_type == CFI_CFA_SIGNAL ||
			    r->cfa_type == CFI_CFA_UNSUPPORTED);
		c->rows_exp++;
		return;
	}
	if (strncmp(cfa, "rsp+", 4) && strncmp(cfa, "rbp+", 4)) {
		assert_int_equal(r->cfa_type, CFI_CFA_UNSUPPORTED);
		return;
	}
	if (r->cfa_type == CFI_CFA_UNSUPPORTED)
		return; /* an rbp rule we do not express: counted, checked elsewhere */
	assert_int_equal(r->cfa_type, cfa[1] == 's' ? CFI_CFA_RSP : CFI_CFA_RBP);
	assert_int_equal(r->cfa_offset, atoi(cfa + 4));
	cfa[1] == 's' ? c->rows_rsp++ : c->rows_rbp++;
	const char *rbp = rbp_col >= 0 && rbp_col < n ? v[rbp_col] : "u";
	if (rbp[0] == 'c') {
		assert_int_equal(r->rbp_type, CFI_RBP_CFA_OFFSET);
		assert_int_equal(r->rbp_offset, atoi(rbp + 1));
		c->rows_rbp_saved++;
	} else {
		assert_int_equal(r->rbp_type, CFI_RBP_UNCHANGED);
	}
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Walks readelf's frames-interp output for path, checking every row. */
static void check_against_readelf(const char *path, const struct cfi_table *t, struct check *c)
{
	char cmd[512], line[4096], hdr[4096] = "";
	char *cols[64], *v[64];
	int ncols = 0, cfa_col = 1, rbp_col = -1, ra_col = -1;
	snprintf(cmd, sizeof(cmd), "%s --debug-dump=frames-interp '%s' 2>/dev/null", READELF, path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	memset(c, 0, sizeof(*c));
	bool in_fde = false;
	while (fgets(line, sizeof(line), p)) {
		char *fde = strstr(line, " FDE cie=");
		if (fde) {
			char *pc = strstr(fde, "pc=");
			assert_non_null(pc);
			assert_int_equal(array_grow(&c->fdes, &c->cap, c->nfdes + 1, sizeof(*c->fdes)), 0);
			char *dots = strstr(pc, "..");
			c->fdes[c->nfdes++] = (struct range){ strtoull(pc + 3, NULL, 16), strtoull(dots + 2, NULL, 16) };
			in_fde = true;
			continue;
		}
		if (strstr(line, " CIE")) {
			in_fde = false;
			continue;
		}
		if (strstr(line, "LOC") && strstr(line, "CFA")) {
			snprintf(hdr, sizeof(hdr), "%s", line);
			ncols = split(hdr, cols, 64);
			cfa_col = column(cols, ncols, "CFA");
			rbp_col = column(cols, ncols, "rbp");
			ra_col = column(cols, ncols, "ra");
			continue;
		}
		int n = split(line, v, 64);
		if (in_fde && n > cfa_col && strlen(v[0]) == 16)
			check_row(t, c, v, n, cfa_col, rbp_col, ra_col);
	}
	pclose(p); /* readelf exits 1 on warnings about unrelated sections */
	/* Where an FDE ends and no other starts, the table says so. */
	qsort(c->fdes, c->nfdes, sizeof(*c->fdes), cmp_range);
	for (size_t i = 0; i < c->nfdes; i++) {
		uint64_t end = c->fdes[i].hi;
		if (i + 1 < c->nfdes && c->fdes[i + 1].lo <= end)
			continue;
		const struct cfi_row *r = cfi_table_find(t, end);
		assert_non_null(r);
		assert_int_equal(r->cfa_type, CFI_CFA_GAP);
	}
	assert_true(c->rows > 0);
	free(c->fdes);
	c->fdes = NULL;
}

static void test_eh_frame_fixture(void **state)
{
	(void)state;
	struct cfi_table t;
	struct check c;
	compile(CFIFIX, &t);
	assert_int_equal(t.from_debug_frame, 0);
	check_against_readelf(CFIFIX, &t, &c);
	assert_true(c.rows_rsp > 10);      /* pushes move the CFA */
	assert_true(c.rows_rbp > 0);       /* the VLA function */
	assert_true(c.rows_rbp_saved > 0); /* ... saves rbp */
	size_t plt = 0;
	for (size_t i = 0; i < t.n; i++)
		plt += t.rows[i].cfa_type == CFI_CFA_PLT;
	assert_true(plt > 0);
	assert_int_equal(t.unsupported, 0);
	cfi_table_release(&t);
}

/* .eh_frame is read whole, not through .eh_frame_hdr's table. */
static void test_eh_frame_without_hdr(void **state)
{
	(void)state;
	struct cfi_table t;
	struct check c;
	compile(CFIFIX_NOHDR, &t);
	assert_int_equal(t.from_debug_frame, 0);
	check_against_readelf(CFIFIX_NOHDR, &t, &c);
	assert_true(c.rows_rsp > 10);
	assert_true(c.rows_rbp_saved > 0);
	assert_int_equal(t.unsupported, 0);
	cfi_table_release(&t);
}

static void test_debug_frame_fixture(void **state)
{
	(void)state;
	struct cfi_table t;
	struct check c;
	compile(CFIFIX_DBG, &t);
	assert_int_equal(t.from_debug_frame, 1);
	check_against_readelf(CFIFIX_DBG, &t, &c);
	assert_true(c.rows_rsp > 10);
	assert_true(c.rows_rbp > 0);
	cfi_table_release(&t);
}

/* Stripped of its .debug_frame and without unwind tables: next to nothing
 * of its own; with its separate debug file, every row readelf prints for
 * that file's .debug_frame. */
static void test_separate_debug_frame(void **state)
{
	(void)state;
	struct cfi_table own, t;
	struct check c;
	int fd = open(CFIFIX_SPLIT, O_RDONLY | O_CLOEXEC), dfd = open(CFIFIX_SPLIT ".debug", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0 && dfd >= 0);
	int err = cfi_compile(fd, -1, &own);
	assert_true(err == -ENOENT || (err == 0 && own.from_debug_frame == 0 && own.covered < 64));
	cfi_table_release(&own);
	assert_int_equal(cfi_compile(fd, dfd, &t), 0);
	close(fd);
	close(dfd);
	assert_int_equal(t.from_debug_frame, 1);
	assert_true(t.nsegs > 0); /* the segments are the stripped file's */
	check_against_readelf(CFIFIX_SPLIT ".debug", &t, &c);
	assert_true(c.rows_rsp > 10);
	assert_true(c.rows_rbp_saved > 0);
	cfi_table_release(&t);
}

static void test_libc(void **state)
{
	(void)state;
	struct cfi_table t;
	struct check c;
	if (access(LIBC, R_OK))
		skip();
	compile(LIBC, &t);
	check_against_readelf(LIBC, &t, &c);
	assert_true(c.rows > 10000);
	assert_true(c.rows_end > 0); /* _start-like outermost frames, clone */
	assert_int_equal(t.signal, 1); /* __restore_rt */
	/* The rules a table cannot hold (getcontext's) are few. */
	assert_true(t.unsupported < 20);
	cfi_table_release(&t);
}

static void test_not_elf(void **state)
{
	(void)state;
	struct cfi_table t;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cfi_compile(fd, -1, &t), -EINVAL);
	assert_null(t.rows);
	close(fd);
	cfi_table_release(&t);
	cfi_table_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eh_frame_fixture), cmocka_unit_test(test_eh_frame_without_hdr),
		cmocka_unit_test(test_debug_frame_fixture), cmocka_unit_test(test_separate_debug_frame),
		cmocka_unit_test(test_libc),
		cmocka_unit_test(test_not_elf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
