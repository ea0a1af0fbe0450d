/* SPDX-License-Identifier: MIT */
/* The symbolizer on this very process: a function of the (PIE) test binary,
 * one of a shared library, the vdso, unmapped addresses and a gone process;
 * kernel addresses against a kallsyms file written here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize/procmaps.h"
#include "symbolize/symbolizer.h"

uint64_t fixture_beta(uint64_t x);

__attribute__((noinline)) int symbolizer_test_marker(int x)
{
	return x * 7;
}

static void test_self(void **state)
{
	(void)state;
	struct symbolizer *s = NULL;
	struct sym_batch b;
	uint32_t pid = (uint32_t)getpid();
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	uint64_t addrs[] = {
		(uint64_t)(uintptr_t)symbolizer_test_marker + 2,
		(uint64_t)(uintptr_t)fixture_beta,
		vdso ? vdso + 0x10 : 0,
		0x10, /* nothing is mapped there */
	};

	assert_int_equal(symbolizer_new(NULL, &s), 0);
	sym_batch_init(&b);
	assert_int_equal(symbolizer_track(s, pid, 1), 0);
	assert_int_equal(symbolizer_resolve_user(s, pid, 1, addrs, 4, &b), 0);
	assert_int_equal(b.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(b.first[i + 1] - b.first[i], 1);

	const struct sym_frame *f = &b.frames[0];
	assert_string_equal(f->name, "symbolizer_test_marker");
	assert_non_null(strstr(f->module, "test_symbolizer"));
	assert_int_equal(f->miss, SYM_OK);
	assert_true(f->map_start <= addrs[0] && addrs[0] < f->map_limit);

	f = &b.frames[1];
	assert_string_equal(f->name, "fixture_beta");
	assert_non_null(strstr(f->module, "libfixture.so"));
	assert_non_null(f->build_id);

	if (vdso)
		assert_string_equal(b.frames[2].module, "[vdso]");

	f = &b.frames[3];
	assert_null(f->name);
	assert_int_equal(f->miss, SYM_MISS_NO_MAPPING);

	/* A process that does not exist. */
	assert_int_equal(symbolizer_track(s, 0x7ffffffe, 1), -ESRCH);
	assert_int_equal(symbolizer_resolve_user(s, 0x7ffffffe, 1, addrs, 1, &b), 0);
	assert_int_equal(b.frames[0].miss, SYM_MISS_NO_PROCESS);

	/* One file load however often it is asked for. */
	struct symbolizer_stats st;
	symbolizer_stats(s, &st);
	uint64_t files = st.files;
	assert_int_equal(symbolizer_track(s, pid, 2), 0);
	assert_int_equal(symbolizer_resolve_user(s, pid, 2, addrs, 2, &b), 0);
	symbolizer_stats(s, &st);
	assert_int_equal(st.files, files);

	sym_batch_release(&b);
	symbolizer_free(s);
}

/* Resolves the marker and fixture_beta in (pid, gen), checking the names. */
static void resolve_two(struct symbolizer *s, uint32_t gen, struct sym_batch *b)
{
	uint32_t pid = (uint32_t)getpid();
	uint64_t addrs[] = { (uint64_t)(uintptr_t)symbolizer_test_marker + 2, (uint64_t)(uintptr_t)fixture_beta };
	assert_int_equal(symbolizer_resolve_user(s, pid, gen, addrs, 2, b), 0);
	assert_string_equal(b->frames[b->first[0]].name, "symbolizer_test_marker");
	assert_string_equal(b->frames[b->first[1]].name, "fixture_beta");
}

/* Files stay while a tracked process maps them; once none does, trimming
 * frees all but opts.idle_files of them, and a later process loads them again. */
