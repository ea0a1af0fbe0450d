/* SPDX-License-Identifier: MIT */
/*
 * openroot: a root directory whose symlinks and ".." try to reach the files
 * beside it.  Every case runs twice: with openat2, then with openat2 made to
 * fail with ENOSYS by a seccomp filter (the component-by-component walk).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/openroot.h"

/* The outside (a temporary directory) and the root inside it:
 *   OUT/secret "host"        OUT/top "host-top"
 *   ROOT/top "root-top"      ROOT/a/file "file"
 *   ROOT/OUT/secret "mirror" (where an absolute link lands inside the root)
 *   ROOT/abs, ROOT/a/abs -> OUT/secret   ROOT/absdir -> OUT   (absolute)
 *   ROOT/lib -> a            ROOT/a/up -> ../../../top   ROOT/a/deep -> ../../../../OUT/secret
 *   ROOT/loop1 -> loop2 -> loop1 */
static char out[64], root[128];

static void put(const char *dir, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_at(const char *target, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	(void)state;
	char path[512];
	snprintf(out, sizeof(out), "/tmp/scorch-openroot-XXXXXX");
	assert_non_null(mkdtemp(out));
	snprintf(root, sizeof(root), "%s/root", out);
	assert_int_equal(mkdir(root, 0755), 0);
	put(out, "secret", "host");
	put(out, "top", "host-top");
	put(root, "top", "root-top");
	snprintf(path, sizeof(path), "%s/a", root);
	assert_int_equal(mkdir(path, 0755), 0);
	put(root, "a/file", "file");
	/* The outside directory's path, recreated inside the root. */
	snprintf(path, sizeof(path), "%s/tmp", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s%s", root, out);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/secret", out + 1);
	put(root, path, "mirror");
	snprintf(path, sizeof(path), "%s/secret", out);
	link_at(path, "abs");
	link_at(out, "absdir");
	link_at(path, "a/abs");
	link_at("a", "lib");
	link_at("../../../top", "a/up");
	snprintf(path, sizeof(path), "../../../..%s/secret", out);
	link_at(path, "a/deep");
	link_at("loop2", "loop1");
	link_at("loop1", "loop2");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	return system(cmd) == 0 ? 0 : -1;
}

/* What open_in_root(root, path) reads, or "-ERRNO". */
static const char *read_in(const char *dir, const char *path, int flags)
{
	static char buf[64];
	int fd = open_in_root(dir, path, O_RDONLY | flags);
	if (fd < 0) {
		snprintf(buf, sizeof(buf), "-%s", strerrorname_np(-fd));
		return buf;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_normal_paths(void **state)
{
	(void)state;
	assert_string_equal(read_in(root, "/a/file", 0), "file");
	assert_string_equal(read_in(root, "a/file", 0), "file");
	assert_string_equal(read_in(root, "//a/./file", 0), "file");
	assert_string_equal(read_in(root, "/lib/file", 0), "file"); /* a relative link inside */
	assert_string_equal(read_in(root, "/top", 0), "root-top");
	assert_string_equal(read_in(root, "/a/../top", 0), "root-top");
	/* Our own root: a plain open. */
	char path[512];
	snprintf(path, sizeof(path), "%s/secret", out);
	assert_string_equal(read_in("", path, 0), "host");
	assert_string_equal(read_in(NULL, path, 0), "host");
	/* The root itself, as a directory. */
	struct stat a, b;
	int fd = open_in_root(root, "/", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(root, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	close(fd);
}

/* A FIFO where a file is expected: refused at once (opening it blocking
 * would wait for a writer forever); a regular file opens, and reads block. */
static void test_regular_file_only(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/a/fifo", root);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(open_file_in_root(root, "/a/fifo"), -EINVAL);
	assert_int_equal(open_file_in_root(root, "/a"), -EINVAL); /* a directory */
	int fd = open_file_in_root(root, "/a/file");
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	/* Still confined: the absolute link reads the root's copy, not ours. */
	char buf[16] = "";
	fd = open_file_in_root(root, "/abs");
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "mirror");
}

static void test_symlink_escape(void **state)
{
	(void)state;
	char path[512];
	/* An absolute link lands on the copy inside the root, never outside. */
	assert_string_equal(read_in(root, "/abs", 0), "mirror");
	assert_string_equal(read_in(root, "/absdir/secret", 0), "mirror");
	assert_string_equal(read_in(root, "/a/abs", 0), "mirror");
	assert_string_equal(read_in(root, "/lib/abs", 0), "mirror");
	assert_string_equal(read_in(root, "/a/deep", 0), "mirror");
	snprintf(path, sizeof(path), "%s/secret", out);
	assert_string_equal(read_in(root, path, 0), "mirror");
	/* Without the copy, nothing. */
	snprintf(path, sizeof(path), "%s%s/secret", root, out);
	assert_int_equal(rename(path, "/tmp/scorch-openroot-moved"), 0);
	assert_string_equal(read_in(root, "/abs", 0), "-ENOENT");
	assert_string_equal(read_in(root, "/absdir/secret", 0), "-ENOENT");
	assert_int_equal(rename("/tmp/scorch-openroot-moved", path), 0);
	/* A magic link (/proc/self/root is ours) is not followed out. */
	snprintf(path, sizeof(path), "/root%s/secret", out);
	assert_int_equal(read_in("/proc/self", path, 0)[0], '-');
	/* Plain /proc/PID/root-style opening would have escaped: the test's
	 * premise. */
	snprintf(path, sizeof(path), "%s/abs", root);
	assert_string_equal(read_in("", path, 0), "host");
}

static void test_dotdot_escape(void **state)
{
	(void)state;
	assert_string_equal(read_in(root, "../top", 0), "root-top");
	assert_string_equal(read_in(root, "/../../../../top", 0), "root-top");
	assert_string_equal(read_in(root, "/a/../../top", 0), "root-top");
	assert_string_equal(read_in(root, "/a/up", 0), "root-top");
	assert_string_equal(read_in(root, "/lib/up", 0), "root-top");
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(read_in(root, "/abs", O_NOFOLLOW), "-ELOOP");
	assert_string_equal(read_in(root, "/loop1", 0), "-ELOOP");
	assert_string_equal(read_in(root, "/a/file/x", 0), "-ENOTDIR");
	assert_string_equal(read_in(root, "/none", 0), "-ENOENT");
	assert_string_equal(read_in(root, "", 0), "-ENOENT");
	assert_string_equal(read_in("/no/such/root", "/a/file", 0), "-ENOENT");
	assert_int_equal(open_in_root(root, "/new", O_WRONLY | O_CREAT), -EINVAL);
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_string_equal(read_in(root, big, 0), "-ENAMETOOLONG");
}

/* Makes openat2 fail with ENOSYS from now on, as an old kernel would. */
static int no_openat2(void **state)
{
	(void)state;
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -1;
	if (syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) != -1 || errno != ENOSYS)
		return -1;
	return setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normal_paths),
	    cmocka_unit_test(test_regular_file_only),
	    cmocka_unit_test(test_symlink_escape),
	    cmocka_unit_test(test_dotdot_escape),
	    cmocka_unit_test(test_errors),
	};
	int failed = cmocka_run_group_tests_name("openroot (openat2)", tests, setup, teardown);
	return failed + cmocka_run_group_tests_name("openroot (walk)", tests, no_openat2, teardown);
}
