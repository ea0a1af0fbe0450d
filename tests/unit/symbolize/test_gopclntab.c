/* SPDX-License-Identifier: MIT */
/*
 * Go's function table reader: a small table built here in each layout
 * (names, files, lines and frame sizes of known pcs; malformed copies of it
 * refused with -EINVAL, every one-byte corruption read without a crash),
 * and samples/goshape built by go 1.19 and stripped (-s -w): its functions
 * named with their lines and inlined calls, found without section headers
 * too, and its unwind rows from the frame sizes as the disassembly says.
 */
#include <errno.h>
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

#include "symbolize/cfi.h"
#include "symbolize/gopclntab.h"

#ifndef GOSHAPE_STRIPPED
#define GOSHAPE_STRIPPED ""
#endif

#define TEXT 0x401000u

enum layout { L116, L118, L120 };

struct buf {
	uint8_t b[1024];
	size_t n;
};

static size_t put(struct buf *b, const void *p, size_t n)
{
	size_t at = b->n;
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
	return at;
}

static size_t put32(struct buf *b, uint32_t v)
{
	return put(b, &v, 4);
}

static size_t put64(struct buf *b, uint64_t v)
{
	return put(b, &v, 8);
}

/* Offsets of the fields check_table's corruptions aim at. */
struct made {
	size_t functab, func0, func1, pcs;
};

/*
 * Two functions: main.alpha at TEXT, 32 bytes (/src/a.go; line 10 for 4
 * bytes, 11 after; frame 0, 16 from +4 to +24, 0 again) and main.beta at
 * TEXT + 32, 16 bytes (/src/b.go line 20, no frame).  pc-value tables are
 * (zig-zag value delta, pc delta) varint pairs ending in a 0, the value
 * starting at -1.
 */
static struct made make_table(struct buf *b, enum layout l)
{
	static const char names[] = "main.alpha\0main.beta";
	static const char files[] = "/src/a.go\0/src/b.go";
	static const uint8_t pcsp_a[] = { 2, 4, 32, 20, 31, 8, 0 }, pcfile_a[] = { 2, 32, 0 },
			     pcln_a[] = { 22, 4, 2, 28, 0 }, pcsp_b[] = { 2, 16, 0 }, pcfile_b[] = { 4, 16, 0 },
			     pcln_b[] = { 42, 16, 0 };
	struct made m;
	size_t nw = l == L116 ? 7 : 8;
	memset(b, 0, sizeof(*b));
	put32(b, l == L116 ? 0xfffffffa : l == L118 ? 0xfffffff0 : 0xfffffff1);
	put(b, (uint8_t[]){ 0, 0, 1, 8 }, 4);
	size_t words = b->n;
	b->n += nw * 8;
	uint64_t w[8] = { 2, 2 };
	size_t k = 2;
	if (l != L116)
		w[k++] = TEXT;
	w[k++] = put(b, names, sizeof(names));
	w[k] = put32(b, 0); /* cutab: file 0, file 1 */
	put32(b, 10);
	w[k + 1] = put(b, files, sizeof(files));
	size_t pcs = w[k + 2] = b->n;
	put(b, "", 1); /* offset 0 is "no table" */
	size_t t[6];
	t[0] = put(b, pcsp_a, sizeof(pcsp_a)) - pcs;
	t[1] = put(b, pcfile_a, sizeof(pcfile_a)) - pcs;
	t[2] = put(b, pcln_a, sizeof(pcln_a)) - pcs;
	t[3] = put(b, pcsp_b, sizeof(pcsp_b)) - pcs;
	t[4] = put(b, pcfile_b, sizeof(pcfile_b)) - pcs;
	t[5] = put(b, pcln_b, sizeof(pcln_b)) - pcs;
	b->n = (b->n + 7) & ~(size_t)7;
	m.functab = w[k + 3] = b->n;
	memcpy(b->b + words, w, nw * 8);
	size_t ent = l == L116 ? 16 : 8, fsize = l == L116 ? 44 : l == L118 ? 40 : 44;
	size_t f0 = 2 * ent + (l == L116 ? 8 : 4), f1 = f0 + fsize;
	/* Function table: (entry, _func offset) twice, then the end. */
	if (l == L116) {
		put64(b, TEXT), put64(b, f0), put64(b, TEXT + 32), put64(b, f1), put64(b, TEXT + 48);
	} else {
		put32(b, 0), put32(b, (uint32_t)f0), put32(b, 32), put32(b, (uint32_t)f1), put32(b, 48);
	}
	for (int i = 0; i < 2; i++) {
		*(i ? &m.func1 : &m.func0) = b->n;
		if (l == L116)
			put64(b, TEXT + 32u * (unsigned)i);
		else
			put32(b, 32u * (unsigned)i);
		put32(b, i ? 11 : 0);  /* nameOff */
		put32(b, 0), put32(b, 0); /* args, deferreturn */
		put32(b, (uint32_t)t[3 * i]), put32(b, (uint32_t)t[3 * i + 1]), put32(b, (uint32_t)t[3 * i + 2]);
		put32(b, 0), put32(b, 0); /* npcdata, cuOffset */
		if (l == L120)
			put32(b, 0);           /* startLine */
		put(b, (uint8_t[]){ 0, 0, 0, 0 }, 4); /* funcID, flag, pad, nfuncdata */
	}
	m.pcs = pcs;
	return m;
}

