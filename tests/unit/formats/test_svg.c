/* SPDX-License-Identifier: MIT */
/*
 * test_svg: the SVG flame graph writer (formats/svg.h).  Profiles are read
 * from folded text, written to memory, and the document is parsed back: the
 * name table N, and each frame's name, start, count and geometry.
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

#include "formats/folded.h"
#include "formats/svg.h"

struct pframe {
	char *name;
	long long s, c;
	double x, y, w;
	char *label; /* NULL without a <text> */
};

struct doc {
	char *text;
	size_t len;
	char **names;
	size_t nnames;
	struct pframe *frames;
	size_t nframes;
};

/* Appends the UTF-8 of cp to *out. */
static void put_cp(char **out, unsigned cp)
{
	char *o = *out;
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	*out = o;
}

/* Decodes the JavaScript string literal at *s (after its opening quote). */
static char *js_string(const char **s)
{
	const char *p = *s;
	char *out = malloc(strlen(p) + 1), *o = out;
	while (*p != '"') {
		assert_true(*p != '\0');
		if (*p != '\\') {
			*o++ = *p++;
		} else if (p[1] == 'u') {
			char hex[5] = {p[2], p[3], p[4], p[5], 0};
			put_cp(&o, (unsigned)strtoul(hex, NULL, 16));
			p += 6;
		} else {
			*o++ = p[1];
			p += 2;
		}
	}
	*o = '\0';
	*s = p + 1;
	return out;
}

static void parse_names(struct doc *d)
{
	const char *p = strstr(d->text, "var N=[");
	assert_non_null(p);
	p += 7;
	while (*p == '"' || *p == ',') {
		if (*p++ == ',')
			continue;
		d->names = realloc(d->names, (d->nnames + 1) * sizeof(*d->names));
		d->names[d->nnames++] = js_string(&p);
	}
	assert_int_equal(*p, ']');
}

static double attr(const char *el, const char *name)
{
	char key[32];
	snprintf(key, sizeof(key), " %s=\"", name);
	const char *a = strstr(el, key);
	assert_non_null(a);
	return strtod(a + strlen(key), NULL);
}

static void parse_frames(struct doc *d)
{
	for (const char *g = strstr(d->text, "<g class=\"f"); g; g = strstr(g + 1, "<g class=\"f")) {
		const char *end = strstr(g, "</g>"), *t = strstr(g, "<text");
		struct pframe f = {0};
		size_t id = strtoul(g + 11, NULL, 10);
		assert_true(id < d->nnames);
		f.name = d->names[id];
		f.s = (long long)attr(g, "s");
		f.c = (long long)attr(g, "c");
		const char *r = strstr(g, "<rect");
		f.x = attr(r, "x");
		f.y = attr(r, "y");
		f.w = attr(r, "width");
		if (t && t < end) {
			const char *open = strchr(t, '>') + 1;
			f.label = strndup(open, (size_t)(strstr(open, "</text>") - open));
		}
		d->frames = realloc(d->frames, (d->nframes + 1) * sizeof(*d->frames));
		d->frames[d->nframes++] = f;
	}
}

static void render(struct doc *d, const char *folded, const struct svg_opts *o)
{
	struct profile *p = profile_from(folded);
	FILE *out;
	memset(d, 0, sizeof(*d));
	out = open_memstream(&d->text, &d->len);
	assert_int_equal(svg_write(p, o, out), 0);
	fclose(out);
	profile_free(p);
	parse_names(d);
	parse_frames(d);
}

static void doc_free(struct doc *d)
{
	for (size_t i = 0; i < d->nnames; i++)
		free(d->names[i]);
	for (size_t i = 0; i < d->nframes; i++)
		free(d->frames[i].label);
	free(d->names);
	free(d->frames);
	free(d->text);
}

/* The nth frame (0-based) named name, or NULL. */
static const struct pframe *frame(const struct doc *d, const char *name, int nth)
{
	for (size_t i = 0; i < d->nframes; i++)
		if (!strcmp(d->frames[i].name, name) && nth-- == 0)
			return &d->frames[i];
	return NULL;
}

