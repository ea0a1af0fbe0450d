/* SPDX-License-Identifier: MIT */
/*
 * Tests for formats/pprof.h: folded -> model -> pprof -> model -> folded is
 * the identity (kernel, inlined and JIT frames included), labels, mappings and
 * metadata survive, the bytes pass go tool pprof's validity rules (checked by
 * a small independent wire decoder here), plain and gzip input are accepted,
 * and corrupt or hostile input is rejected with a message, never a crash.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include <zlib.h>

#include "formats/folded.h"
#include "formats/pprof.h"
#include "formats/profile.h"

/* ---- helpers ---- */

struct buf {
	unsigned char *data;
	size_t len;
};

/* The lines of a folded text, sorted by strcmp (at most 64 lines). */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted(const char *text)
{
	char *copy = strdup(text), *lines[64], *save = NULL, *out;
	size_t n = 0, len = 0;

	for (char *l = strtok_r(copy, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(*lines), cmp_str);
	out = calloc(1, strlen(text) + 2);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(out + len, "%s\n", lines[i]);
	free(copy);
	return out;
}

/* Folded text of p, lines sorted here so no test depends on the writer's order. */
static char *to_folded(const struct profile *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(folded_write(p, false, out), 0);
	fclose(out);
	char *s = sorted(text);
	free(text);
	return s;
}

static struct buf to_pprof(const struct profile *p)
{
	struct buf b = {NULL, 0};
	FILE *out = open_memstream((char **)&b.data, &b.len);

	assert_non_null(out);
	assert_int_equal(pprof_write(p, out), 0);
	fclose(out);
	return b;
}

static struct profile *from_pprof(const void *data, size_t len)
{
	struct profile *p = profile_new();
	struct format_error e = {{0}};
	int err = pprof_read(data, len, p, &e);

	if (err)
		fail_msg("pprof_read: %d %s", err, e.msg);
	return p;
}

static struct buf gunzip(struct buf gz)
{
	struct buf out = {malloc(64u << 20), 0};
	z_stream zs = {0};

	assert_non_null(out.data);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = gz.data;
	zs.avail_in = (uInt)gz.len;
	zs.next_out = out.data;
	zs.avail_out = 64u << 20;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	out.len = zs.total_out;
	inflateEnd(&zs);
	return out;
}

/* ---- an independent decoder for the validity checks ---- */

struct wire {
	const unsigned char *p, *end;
};

static uint64_t varint(struct wire *w)
{
	uint64_t v = 0;
	for (int shift = 0; w->p < w->end && shift < 64; shift += 7) {
		unsigned char c = *w->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	fail_msg("bad varint");
	return 0;
}

/* Next field: number and wire type; a varint's value or a LEN's payload. */
static bool field(struct wire *w, uint32_t *num, uint32_t *type, uint64_t *val, struct wire *sub)
{
	if (w->p >= w->end)
		return false;
	uint64_t key = varint(w);
	*num = (uint32_t)(key >> 3);
	*type = (uint32_t)(key & 7);
	*val = varint(w);
	if (*type == 2) {
		assert_true(*val <= (uint64_t)(w->end - w->p));
		sub->p = w->p;
		sub->end = w->p + *val;
		w->p += *val;
	} else {
		assert_int_equal(*type, 0); /* profile.proto has only varints and LENs */
	}
	return true;
}

#define MAXN 4096

struct ids {
	uint64_t v[MAXN];
	size_t n;
};

static bool has_id(const struct ids *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return true;
	return false;
}

/* Values of field `want` in message m, packed or not. */
static void repeated(struct wire m, uint32_t want, struct ids *out)
{
	uint32_t num, type;
	uint64_t v;
	struct wire sub;

	out->n = 0;
	while (field(&m, &num, &type, &v, &sub)) {
		if (num != want)
			continue;
		if (type == 2)
			while (sub.p < sub.end && out->n < MAXN)
				out->v[out->n++] = varint(&sub);
		else if (out->n < MAXN)
			out->v[out->n++] = v;
	}
}

static uint64_t scalar(struct wire m, uint32_t want)
{
	struct ids vals;
	repeated(m, want, &vals);
	return vals.n ? vals.v[vals.n - 1] : 0;
}

struct decoded {
	struct wire samples[MAXN], locs[MAXN];
	size_t nsamples, nlocs, ntypes, nstrs;
	struct ids map_ids, loc_ids, func_ids;
	bool first_str_empty;
};

static void add_unique(struct ids *s, uint64_t id)
{
	assert_true(id != 0);
	assert_false(has_id(s, id));
	assert_true(s->n < MAXN);
	s->v[s->n++] = id;
}

/*
 * go tool pprof's rules: string_table[0] is "", ids are nonzero and unique,
 * every reference resolves, every sample has one value per sample type.
 */
static void check_valid(struct buf plain)
{
	static struct decoded d;
	struct wire w = {plain.data, plain.data + plain.len}, sub;
	uint32_t num, type;
	uint64_t v;
	struct ids vals;

	memset(&d, 0, sizeof(d));
	while (field(&w, &num, &type, &v, &sub)) {
		if (num == 1)
			d.ntypes++;
		else if (num == 2 && d.nsamples < MAXN)
			d.samples[d.nsamples++] = sub;
		else if (num == 3)
			add_unique(&d.map_ids, scalar(sub, 1));
		else if (num == 4 && d.nlocs < MAXN)
			d.locs[d.nlocs++] = sub, add_unique(&d.loc_ids, scalar(sub, 1));
		else if (num == 5)
			add_unique(&d.func_ids, scalar(sub, 1));
		else if (num == 6 && d.nstrs++ == 0)
			d.first_str_empty = v == 0;
	}
	assert_true(d.nstrs > 0);
	assert_true(d.first_str_empty);
	for (size_t i = 0; i < d.nsamples; i++) {
		repeated(d.samples[i], 2, &vals);
		assert_int_equal(vals.n, d.ntypes);
		repeated(d.samples[i], 1, &vals);
		for (size_t j = 0; j < vals.n; j++)
			assert_true(has_id(&d.loc_ids, vals.v[j]));
	}
	for (size_t i = 0; i < d.nlocs; i++) {
		uint64_t m = scalar(d.locs[i], 2);
		assert_true(m == 0 || has_id(&d.map_ids, m));
		struct wire l = d.locs[i];
		while (field(&l, &num, &type, &v, &sub))
			if (num == 4)
				assert_true(has_id(&d.func_ids, scalar(sub, 1)));
	}
}

/* ---- a tiny encoder for hand-made (hostile) profiles ---- */

struct enc {
	unsigned char b[1024];
	size_t n;
};

static void put_varint(struct enc *e, uint64_t v)
{
	do {
		e->b[e->n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void put_int(struct enc *e, uint32_t num, uint64_t v)
{
	put_varint(e, (uint64_t)num << 3);
	put_varint(e, v);
}

static void put_len(struct enc *e, uint32_t num, const void *d, size_t len)
{
	put_varint(e, (uint64_t)num << 3 | 2);
	put_varint(e, len);
	memcpy(e->b + e->n, d, len);
	e->n += len;
}

static void put_msg(struct enc *e, uint32_t num, const struct enc *sub)
{
	put_len(e, num, sub->b, sub->n);
}

/* A minimal valid profile, with one knob per way to break it. */
struct craft {
	const char *first_str;
	uint64_t func_id, line_func, loc_id, loc_map, map_id, sample_loc;
	int64_t name_idx, value, value2;
	int nvalues;
	bool odd_labels; /* a repeated key and an empty key */
};

static struct craft craft_default(void)
{
	return (struct craft){"", 1, 1, 7, 0, 3, 7, 3, 5, 0, 1, false};
}

static struct enc craft_build(const struct craft *c)
{
	struct enc pr = {{0}, 0}, m = {{0}, 0}, l = {{0}, 0};
	const char *strs[] = {c->first_str, "samples", "count", "main"};

	put_int(&m, 1, 1); /* sample_type samples/count */
	put_int(&m, 2, 2);
	put_msg(&pr, 1, &m);
	for (int s = 0; s < (c->value2 ? 2 : 1); s++) {
		m.n = 0;
		put_int(&m, 1, c->sample_loc);
		for (int i = 0; i < c->nvalues; i++)
			put_int(&m, 2, (uint64_t)(s ? c->value2 : c->value));
		for (int i = 0; c->odd_labels && i < 3; i++) {
			struct enc lab = {{0}, 0};
			put_int(&lab, 1, i < 2 ? 1 : 0); /* key "samples", "samples", "" */
			put_int(&lab, 3, 5 + (uint64_t)i);
			put_msg(&m, 3, &lab);
		}
		put_msg(&pr, 2, &m);
	}
	m.n = 0;
	put_int(&m, 1, c->map_id);
	put_msg(&pr, 3, &m);
	put_int(&l, 1, c->line_func);
	m.n = 0;
	put_int(&m, 1, c->loc_id);
	put_int(&m, 2, c->loc_map);
	put_msg(&m, 4, &l);
	put_msg(&pr, 4, &m);
	m.n = 0;
	put_int(&m, 1, c->func_id);
	put_int(&m, 2, (uint64_t)c->name_idx);
	put_msg(&pr, 5, &m);
	for (size_t i = 0; i < 4; i++)
		put_len(&pr, 6, strs[i], strlen(strs[i]));
	return pr;
}

static void expect_error(const struct craft *c, const char *needle)
{
	struct enc e = craft_build(c);
	struct profile *p = profile_new();
	struct format_error fe = {{0}};
	int err = pprof_read(e.b, e.n, p, &fe);

	if (err >= 0 || !strstr(fe.msg, needle))
		fail_msg("expected an error containing '%s', got %d '%s'", needle, err, fe.msg);
	assert_null(strchr(fe.msg, '\n'));
	profile_free(p);
}

/* ---- tests ---- */

static const char folded_in[] = "main;foo;bar 10\n"
				"main;foo;baz_[i];qux_[i] 5\n"
				"main;foo;baz_[i] 2\n"
				"main;foo 1\n"
				"main;read;entry_SYSCALL_64_[k];do_syscall_64_[k] 7\n"
				"main;read;entry_SYSCALL_64_[k];inl_helper_[i];do_syscall_64_[k] 4\n"
				"main;jitted_[j];interp 3\n"
				"main;jitted_[j];jit_inl_[i];interp 1\n"
				"main;std::vector<int>::push_back(int const&);operator new(unsigned long) 4\n"
				"main;foo_[k] 2\n"
				"start;foo;start 9\n";

static void test_roundtrip_folded(void **state)
{
	(void)state;
	struct profile *p = profile_from(folded_in);
	struct buf gz = to_pprof(p);
	struct profile *q = from_pprof(gz.data, gz.len);
	char *out = to_folded(q), *want = sorted(folded_in);

	assert_string_equal(out, want);
	assert_int_equal(profile_total(q), profile_total(p));
	/* A second trip gives the same bytes. */
	struct buf gz2 = to_pprof(q);
	struct profile *r = from_pprof(gz2.data, gz2.len);
	char *out2 = to_folded(r);
	assert_string_equal(out2, want);
	free(out2);
	profile_free(r);
	free(gz2.data);
	free(out);
	free(want);
	free(gz.data);
	profile_free(q);
	profile_free(p);
}

static void test_valid_for_go_pprof(void **state)
{
	(void)state;
	struct profile *p = profile_from(folded_in);
	profile_meta(p)->period_ns = 10000000;
	struct buf gz = to_pprof(p);
	struct buf plain = gunzip(gz);

	assert_true(gz.len > 2 && gz.data[0] == 0x1f && gz.data[1] == 0x8b);
	check_valid(plain);
	free(plain.data);
	free(gz.data);
	profile_free(p);
}

/* Names from untrusted binaries that are not UTF-8 go out repaired, so a
 * Go reader (Pyroscope refuses the whole profile) takes every string; the
 * size before compression is what pprof_write_sized says. */
static void test_invalid_utf8_repaired(void **state)
{
	(void)state;
	struct profile *p = profile_from("main;bad\xff\xfename;caf\xc3\xa9 3\nmain;ok 1\n");
	struct buf gz = {NULL, 0};
	size_t raw = 0;
	FILE *out = open_memstream((char **)&gz.data, &gz.len);
	assert_non_null(out);
	assert_int_equal(pprof_write_sized(p, out, &raw), 0);
	fclose(out);
	struct buf plain = gunzip(gz);
	assert_int_equal(raw, plain.len);
	check_valid(plain);
	struct profile *q = from_pprof(gz.data, gz.len);
	char *f = to_folded(q);
	assert_string_equal(f, "main;bad\xef\xbf\xbdname;caf\xc3\xa9 3\nmain;ok 1\n");
	free(f);
	profile_free(q);
	free(plain.data);
	free(gz.data);
	profile_free(p);
}

static void test_plain_and_gzip(void **state)
{
	(void)state;
	struct profile *p = profile_from(folded_in);
	struct buf gz = to_pprof(p);
	struct buf plain = gunzip(gz);
	struct profile *a = from_pprof(gz.data, gz.len), *b = from_pprof(plain.data, plain.len);
	char *fa = to_folded(a), *fb = to_folded(b);

	assert_string_equal(fa, fb);
	free(fa);
	free(fb);
	profile_free(a);
	profile_free(b);
	free(plain.data);
	free(gz.data);
	profile_free(p);
}

static void test_labels_and_meta(void **state)
{
	(void)state;
	struct profile *p = profile_new();
	uint32_t pid = test_str(p, "pid"), tid = test_str(p, "tid"), comm = test_str(p, "comm");
	struct label a[] = {{comm, test_str(p, "app"), 0}, {pid, 0, 1234}, {tid, 0, 1235}};
	struct label b[] = {{pid, 0, 99}, {comm, test_str(p, "other tool"), 0}};
	uint32_t stack[] = {test_frame(p, "main", FRAME_USER), test_frame(p, "work", FRAME_USER)};
	struct profile_meta *m = profile_meta(p);

	assert_int_equal(profile_add(p, stack, 2, (uint32_t)profile_labelset(p, a, 3), 5), 0);
	assert_int_equal(profile_add(p, stack, 1, (uint32_t)profile_labelset(p, b, 2), 3), 0);
	m->root_labels[0] = comm;
	m->root_labels[1] = pid;
	m->nroot_labels = 2;
	m->period_ns = 10000000;
	m->duration_ns = 2500000000;
	m->time_ns = 1700000000123456789;
	m->comments[m->ncomments++] = test_str(p, "scorch record -F 100 ./app");

	struct buf gz = to_pprof(p);
	struct profile *q = from_pprof(gz.data, gz.len);
	char *fp = to_folded(p), *fq = to_folded(q);
	assert_string_equal(fq, fp);
	assert_string_equal(fq, "app;1234;main;work 5\nother tool;99;main 3\n");

	const struct profile_meta *mq = profile_meta_const(q);
	assert_int_equal(mq->period_ns, 10000000);
	assert_int_equal(mq->frequency, 100);
	assert_int_equal(mq->duration_ns, 2500000000);
	assert_int_equal(mq->time_ns, 1700000000123456789);
	assert_int_equal(mq->ncomments, 1);
	assert_string_equal(profile_str(q, mq->comments[0]), "scorch record -F 100 ./app");
	assert_int_equal(mq->nroot_labels, 2);
	assert_string_equal(profile_str(q, mq->root_labels[0]), "comm");
	assert_string_equal(profile_str(q, mq->root_labels[1]), "pid");

	struct sample s;
	profile_sample_get(q, 0, &s);
	const struct label *l = profile_label_find(q, s.labels, test_str(q, "tid"));
	assert_non_null(l);
	assert_int_equal(l->str, 0);
	assert_int_equal(l->num, 1235);
	l = profile_label_find(q, s.labels, test_str(q, "comm"));
	assert_non_null(l);
	assert_string_equal(profile_str(q, l->str), "app");
	free(fp);
	free(fq);
	free(gz.data);
	profile_free(q);
	profile_free(p);
}

static void test_mappings_and_frames(void **state)
{
	(void)state;
	struct profile *p = profile_new();
	struct mapping map = {0x400000,
			      0x500000,
			      0x1000,
			      test_str(p, "/usr/bin/app"),
			      test_str(p, "abcdef0123"),
			      MAPPING_HAS_FUNCTIONS | MAPPING_HAS_FILENAMES | MAPPING_HAS_LINE_NUMBERS,
			      0};
	uint32_t mid = (uint32_t)profile_mapping(p, &map);
	struct frame fr[] = {
	    {test_str(p, "main"), 0, test_str(p, "app.c"), 10, mid, FRAME_USER, 0x401000},
	    {test_str(p, "work()"), test_str(p, "_Z4workv"), test_str(p, "app.c"), 42, mid, FRAME_USER, 0x401234},
	    {test_str(p, "helper"), 0, test_str(p, "app.h"), 7, mid, FRAME_INLINED, 0x401234},
	    {test_str(p, "do_sys_open"), 0, 0, 0, 0, FRAME_KERNEL, 0xffffffff81234567},
	};
	uint32_t stack[4];
	for (int i = 0; i < 4; i++)
		stack[i] = (uint32_t)profile_frame(p, &fr[i]);
	assert_int_equal(profile_add(p, stack, 4, 0, 11), 0);
	/* An unsymbolized mapping keeps all flags clear (pprof then symbolizes it). */
	struct mapping bare = {0x7f0000000000, 0x7f0000100000, 0, test_str(p, "/lib/libx.so"), 0, 0, 0};
	struct frame bf = {test_str(p, "0x7f0000000042"),
			   0,
			   0,
			   0,
			   (uint32_t)profile_mapping(p, &bare),
			   FRAME_USER,
			   0x7f0000000042};
	uint32_t bare_stack[] = {stack[0], (uint32_t)profile_frame(p, &bf)};
	assert_int_equal(profile_add(p, bare_stack, 2, 0, 1), 0);

	struct buf gz = to_pprof(p);
	struct profile *q = from_pprof(gz.data, gz.len);
	struct sample s;
	assert_int_equal(profile_nsamples(q), 2);
	profile_sample_get(q, 1, &s);
	assert_int_equal(profile_mapping_get(q, profile_frame_get(q, s.frames[1])->mapping)->flags, 0);
	profile_sample_get(q, 0, &s);
	assert_int_equal(s.nframes, 4);
	assert_int_equal(s.count, 11);
	for (int i = 0; i < 4; i++) {
		const struct frame *f = profile_frame_get(q, s.frames[i]);
		assert_string_equal(profile_str(q, f->name), profile_str(p, fr[i].name));
		assert_string_equal(profile_str(q, f->system_name), profile_str(p, fr[i].system_name));
		assert_string_equal(profile_str(q, f->file), profile_str(p, fr[i].file));
		assert_int_equal(f->line, fr[i].line);
		assert_int_equal(f->kind, fr[i].kind);
		assert_int_equal(f->address, fr[i].address);
	}
	const struct mapping *m = profile_mapping_get(q, profile_frame_get(q, s.frames[1])->mapping);
	assert_non_null(m);
	assert_int_equal(m->start, 0x400000);
	assert_int_equal(m->limit, 0x500000);
	assert_int_equal(m->offset, 0x1000);
	assert_string_equal(profile_str(q, m->file), "/usr/bin/app");
	assert_string_equal(profile_str(q, m->build_id), "abcdef0123");
	/* The model's flags, plus the inline frame the location shows. */
	assert_int_equal(m->flags, map.flags | MAPPING_HAS_INLINE_FRAMES);
	m = profile_mapping_get(q, profile_frame_get(q, s.frames[3])->mapping);
	assert_non_null(m);
	assert_string_equal(profile_str(q, m->file), "[kernel.kallsyms]");
	assert_int_equal(m->flags, MAPPING_HAS_FUNCTIONS);
	free(gz.data);
	profile_free(q);
	profile_free(p);
}

static void test_crafted_input(void **state)
{
	(void)state;
	struct craft c = craft_default();
	struct enc e = craft_build(&c);
	struct profile *p = from_pprof(e.b, e.n);
	char *f = to_folded(p);
	assert_string_equal(f, "main 5\n");
	free(f);
	profile_free(p);

	/* Repeated keys keep their first value; empty keys are dropped. */
	c = craft_default(), c.odd_labels = true;
	e = craft_build(&c);
	p = from_pprof(e.b, e.n);
	struct sample s;
	size_t n;
	profile_sample_get(p, 0, &s);
	const struct label *l = profile_labelset_get(p, s.labels, &n);
	assert_int_equal(n, 1);
	assert_string_equal(profile_str(p, l->key), "samples");
	assert_int_equal(l->num, 5);
	profile_free(p);

	c = craft_default(), c.first_str = "x";
	expect_error(&c, "string_table[0]");
	c = craft_default(), c.line_func = 2;
	expect_error(&c, "no function with id 2");
	c = craft_default(), c.sample_loc = 8;
	expect_error(&c, "no location with id 8");
	c = craft_default(), c.loc_map = 4;
	expect_error(&c, "no mapping with id 4");
	c = craft_default(), c.nvalues = 2;
	expect_error(&c, "2 values for 1 sample types");
	c = craft_default(), c.value = -3;
	expect_error(&c, "negative value");
	c = craft_default(), c.value = INT64_MAX, c.value2 = INT64_MAX;
	expect_error(&c, "overflow");
	c = craft_default(), c.map_id = 0;
	expect_error(&c, "reserved id 0");
	c = craft_default(), c.loc_id = 0, c.sample_loc = 0;
	expect_error(&c, "reserved id 0");
	c = craft_default(), c.name_idx = 99;
	expect_error(&c, "string index 99 out of range");
	c = craft_default(), c.name_idx = -1;
	expect_error(&c, "out of range");
}

static void test_corrupt_input(void **state)
{
	(void)state;
	struct profile *p = profile_from(folded_in);
	struct buf gz = to_pprof(p);
	struct buf plain = gunzip(gz);
	struct format_error e;
	static const unsigned char junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};

	profile_free(p);
	p = profile_new();
	memset(&e, 0, sizeof(e));
	assert_true(pprof_read(gz.data, gz.len / 2, p, &e) < 0);
	assert_non_null(strstr(e.msg, "gzip"));
	memset(&e, 0, sizeof(e));
	assert_true(pprof_read(junk, sizeof(junk), p, &e) < 0);
	assert_true(e.msg[0] != '\0');
	memset(&e, 0, sizeof(e));
	assert_true(pprof_read(plain.data, plain.len - 3, p, &e) < 0);
	assert_true(e.msg[0] != '\0');
	profile_free(p);

	/* Flip each byte: never a crash, and every failure explains itself. */
	for (size_t i = 0; i < plain.len; i++) {
		unsigned char saved = plain.data[i];
		plain.data[i] ^= (unsigned char)(0x5a + i);
		p = profile_new();
		memset(&e, 0, sizeof(e));
		if (pprof_read(plain.data, plain.len, p, &e) < 0)
			assert_true(e.msg[0] != '\0');
		profile_free(p);
		plain.data[i] = saved;
	}
	free(plain.data);
	free(gz.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_folded),	cmocka_unit_test(test_valid_for_go_pprof),
	    cmocka_unit_test(test_plain_and_gzip),	cmocka_unit_test(test_labels_and_meta),
	    cmocka_unit_test(test_mappings_and_frames), cmocka_unit_test(test_crafted_input),
	    cmocka_unit_test(test_corrupt_input),	cmocka_unit_test(test_invalid_utf8_repaired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
