/* SPDX-License-Identifier: MIT */
/* kbtf: the kernel's BTF cut to what an object's CO-RE accesses name, and
 * its per-boot cache file refused when damaged, mismatched or unsafe. */
#include <bpf/btf.h>
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

#include "profiler/kbtf.h"

/* A kernel: task_struct { unsigned flags; union { int x; struct { int pid;
 * int tgid; }; }; void *mm; struct thread_struct thread; int unused[4]; }
 * with thread_struct { unsigned long sp, fsbase; }, and an unrelated type. */
static struct btf *kernel(void)
{
	struct btf *b = btf__new_empty();
	int i = btf__add_int(b, "int", 4, BTF_INT_SIGNED);        /* 1 */
	int u = btf__add_int(b, "unsigned int", 4, 0);            /* 2 */
	int ul = btf__add_int(b, "long unsigned int", 8, 0);      /* 3 */
	int vp = btf__add_ptr(b, 0);                              /* 4 */
	int td = btf__add_typedef(b, "pid_t", i);                 /* 5 */
	int inner = btf__add_struct(b, NULL, 8);                  /* 6 */
	btf__add_field(b, "pid", td, 0, 0);
	btf__add_field(b, "tgid", td, 32, 0);
	int un = btf__add_union(b, NULL, 8);                      /* 7 */
	btf__add_field(b, "x", i, 0, 0);
	btf__add_field(b, NULL, inner, 0, 0);
	int th = btf__add_struct(b, "thread_struct", 16);         /* 8 */
	btf__add_field(b, "sp", ul, 0, 0);
	btf__add_field(b, "fsbase", ul, 64, 0);
	int idx = btf__add_int(b, "__ARRAY_SIZE_TYPE__", 4, 0);
	int arr = btf__add_array(b, idx, i, 4);
	btf__add_struct(b, "task_struct", 64);
	btf__add_field(b, "flags", u, 0, 0);
	btf__add_field(b, NULL, un, 64, 0);
	btf__add_field(b, "mm", vp, 128, 0);
	btf__add_field(b, "thread", th, 192, 0);
	btf__add_field(b, "unused", arr, 320, 0);
	btf__add_struct(b, "mm_struct", 100);
	btf__add_field(b, "count", i, 0, 0);
	return b;
}

/* An object: two flavours of task_struct and one of thread_struct, and a
 * struct of its own the kernel does not have. */
static struct btf *object(void)
{
	struct btf *b = btf__new_empty();
	int i = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int ul = btf__add_int(b, "long unsigned int", 8, 0);
	btf__add_struct(b, "task_struct___a", 8);
	btf__add_field(b, "tgid", i, 0, 0);
	btf__add_field(b, "pid", i, 32, 0);
	int th = btf__add_struct(b, "thread_struct___b", 8);
	btf__add_field(b, "fsbase", ul, 0, 0);
	btf__add_struct(b, "task_struct___b", 16);
	btf__add_field(b, "thread", th, 0, 0);
	btf__add_field(b, "nosuch", i, 64, 0);
	btf__add_struct(b, "sample_key", 4);
	btf__add_field(b, "pid", i, 0, 0);
	return b;
}

static const struct btf_member *member(const struct btf *b, const struct btf_type *t, const char *name)
{
	for (uint16_t i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(b, btf_members(t)[i].name_off), name))
			return &btf_members(t)[i];
	return NULL;
}

