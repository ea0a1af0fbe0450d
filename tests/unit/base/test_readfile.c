/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/readfile.h"

/* A temporary file holding n bytes of a known pattern, open for reading. */
static int pattern_file(size_t n)
{
	char path[] = "/tmp/scorch-readfile-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	for (size_t i = 0; i < n; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(write(fd, &c, 1), 1);
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void test_whole_and_truncated(void **state)
{
	(void)state;
	size_t sizes[] = { 0, 1, 65535, 65536, 65537, 200000 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int fd = pattern_file(sizes[k]);
		char *buf = NULL;
		size_t len = 0;
		assert_int_equal(read_fd_all(fd, SIZE_MAX, &buf, &len), 0);
		assert_int_equal(len, sizes[k]);
		assert_int_equal(buf[len], '\0');
		for (size_t i = 0; i < len; i++)
			assert_int_equal(buf[i], 'a' + i % 26);
		free(buf);

		/* At most max bytes: the rest is ignored. */
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		assert_int_equal(read_fd_all(fd, 70000, &buf, &len), 0);
		assert_int_equal(len, sizes[k] < 70000 ? sizes[k] : 70000);
		assert_int_equal(buf[len], '\0');
		free(buf);
		close(fd);
	}
}

static void test_procfs_and_errors(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	int fd = open("/proc/self/maps", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read_fd_all(fd, SIZE_MAX, &buf, &len), 0);
	assert_non_null(strstr(buf, "test_readfile"));
	assert_int_equal(strlen(buf), len);
	free(buf);
	close(fd);
	assert_true(read_fd_all(-1, SIZE_MAX, &buf, &len) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_and_truncated),
		cmocka_unit_test(test_procfs_and_errors),
	};
	return cmocka_run_group_tests_name("readfile", tests, NULL, NULL);
}