struct runs {
	uint64_t pc[8];
	int32_t sp[8];
	size_t n;
};

static int collect(void *ctx, uint64_t pc, int32_t sp)
{
	struct runs *r = ctx;
	if (r->n == 8)
		return -E2BIG;
	r->pc[r->n] = pc;
	r->sp[r->n++] = sp;
	return 0;
}

static void check_line(const struct gopclntab *t, uint64_t pc, const char *name, const char *file, uint32_t line)
{
	struct gopc_line l;
	assert_int_equal(gopclntab_lookup(t, pc, &l), 0);
	assert_string_equal(l.name, name);
	assert_string_equal(l.file, file);
	assert_int_equal(l.line, line);
}

static void test_layouts(void **state)
{
	(void)state;
	static const char *const names[] = { "go1.16-1.17", "go1.18-1.19", "go1.20+" };
	for (int l = L116; l <= L120; l++) {
		struct buf b;
		struct gopclntab *t;
		struct gopc_line line;
		struct gopc_func f;
		struct runs r = { 0 };
		make_table(&b, (enum layout)l);
		assert_int_equal(gopclntab_parse(b.b, b.n, 0, &t), 0);
		assert_string_equal(gopclntab_layout(t), names[l]);
		assert_int_equal(gopclntab_nfuncs(t), 2);
		check_line(t, TEXT, "main.alpha", "/src/a.go", 10);
		check_line(t, TEXT + 3, "main.alpha", "/src/a.go", 10);
		check_line(t, TEXT + 4, "main.alpha", "/src/a.go", 11);
		check_line(t, TEXT + 31, "main.alpha", "/src/a.go", 11);
		check_line(t, TEXT + 32, "main.beta", "/src/b.go", 20);
		check_line(t, TEXT + 47, "main.beta", "/src/b.go", 20);
		assert_int_equal(gopclntab_lookup(t, TEXT - 1, &line), -ENOENT);
		assert_int_equal(gopclntab_lookup(t, TEXT + 48, &line), -ENOENT);
		assert_int_equal(gopclntab_func(t, 1, &f), 0);
		assert_int_equal(f.entry, TEXT + 32);
		assert_int_equal(f.end, TEXT + 48);
		assert_string_equal(f.name, "main.beta");
		assert_false(f.top);
		assert_int_equal(gopclntab_pcsp(t, 0, collect, &r), 0);
		assert_int_equal(r.n, 3);
		assert_int_equal(r.pc[0], TEXT);
		assert_int_equal(r.sp[0], 0);
		assert_int_equal(r.pc[1], TEXT + 4);
		assert_int_equal(r.sp[1], 16);
		assert_int_equal(r.pc[2], TEXT + 24);
		assert_int_equal(r.sp[2], 0);
		assert_int_equal(gopclntab_func(t, 2, &f), -EINVAL);
		gopclntab_free(t);
	}
}

/* A PIE's header has text start 0 (relocated at load): the caller's stands in. */
static void test_text_start(void **state)
{
	(void)state;
	struct buf b;
	struct gopclntab *t;
	make_table(&b, L118);
	memset(b.b + 8 + 16, 0, 8);
	assert_int_equal(gopclntab_parse(b.b, b.n, TEXT + 0x1000, &t), 0);
	check_line(t, TEXT + 0x1000 + 32, "main.beta", "/src/b.go", 20);
	gopclntab_free(t);
}

static int parse(const struct buf *b)
{
	struct gopclntab *t = NULL;
	int err = gopclntab_parse(b->b, b->n, 0, &t);
	gopclntab_free(t);
	return err;
}

