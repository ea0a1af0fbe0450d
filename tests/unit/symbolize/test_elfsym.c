/* SPDX-License-Identifier: MIT */
/* ELF symbol lookup on a shared library the build compiles (fixture.c), as
 * loaded into this process, and on a stripped copy of it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize/elfsym.h"
#include "symbolize/procmaps.h"

uint64_t fixture_alpha(uint64_t x);
uint64_t fixture_beta(uint64_t x);
void *fixture_hidden_addr(void);
uint64_t fixture_gamma(uint64_t x);
void *fixture_delta_addr(void);
void *fixture_epsilon_addr(void);
void *fixture_trampoline_addr(void);

/* The file offset of a code address of this process, and its mapping's path. */
static uint64_t file_offset(const void *addr, char *path, size_t len)
{
	struct procmaps m;
	assert_int_equal(procmaps_read((uint32_t)getpid(), &m), 0);
	const struct procmap *p = procmaps_find(&m, (uint64_t)(uintptr_t)addr);
	assert_non_null(p);
	uint64_t off = (uint64_t)(uintptr_t)addr - p->start + p->offset;
	snprintf(path, len, "%s", p->path);
	procmaps_release(&m);
	return off;
}

static const char *name_at(const struct elfsym_file *f, uint64_t off)
{
	uint64_t vaddr;
	if (elfsym_offset_to_vaddr(f, off, &vaddr))
		return NULL;
	const struct elfsym *s = elfsym_lookup(f, vaddr);
	return s ? s->name : NULL;
}

static struct elfsym_file *load(const char *path)
{
	struct elfsym_file *f = NULL;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(elfsym_load_fd(fd, &f), 0);
	close(fd);
	return f;
}

static void test_shared_library(void **state)
{
	(void)state;
	char path[4096];
	uint64_t alpha = file_offset((const void *)fixture_alpha, path, sizeof(path));
	uint64_t beta = file_offset((const void *)fixture_beta, path, sizeof(path));
	uint64_t hidden = file_offset(fixture_hidden_addr(), path, sizeof(path));
	assert_non_null(strstr(path, "libfixture.so"));

	struct elfsym_file *f = load(path);
	assert_true(elfsym_has_symtab(f));
	assert_string_equal(name_at(f, alpha), "fixture_alpha");
	assert_string_equal(name_at(f, alpha + 3), "fixture_alpha");
	assert_string_equal(name_at(f, beta), "fixture_beta");
	assert_string_equal(name_at(f, hidden), "fixture_hidden");
	assert_non_null(elfsym_build_id(f));
	assert_int_equal(strlen(elfsym_build_id(f)), 40);
	assert_int_equal(strspn(elfsym_build_id(f), "0123456789abcdef"), 40);

	/* Offsets outside every loadable segment do not translate. */
	uint64_t v;
	assert_int_equal(elfsym_offset_to_vaddr(f, 1ull << 40, &v), -ERANGE);
	elfsym_free(f);
}

/* Several names at one address: the global one, else the one that does
 * not look like an alias, else perf's choice; a return into a trampoline
 * after padding. */
static void test_aliases(void **state)
{
	(void)state;
	char path[4096];
	uint64_t gamma = file_offset((const void *)fixture_gamma, path, sizeof(path));
	uint64_t delta = file_offset(fixture_delta_addr(), path, sizeof(path));
	uint64_t tramp = file_offset(fixture_trampoline_addr(), path, sizeof(path));
	uint64_t epsilon = file_offset(fixture_epsilon_addr(), path, sizeof(path));
	struct elfsym_file *f = load(path);
	assert_string_equal(name_at(f, epsilon), "__fixture_memmove_x");
	assert_string_equal(name_at(f, gamma), "fixture_gamma");
	assert_string_equal(name_at(f, gamma + 1), "fixture_gamma");
	assert_string_equal(name_at(f, delta), "fixture_delta_impl");
	assert_string_equal(name_at(f, tramp), "fixture_trampoline");
	assert_string_equal(name_at(f, tramp - 1), "fixture_trampoline");
	assert_null(name_at(f, tramp - 2)); /* padding, not a return address */
	elfsym_free(f);
}

static void test_stripped(void **state)
{
	(void)state;
	char path[4096];
	uint64_t alpha = file_offset((const void *)fixture_alpha, path, sizeof(path));
	uint64_t hidden = file_offset(fixture_hidden_addr(), path, sizeof(path));

	struct elfsym_file *f = load(FIXTURE_STRIPPED);
	assert_false(elfsym_has_symtab(f));
	/* Exported functions survive in .dynsym; the static one is gone and its
	 * address must not be blamed on a neighbour. */
	assert_string_equal(name_at(f, alpha), "fixture_alpha");
	assert_null(name_at(f, hidden));
	elfsym_free(f);
}

