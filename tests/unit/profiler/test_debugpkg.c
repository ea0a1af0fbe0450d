/* SPDX-License-Identifier: MIT */
/* debugpkg: owners from a fake dpkg database, and debug package names. */
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

#include "profiler/debugpkg.h"

static void put(const char *root, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/var/lib/dpkg/info/%s", root, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A root with dpkg's info directory holding three packages' lists; /bin and
 * /lib symlinks to usr/ when merged. */
static void make_root(char *root, size_t len, bool merged)
{
	char p[512];
	snprintf(root, len, "/tmp/test_debugpkg.XXXXXX");
	assert_non_null(mkdtemp(root));
	const char *dirs[] = {"var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info",
			      "usr", "usr/bin", "usr/lib"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	if (merged) {
		snprintf(p, sizeof(p), "%s/bin", root);
		assert_int_equal(symlink("usr/bin", p), 0);
		snprintf(p, sizeof(p), "%s/lib", root);
		assert_int_equal(symlink("usr/lib", p), 0);
	}
	put(root, "python3.11-minimal:amd64.list", "/.\n/usr\n/usr/bin\n/usr/bin/python3.11\n");
	put(root, "libc6:amd64.list", "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6");
	put(root, "libpython3.11-stdlib:amd64.list",
	    "/usr/lib/python3.11/lib-dynload\n/usr/lib/python3.11/lib-dynload/"
	    "_json.cpython-311-x86_64-linux-gnu.so\n");
	put(root, "libc6:amd64.md5sums", "0123 /opt/not-a-list\n");
	put(root, "python3-foo.list", "/usr/bin/foo\n");
}

static void remove_root(const char *root)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_owners_merged_usr(void **state)
{
	(void)state;
	char root[64];
	make_root(root, sizeof(root), true);
	struct debugpkg_query q[] = {
	    {.path = "/usr/bin/python3.11"},
	    {.path = "/usr/lib/x86_64-linux-gnu/libc.so.6"}, /* listed under /lib */
	    {.path = "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so"},
	    {.path = "/bin/python3.11"},     /* listed under /usr/bin */
	    {.path = "/opt/not-a-list"},     /* only in a .md5sums */
	    {.path = "/usr/bin/python3.1"},  /* a prefix of a listed path */
	    {.path = "/usr/bin/python3.11"}, /* asked twice */
	    {.path = "/usr/bin/foo"},	     /* a .list without :ARCH */
	    {.path = "/usr/libexec/x"},	     /* /usr/libexec is not /libexec */
	};
	assert_int_equal(debugpkg_owners(root, q, sizeof(q) / sizeof(q[0])), 0);
	assert_string_equal(q[0].pkg, "python3.11-minimal");
	assert_string_equal(q[1].pkg, "libc6");
	assert_string_equal(q[2].pkg, "libpython3.11-stdlib");
	assert_string_equal(q[3].pkg, "python3.11-minimal");
	assert_string_equal(q[4].pkg, "");
	assert_string_equal(q[5].pkg, "");
	assert_string_equal(q[6].pkg, "python3.11-minimal");
	assert_string_equal(q[7].pkg, "python3-foo");
	assert_string_equal(q[8].pkg, "");
	remove_root(root);
}

/* Without merged /usr, /usr/lib/x and /lib/x are different files. */
static void test_owners_split_usr(void **state)
{
	(void)state;
	char root[64];
	make_root(root, sizeof(root), false);
	struct debugpkg_query q[] = {
	    {.path = "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	    {.path = "/lib/x86_64-linux-gnu/libc.so.6"},
	    {.path = "/bin/python3.11"},
	};
	assert_int_equal(debugpkg_owners(root, q, 3), 0);
	assert_string_equal(q[0].pkg, "");
	assert_string_equal(q[1].pkg, "libc6");
	assert_string_equal(q[2].pkg, "");
	remove_root(root);
}

static void test_no_database(void **state)
{
	(void)state;
	struct debugpkg_query q[] = {{.path = "/usr/bin/python3.11"}};
	assert_int_equal(debugpkg_owners("/nonexistent-root", q, 1), -ENOENT);
	assert_string_equal(q[0].pkg, "");
	char root[64] = "/tmp/test_debugpkg.XXXXXX";
	assert_non_null(mkdtemp(root));
	assert_int_equal(debugpkg_owners(root, q, 1), -ENOENT);
	assert_string_equal(q[0].pkg, "");
	remove_root(root);
}

static void check_name(const char *pkg, const char *want, bool archive)
{
	char out[160];
	assert_int_equal(debugpkg_debug_name(pkg, out, sizeof(out)), archive);
	assert_string_equal(out, want);
}

static void test_debug_names(void **state)
{
	(void)state;
	check_name("libc6", "libc6-dbg", false);
	check_name("python3.11-minimal", "python3.11-dbg", false);
	check_name("python3.11", "python3.11-dbg", false);
	check_name("libpython3.11-stdlib", "python3.11-dbg", false);
	check_name("libpython3.11", "python3.11-dbg", false);
	check_name("libpython3.11-minimal", "python3.11-dbg", false);
	check_name("python3.11-stdlib", "python3.11-stdlib-dbgsym", true); /* no such package */
	check_name("python3.11-venv", "python3.11-venv-dbgsym", true);
	check_name("python3-foo", "python3-foo-dbgsym", true);
	check_name("libc6-dev", "libc6-dev-dbgsym", true);
	check_name("libssl3", "libssl3-dbgsym", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_owners_merged_usr),
	    cmocka_unit_test(test_owners_split_usr),
	    cmocka_unit_test(test_no_database),
	    cmocka_unit_test(test_debug_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