static void test_trim(void **state)
{
	(void)state;
	struct symbolizer_opts o = { .idle_files = 1 };
	struct symbolizer *s = NULL;
	struct symbolizer_stats st;
	struct sym_batch b;
	uint32_t pid = (uint32_t)getpid();

	assert_int_equal(symbolizer_new(&o, &s), 0);
	sym_batch_init(&b);
	assert_int_equal(symbolizer_track(s, pid, 1), 0);
	resolve_two(s, 1, &b);
	symbolizer_stats(s, &st);
	size_t cached = st.files_cached;
	assert_true(cached >= 3); /* the test, libfixture.so, libc at least */

	symbolizer_trim(s);
	symbolizer_stats(s, &st);
	assert_int_equal(st.files_cached, cached);

	/* Another process mapping the same files keeps them. */
	assert_int_equal(symbolizer_track(s, pid, 2), 0);
	symbolizer_forget(s, pid, 1);
	symbolizer_trim(s);
	symbolizer_stats(s, &st);
	assert_int_equal(st.files_cached, cached);
	assert_int_equal(st.files_released, 0);

	symbolizer_forget(s, pid, 2);
	symbolizer_trim(s);
	symbolizer_stats(s, &st);
	assert_int_equal(st.files_cached, 1);
	assert_int_equal(st.files_released, cached - 1);

	/* Loaded again for the next process, names as before. */
	assert_int_equal(symbolizer_track(s, pid, 3), 0);
	resolve_two(s, 3, &b);
	symbolizer_stats(s, &st);
	assert_int_equal(st.files_cached, cached);

	sym_batch_release(&b);
	symbolizer_free(s);
}

static void test_kernel(void **state)
{
	(void)state;
	char path[] = "/tmp/scorch-kallsyms-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char text[] = "ffffffff81000000 T _stext\nffffffff81000100 t schedule\n"
				   "ffffffffc0000000 t ext4_readdir\t[ext4]\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);

	struct symbolizer_opts o = { .kallsyms_path = path };
	struct symbolizer *s = NULL;
	struct sym_batch b;
	uint64_t addrs[] = { 0xffffffff81000105, 0xffffffffc0000010, 0x100 };
	assert_int_equal(symbolizer_new(&o, &s), 0);
	sym_batch_init(&b);
	assert_int_equal(symbolizer_resolve_kernel(s, addrs, 3, &b), 0);
	assert_string_equal(b.frames[0].name, "schedule");
	assert_string_equal(b.frames[0].module, "[kernel.kallsyms]");
	assert_true(b.frames[0].kernel);
	assert_string_equal(b.frames[1].name, "ext4_readdir");
	assert_string_equal(b.frames[1].module, "ext4");
	assert_null(b.frames[2].name);
	assert_int_equal(b.frames[2].miss, SYM_MISS_KERNEL);
	sym_batch_release(&b);
	symbolizer_free(s);
	unlink(path);
}

/* With the per-boot cache of core symbols, a module's address is named from
 * kallsyms' module lines read beside it, in a later call too. */
