/* SPDX-License-Identifier: MIT */
/*
 * The DWARF cache: lookups through a cache file are exactly those through
 * libdw on the compressed original (every address of the code, names, files,
 * lines and inline chains), for a fixture compressed by objcopy and for
 * libc's debug file when libc6-dbg is installed; a truncated, corrupted or
 * foreign cache file is refused and written again; an unsafe directory and
 * a file without compressed DWARF are not used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize/dwarfcache.h"
#include "symbolize/dwarfidx.h"
#include "symbolize/elfsym.h"

static char dir[] = "/tmp/scorch-dwcache-XXXXXX";

/* [lo, hi) of the first SHF_EXECINSTR section named .text of the file. */
static void text_range(int fd, uint64_t *lo, uint64_t *hi)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	*lo = *hi = 0;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		assert_non_null(gelf_getshdr(scn, &sh));
		if (!strcmp(elf_strptr(e, shstrndx, sh.sh_name), ".text")) {
			*lo = sh.sh_addr;
			*hi = sh.sh_addr + sh.sh_size;
		}
	}
	elf_end(e);
	assert_true(*hi > *lo);
}

static void assert_same_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Looks up every step-th address of the text through both and compares;
 * how many addresses had DWARF. */
static size_t compare(int orig, int cached, uint64_t step)
{
	struct strpool p1, p2;
	struct dwarfidx *a, *b;
	struct dw_frame fa[32], fb[32];
	uint64_t lo, hi;
	size_t covered = 0;
	strpool_init(&p1);
	strpool_init(&p2);
	assert_int_equal(dwarfidx_open(orig, &p1, &a), 0);
	assert_int_equal(dwarfidx_open(cached, &p2, &b), 0);
	assert_true(dwarfidx_compressed(a));
	assert_false(dwarfidx_compressed(b));
	text_range(orig, &lo, &hi);
	for (uint64_t pc = lo; pc < hi; pc += step) {
		size_t n = dwarfidx_lookup(a, pc, fa, 32);
		assert_int_equal(dwarfidx_lookup(b, pc, fb, 32), n);
		for (size_t i = 0; i < n; i++) {
			assert_same_str(fa[i].name, fb[i].name);
			assert_same_str(fa[i].file, fb[i].file);
			assert_int_equal(fa[i].line, fb[i].line);
			assert_int_equal(fa[i].mangled, fb[i].mangled);
		}
		covered += n > 0;
	}
	dwarfidx_free(a);
	dwarfidx_free(b);
	strpool_release(&p1);
	strpool_release(&p2);
	return covered;
}

static void check_file(const char *path, uint64_t step)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), cfd = -1, cfd2 = -1;
	assert_true(fd >= 0);
	assert_int_equal(dwarfcache_open(dir, fd, 0, &cfd), 0);
	assert_true(compare(fd, cfd, step) > 0);
	/* The second time the file is read from the cache as written. */
	assert_int_equal(dwarfcache_open(dir, fd, 0, &cfd2), 0);
	assert_true(compare(fd, cfd2, step) > 0);
	close(cfd);
	close(cfd2);
	close(fd);
}

static void test_fixture_same(void **state)
{
	(void)state;
	check_file(INL_Z_LIB, 1);
}