static void test_not_elf(void **state)
{
	(void)state;
	struct elfsym_file *f = NULL;
	int fd = open("/proc/self/cmdline", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(elfsym_load_fd(fd, &f), -ENOEXEC);
	close(fd);
	static const char junk[64] = "\x7f" "ELF garbage";
	assert_int_equal(elfsym_load_mem(junk, sizeof(junk), &f), -ENOEXEC);
}

/* True for a PLT stub's symbol: named "func@plt". */
static bool is_stub(const struct elfsym *s)
{
	size_t len = s ? strlen(s->name) : 0;
	return len > 4 && !strcmp(s->name + len - 4, "@plt");
}

/* Every PLT stub objdump names ("<malloc@plt>:") in the code sections of
 * path, checked against ours at the same address; the number checked.  No
 * instruction of a PLT section is taken for part of another symbol (_init,
 * just before .plt, has no size). */
static size_t check_plt(const char *path)
{
	char cmd[4200], line[512], section[64] = "";
	size_t checked = 0;
	snprintf(cmd, sizeof(cmd), "'%s' -d --no-show-raw-insn '%s'", OBJDUMP, path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct elfsym_file *f = load(path);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long addr;
		char label[256];
		size_t len;
		if (sscanf(line, "Disassembly of section %63[^:]:", section) == 1)
			continue;
		if (line[0] == ' ' && sscanf(line, " %llx:", &addr) == 1 && !strncmp(section, ".plt", 4)) {
			const struct elfsym *s = elfsym_lookup(f, addr);
			if (s && !is_stub(s))
				fail_msg("%s: %llx in %s is taken for part of %s", path, addr, section, s->name);
			continue;
		}
		if (sscanf(line, "%llx <%255[^>]>:", &addr, label) != 2 || (len = strlen(label)) < 5 ||
		    strcmp(label + len - 4, "@plt"))
			continue;
		const struct elfsym *s = elfsym_lookup(f, addr);
		assert_non_null(s);
		assert_true(is_stub(s));
		unsigned long long resolver;
		if (sscanf(label, "*ABS*+%llx@plt", &resolver) == 1) {
			/* An IFUNC called from its own file: named after the
			 * symbol at its resolver, objdump names the address. */
			const struct elfsym *r = elfsym_lookup(f, resolver);
			char want[300];
			snprintf(want, sizeof(want), "%s@plt", r ? r->name : label);
			assert_string_equal(s->name, want);
		} else {
			assert_string_equal(s->name, label);
		}
		/* The whole stub, and nothing of it beyond. */
		assert_ptr_equal(elfsym_lookup(f, addr + s->size - 1), s);
		assert_ptr_not_equal(elfsym_lookup(f, addr + s->size), s);
		checked++;
	}
	assert_int_equal(pclose(p), 0);
	elfsym_free(f);
	return checked;
}

/* PLT stubs are named as objdump names them: through .plt and .plt.got
 * (pltfix: strlen, memcpy, malloc), .plt.sec (its IBT build), and in libc,
 * whose IFUNC stubs come first in .plt and last in .rela.plt. */
static void test_plt(void **state)
{
	(void)state;
	char path[4096];
	assert_true(check_plt(PLTFIX) >= 3);
	assert_true(check_plt(PLTFIX_IBT) >= 3);
	struct elfsym_file *f = load(PLTFIX_IBT);
	size_t named = 0;
	for (uint64_t a = 0; a < 1 << 16; a++) {
		const struct elfsym *s = elfsym_lookup(f, a);
		if (is_stub(s) && s->addr == a)
			named += !strcmp(s->name, "strlen@plt") || !strcmp(s->name, "memcpy@plt") ||
				 !strcmp(s->name, "malloc@plt");
	}
	assert_int_equal(named, 3);
	elfsym_free(f);
	file_offset((const void *)getpid, path, sizeof(path)); /* not intercepted by ASan */
	assert_non_null(strstr(path, "libc.so"));
	assert_true(check_plt(path) >= 10);
}

struct names {
	char buf[512];
	size_t n;
};

static void add_name(void *ctx, const char *name)
{
	struct names *nm = ctx;
	size_t len = strlen(nm->buf);
	snprintf(nm->buf + len, sizeof(nm->buf) - len, "%s ", name);
	nm->n++;
}

/* The libraries a file needs, in its order: this test's own (the fixture
 * library before libc, as it was linked), a stripped library's as its
 * original's; none for a file that is not ELF. */
static void test_needed(void **state)
{
	(void)state;
	struct names nm = { "", 0 };
	int fd = open("/proc/self/exe", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(elfsym_needed(fd, add_name, &nm), 0);
	close(fd);
	/* As linked: the fixture library before libc (a sanitizer's runtime
	 * may come first). */
	const char *fix = strstr(nm.buf, "libfixture.so "), *libc = strstr(nm.buf, " libc.so.6 ");
	assert_non_null(fix);
	assert_non_null(libc);
	assert_true(fix < libc);

	/* Stripping keeps the dynamic section: the library's list, whatever
	 * the build linked it with (a sanitizer's runtimes), is the same. */
	char path[4096];
	file_offset((const void *)fixture_alpha, path, sizeof(path));
	struct names full = { "", 0 };
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(elfsym_needed(fd, add_name, &full), 0);
	close(fd);
	nm = (struct names){ "", 0 };
	fd = open(FIXTURE_STRIPPED, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(elfsym_needed(fd, add_name, &nm), 0);
	close(fd);
	assert_string_equal(nm.buf, full.buf);
	assert_int_equal(nm.n, full.n);

	nm = (struct names){ "", 0 };
	fd = open("/proc/self/cmdline", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(elfsym_needed(fd, add_name, &nm), -EINVAL);
	close(fd);
	assert_int_equal(nm.n, 0);
}

int main(void)
{
	fixture_beta(1); /* keep the library loaded and used */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_library),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_stripped),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_plt),
		cmocka_unit_test(test_needed),
	};
	return cmocka_run_group_tests_name("elfsym", tests, NULL, NULL);
}
