/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "folded.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashtab.h"

const char *folded_kind_suffix(uint32_t kind)
{
	switch (kind) {
	case FRAME_KERNEL:
		return "_[k]";
	case FRAME_INLINED:
		return "_[i]";
	case FRAME_JIT:
		return "_[j]";
	default:
		return "";
	}
}

void stack_view_init(struct stack_view *v)
{
	memset(v, 0, sizeof(*v));
}

void stack_view_release(struct stack_view *v)
{
	free(v->frames);
	stack_view_init(v);
}

int stack_view_fill(struct stack_view *v, const struct profile *p, const struct sample *s)
{
	const struct profile_meta *m = profile_meta_const(p);
	size_t need = s->nframes + m->nroot_labels;

	if (need > v->cap) {
		size_t cap = need < 64 ? 64 : need * 2;
		struct view_frame *n = realloc(v->frames, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		v->frames = n;
		v->cap = cap;
	}
	v->n = 0;
	for (uint32_t i = 0; i < m->nroot_labels && i < 4; i++) {
		const struct label *l = profile_label_find(p, s->labels, m->root_labels[i]);
		if (!l)
			continue;
		const char *name = profile_str(p, l->str);
		if (!l->str) {
			snprintf(v->numbuf[i], sizeof(v->numbuf[i]), "%" PRId64, l->num);
			name = v->numbuf[i];
		}
		v->frames[v->n++] = (struct view_frame){ name, FRAME_USER, -1 };
	}
	for (uint32_t i = 0; i < s->nframes; i++) {
		const struct frame *f = profile_frame_get(p, s->frames[i]);
		v->frames[v->n++] = (struct view_frame){ profile_str(p, f->name), f->kind, s->frames[i] };
	}
	return 0;
}

/* Folded output lines, merged by content: a growable text buffer of lines
 * and a count per line. */
struct line_set {
	char *buf;
	size_t len, cap;
	size_t *offs; /* start of line i in buf; lines are NUL-terminated */
	int64_t *counts;
	size_t n, cap_lines;
	struct idxtab idx;
};

struct line_probe {
	const struct line_set *ls;
	const char *s;
};

static bool line_eq(const void *ctx, uint32_t idx)
{
	const struct line_probe *q = ctx;
	return !strcmp(q->ls->buf + q->ls->offs[idx], q->s);
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 4096;
		while (ncap < *len + n + 1)
			ncap *= 2;
		char *b = realloc(*buf, ncap);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Appends a frame name with ';' and line breaks replaced, as they would split the line. */
static int append_name(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t start = *len, n = strlen(s);
	int err = append(buf, len, cap, s, n);
	for (size_t i = start; !err && i < *len; i++)
		if ((*buf)[i] == ';' || (*buf)[i] == '\n' || (*buf)[i] == '\r')
			(*buf)[i] = (*buf)[i] == ';' ? ':' : ' ';
	return err;
}

static int build_line(const struct profile *p, const struct stack_view *v, bool lines, char **buf,
		      size_t *len, size_t *cap)
{
	int err = 0;
	*len = 0;
	for (size_t i = 0; i < v->n && !err; i++) {
		const struct view_frame *vf = &v->frames[i];
		if (i)
			err = append(buf, len, cap, ";", 1);
		if (!err)
			err = append_name(buf, len, cap, vf->name);
		if (!err && lines && vf->frame_id >= 0) {
			const struct frame *f = profile_frame_get(p, (uint32_t)vf->frame_id);
			if (f->file) {
				char tail[32];
				snprintf(tail, sizeof(tail), ":%" PRIu32, f->line);
				err = append(buf, len, cap, " ", 1);
				if (!err)
					err = append_name(buf, len, cap, profile_str(p, f->file));
				if (!err && f->line)
					err = append(buf, len, cap, tail, strlen(tail));
			}
		}
		const char *sfx = folded_kind_suffix(vf->kind);
		if (!err && *sfx)
			err = append(buf, len, cap, sfx, strlen(sfx));
	}
	if (!err && !v->n)
		err = append(buf, len, cap, "[unknown]", 9);
	return err;
}

static int line_set_add(struct line_set *ls, const char *s, size_t n, int64_t count)
{
	struct line_probe q = { ls, s };
	uint64_t h = hash_bytes(s, n, 0xf01d);
	int64_t id = idxtab_find(&ls->idx, h, line_eq, &q);
	if (id >= 0) {
		ls->counts[id] += count;
		return 0;
	}
	if (ls->n == ls->cap_lines) {
		size_t c = ls->cap_lines ? ls->cap_lines * 2 : 256;
		size_t *o = realloc(ls->offs, c * sizeof(*o));
		if (!o)
			return -ENOMEM;
		ls->offs = o;
		int64_t *cn = realloc(ls->counts, c * sizeof(*cn));
		if (!cn)
			return -ENOMEM;
		ls->counts = cn;
		ls->cap_lines = c;
	}
	size_t off = ls->len;
	int err = append(&ls->buf, &ls->len, &ls->cap, s, n + 1); /* keep the NUL */
	if (err || (err = idxtab_insert(&ls->idx, h, (uint32_t)ls->n)))
		return err;
	ls->offs[ls->n] = off;
	ls->counts[ls->n++] = count;
	return 0;
}

static const struct line_set *sort_ctx;

static int line_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return strcmp(sort_ctx->buf + sort_ctx->offs[x], sort_ctx->buf + sort_ctx->offs[y]);
}

int folded_write(const struct profile *p, bool lines, FILE *out)
{
	int err = 0;
	struct line_set ls = { 0 };
	struct stack_view v;
	char *line = NULL;
	size_t len = 0, cap = 0;
	size_t *order = NULL;

	idxtab_init(&ls.idx);
	stack_view_init(&v);
	for (size_t i = 0; i < profile_nsamples(p) && !err; i++) {
		struct sample s;
		profile_sample_get(p, i, &s);
		err = stack_view_fill(&v, p, &s);
		if (!err)
			err = build_line(p, &v, lines, &line, &len, &cap);
		if (!err)
			err = line_set_add(&ls, line, len, s.count);
	}
	if (!err && ls.n) {
		order = malloc(ls.n * sizeof(*order));
		if (!order)
			err = -ENOMEM;
	}
	if (!err) {
		for (size_t i = 0; i < ls.n; i++)
			order[i] = i;
		sort_ctx = &ls;
		qsort(order, ls.n, sizeof(*order), line_cmp);
		for (size_t i = 0; i < ls.n; i++)
			fprintf(out, "%s %" PRId64 "\n", ls.buf + ls.offs[order[i]], ls.counts[order[i]]);
		if (ferror(out))
			err = -EIO;
	}
	free(order);
	free(line);
	free(ls.buf);
	free(ls.offs);
	free(ls.counts);
	idxtab_release(&ls.idx);
	stack_view_release(&v);
	return err;
}

static uint32_t kind_from_suffix(const char *s, size_t *len)
{
	static const struct {
		const char *sfx;
		uint32_t kind;
	} kinds[] = { { "_[k]", FRAME_KERNEL }, { "_[i]", FRAME_INLINED }, { "_[j]", FRAME_JIT } };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (*len > 4 && !memcmp(s + *len - 4, kinds[i].sfx, 4)) {
			*len -= 4;
			return kinds[i].kind;
		}
	}
	return FRAME_USER;
}