static void test_build_keeps_what_is_named(void **state)
{
	(void)state;
	struct btf *vm = kernel(), *local = object(), *out;
	void *data;
	size_t size;

	assert_int_equal(kbtf_build(local, vm, &data, &size), 0);
	assert_non_null(out = btf__new(data, (uint32_t)size));
	int id = btf__find_by_name_kind(out, "task_struct", BTF_KIND_STRUCT);
	assert_true(id > 0);
	const struct btf_type *t = btf__type_by_id(out, id);
	assert_int_equal(t->size, 64);
	/* pid and tgid through the anonymous union and struct, thread: flags,
	 * mm and unused are named by no flavour. */
	assert_int_equal(btf_vlen(t), 2);
	assert_null(member(out, t, "flags"));
	assert_null(member(out, t, "mm"));
	const struct btf_member *anon = member(out, t, "");
	assert_non_null(anon);
	assert_int_equal(anon->offset, 64);
	const struct btf_type *u = btf__type_by_id(out, anon->type);
	assert_true(btf_is_union(u));
	assert_int_equal(btf_vlen(u), 1); /* x left out */
	const struct btf_type *in = btf__type_by_id(out, btf_members(u)[0].type);
	assert_int_equal(btf_vlen(in), 2);
	assert_int_equal(member(out, in, "tgid")->offset, 32);
	const struct btf_member *th = member(out, t, "thread");
	assert_non_null(th);
	assert_int_equal(th->offset, 192);
	const struct btf_type *tt = btf__type_by_id(out, th->type);
	assert_string_equal(btf__name_by_offset(out, tt->name_off), "thread_struct");
	assert_int_equal(tt->size, 16);
	assert_int_equal(btf_vlen(tt), 1);
	assert_int_equal(member(out, tt, "fsbase")->offset, 64);
	/* The typedef is resolved to the kernel's int kind. */
	assert_true(btf_is_int(btf__type_by_id(out, member(out, in, "pid")->type)));
	/* Types no flavour names stay out. */
	assert_true(btf__find_by_name_kind(out, "mm_struct", BTF_KIND_STRUCT) < 0);
	assert_true(btf__find_by_name_kind(out, "sample_key", BTF_KIND_STRUCT) < 0);
	btf__free(out);
	free(data);
	btf__free(local);
	btf__free(vm);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void test_cache_file_checked(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_kbtf.XXXXXX", path[64], link[64];
	struct btf *vm = kernel(), *local = object();
	void *data;
	size_t size;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/btf-x", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(kbtf_build(local, vm, &data, &size), 0);
	uint32_t rawn;
	const void *raw = btf__raw_data(local, &rawn);
	uint64_t key = kbtf_key(raw, rawn, "boot-1");
	assert_true(key != kbtf_key(raw, rawn, "boot-2"));
	assert_true(key != kbtf_key(raw, rawn - 1, "boot-1"));
	assert_int_equal(kbtf_check(path, key), -ENOENT);
	assert_int_equal(kbtf_save(path, data, size, key), 0);
	assert_int_equal(kbtf_check(path, key), 0);
	/* Another boot's or object's key. */
	assert_int_equal(kbtf_check(path, kbtf_key(raw, rawn, "boot-2")), -EINVAL);
	/* Not followed through a symlink. */
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(kbtf_check(link, key), -ELOOP);
	/* A byte changed, the file cut short, the trailer gone. */
	assert_int_equal(stat(path, &st), 0);
	char *bytes = malloc((size_t)st.st_size);
	FILE *f = fopen(path, "r");
	assert_int_equal(fread(bytes, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	bytes[size - 2] ^= 1; /* a letter of the last name: libbpf would not notice */
	write_bytes(path, bytes, (size_t)st.st_size);
	assert_int_equal(kbtf_check(path, key), -EINVAL);
	bytes[size - 2] ^= 1;
	write_bytes(path, bytes, (size_t)st.st_size - 1);
	assert_int_equal(kbtf_check(path, key), -EINVAL);
	write_bytes(path, bytes, size);
	assert_int_equal(kbtf_check(path, key), -EINVAL);
	/* A trailer that checks over bytes that are no BTF. */
	memset(bytes, 0x5a, size);
	assert_int_equal(kbtf_save(path, bytes, size, key), 0);
	assert_int_equal(kbtf_check(path, key), -EINVAL);
	free(bytes);
	unlink(link);
	unlink(path);
	/* A cache directory others can write is not used. */
	assert_int_equal(chmod(dir, 0777), 0);
	char *out = (char *)1;
	assert_int_equal(kbtf_min_path(local, raw, rawn, dir, &out), -EPERM);
	assert_null(out);
	rmdir(dir);
	free(data);
	btf__free(local);
	btf__free(vm);
}

/* Two objects (two builds of scorch) keep a file each: neither replaces
 * the other's, so using them in turn does not rebuild at every run.  Needs
 * the running kernel's BTF. */
static void test_cache_file_per_object(void **state)
{
	(void)state;
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("no /sys/kernel/btf/vmlinux");
		skip();
	}
	char dir[] = "/tmp/test_kbtf.XXXXXX";
	struct btf *a = object(), *b = object();
	btf__add_int(b, "extra", 2, 0);
	char *pa = NULL, *pb = NULL, *again = NULL;
	struct stat st0, st1;

	uint32_t na, nb;
	const void *ia = btf__raw_data(a, &na), *ib = btf__raw_data(b, &nb);

	assert_non_null(mkdtemp(dir));
	/* Only looked for: none yet. */
	assert_int_equal(kbtf_min_path(NULL, ia, na, dir, &pa), -ENOENT);
	assert_null(pa);
	assert_int_equal(kbtf_min_path(a, ia, na, dir, &pa), 0);
	assert_int_equal(stat(pa, &st0), 0);
	assert_int_equal(kbtf_min_path(b, ib, nb, dir, &pb), 0);
	assert_string_not_equal(pa, pb);
	/* Found without the object's BTF. */
	assert_int_equal(kbtf_min_path(NULL, ia, na, dir, &again), 0);
	assert_string_equal(again, pa);
	/* Not rebuilt: the same file, unchanged. */
	assert_int_equal(stat(pa, &st1), 0);
	assert_int_equal(st0.st_ino, st1.st_ino);
	unlink(pa);
	unlink(pb);
	rmdir(dir);
	free(pa);
	free(pb);
	free(again);
	btf__free(a);
	btf__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_keeps_what_is_named),
		cmocka_unit_test(test_cache_file_checked),
		cmocka_unit_test(test_cache_file_per_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
