/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize/kallsyms.h"

static const char text[] = "ffffffff81000000 T _stext\n"
			   "ffffffff81001000 t do_one_thing\n"
			   "ffffffff81002000 D some_data\n" /* not text: skipped */
			   "ffffffff81003000 W weak_fn\n"
			   "ffffffffc0a00000 t nft_do_chain\t[nf_tables]\n"
			   "ffffffffa0000000 t bpf_prog_6deef7357e7b4530_on_sample\t[bpf]\n"
			   "ffffffff81000800 T unsorted_but_valid\n";

/* The name of the symbol containing addr, NULL when there is none. */
static const char *name_at(const struct kallsyms *k, uint64_t addr)
{
	struct ksym s;
	return kallsyms_lookup(k, addr, &s) ? s.name : NULL;
}

static void test_lookup(void **state)
{
	(void)state;
	struct kallsyms *k = NULL;
	assert_int_equal(kallsyms_parse(text, strlen(text), &k), 0);
	assert_int_equal(kallsyms_count(k), 6);

	struct ksym s;
	assert_true(kallsyms_lookup(k, 0xffffffff81001010, &s));
	assert_string_equal(s.name, "do_one_thing");
	assert_null(s.module);

	/* Data symbols are not functions: the text before it covers the address. */
	assert_string_equal(name_at(k, 0xffffffff81002010), "do_one_thing");
	assert_string_equal(name_at(k, 0xffffffff81000900), "unsorted_but_valid");

	assert_true(kallsyms_lookup(k, 0xffffffffc0a00042, &s));
	assert_string_equal(s.name, "nft_do_chain");
	assert_string_equal(s.module, "nf_tables");

	assert_true(kallsyms_lookup(k, 0xffffffffa0000010, &s));
	assert_string_equal(s.module, "bpf");

	/* Below the first symbol, and far past the last one. */
	assert_null(name_at(k, 0x1000));
	assert_null(name_at(k, 0xffffffffc0a00000 + (4u << 20)));
	kallsyms_free(k);
}

static void test_hidden_addresses(void **state)
{
	(void)state;
	static const char zeros[] = "0000000000000000 T _stext\n0000000000000000 t foo\n";
	struct kallsyms *k = NULL;
	assert_int_equal(kallsyms_parse(zeros, strlen(zeros), &k), -EPERM);
	assert_null(k);
}

static void test_garbage(void **state)
{
	(void)state;
	static const char junk[] = "not kallsyms at all\n\n\x01\x02 zz\nffff\nffffffff81000000 T\n"
				   "ffffffff81000000 T ok_fn\n";
	struct kallsyms *k = NULL;
	assert_int_equal(kallsyms_parse(junk, sizeof(junk) - 1, &k), 0);
	assert_int_equal(kallsyms_count(k), 1);
	assert_string_equal(name_at(k, 0xffffffff81000001), "ok_fn");
	kallsyms_free(k);
}

static void test_real_file(void **state)
{
	(void)state;
	struct kallsyms *k = NULL;
	int err = kallsyms_load("/proc/kallsyms", &k);
	if (err == -EPERM || err == -EACCES)
		skip(); /* unprivileged: addresses hidden */
	assert_int_equal(err, 0);
	assert_true(kallsyms_count(k) > 1000);
	kallsyms_free(k);
	assert_int_equal(kallsyms_load("/nonexistent/kallsyms", &k), -ENOENT);
}

/* Writes len bytes (not the struct's tail padding) to path. */
static void write_exact(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_core_cache(void **state)
{
	(void)state;
	char dir[] = "/tmp/scorch-kcache-XXXXXX", path[256];
	struct kallsyms *k = NULL, *c = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/core", dir);
	assert_int_equal(kallsyms_parse(text, strlen(text), &k), 0);
	assert_int_equal(kallsyms_save_core(k, path), 0);
	assert_int_equal(kallsyms_load_core(path, &c), 0);

	/* Only the core kernel's symbols are cached, at the same addresses. */
	assert_int_equal(kallsyms_count(c), 4);
	assert_string_equal(name_at(c, 0xffffffff81001010), "do_one_thing");
	assert_string_equal(name_at(c, 0xffffffff81003001), "weak_fn");
	assert_true(kallsyms_in_core(c, 0xffffffff81001010));
	assert_false(kallsyms_in_core(c, 0xffffffffc0a00042)); /* a module: ask kallsyms */
	assert_false(kallsyms_in_core(c, 0x1000));
	assert_null(name_at(c, 0x1000));
	assert_null(name_at(c, 0xffffffff81003001 + (4u << 20))); /* past the last one's reach */
	kallsyms_free(c);

	/* Damaged files are refused, never trusted: truncated, bad magic, an
	 * offset past the names, unsorted addresses. */
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 40), 0);
	fclose(f);
	assert_int_equal(kallsyms_load_core(path, &c), -EINVAL);
	f = fopen(path, "wb");
	fwrite("SCKSYM00", 8, 1, f);
	fclose(f);
	assert_int_equal(kallsyms_load_core(path, &c), -EINVAL);
	struct {
		char magic[8];
		uint64_t n, names_len;
		uint64_t addr[2];
		uint32_t off[2];
		char names[4];
	} bad = { "SCKSYM01", 2, 4, { 0x2000, 0x1000 }, { 0, 2 }, "a\0b" };
	write_exact(path, &bad, offsetof(typeof(bad), names) + sizeof(bad.names));
	assert_int_equal(kallsyms_load_core(path, &c), -EINVAL); /* unsorted */
	bad.addr[1] = 0x3000;
	bad.off[1] = 9;
	write_exact(path, &bad, offsetof(typeof(bad), names) + sizeof(bad.names));
	assert_int_equal(kallsyms_load_core(path, &c), -EINVAL); /* offset out of range */
	bad.off[1] = 2;
	write_exact(path, &bad, offsetof(typeof(bad), names) + sizeof(bad.names));
	assert_int_equal(kallsyms_load_core(path, &c), 0);
	assert_string_equal(name_at(c, 0x3001), "b");
	kallsyms_free(c);

	kallsyms_free(k);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_hidden_addresses),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_real_file),
		cmocka_unit_test(test_core_cache),
	};
	return cmocka_run_group_tests_name("kallsyms", tests, NULL, NULL);
}