/* The debug file of this process's libc, when libc6-dbg is installed. */
static bool libc_debug(char *out, size_t len)
{
	char line[4096], path[4096] = "";
	FILE *f = fopen("/proc/self/maps", "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');
		if (p && strstr(p, "/libc.so.6")) {
			p[strcspn(p, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s", p);
			break;
		}
	}
	fclose(f);
	int fd = path[0] ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct elfsym_file *e = NULL;
	bool ok = fd >= 0 && !elfsym_load_fd(fd, &e) && elfsym_build_id(e);
	if (ok) {
		const char *bid = elfsym_build_id(e);
		snprintf(out, len, "/usr/lib/debug/.build-id/%.2s/%s.debug", bid, bid + 2);
		ok = access(out, R_OK) == 0;
	}
	elfsym_free(e);
	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_libc_same(void **state)
{
	char path[4200];
	(void)state;
	if (!libc_debug(path, sizeof(path))) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("libc6-dbg is not installed (scripts/deps installs it)");
		skip();
	}
	check_file(path, 13);
}

static void cache_path(const char *lib, char *out, size_t len, char *bid, size_t bidlen)
{
	int fd = open(lib, O_RDONLY | O_CLOEXEC);
	struct elfsym_file *e = NULL;
	assert_true(fd >= 0);
	assert_int_equal(elfsym_load_fd(fd, &e), 0);
	snprintf(bid, bidlen, "%s", elfsym_build_id(e));
	snprintf(out, len, "%s/dwarf-%s.debug", dir, bid);
	elfsym_free(e);
	close(fd);
}

static void rewrite(const char *path, off_t at, const void *bytes, size_t n, off_t truncate_to)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	if (n)
		assert_int_equal(pwrite(fd, bytes, n, at), (ssize_t)n);
	if (truncate_to >= 0)
		assert_int_equal(ftruncate(fd, truncate_to), 0);
	close(fd);
}

/* A damaged cache file is refused by the check, and dwarfcache_open writes
 * a good one in its place. */
static void test_damaged(void **state)
{
	char path[4200], bid[129];
	struct stat st;
	int fd = open(INL_Z_LIB, O_RDONLY | O_CLOEXEC), cfd;
	(void)state;
	assert_true(fd >= 0);
	cache_path(INL_Z_LIB, path, sizeof(path), bid, sizeof(bid));
	assert_int_equal(dwarfcache_open(dir, fd, 0, &cfd), 0);
	close(cfd);
	assert_int_equal(stat(path, &st), 0);
	for (int damage = 0; damage < 4; damage++) {
		cfd = open(path, O_RDONLY | O_CLOEXEC);
		assert_int_equal(dwarfcache_check(cfd, bid), 0);
		close(cfd);
		if (damage == 0) {
			rewrite(path, 0, NULL, 0, st.st_size / 2); /* truncated */
		} else if (damage == 1) {
			uint8_t b = 0;
			assert_int_equal(pread(fd, &b, 1, 0), 1);
			cfd = open(path, O_RDONLY | O_CLOEXEC);
			assert_int_equal(pread(cfd, &b, 1, 300), 1); /* in the first kept section's bytes */
			close(cfd);
			b ^= 0x40;
			rewrite(path, 300, &b, 1, -1);
		} else if (damage == 2) {
			rewrite(path, 0, NULL, 0, st.st_size - 8); /* the checksum cut */
		} else {
			/* Intact but another file's: the check is by build ID. */
			cfd = open(path, O_RDONLY | O_CLOEXEC);
			char other[129];
			snprintf(other, sizeof(other), "%s", bid);
			other[0] = other[0] == 'a' ? 'b' : 'a';
			assert_int_equal(dwarfcache_check(cfd, other), -EINVAL);
			close(cfd);
			continue;
		}
		cfd = open(path, O_RDONLY | O_CLOEXEC);
		assert_int_equal(dwarfcache_check(cfd, bid), -EINVAL);
		close(cfd);
		assert_int_equal(dwarfcache_open(dir, fd, 0, &cfd), 0);
		assert_int_equal(dwarfcache_check(cfd, bid), 0);
		assert_true(compare(fd, cfd, 1) > 0);
		close(cfd);
	}
	close(fd);
}

static void test_not_used(void **state)
{
	int fd = open(INL_LIB, O_RDONLY | O_CLOEXEC), zfd = open(INL_Z_LIB, O_RDONLY | O_CLOEXEC), cfd = -1;
	char open_dir[] = "/tmp/scorch-dwcache-open-XXXXXX";
	(void)state;
	assert_true(fd >= 0 && zfd >= 0);
	/* Uncompressed DWARF: nothing to gain, read in place already. */
	assert_int_equal(dwarfcache_open(dir, fd, 0, &cfd), -ENODATA);
	/* A directory others may write to is not trusted. */
	assert_non_null(mkdtemp(open_dir));
	assert_int_equal(chmod(open_dir, 0777), 0);
	assert_int_equal(dwarfcache_open(open_dir, zfd, 0, &cfd), -EPERM);
	assert_int_equal(rmdir(open_dir), 0);
	close(fd);
	close(zfd);
}

/* The directory is bounded: with room for one file, writing another
 * removes the least recently used. */
static void test_bounded(void **state)
{
	char path[4200], bid[129];
	int fd = open(INL_Z_LIB, O_RDONLY | O_CLOEXEC), cfd;
	(void)state;
	assert_true(fd >= 0);
	cache_path(INL_Z_LIB, path, sizeof(path), bid, sizeof(bid));
	char other[4300];
	snprintf(other, sizeof(other), "%s/dwarf-00.debug", dir);
	FILE *f = fopen(other, "we");
	assert_non_null(f);
	assert_int_equal(fputs("old", f) >= 0, 1);
	fclose(f);
	struct timespec old[2] = { { 1, 0 }, { 1, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, other, old, 0), 0);
	unlink(path);
	assert_int_equal(dwarfcache_open(dir, fd, 1, &cfd), 0);
	close(cfd);
	assert_int_equal(access(path, F_OK), 0); /* the one just written stays */
	assert_int_equal(access(other, F_OK), -1);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_same), cmocka_unit_test(test_libc_same), cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_not_used),     cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