static void test_malformed(void **state)
{
	(void)state;
	struct buf b, ok;
	struct made m = make_table(&ok, L118);
	struct gopclntab *t;
	struct runs r = { 0 };

	b = ok, b.b[0] = 0xfb;
	assert_int_equal(parse(&b), -EINVAL); /* magic */
	b = ok, b.b[4] = 1;
	assert_int_equal(parse(&b), -EINVAL); /* pad */
	b = ok, b.b[6] = 3;
	assert_int_equal(parse(&b), -EINVAL); /* quantum */
	b = ok, b.b[7] = 4;
	assert_int_equal(parse(&b), -EINVAL); /* 32-bit */
	b = ok, b.b[8] = 200;
	assert_int_equal(parse(&b), -EINVAL); /* more functions than the table holds */
	b = ok, b.b[8] = 0;
	assert_int_equal(parse(&b), -EINVAL); /* none */
	b = ok, memset(b.b + 8 + 7 * 8, 0xff, 8);
	assert_int_equal(parse(&b), -EINVAL); /* function table past the end */
	b = ok, b.b[m.functab] = 40;
	assert_int_equal(parse(&b), -EINVAL); /* entries out of order */
	b = ok, b.b[m.functab + 7] = 0x7f;
	assert_int_equal(parse(&b), -EINVAL); /* a _func past the end */
	for (size_t n = 0; n < ok.n; n += 7) {
		b = ok, b.n = n;
		assert_int_equal(parse(&b), n < m.func1 + 40 ? -EINVAL : 0); /* truncated */
	}
	/* A pcsp table that runs off the end (at the table's last byte): no
	 * runs, -EINVAL; the other function's still read. */
	uint32_t last = (uint32_t)(ok.n - 1 - m.pcs);
	b = ok, memcpy(b.b + m.func0 + 4 + 12, &last, 4);
	assert_int_equal(gopclntab_parse(b.b, b.n, 0, &t), 0);
	assert_int_equal(gopclntab_pcsp(t, 0, collect, &r), -EINVAL);
	assert_int_equal(r.n, 0);
	assert_int_equal(gopclntab_pcsp(t, 1, collect, &r), 0);
	assert_int_equal(r.n, 1);
	gopclntab_free(t);
}

/* Every byte of the table set to a few values: parsed, or refused, and
 * every pc looked up, without reading out of bounds (run under ASan). */
static void test_corrupt_bytes(void **state)
{
	(void)state;
	static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
	struct buf ok;
	make_table(&ok, L120);
	for (size_t i = 0; i < ok.n; i++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			struct buf b = ok;
			struct gopclntab *t;
			struct gopc_line l;
			struct runs r;
			b.b[i] = vals[v];
			int err = gopclntab_parse(b.b, b.n, 0, &t);
			assert_true(err == 0 || err == -EINVAL);
			if (err)
				continue;
			for (uint64_t pc = TEXT - 2; pc < TEXT + 50; pc++)
				(void)gopclntab_lookup(t, pc, &l);
			for (size_t f = 0; f < gopclntab_nfuncs(t); f++) {
				r.n = 0;
				(void)gopclntab_pcsp(t, f, collect, &r);
			}
			gopclntab_free(t);
		}
	}
}

/* The stripped goshape: go 1.19's layout, its functions named. */
static bool have_goshape(void)
{
	if (GOSHAPE_STRIPPED[0] && !access(GOSHAPE_STRIPPED, R_OK))
		return true;
	const char *ci = getenv("CI");
	if (ci && !strcmp(ci, "true"))
		fail_msg("goshape not built (go missing?): %s", GOSHAPE_STRIPPED);
	return false;
}

/* Function name's index in t. */
static size_t func_named(const struct gopclntab *t, const char *name, struct gopc_func *f)
{
	for (size_t i = 0; i < gopclntab_nfuncs(t); i++)
		if (!gopclntab_func(t, i, f) && f->name && !strcmp(f->name, name))
			return i;
	fail_msg("no function %s", name);
	return 0;
}