static void test_kernel_cached(void **state)
{
	(void)state;
	char dir[] = "/tmp/scorch-kcache-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kallsyms", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("ffffffff81000000 T _stext\nffffffff81000100 t schedule\n"
	      "ffffffffc0000000 t ext4_readdir\t[ext4]\nffffffffc0001000 t ext4_write\t[ext4]\n", f);
	fclose(f);
	struct symbolizer_opts o = { .kallsyms_path = path, .kernel_cache_dir = dir };
	uint64_t core[] = { 0xffffffff81000105 }, mixed[] = { 0xffffffffc0001010, 0xffffffff81000101 };
	struct sym_batch b;
	sym_batch_init(&b);
	for (int run = 0; run < 2; run++) { /* the first run writes the cache, the second reads it */
		struct symbolizer *s = NULL;
		assert_int_equal(symbolizer_new(&o, &s), 0);
		assert_int_equal(symbolizer_resolve_kernel(s, core, 1, &b), 0);
		assert_string_equal(b.frames[0].name, "schedule");
		assert_int_equal(symbolizer_resolve_kernel(s, mixed, 2, &b), 0);
		assert_string_equal(b.frames[0].name, "ext4_write");
		assert_string_equal(b.frames[0].module, "ext4");
		assert_string_equal(b.frames[1].name, "schedule");
		assert_string_equal(b.frames[1].module, "[kernel.kallsyms]");
		assert_int_equal(symbolizer_resolve_kernel(s, mixed, 1, &b), 0);
		assert_string_equal(b.frames[0].name, "ext4_write");
		symbolizer_free(s);
	}
	sym_batch_release(&b);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A JIT map handed over as text (a JVM's Compiler.codelist): names
 * anonymous executable memory, each text replacing the one before whole;
 * the same text again is not a new version. */
static void test_set_jit(void **state)
{
	(void)state;
	struct symbolizer *s = NULL;
	struct sym_batch b;
	uint32_t pid = (uint32_t)getpid();
	void *code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(code != MAP_FAILED);
	uint64_t at = (uint64_t)(uintptr_t)code, addrs[] = { at + 0x10, at + 0x110 };
	char one[128], two[128];
	snprintf(one, sizeof(one), "%" PRIx64 " 100 long A.b(int)\n", at);
	snprintf(two, sizeof(two), "%" PRIx64 " 80 void A.c()\n", at + 0x100);

	assert_int_equal(symbolizer_new(NULL, &s), 0);
	sym_batch_init(&b);
	assert_int_equal(symbolizer_set_jit(s, pid, 1, one, strlen(one)), -ENOENT);
	assert_int_equal(symbolizer_track(s, pid, 1), 0);
	assert_int_equal(symbolizer_set_jit(s, pid, 1, one, strlen(one)), 0);
	assert_int_equal(symbolizer_set_jit(s, pid, 1, one, strlen(one)), 0);
	assert_int_equal(symbolizer_jit_version(s, pid, 1), 1);
	assert_int_equal(symbolizer_resolve_user(s, pid, 1, addrs, 2, &b), 0);
	assert_string_equal(b.frames[b.first[0]].name, "long A.b(int)");
	assert_true(b.frames[b.first[0]].jit);
	assert_string_equal(b.frames[b.first[0]].module, "[jit]");
	assert_null(b.frames[b.first[1]].name);

	assert_int_equal(symbolizer_set_jit(s, pid, 1, two, strlen(two)), 0);
	assert_int_equal(symbolizer_jit_version(s, pid, 1), 2);
	assert_int_equal(symbolizer_track(s, pid, 1), 0); /* the file is not read again */
	assert_int_equal(symbolizer_resolve_user(s, pid, 1, addrs, 2, &b), 0);
	assert_null(b.frames[b.first[0]].name);
	assert_string_equal(b.frames[b.first[1]].name, "void A.c()");

	sym_batch_release(&b);
	symbolizer_free(s);
	munmap(code, 4096);
}

/* A file the first reading could not open, though its map_files entry
 * was there to stat (a main thread's pthread_exit between the two takes
 * map_files and the root away): opened at a later reading through another
 * way in (a live thread's root), not left unnamed for the rest of the run.
 * A fake /proc: a socket stands in for each of libfixture.so's map_files
 * entries (stat works, open does not); no root at first, then one. */
static void test_reopen(void **state)
{
	(void)state;
	char dir[] = "/tmp/symreopen-XXXXXX", path[256];
	uint32_t pid = (uint32_t)getpid();
	struct procmaps self;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%" PRIu32, dir, pid);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/map_files", dir, pid);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(procmaps_read(pid, &self), 0);
	size_t sockets = 0;
	for (size_t i = 0; i < self.n; i++) {
		if (!strstr(self.maps[i].path, "libfixture.so"))
			continue;
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		procmap_files_path(dir, pid, &self.maps[i], sa.sun_path, sizeof(sa.sun_path));
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
		sockets++;
	}
	procmaps_release(&self);
	assert_true(sockets > 0);

	struct symbolizer_opts o = { .proc_root = dir };
	struct symbolizer *s = NULL;
	struct sym_batch b;
	uint64_t addr = (uint64_t)(uintptr_t)fixture_beta;
	assert_int_equal(symbolizer_new(&o, &s), 0);
	sym_batch_init(&b);
	assert_int_equal(symbolizer_track(s, pid, 1), 0);
	assert_int_equal(symbolizer_resolve_user(s, pid, 1, &addr, 1, &b), 0);
	assert_null(b.frames[0].name);

	snprintf(path, sizeof(path), "%s/%" PRIu32 "/root", dir, pid);
	assert_int_equal(symlink("/", path), 0);
	assert_int_equal(symbolizer_track(s, pid, 2), 0);
	assert_int_equal(symbolizer_resolve_user(s, pid, 2, &addr, 1, &b), 0);
	assert_non_null(b.frames[0].name);
	assert_string_equal(b.frames[0].name, "fixture_beta");
	assert_non_null(strstr(b.frames[0].module, "libfixture.so"));

	sym_batch_release(&b);
	symbolizer_free(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	fixture_beta(2);
	symbolizer_test_marker(3);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_kernel_cached),
		cmocka_unit_test(test_set_jit),
		cmocka_unit_test(test_reopen),
	};
	return cmocka_run_group_tests_name("symbolizer", tests, NULL, NULL);
}
