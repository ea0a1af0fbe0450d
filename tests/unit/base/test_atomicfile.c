/* SPDX-License-Identifier: MIT */
/* Tests for base/atomicfile.h: commit, abort, symlinks, permissions. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/atomicfile.h"

static char dir[] = "/tmp/scorch-atomicfile-XXXXXX";

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/scorch-atomicfile-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd;
	if (asprintf(&cmd, "chmod -R u+w '%s' && rm -rf '%s'", dir, dir) < 0)
		return -1;
	int r = system(cmd);
	free(cmd);
	return r;
}

static char *in_dir(const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static size_t count_entries(void)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_commit_renames(void **state)
{
	(void)state;
	char *path = in_dir("out.txt");
	struct atomic_file af;
	assert_int_equal(atomic_file_open(&af, path), 0);
	assert_non_null(af.fp);
	assert_null(slurp(path)); /* nothing at the destination before commit */
	assert_int_equal(count_entries(), 1);
	fputs("hello\n", af.fp);
	assert_int_equal(atomic_file_commit(&af), 0);
	assert_null(af.fp);
	assert_null(af.tmp);
	assert_string_equal(slurp(path), "hello\n");
	assert_int_equal(count_entries(), 1); /* no temporary left */
	/* Committing over an existing file replaces it. */
	assert_int_equal(atomic_file_open(&af, path), 0);
	fputs("second\n", af.fp);
	assert_string_equal(slurp(path), "hello\n");
	assert_int_equal(atomic_file_commit(&af), 0);
	assert_string_equal(slurp(path), "second\n");
	assert_int_equal(count_entries(), 1);
	free(path);
}

static void test_mode_follows_umask(void **state)
{
	(void)state;
	char *path = in_dir("mode.txt");
	struct atomic_file af;
	struct stat st;
	mode_t old = umask(022);
	assert_int_equal(atomic_file_open(&af, path), 0);
	assert_int_equal(atomic_file_commit(&af), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	umask(077);
	assert_int_equal(atomic_file_open(&af, path), 0);
	assert_int_equal(atomic_file_commit(&af), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	umask(old);
	free(path);
}

static void test_abort_leaves_nothing(void **state)
{
	(void)state;
	char *path = in_dir("keep.txt");
	struct atomic_file af;
	write_file(path, "original\n");
	assert_int_equal(atomic_file_open(&af, path), 0);
	fputs("partial", af.fp);
	fflush(af.fp);
	assert_int_equal(count_entries(), 2);
	atomic_file_abort(&af);
	assert_int_equal(count_entries(), 1);
	assert_string_equal(slurp(path), "original\n");
	atomic_file_abort(&af); /* twice is fine */
	/* Abort without an existing destination leaves nothing at all. */
	char *fresh = in_dir("fresh.txt");
	assert_int_equal(atomic_file_open(&af, fresh), 0);
	atomic_file_abort(&af);
	assert_null(slurp(fresh));
	assert_int_equal(count_entries(), 1);
	/* Commit on a zeroed struct fails cleanly. */
	memset(&af, 0, sizeof(af));
	assert_int_equal(atomic_file_commit(&af), -EBADF);
	free(fresh);
	free(path);
}

static void test_symlink_replaced(void **state)
{
	(void)state;
	char *victim = in_dir("victim.txt");
	char *link = in_dir("link.txt");
	struct atomic_file af;
	struct stat st;
	write_file(victim, "precious\n");
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(atomic_file_open(&af, link), 0);
	fputs("new\n", af.fp);
	assert_int_equal(atomic_file_commit(&af), 0);
	assert_string_equal(slurp(victim), "precious\n"); /* not followed */
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode)); /* the link itself was replaced */
	assert_string_equal(slurp(link), "new\n");
	/* A dangling symlink is replaced too, and its target never created. */
	char *nowhere = in_dir("nowhere.txt");
	char *dangling = in_dir("dangling.txt");
	assert_int_equal(symlink(nowhere, dangling), 0);
	assert_int_equal(atomic_file_open(&af, dangling), 0);
	assert_int_equal(atomic_file_commit(&af), 0);
	assert_int_equal(lstat(dangling, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(access(nowhere, F_OK), -1);
	free(nowhere);
	free(dangling);
	free(victim);
	free(link);
}

static void test_errors(void **state)
{
	(void)state;
	struct atomic_file af;
	char *missing = in_dir("no/such/dir/out.txt");
	assert_int_equal(atomic_file_open(&af, missing), -ENOENT);
	assert_null(af.fp);
	assert_null(af.path);
	assert_null(af.tmp);
	free(missing);

	char *trailing = in_dir("sub/");
	assert_int_equal(atomic_file_open(&af, trailing), -EISDIR);
	free(trailing);

	/* A directory at the destination: the rename fails, nothing is left. */
	char *sub = in_dir("adir");
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(atomic_file_open(&af, sub), 0);
	int err = atomic_file_commit(&af);
	assert_true(err == -EISDIR || err == -ENOTEMPTY || err == -EEXIST);
	assert_int_equal(count_entries(), 1);
	free(sub);

	/* An unwritable directory (root ignores modes: skip that part). */
	char *ro = in_dir("ro");
	assert_int_equal(mkdir(ro, 0555), 0);
	char *inro = in_dir("ro/out.txt");
	err = atomic_file_open(&af, inro);
	if (geteuid() != 0) {
		assert_int_equal(err, -EACCES);
	} else if (!err) {
		atomic_file_abort(&af);
	}
	free(inro);
	free(ro);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_commit_renames, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mode_follows_umask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