static void check_goshape(int fd)
{
	struct gopclntab *t;
	struct gopc_func f;
	struct gopc_line l;
	assert_int_equal(gopclntab_load_fd(fd, &t), 0);
	assert_string_equal(gopclntab_layout(t), "go1.18-1.19");
	assert_true(gopclntab_nfuncs(t) > 1000);
	func_named(t, "main.spin", &f);
	assert_int_equal(gopclntab_lookup(t, f.entry + 4, &l), 0);
	assert_string_equal(l.name, "main.spin");
	assert_non_null(strstr(l.file, "goshape/main.go"));
	assert_in_range(l.line, 40, 50); /* spin's loop */
	assert_int_equal(l.entry, f.entry);
	func_named(t, "runtime.goexit", &f);
	assert_true(f.top);
	func_named(t, "runtime.systemstack", &f);
	assert_true(f.spwrite);
	/* main.mix is inlined into main.work: some pc of work is in both,
	 * work at the call's line (after its loop), mix at its own (before). */
	struct gopc_line chain[4];
	int found = 0;
	func_named(t, "main.work", &f);
	for (uint64_t pc = f.entry; pc < f.end; pc++) {
		int n = gopclntab_lookup_inline(t, pc, chain, 4);
		assert_true(n >= 1);
		assert_string_equal(chain[0].name, "main.work");
		if (n == 1)
			continue;
		assert_int_equal(n, 2);
		assert_string_equal(chain[1].name, "main.mix");
		assert_non_null(strstr(chain[1].file, "goshape/main.go"));
		assert_true(chain[1].line < chain[0].line);
		found++;
	}
	assert_true(found > 0);
	assert_int_equal(gopclntab_lookup_inline(t, f.entry, chain, 4), 1);
	gopclntab_free(t);
}

static void test_goshape(void **state)
{
	(void)state;
	if (!have_goshape())
		skip();
	int fd = open(GOSHAPE_STRIPPED, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	check_goshape(fd);
	close(fd);
}

/* The same with the section headers gone: found by searching the segments. */
static void test_goshape_no_sections(void **state)
{
	(void)state;
	if (!have_goshape())
		skip();
	char path[] = "/tmp/test_gopclntab_XXXXXX";
	int in = open(GOSHAPE_STRIPPED, O_RDONLY | O_CLOEXEC), out = mkstemp(path);
	assert_true(in >= 0 && out >= 0);
	unlink(path);
	off_t size = lseek(in, 0, SEEK_END);
	char *img = malloc((size_t)size);
	assert_non_null(img);
	assert_int_equal(pread(in, img, (size_t)size, 0), size);
	memset(img + 0x28, 0, 8); /* e_shoff */
	memset(img + 0x3c, 0, 4); /* e_shnum, e_shstrndx */
	assert_int_equal(write(out, img, (size_t)size), size);
	check_goshape(out);
	free(img);
	close(in);
	close(out);
}

/* Unwind rows from the frame sizes: goSixty is SUBQ $0x10, SP at +6 (after
 * the stack check), then MOVQ BP, 8(SP), ..., ADDQ $0x10, SP; RET; spin has
 * no frame; goexit ends the stack. */
static void test_goshape_rows(void **state)
{
	(void)state;
	struct cfi_table ct;
	struct gopclntab *t;
	struct gopc_func f;
	if (!have_goshape())
		skip();
	int fd = open(GOSHAPE_STRIPPED, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cfi_compile(fd, -1, &ct), 0);
	assert_int_equal(ct.from_gopclntab, 1);
	assert_int_equal(gopclntab_load_fd(fd, &t), 0);
	func_named(t, "main.goSixty", &f);
	const struct cfi_row *r = cfi_table_find(&ct, f.entry);
	assert_non_null(r);
	assert_int_equal(r->cfa_type, CFI_CFA_RSP);
	assert_int_equal(r->cfa_offset, 8);
	assert_int_equal(r->rbp_type, CFI_RBP_UNCHANGED);
	r = cfi_table_find(&ct, f.entry + 0x19); /* the CALL main.work */
	assert_int_equal(r->cfa_type, CFI_CFA_RSP);
	assert_int_equal(r->cfa_offset, 0x10 + 8);
	assert_int_equal(r->rbp_type, CFI_RBP_CFA_OFFSET);
	assert_int_equal(r->rbp_offset, -16);
	func_named(t, "main.spin", &f);
	for (uint64_t pc = f.entry; pc < f.end; pc++) {
		r = cfi_table_find(&ct, pc);
		assert_int_equal(r->cfa_type, CFI_CFA_RSP);
		assert_int_equal(r->cfa_offset, 8);
		assert_int_equal(r->rbp_type, CFI_RBP_UNCHANGED);
	}
	func_named(t, "runtime.goexit", &f);
	assert_int_equal(cfi_table_find(&ct, f.entry + 1)->cfa_type, CFI_CFA_END);
	gopclntab_free(t);
	cfi_table_release(&ct);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_text_start),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_corrupt_bytes),
		cmocka_unit_test(test_goshape),
		cmocka_unit_test(test_goshape_no_sections),
		cmocka_unit_test(test_goshape_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
