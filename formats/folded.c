/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "folded.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/intern.h"

#define READ_CHUNK (1u << 20)  /* bytes read at a time */
#define WRITE_CHUNK (1u << 20) /* bytes buffered before fwrite */

const char *folded_kind_suffix(uint32_t kind)
{
	switch (kind) {
	case FRAME_KERNEL:
		return "_[k]";
	case FRAME_INLINED:
		return "_[i]";
	case FRAME_JIT:
		return "_[j]";
	case FRAME_PYTHON:
		return "_[p]";
	default:
		return "";
	}
}

/* ---- writer ---------------------------------------------------------------
 * Every frame and root label value becomes a display token (its text as
 * written, suffix included), deduplicated, so two stacks display the same
 * exactly when their token id sequences are equal.  Rows (one per sample)
 * are sorted by token text and equal neighbours merged: no line is ever
 * built twice or hashed whole. */

struct tokens {
	struct intern in; /* the distinct tokens, by token id */
	char *scratch;	  /* one token being built */
	size_t scratch_len, scratch_cap;
};

struct row {
	const uint32_t *frames; /* profile frame ids */
	uint32_t nframes;
	uint32_t nroot;
	uint32_t root[PROFILE_MAX_ROOTS]; /* token ids */
	int64_t count;
};

struct writer {
	const struct profile *p;
	struct tokens t;
	uint32_t *frame_tok; /* token id per profile frame id */
	struct row *rows;
	size_t nrows;
	char *out;
	size_t out_len;
};

/* Appends s to the scratch token, with ';' and line breaks replaced. */
static int scratch_add(struct tokens *t, const char *s, size_t n, bool sanitize)
{
	int err = array_grow(&t->scratch, &t->scratch_cap, t->scratch_len + n + 1, 1);
	if (err)
		return err;
	char *d = t->scratch + t->scratch_len;
	memcpy(d, s, n);
	for (size_t i = 0; sanitize && i < n; i++)
		if (d[i] == ';' || d[i] == '\n' || d[i] == '\r')
			d[i] = d[i] == ';' ? ':' : ' ';
	t->scratch_len += n;
	return 0;
}

/* Interns the scratch token; its id, or -errno. */
static int64_t scratch_intern(struct tokens *t)
{
	return intern_add(&t->in, t->scratch, t->scratch_len);
}

/* A name that would read back as no frame at all (empty, or only blanks and
 * line breaks, which the reader drops) is written as "[unknown]". */
static const char *readable_name(const char *s)
{
	return s[strspn(s, " \t\r\n")] ? s : "[unknown]";
}

static int64_t text_token(struct tokens *t, const char *s)
{
	s = readable_name(s);
	t->scratch_len = 0;
	int err = scratch_add(t, s, strlen(s), true);
	return err ? err : scratch_intern(t);
}

static int64_t frame_token(struct tokens *t, const struct profile *p, const struct frame *f, bool lines)
{
	char tail[16];
	const char *sfx = folded_kind_suffix(f->kind);
	const char *name = readable_name(profile_str(p, f->name));
	int err;

	t->scratch_len = 0;
	err = scratch_add(t, name, strlen(name), true);
	if (!err && lines && f->file) {
		const char *file = profile_str(p, f->file);
		err = scratch_add(t, " ", 1, false);
		if (!err)
			err = scratch_add(t, file, strlen(file), true);
		if (!err && f->line)
			err = scratch_add(t, tail, (size_t)snprintf(tail, sizeof(tail), ":%" PRIu32, f->line),
					  false);
	}
	if (!err)
		err = scratch_add(t, sfx, strlen(sfx), false);
	return err ? err : scratch_intern(t);
}

static int writer_frames(struct writer *w, bool lines)
{
	size_t n = profile_nframes(w->p);
	w->frame_tok = malloc((n + 1) * sizeof(*w->frame_tok));
	if (!w->frame_tok)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int64_t id = frame_token(&w->t, w->p, profile_frame_get(w->p, (uint32_t)i), lines);
		if (id < 0)
			return (int)id;
		w->frame_tok[i] = (uint32_t)id;
	}
	return 0;
}

static int writer_rows(struct writer *w)
{
	size_t n = profile_nsamples(w->p);
	char numbuf[24];

	w->rows = malloc((n + 1) * sizeof(*w->rows));
	if (!w->rows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sample s;
		struct row *r = &w->rows[i];
		profile_sample_get(w->p, i, &s);
		*r = (struct row){.frames = s.frames, .nframes = s.nframes, .count = s.count};
		for (uint32_t k = 0; k < stack_view_nroots(w->p); k++) {
			const char *text = stack_view_root_text(w->p, s.labels, k, numbuf);
			int64_t id = text ? text_token(&w->t, text) : 0;
			if (id < 0)
				return (int)id;
			if (text)
				r->root[r->nroot++] = (uint32_t)id;
		}
		if (!r->nroot && !r->nframes) {
			int64_t id = text_token(&w->t, "[unknown]");
			if (id < 0)
				return (int)id;
			r->root[r->nroot++] = (uint32_t)id;
		}
	}
	w->nrows = n;
	return 0;
}