static size_t occurrences(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static const char simple[] = "main;foo;bar 10\n"
			     "main;foo;baz 5\n"
			     "main;rec;rec;rec;leaf 4\n"
			     "main;rec;leaf 2\n"
			     "main;other 3\n"
			     "main;sys_read_[k] 1\n";

static void test_structure(void **state)
{
	struct doc d;
	(void)state;
	render(&d, simple, NULL);
	assert_true(!strncmp(d.text, "<?xml", 5));
	assert_non_null(strstr(d.text, "</svg>\n"));
	/* all, main, foo, bar, baz, rec x3, leaf x2, other, sys_read */
	assert_int_equal(d.nframes, 12);
	assert_int_equal(d.nnames, 9);
	assert_int_equal(frame(&d, "all", 0)->c, 25);
	assert_int_equal(frame(&d, "main", 0)->c, 25);
	assert_int_equal(frame(&d, "foo", 0)->c, 15);
	assert_int_equal(frame(&d, "rec", 0)->c, 6);
	assert_int_equal(frame(&d, "rec", 2)->c, 4);
	assert_non_null(frame(&d, "sys_read_[k]", 0));
	assert_non_null(strstr(d.text, "var C={t:25,"));
	/* Widths are the share of the 1180 pixels between the paddings. */
	assert_true(frame(&d, "foo", 0)->w > 707.99 && frame(&d, "foo", 0)->w < 708.01);
	assert_true(frame(&d, "all", 0)->x == 10 && frame(&d, "all", 0)->w == 1180);
	/* Children sit on their parents, sorted by name: bar before baz. */
	assert_true(frame(&d, "bar", 0)->x < frame(&d, "baz", 0)->x);
	assert_true(frame(&d, "bar", 0)->y < frame(&d, "foo", 0)->y);
	assert_int_equal(frame(&d, "bar", 0)->s, frame(&d, "foo", 0)->s);
	assert_string_equal(frame(&d, "foo", 0)->label, "foo");
	doc_free(&d);
}

static void test_escaping(void **state)
{
	static const char weird[] = "main;std::vector<int>::push_back 1\n"
				    "main;[](auto) <lambda()>#1 1\n"
				    "main;a&b \"quoted\" 'q' 1\n"
				    "main;bad\xff\xfeutf8\x01\x7f]]> 1\n";
	struct doc d;
	struct svg_opts o;
	(void)state;
	svg_opts_init(&o);
	o.title = "T<&\">";
	o.countname = "ms \"wall\"";
	render(&d, weird, &o);
	assert_non_null(frame(&d, "std::vector<int>::push_back", 0));
	assert_non_null(frame(&d, "[](auto) <lambda()>#1", 0));
	assert_non_null(frame(&d, "a&b \"quoted\" 'q'", 0));
	assert_non_null(frame(&d, "bad\xef\xbf\xbd\xef\xbf\xbdutf8\x01\x7f]]>", 0));
	assert_string_equal(frame(&d, "a&b \"quoted\" 'q'", 0)->label, "a&amp;b &quot;quoted&quot; 'q'");
	assert_string_equal(frame(&d, "std::vector<int>::push_back", 0)->label,
			    "std::vector&lt;int&gt;::push_back");
	assert_non_null(strstr(d.text, ">T&lt;&amp;&quot;&gt;</text>"));
	assert_non_null(strstr(d.text, "cn:\"ms \\\"wall\\\"\""));
	/* One CDATA end, valid UTF-8, no control characters but line ends. */
	assert_int_equal(occurrences(d.text, "]]>"), 1);
	for (size_t i = 0; i < d.len; i++) {
		unsigned char c = (unsigned char)d.text[i];
		assert_true(c >= 0x20 || c == '\n');
		assert_true(c != 0xff && c != 0xfe);
	}
	doc_free(&d);
}

static void test_minwidth(void **state)
{
	char *folded = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&folded, &len);
	struct doc d;
	struct svg_opts o;
	(void)state;
	fprintf(f, "main;big 100000\n");
	for (int i = 0; i < 50; i++)
		fprintf(f, "main;small;leaf%d 2\n", i);
	fclose(f);
	svg_opts_init(&o);
	o.minwidth = 0.5;
	render(&d, folded, &o);
	/* Each leaf is 2 * 1180 / 100100 pixels wide: pruned, but still counted. */
	assert_null(frame(&d, "leaf0", 0));
	assert_int_equal(d.nframes, 4);
	assert_int_equal(frame(&d, "small", 0)->c, 100);
	assert_int_equal(frame(&d, "main", 0)->c, 100100);
	assert_null(strstr(d.text, "\"leaf1\""));
	doc_free(&d);
	o.minwidth = 0;
	render(&d, folded, &o);
	assert_int_equal(d.nframes, 54);
	assert_int_equal(frame(&d, "leaf7", 0)->c, 2);
	doc_free(&d);
	free(folded);
}

static void test_inverted(void **state)
{
	struct doc flame, icicle;
	struct svg_opts o;
	(void)state;
	svg_opts_init(&o);
	render(&flame, simple, &o);
	o.inverted = true;
	render(&icicle, simple, &o);
	assert_true(frame(&flame, "all", 0)->y > frame(&flame, "leaf", 0)->y);
	assert_true(frame(&icicle, "all", 0)->y < frame(&icicle, "leaf", 0)->y);
	assert_int_equal(flame.nframes, icicle.nframes);
	assert_non_null(strstr(flame.text, ">Flame Graph</text>"));
	assert_non_null(strstr(icicle.text, ">Icicle Graph</text>"));
	assert_non_null(strstr(icicle.text, "inv:1"));
	doc_free(&flame);
	doc_free(&icicle);
}

