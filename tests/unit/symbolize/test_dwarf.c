/* SPDX-License-Identifier: MIT */
/*
 * DWARF through the symbolizer: inline chains with exact names and lines
 * (C and C++), names-only and no-inline modes, debug info found by build ID
 * and by .gnu_debuglink, a stripped file without it, and a library deleted
 * after it was loaded.  Each case loads its library in a child process (the
 * copies share a soname, so one process could hold only one), which reports
 * the address and lines of its inlined code and waits to be symbolized.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
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

#include "symbolize/symbolizer.h"

struct where {
	uint64_t pc;
	int leaf_line, middle_call_line, outer_call_line;
};

struct child {
	pid_t pid;
	int release; /* write end: closing it lets the child exit */
	struct where w;
};

/* Runs the library's entry point in a child; fills c->w from it. */
static void child_start(const char *lib, bool cxx, struct child *c)
{
	int up[2], down[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		struct where w = { 0 };
		char b;
		/* Hold no pipe of an earlier child, or it would never see EOF. */
		for (int fd = 3; fd < 256; fd++)
			if (fd != up[1] && fd != down[0])
				close(fd);
		void *h = dlopen(lib, RTLD_NOW);
		if (!h)
			_exit(2);
		if (cxx) {
			struct {
				uint64_t pc;
				int leaf_line, outer_call_line;
			} x = { 0 };
			long (*entry)(long, void *) = (long (*)(long, void *))dlsym(h, "inlxx_entry");
			entry(3, &x);
			w.pc = x.pc;
			w.leaf_line = x.leaf_line;
			w.outer_call_line = x.outer_call_line;
		} else {
			int (*outer)(int, struct where *) = (int (*)(int, struct where *))dlsym(h, "inl_outer");
			outer(5, &w);
		}
		if (write(up[1], &w, sizeof(w)) != sizeof(w))
			_exit(3);
		close(down[1]);
		if (read(down[0], &b, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c->w, sizeof(c->w)), sizeof(c->w));
	close(up[0]);
	c->release = down[1];
	assert_true(c->w.pc != 0);
}

static void child_end(struct child *c)
{
	int st;
	close(c->release);
	waitpid(c->pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Symbolizes the child's inline address with opts into b. */
static void resolve(const struct symbolizer_opts *o, struct child *c, struct sym_batch *b, struct symbolizer **out)
{
	struct symbolizer *s = NULL;
	assert_int_equal(symbolizer_new(o, &s), 0);
	sym_batch_init(b);
	assert_int_equal(symbolizer_track(s, (uint32_t)c->pid, 1), 0);
	assert_int_equal(symbolizer_resolve_user(s, (uint32_t)c->pid, 1, &c->w.pc, 1, b), 0);
	assert_int_equal(b->n, 1);
	*out = s;
}

static void assert_frame(const struct sym_frame *f, const char *name, const char *file, int line, bool inlined)
{
	assert_non_null(f->name);
	assert_string_equal(f->name, name);
	assert_int_equal(f->inlined, inlined);
	assert_int_equal(f->miss, SYM_OK);
	if (file) {
		assert_non_null(f->file);
		assert_string_equal(f->file, file);
		assert_int_equal(f->line, line);
	} else {
		assert_null(f->file);
	}
}

/* The full C chain: outer (at its call of middle), middle, leaf. */
static void assert_c_chain(const struct sym_batch *b, const struct where *w)
{
	assert_int_equal(b->first[1], 3);
	assert_frame(&b->frames[0], "inl_outer", INL_SRC, w->outer_call_line, false);
	assert_frame(&b->frames[1], "inl_middle", INL_SRC, w->middle_call_line, true);
	assert_frame(&b->frames[2], "inl_leaf", INL_SRC, w->leaf_line, true);
	assert_true(b->frames[0].dwarf);
	assert_null(b->frames[0].system_name);
}

static void run_c(const char *lib, const struct symbolizer_opts *o, struct symbolizer_stats *st, bool deleted)
{
	struct child c;
	struct sym_batch b;
	struct symbolizer *s;
	char tmp[] = "/tmp/scorch_inl_XXXXXX";
	const char *path = lib;
	if (deleted) {
		/* A copy, loaded and then deleted and replaced by another file. */
		int in = open(lib, O_RDONLY), out = mkstemp(tmp);
		char buf[65536];
		ssize_t r;
		assert_true(in >= 0 && out >= 0);
		while ((r = read(in, buf, sizeof(buf))) > 0)
			assert_int_equal(write(out, buf, (size_t)r), r);
		close(in);
		close(out);
		path = tmp;
	}
	child_start(path, false, &c);
	if (deleted) {
		assert_int_equal(unlink(tmp), 0);
		FILE *f = fopen(tmp, "w"); /* a different file at the old path */
		assert_non_null(f);
		fputs("not an ELF file\n", f);
		fclose(f);
	}
	resolve(o, &c, &b, &s);
	assert_c_chain(&b, &c.w);
	symbolizer_stats(s, st);
	sym_batch_release(&b);
	symbolizer_free(s);
	child_end(&c);
	if (deleted)
		unlink(tmp);
}

static void test_c_inline(void **state)
{
	(void)state;
	struct symbolizer_opts o = { .debug_root = "/nonexistent" };
	struct symbolizer_stats st;
	run_c(INL_LIB, &o, &st, false);
	assert_int_equal(st.debug_files, 0);
}

static void test_modes(void **state)
{
	(void)state;
	struct child c;
	struct sym_batch b;
	struct symbolizer *s;
	child_start(INL_LIB, false, &c);

	/* No inline frames: the function alone, at its call of the first inlined one. */
	struct symbolizer_opts o = { .debug_root = "/nonexistent", .no_inline = true };
	resolve(&o, &c, &b, &s);
	assert_int_equal(b.first[1], 1);
	assert_frame(&b.frames[0], "inl_outer", INL_SRC, c.w.outer_call_line, false);
	sym_batch_release(&b);
	symbolizer_free(s);

	/* Names only: no DWARF at all. */
	struct symbolizer_opts n = { .debug_root = "/nonexistent", .names_only = true };
	resolve(&n, &c, &b, &s);
	assert_int_equal(b.first[1], 1);
	assert_frame(&b.frames[0], "inl_outer", NULL, 0, false);
	assert_false(b.frames[0].dwarf);
	struct symbolizer_stats st;
	symbolizer_stats(s, &st);
	assert_int_equal(st.dwarf_loads, 0);
	sym_batch_release(&b);
	symbolizer_free(s);
	child_end(&c);
}

static void test_build_id(void **state)
{
	(void)state;
	struct symbolizer_opts o = { .debug_root = DEBUG_INL "/root" };
	struct symbolizer_stats st;
	run_c(DEBUG_INL "/bid/libinl_bid.so", &o, &st, false);
	assert_int_equal(st.debug_files, 1);
}

static void test_debuglink(void **state)
{
	(void)state;
	struct symbolizer_opts o = { .debug_root = "/nonexistent" };
	struct symbolizer_stats st;
	run_c(DEBUG_INL "/dl/libinl_dl.so", &o, &st, false);
	assert_int_equal(st.debug_files, 1);
}

static void test_deleted(void **state)
{
	(void)state;
	struct symbolizer_opts o = { .debug_root = "/nonexistent" };
	struct symbolizer_stats st;
	run_c(INL_LIB, &o, &st, true);
}

/* Stripped, and no debug file to be found: the exported symbol only. */
static void test_stripped(void **state)
{
	(void)state;
	struct child c;
	struct sym_batch b;
	struct symbolizer *s;
	struct symbolizer_opts o = { .debug_root = "/nonexistent" };
	child_start(DEBUG_INL "/bid/libinl_bid.so", false, &c);
	resolve(&o, &c, &b, &s);
	assert_int_equal(b.first[1], 1);
	assert_frame(&b.frames[0], "inl_outer", NULL, 0, false);
	assert_non_null(b.frames[0].build_id);
	sym_batch_release(&b);
	symbolizer_free(s);
	child_end(&c);
}

static void test_cxx(void **state)
{
	(void)state;
	struct child c;
	struct sym_batch b;
	struct symbolizer *s;
	struct symbolizer_opts o = { .debug_root = DEBUG_INLXX "/root" };
	child_start(DEBUG_INLXX "/bid/libinlxx_bid.so", true, &c);
	resolve(&o, &c, &b, &s);
	assert_int_equal(b.first[1], 2);
	assert_frame(&b.frames[0], "fx::run(long, inlxx_where*)", INLXX_SRC, c.w.outer_call_line, false);
	assert_string_equal(b.frames[0].system_name, "_ZN2fx3runElP11inlxx_where");
	assert_frame(&b.frames[1], "fx::Acc<long>::add(long, inlxx_where*)", INLXX_SRC, c.w.leaf_line, true);
	assert_string_equal(b.frames[1].system_name, "_ZN2fx3AccIlE3addElP11inlxx_where");
	sym_batch_release(&b);
	symbolizer_free(s);
	child_end(&c);
}

/* trim_dwarf: a trim closes the index of DWARF mapped from the file however
 * large the budget once no lookup used it since the trim before (one used
 * in the round stays), and keeps the one that had to be inflated (within
 * the budget); addresses seen before are answered from the memo either way. */
static void test_trim_dwarf(void **state)
{
	(void)state;
	struct child c, z;
	struct symbolizer *s = NULL;
	struct sym_batch b;
	struct symbolizer_stats st, st2;
	struct symbolizer_opts o = { .trim_dwarf = true };
	child_start(INL_LIB, false, &c);
	child_start(INL_Z_LIB, false, &z);
	assert_int_equal(symbolizer_new(&o, &s), 0);
	sym_batch_init(&b);
	assert_int_equal(symbolizer_resolve_user(s, (uint32_t)z.pid, 1, &z.w.pc, 1, &b), 0);
	assert_c_chain(&b, &z.w);
	symbolizer_stats(s, &st);
	assert_int_equal(symbolizer_resolve_user(s, (uint32_t)c.pid, 1, &c.w.pc, 1, &b), 0);
	assert_c_chain(&b, &c.w);
	symbolizer_stats(s, &st2);
	assert_true(st2.dwarf_bytes > st.dwarf_bytes);
	uint64_t both = st2.dwarf_bytes;
	symbolizer_trim(s); /* both were used in this round */
	symbolizer_stats(s, &st2);
	assert_int_equal(st2.dwarf_bytes, both);
	assert_int_equal(st2.dwarf_evictions, 0);
	symbolizer_trim(s); /* neither since */
	symbolizer_stats(s, &st2);
	assert_int_equal(st2.dwarf_bytes, st.dwarf_bytes); /* the compressed one's */
	assert_int_equal(st2.dwarf_evictions, 1);
	assert_int_equal(symbolizer_resolve_user(s, (uint32_t)c.pid, 1, &c.w.pc, 1, &b), 0);
	assert_c_chain(&b, &c.w);
	assert_int_equal(symbolizer_resolve_user(s, (uint32_t)z.pid, 1, &z.w.pc, 1, &b), 0);
	assert_c_chain(&b, &z.w);
	symbolizer_stats(s, &st2);
	assert_int_equal(st2.dwarf_loads, 2);
	assert_int_equal(st2.dwarf_memo_hits, 2);
	sym_batch_release(&b);
	symbolizer_free(s);
	child_end(&c);
	child_end(&z);
}

/* A DWARF cache of one byte: each library's index evicts the other's, the
 * answers do not change, addresses seen before are answered from the memo
 * without reopening an index, trimming brings the cache within its budget,
 * and an address never seen reopens its index. */
static void test_eviction(void **state)
{
	(void)state;
	struct child c, x;
	struct symbolizer *s = NULL;
	struct sym_batch b;
	struct symbolizer_stats st;
	struct symbolizer_opts o = { .debug_root = DEBUG_INLXX "/root", .dwarf_cache_bytes = 1 };
	child_start(INL_LIB, false, &c);
	child_start(DEBUG_INLXX "/bid/libinlxx_bid.so", true, &x);
	assert_int_equal(symbolizer_new(&o, &s), 0);
	sym_batch_init(&b);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(symbolizer_resolve_user(s, (uint32_t)c.pid, 1, &c.w.pc, 1, &b), 0);
		assert_c_chain(&b, &c.w);
		assert_int_equal(symbolizer_resolve_user(s, (uint32_t)x.pid, 1, &x.w.pc, 1, &b), 0);
		assert_int_equal(b.first[1], 2);
		assert_string_equal(b.frames[1].name, "fx::Acc<long>::add(long, inlxx_where*)");
	}
	symbolizer_stats(s, &st);
	assert_int_equal(st.dwarf_loads, 2);
	assert_int_equal(st.dwarf_evictions, 1);
	assert_int_equal(st.dwarf_memo_hits, 4);
	assert_true(st.dwarf_memo_bytes > 0);
	assert_true(st.dwarf_bytes > 1); /* the index used last, over the budget until a trim */
	symbolizer_trim(s);
	symbolizer_stats(s, &st);
	assert_int_equal(st.dwarf_bytes, 0);
	assert_int_equal(st.dwarf_evictions, 2);
	uint64_t inside = c.w.pc + 1; /* not looked up yet, in the same 7-byte instruction */
	assert_int_equal(symbolizer_resolve_user(s, (uint32_t)c.pid, 1, &inside, 1, &b), 0);
	assert_c_chain(&b, &c.w);
	symbolizer_stats(s, &st);
	assert_int_equal(st.dwarf_loads, 3);
	sym_batch_release(&b);
	symbolizer_free(s);
	child_end(&c);
	child_end(&x);
}

/* A PLT stub of a stripped library whose debug file's .symtab has _init
 * (size 0, in .init just before .plt): named after its function, not taken
 * for part of _init.  The stub's address is objdump's. */
static void test_plt_debug_file(void **state)
{
	(void)state;
	const char *lib = DEBUG_PLTFIX "/bid/libpltfix_bid.so";
	char cmd[512], line[256];
	unsigned long long vaddr = 0, a;
	snprintf(cmd, sizeof(cmd), "'%s' -d '%s'", OBJDUMP, lib);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%llx <strlen@plt>:", &a) == 1 && strstr(line, "<strlen@plt>:"))
			vaddr = a;
	assert_int_equal(pclose(p), 0);
	assert_true(vaddr != 0);

	void *h = dlopen(lib, RTLD_NOW);
	assert_non_null(h);
	struct link_map *lm = NULL;
	assert_int_equal(dlinfo(h, RTLD_DI_LINKMAP, &lm), 0);
	uint64_t pc = lm->l_addr + vaddr + 2; /* inside the stub's jump */
	struct symbolizer_opts o = { .debug_root = DEBUG_PLTFIX "/root" };
	struct symbolizer *s = NULL;
	struct sym_batch b;
	struct symbolizer_stats st;
	assert_int_equal(symbolizer_new(&o, &s), 0);
	sym_batch_init(&b);
	assert_int_equal(symbolizer_track(s, (uint32_t)getpid(), 1), 0);
	assert_int_equal(symbolizer_resolve_user(s, (uint32_t)getpid(), 1, &pc, 1, &b), 0);
	assert_int_equal(b.n, 1);
	assert_non_null(b.frames[0].name);
	assert_string_equal(b.frames[0].name, "strlen@plt");
	symbolizer_stats(s, &st);
	assert_true(st.debug_files >= 1); /* the debug file was read */
	sym_batch_release(&b);
	symbolizer_free(s);
	dlclose(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c_inline), cmocka_unit_test(test_modes),	 cmocka_unit_test(test_build_id),
		cmocka_unit_test(test_debuglink), cmocka_unit_test(test_deleted), cmocka_unit_test(test_stripped),
		cmocka_unit_test(test_cxx), cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_trim_dwarf), cmocka_unit_test(test_plt_debug_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