static uint32_t row_len(const struct row *r)
{
	return r->nroot + r->nframes;
}

static uint32_t row_tok(const struct writer *w, const struct row *r, uint32_t i)
{
	return i < r->nroot ? r->root[i] : w->frame_tok[r->frames[i - r->nroot]];
}

/* Orders two different tokens as their stack lines would sort: a token that
 * is a prefix of the other is followed by ';' (more frames) or the end. */
static int token_cmp(const struct tokens *t, uint32_t a, bool more_a, uint32_t b, bool more_b)
{
	const char *x = intern_str(&t->in, a), *y = intern_str(&t->in, b);
	size_t lx = intern_len(&t->in, a), ly = intern_len(&t->in, b);
	size_t n = lx < ly ? lx : ly;
	int c = memcmp(x, y, n);
	if (c || lx == ly)
		return c ? c : (int)more_a - (int)more_b;
	unsigned char ca = lx == n ? (more_a ? ';' : 0) : (unsigned char)x[n];
	unsigned char cb = ly == n ? (more_b ? ';' : 0) : (unsigned char)y[n];
	return ca < cb ? -1 : ca > cb;
}

static int row_cmp(const void *a, const void *b, void *ctx)
{
	const struct writer *w = ctx;
	const struct row *x = a, *y = b;
	uint32_t nx = row_len(x), ny = row_len(y);
	for (uint32_t i = 0; i < nx && i < ny; i++) {
		uint32_t tx = row_tok(w, x, i), ty = row_tok(w, y, i);
		if (tx != ty)
			return token_cmp(&w->t, tx, i + 1 < nx, ty, i + 1 < ny);
	}
	return nx < ny ? -1 : nx > ny;
}

static int flush_out(struct writer *w, FILE *out)
{
	if (w->out_len && fwrite(w->out, 1, w->out_len, out) != w->out_len)
		return errno ? -errno : -EIO;
	w->out_len = 0;
	return 0;
}

/* Appends one line to the output buffer (WRITE_CHUNK + the line's size). */
static int put_row(struct writer *w, const struct row *r, int64_t count, FILE *out, size_t *cap)
{
	uint32_t n = row_len(r);
	size_t need = w->out_len + 25;
	for (uint32_t i = 0; i < n; i++)
		need += intern_len(&w->t.in, row_tok(w, r, i)) + 1;
	int err = array_grow(&w->out, cap, need, 1);
	if (err)
		return err;
	char *d = w->out + w->out_len;
	/* A line starting with '#' reads as a comment: a first frame named so
	 * ("#x", e.g. a process's comm) is written after a space. */
	if (n && intern_str(&w->t.in, row_tok(w, r, 0))[0] == '#')
		*d++ = ' ';
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = row_tok(w, r, i);
		size_t len = intern_len(&w->t.in, k);
		memcpy(d, intern_str(&w->t.in, k), len);
		d += len;
		*d++ = i + 1 < n ? ';' : ' ';
	}
	char num[24], *e = num + sizeof(num);
	uint64_t c = (uint64_t)count;
	do
		*--e = (char)('0' + c % 10);
	while (c /= 10);
	memcpy(d, e, (size_t)(num + sizeof(num) - e));
	d += num + sizeof(num) - e;
	*d++ = '\n';
	w->out_len = (size_t)(d - w->out);
	return w->out_len >= WRITE_CHUNK ? flush_out(w, out) : 0;
}

static int writer_emit(struct writer *w, FILE *out)
{
	size_t cap = 0;
	int err = 0;

	for (size_t i = 0; i < w->nrows && !err;) {
		int64_t count = w->rows[i].count;
		size_t j = i + 1;
		for (; j < w->nrows && !row_cmp(&w->rows[i], &w->rows[j], w); j++)
			count += w->rows[j].count; /* no overflow: the profile's total fits */
		err = put_row(w, &w->rows[i], count, out, &cap);
		i = j;
	}
	if (!err)
		err = flush_out(w, out);
	if (!err && ferror(out))
		err = -EIO;
	return err;
}