/* Parses "a;b;c COUNT" into frames; returns 0, 1 for a line to skip, or -EINVAL. */
static int parse_line(char *s, size_t len, struct profile *p, uint32_t **stack, size_t *cap,
		      size_t *n, int64_t *count, const char **why)
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (!len || s[0] == '#')
		return 1;
	char *sp = s + len;
	while (sp > s && sp[-1] != ' ' && sp[-1] != '\t')
		sp--;
	if (sp == s) {
		*why = "no sample count after the stack";
		return -EINVAL;
	}
	errno = 0;
	char *end;
	long long c = strtoll(sp, &end, 10);
	if (errno || *end || end == sp || c < 0) {
		*why = "sample count is not a non-negative integer";
		return -EINVAL;
	}
	*count = c;
	char *stack_end = sp - 1;
	while (stack_end > s && (stack_end[-1] == ' ' || stack_end[-1] == '\t'))
		stack_end--;
	*stack_end = '\0';
	*n = 0;
	for (char *f = s; f < stack_end;) {
		char *semi = memchr(f, ';', (size_t)(stack_end - f));
		size_t flen = semi ? (size_t)(semi - f) : (size_t)(stack_end - f);
		if (flen) {
			uint32_t kind = kind_from_suffix(f, &flen);
			int64_t name = profile_intern(p, f, flen);
			if (name < 0)
				return (int)name;
			struct frame fr = { .name = (uint32_t)name, .kind = kind };
			int64_t id = profile_frame(p, &fr);
			if (id < 0)
				return (int)id;
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 64;
				uint32_t *ns = realloc(*stack, nc * sizeof(*ns));
				if (!ns)
					return -ENOMEM;
				*stack = ns;
				*cap = nc;
			}
			(*stack)[(*n)++] = (uint32_t)id;
		}
		if (!semi)
			break;
		f = semi + 1;
	}
	if (!*n) {
		*why = "empty stack";
		return -EINVAL;
	}
	return 0;
}

int folded_read(FILE *in, const char *name, struct profile *p, struct format_error *e)
{
	int err = 0;
	char *line = NULL;
	size_t lcap = 0, scap = 0, n;
	uint32_t *stack = NULL;
	ssize_t len;
	unsigned long lineno = 0;

	while ((len = getline(&line, &lcap, in)) >= 0) {
		int64_t count;
		const char *why = NULL;
		lineno++;
		if (memchr(line, '\0', (size_t)len)) {
			err = format_fail(e, -EINVAL, "%s:%lu: NUL byte in a folded file", name, lineno);
			break;
		}
		int r = parse_line(line, (size_t)len, p, &stack, &scap, &n, &count, &why);
		if (r == 1)
			continue;
		if (r < 0) {
			err = why ? format_fail(e, r, "%s:%lu: %s", name, lineno, why)
				  : format_fail(e, r, "%s:%lu: %s", name, lineno, strerror(-r));
			break;
		}
		if (count && (err = profile_add(p, stack, n, 0, count))) {
			format_fail(e, err, "%s:%lu: %s", name, lineno, strerror(-err));
			break;
		}
	}
	if (!err && ferror(in))
		err = format_fail(e, -EIO, "%s: read error", name);
	free(line);
	free(stack);
	return err;
}
