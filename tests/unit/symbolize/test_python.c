/* SPDX-License-Identifier: MIT */
/* CPython: the location table decoders (3.11+, 3.10) against what CPython
 * itself says of a function's lines, its handling of damaged tables, and finding and
 * checking the interpreter in a live python3.11 (when installed). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize/procmaps.h"
#include "symbolize/python.h"
#include "symbolize/symbolizer.h"

/* co_linetable of this function under Python 3.11.2 (first line 1):
 *     def sample(a, b):
 *         x = a + b
 *         if x > 10:
 *             x = (a *
 *                  b)
 *         for i in range(3):
 *             x += i
 *         return x
 * and, per code unit, the line co_positions() gives, less the first line. */
static const uint8_t TABLE[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0x80, 0x41, 0xd8, 0x07, 0x08, 0x88, 0x32, 0x82, 0x76,
	0x80, 0x76, 0xd8, 0x0d, 0x0e, 0xd8, 0x0d, 0x0e, 0xf1, 0x03, 0x01, 0x0e, 0x0f, 0x88, 0x01, 0xe5, 0x0d, 0x12,
	0x90, 0x31, 0x89, 0x58, 0x8c, 0x58, 0xf0, 0x00, 0x01, 0x05, 0x0f, 0xf0, 0x00, 0x01, 0x05, 0x0f, 0x88, 0x01,
	0xd8, 0x08, 0x09, 0x88, 0x51, 0x89, 0x06, 0x88, 0x01, 0x88, 0x01, 0xd8, 0x0b, 0x0c, 0x80, 0x48,
};
static const int LINES[] = { 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 4, 3, 3, 3, 5, 5, 5, 5,
			     5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 7, 7 };

static void test_line_table(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < sizeof(LINES) / sizeof(LINES[0]); i++)
		assert_int_equal(pyframes_line(TABLE, sizeof(TABLE), 100, i), 100 + LINES[i]);
	/* Past the table's end: no line. */
	assert_int_equal(pyframes_line(TABLE, sizeof(TABLE), 100, 1000), 0);
}

static void test_damaged_tables(void **state)
{
	(void)state;
	/* Cut anywhere: never reads past the end (ASan), and the entries
	 * before the cut still answer. */
	for (size_t len = 0; len < sizeof(TABLE); len++) {
		uint8_t *t = malloc(len ? len : 1);
		assert_non_null(t);
		memcpy(t, TABLE, len);
		(void)pyframes_line(t, len, 1, 40);
		if (len >= 9)
			assert_int_equal(pyframes_line(t, len, 1, 1), 2);
		free(t);
	}
	/* Not at an entry (bit 7 clear): no answer rather than a guess. */
	static const uint8_t bad[] = { 0x00, 0x80, 0x00 };
	assert_int_equal(pyframes_line(bad, sizeof(bad), 1, 0), 0);
	/* Endless varints stay inside. */
	static const uint8_t cont[] = { 0xf0, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f };
	assert_int_equal(pyframes_line(cont, sizeof(cont), 1, 5), 0);
}

/* The same function's co_linetable under Python 3.10.12 (pairs of bytes
 * covered and line delta), and the line co_lines() gives each code unit,
 * less the first line. */
static const uint8_t TABLE310[] = { 0x08, 0x01, 0x08, 0x01, 0x02, 0x01, 0x02, 0x01,
				    0x04, 0xff, 0x0c, 0x02, 0x0a, 0x01, 0x04, 0x01 };
static const int LINES310[] = { 1, 1, 1, 1, 2, 2, 2, 2, 3, 4, 3, 3, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 7, 7 };

static void test_line_table310(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < sizeof(LINES310) / sizeof(LINES310[0]); i++)
		assert_int_equal(pyframes_line310(TABLE310, sizeof(TABLE310), 100, i), 100 + LINES310[i]);
	assert_int_equal(pyframes_line310(TABLE310, sizeof(TABLE310), 100, 1000), 0);
	/* -128: no line for those bytes (and no change); an empty pair moves
	 * the line only; a cut pair answers nothing. */
	static const uint8_t t[] = { 0x04, 0x01, 0x02, 0x80, 0x00, 0x05, 0x04, 0x02, 0x02 };
	int want[] = { 11, 11, 0, 18, 18, 0 };
	for (uint32_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(pyframes_line310(t, sizeof(t), 10, i), want[i]);
}

/* A python3.11 that sleeps; its pid, or -1 when there is none. */
static pid_t start_python(void)
{
	if (access("/usr/bin/python3.11", X_OK))
		return -1;
	int fds[2];
	if (pipe(fds))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		execl("/usr/bin/python3.11", "python3.11", "-c", "import time; print('up', flush=True); time.sleep(30)",
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char buf[8];
	ssize_t n = read(fds[0], buf, sizeof(buf)); /* interpreter set up */
	close(fds[0]);
	if (n <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static void test_attach_live(void **state)
{
	(void)state;
	pid_t pid = start_python();
	if (pid < 0)
		skip();
	struct pyframes *pf = NULL;
	struct symbolizer *sym = NULL;
	struct python_layout l;
	char why[160] = "";
	assert_int_equal(pyframes_new(&pf), 0);
	assert_int_equal(symbolizer_new(NULL, &sym), 0);
	assert_int_equal(symbolizer_track(sym, (uint32_t)pid, 7), 0);
	int err = pyframes_attach(pf, sym, (uint32_t)pid, 7, &l, why, sizeof(why));
	symbolizer_free(sym);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (err)
		fail_msg("attach: %s (%s)", strerror(-err), why);
	assert_int_equal(l.version >> 16, 0x030b);
	assert_true(l.eval_start && l.eval_end > l.eval_start);
	assert_true(pyframes_known(pf, (uint32_t)pid, 7));
	assert_false(pyframes_known(pf, (uint32_t)pid, 8));
	/* A frame whose code object was never read names nothing. */
	struct pyframe_info pi;
	assert_false(pyframes_resolve(pf, (uint32_t)pid, 7, 99, 0, 0x1234, &pi));
	pyframes_forget(pf, (uint32_t)pid, 7);
	assert_false(pyframes_known(pf, (uint32_t)pid, 7));
	pyframes_free(pf);
}

static void test_not_python(void **state)
{
	(void)state;
	struct pyframes *pf = NULL;
	struct symbolizer *sym = NULL;
	struct python_layout l;
	char why[160];
	assert_int_equal(pyframes_new(&pf), 0);
	assert_int_equal(symbolizer_new(NULL, &sym), 0);
	assert_int_equal(symbolizer_track(sym, (uint32_t)getpid(), 1), 0);
	assert_int_equal(pyframes_attach(pf, sym, (uint32_t)getpid(), 1, &l, why, sizeof(why)), -ENOENT);
	/* Not tracked: nothing to look at. */
	assert_int_equal(pyframes_attach(pf, sym, (uint32_t)getpid(), 2, &l, why, sizeof(why)), -ENOENT);
	symbolizer_free(sym);
	pyframes_free(pf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_table),
		cmocka_unit_test(test_line_table310),
		cmocka_unit_test(test_damaged_tables),
		cmocka_unit_test(test_attach_live),
		cmocka_unit_test(test_not_python),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