int folded_write(const struct profile *p, bool lines, FILE *out)
{
	struct writer w = {.p = p};
	int err;

	intern_init(&w.t.in);
	errno = 0;
	err = writer_frames(&w, lines);
	if (!err)
		err = writer_rows(&w);
	if (!err) {
		if (w.nrows) /* qsort_r(NULL, 0) is undefined */
			qsort_r(w.rows, w.nrows, sizeof(*w.rows), row_cmp, &w);
		err = writer_emit(&w, out);
	}
	free(w.out);
	free(w.rows);
	free(w.frame_tok);
	intern_release(&w.t.in);
	free(w.t.scratch);
	return err;
}

/* ---- reader ---------------------------------------------------------------
 * The input is read in big chunks and parsed in place, line by line; frames
 * are interned straight from the buffer (profile_frame_named).  Folded files
 * are usually sorted, so a line mostly starts with the frames of the line
 * before: the frames of the longest common prefix are taken over without
 * looking them up again. */

struct reader {
	struct profile *p;
	const char *name;
	struct format_error *e;
	unsigned long lineno;
	uint32_t *stack; /* frame ids of the current line */
	uint32_t *ends;	 /* per frame: offset of the ';' or end after it */
	size_t cap_stack, cap_ends;
	char *prev; /* the stack text of the previous line */
	size_t prev_len, cap_prev;
	size_t prev_n; /* frames in stack/ends from the previous line */
	bool nul_seen; /* a NUL byte was read: check each line for one */
};