static void test_reverse(void **state)
{
	struct doc d;
	struct svg_opts o;
	(void)state;
	svg_opts_init(&o);
	o.reverse = true;
	render(&d, simple, &o);
	/* Leaves at depth 1: leaf merges both rec stacks, rec;rec;rec under it once. */
	const struct pframe *leaf = frame(&d, "leaf", 0), *all = frame(&d, "all", 0);
	assert_int_equal(leaf->c, 6);
	assert_null(frame(&d, "leaf", 1));
	assert_true(all->y - leaf->y > 15 && all->y - leaf->y < 17);
	assert_int_equal(frame(&d, "rec", 0)->c, 6);
	assert_int_equal(frame(&d, "rec", 1)->c, 4);
	assert_non_null(frame(&d, "main", 5)); /* one under each distinct path */
	assert_null(frame(&d, "main", 6));
	assert_true(leaf->y < all->y && frame(&d, "bar", 0)->y == leaf->y);
	doc_free(&d);
}

static void test_labels(void **state)
{
	char name[301], folded[400];
	struct doc d;
	(void)state;
	memset(name, 'x', 300);
	memcpy(name, "\xc3\xa9t\xc3\xa9", 5); /* multi-byte characters first */
	name[300] = '\0';
	snprintf(folded, sizeof(folded), "main;%s 1\nmain;short 2\n", name);
	render(&d, folded, NULL);
	const struct pframe *f = frame(&d, name, 0);
	assert_non_null(f);
	/* 393 pixels hold 54 characters: 53 and an ellipsis, whole characters. */
	assert_non_null(f->label);
	assert_true(!strncmp(f->label, "\xc3\xa9t\xc3\xa9xxx", 8));
	assert_true(strstr(f->label, "\xe2\x80\xa6") == f->label + strlen(f->label) - 3);
	assert_int_equal(strlen(f->label), 53 + 2 + 3); /* two 2-byte characters, 3-byte ellipsis */
	assert_string_equal(frame(&d, "short", 0)->label, "short");
	doc_free(&d);
}

/* The fill of the first frame named name, from the .fN rule of its class. */
static void fill_of(const struct doc *d, const char *name, char out[8])
{
	size_t id;
	char key[32];
	for (id = 0; id < d->nnames && strcmp(d->names[id], name); id++)
		;
	assert_true(id < d->nnames);
	snprintf(key, sizeof(key), ".f%zu{fill:", id);
	const char *r = strstr(d->text, key);
	assert_non_null(r);
	memcpy(out, r + strlen(key), 7);
	out[7] = '\0';
}

static void test_colours(void **state)
{
	struct doc a, b, mem;
	struct svg_opts o;
	char x[8], y[8], k[8], m[8];
	(void)state;
	svg_opts_init(&o);
	render(&a, simple, &o);
	render(&b, "other;zzz;foo 1\nmain;foo_[k] 1\n", &o);
	o.palette = "mem";
	render(&mem, simple, &o);
	fill_of(&a, "foo", x);
	fill_of(&b, "foo", y);
	fill_of(&b, "foo_[k]", k);
	fill_of(&mem, "foo", m);
	assert_string_equal(x, y);     /* same name, same colour, whatever the graph */
	assert_string_not_equal(x, k); /* kernel frames in another family */
	assert_string_not_equal(x, m); /* another palette */
	doc_free(&a);
	doc_free(&b);
	doc_free(&mem);
}

static void test_empty(void **state)
{
	struct doc d;
	(void)state;
	render(&d, "", NULL);
	assert_int_equal(d.nframes, 0);
	assert_non_null(strstr(d.text, "No samples"));
	assert_non_null(strstr(d.text, "</svg>"));
	doc_free(&d);
}

/* Root labels (comm, then a numeric pid) become the first frames of each stack. */
static void test_root_labels(void **state)
{
	struct profile *p = profile_new();
	struct profile_meta *m = profile_meta(p);
	uint32_t comm = (uint32_t)profile_intern_cstr(p, "comm"),
		 pid = (uint32_t)profile_intern_cstr(p, "pid");
	struct frame fr = {.name = (uint32_t)profile_intern_cstr(p, "work")};
	uint32_t f = (uint32_t)profile_frame(p, &fr);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	(void)state;
	m->root_labels[0] = comm;
	m->root_labels[1] = pid;
	m->nroot_labels = 2;
	for (int i = 0; i < 3; i++) {
		struct label l[2] = {{comm, (uint32_t)profile_intern_cstr(p, "app"), 0}, {pid, 0, 100 + i}};
		assert_int_equal(profile_add(p, &f, 1, (uint32_t)profile_labelset(p, l, 2), 1 + i), 0);
	}
	assert_int_equal(svg_write(p, NULL, out), 0);
	fclose(out);
	assert_non_null(strstr(text, "\"app\""));
	assert_non_null(strstr(text, "\"100\",\"101\",\"102\""));
	assert_int_equal(occurrences(text, "<g class=\"f"), 1 + 1 + 3 + 3);
	free(text);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_structure),	cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_minwidth),	cmocka_unit_test(test_inverted),
	    cmocka_unit_test(test_reverse),	cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_colours),	cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_root_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