static uint32_t kind_from_suffix(const char *s, size_t *len)
{
	if (*len <= 4 || s[*len - 4] != '_' || s[*len - 3] != '[' || s[*len - 1] != ']')
		return FRAME_USER;
	switch (s[*len - 2]) {
	case 'k':
		*len -= 4;
		return FRAME_KERNEL;
	case 'i':
		*len -= 4;
		return FRAME_INLINED;
	case 'j':
		*len -= 4;
		return FRAME_JIT;
	case 'p':
		*len -= 4;
		return FRAME_PYTHON;
	default:
		return FRAME_USER;
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int reader_fail(struct reader *r, int err, const char *why)
{
	return format_fail(r->e, err, "%s:%lu: %s", r->name, r->lineno, why ? why : strerror(-err));
}

/* Parses the count at the end of s[0..*len) and cuts it (and the blanks
 * before it) off; 0 or -EINVAL with *why set. */
static int parse_count(const char *s, size_t *len, int64_t *count, const char **why)
{
	size_t end = *len, start = end;
	while (start && !is_blank(s[start - 1]))
		start--;
	if (!start) {
		*why = "no sample count after the stack";
		return -EINVAL;
	}
	uint64_t c = 0;
	for (size_t i = start; i < end; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9 || c > ((uint64_t)INT64_MAX - d) / 10) {
			*why = d > 9 ? "sample count is not a non-negative integer"
				     : "sample count is too large";
			return -EINVAL;
		}
		c = c * 10 + d;
	}
	while (start && is_blank(s[start - 1]))
		start--;
	*len = start;
	*count = (int64_t)c;
	return 0;
}

static int push_frame(struct reader *r, size_t *n, uint32_t id, size_t end)
{
	if (array_grow(&r->stack, &r->cap_stack, *n + 1, sizeof(*r->stack)) ||
	    array_grow(&r->ends, &r->cap_ends, *n + 1, sizeof(*r->ends)))
		return -ENOMEM;
	r->ends[*n] = (uint32_t)end;
	r->stack[(*n)++] = id;
	return 0;
}

/* Length of the common prefix of a and b (n bytes each at least). */
static size_t common_prefix(const char *a, const char *b, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return i + (size_t)__builtin_ctzll(x ^ y) / 8; /* little-endian */
	}
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* How many leading frames s shares with the previous line; *pos is set to
 * where the first frame not shared starts. */
static size_t shared_frames(const struct reader *r, const char *s, size_t len, size_t *pos)
{
	size_t n = r->prev_n, same;
	*pos = 0;
	if (!n)
		return 0;
	same = common_prefix(s, r->prev, len < r->prev_len ? len : r->prev_len);
	/* Frame i is shared when its terminating ';' matched too. */
	size_t k = 0;
	while (k < n && r->ends[k] < same && r->ends[k] < r->prev_len)
		k++;
	*pos = k ? r->ends[k - 1] + 1 : 0;
	return k;
}

/* Remembers s[0..len) as the previous line; on failure just forgets it. */
static void remember_line(struct reader *r, const char *s, size_t len, size_t n)
{
	r->prev_n = 0;
	if (len > UINT32_MAX || array_grow(&r->prev, &r->cap_prev, len, 1))
		return;
	if (len) /* prev may still be NULL: memcpy(NULL, .., 0) is undefined */
		memcpy(r->prev, s, len);
	r->prev_len = len;
	r->prev_n = n;
}

/* Interns the frames of s[0..len) into r->stack; their number, or -errno. */
static int64_t parse_frames(struct reader *r, const char *s, size_t len)
{
	size_t pos, n = shared_frames(r, s, len, &pos);

	while (pos < len) {
		const char *f = s + pos;
		const char *semi = memchr(f, ';', len - pos);
		size_t fend = semi ? (size_t)(semi - s) : len, flen = fend - pos;
		/* Trailing blanks are dropped from every name, as the leaf's are
		 * (they read as the blanks before the count): what is written
		 * reads back the same. */
		while (flen && (is_blank(f[flen - 1]) || f[flen - 1] == '\r'))
			flen--;
		if (flen) {
			uint32_t kind = kind_from_suffix(f, &flen);
			int64_t id = profile_frame_named(r->p, f, flen, kind);
			int err = id < 0 ? (int)id : push_frame(r, &n, (uint32_t)id, fend);
			if (err)
				return err;
		}
		if (!semi)
			break;
		pos = (size_t)(semi - s) + 1;
	}
	remember_line(r, s, len, n);
	return (int64_t)n;
}

/* Parses one line (without its '\n') and adds it to the profile. */
static int parse_line(struct reader *r, const char *s, size_t len)
{
	const char *why = NULL;
	int64_t count, n;
	int err;

	r->lineno++;
	if (len && s[len - 1] == '\r')
		len--;
	while (len && is_blank(s[len - 1]))
		len--;
	if (!len || s[0] == '#')
		return 0;
	if (r->nul_seen && memchr(s, '\0', len))
		return reader_fail(r, -EINVAL, "NUL byte in a folded file");
	if ((err = parse_count(s, &len, &count, &why)))
		return reader_fail(r, err, why);
	if ((n = parse_frames(r, s, len)) < 0)
		return reader_fail(r, (int)n, NULL);
	if (!n)
		return reader_fail(r, -EINVAL, "empty stack");
	if (count && (err = profile_add(r->p, r->stack, (size_t)n, 0, count)))
		return reader_fail(r, err, err == -EOVERFLOW ? "sample counts add up past 2^63" : NULL);
	return 0;
}

/* Parses every complete line in buf[0..*len) and moves the rest to the front. */
static int parse_lines(struct reader *r, char *buf, size_t *len)
{
	char *s = buf, *end = buf + *len;
	int err = 0;

	for (char *nl; !err && (nl = memchr(s, '\n', (size_t)(end - s))); s = nl + 1)
		err = parse_line(r, s, (size_t)(nl - s));
	*len = (size_t)(end - s);
	memmove(buf, s, *len);
	return err;
}

/* Reads more input after buf[0..*len), growing buf when a line fills it.
 * Sets *eof at the end of input; 0, -EIO or -ENOMEM. */
static int refill(struct reader *r, FILE *in, char **buf, size_t *cap, size_t *len, bool *eof)
{
	if (*cap - *len < READ_CHUNK / 2 && array_grow(buf, cap, *cap * 2, 1))
		return format_fail(r->e, -ENOMEM, "%s:%lu: line too long: %s", r->name, r->lineno + 1,
				   strerror(ENOMEM));
	size_t got = fread(*buf + *len, 1, *cap - *len, in);
	if (got && memchr(*buf + *len, '\0', got))
		r->nul_seen = true;
	*len += got;
	if (got)
		return 0;
	if (ferror(in))
		return format_fail(r->e, -EIO, "%s: read error", r->name);
	*eof = true;
	return 0;
}

int folded_read_prefixed(const void *prefix, size_t plen, FILE *in, const char *name, struct profile *p,
			 struct format_error *e)
{
	struct reader r = {.p = p, .name = name, .e = e};
	size_t cap = plen > READ_CHUNK ? plen * 2 : READ_CHUNK, len = plen;
	char *buf = malloc(cap);
	bool eof = false;
	int err = 0;

	if (!buf) {
		err = format_fail(e, -ENOMEM, "%s: %s", name, strerror(ENOMEM));
		goto out;
	}
	if (plen) {
		memcpy(buf, prefix, plen);
		r.nul_seen = memchr(buf, '\0', plen) != NULL;
	}
	while (!err && !eof) {
		err = parse_lines(&r, buf, &len);
		if (!err)
			err = refill(&r, in, &buf, &cap, &len, &eof);
	}
	if (!err && len) /* the last line has no '\n' */
		err = parse_line(&r, buf, len);
out:
	free(buf);
	free(r.stack);
	free(r.ends);
	free(r.prev);
	return err;
}

int folded_read(FILE *in, const char *name, struct profile *p, struct format_error *e)
{
	return folded_read_prefixed(NULL, 0, in, name, p, e);
}
