/* SPDX-License-Identifier: MIT */
#include "perfmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/readfile.h"

#define MAX_FILE (256u << 20)
#define MAX_NAME 4096

struct pm_entry {
	uint64_t start, end;
	uint32_t seq;  /* line order: later wins */
	uint32_t name; /* offset into names */
};

/* While parsing, e holds one entry per line (n of them); once parsed, nseg
 * disjoint ranges sorted by start, each named by the latest line covering it
 * (so a lookup is one binary search, however entries overlap). */
struct perfmap {
	struct pm_entry *e;
	size_t n, cap, nseg;
	char *names;
	size_t names_len, names_cap;
	size_t skipped;
};

/* Parses a hex number ("0x" optional) at *p up to a space; false if none. */
static bool hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;
	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; s < end && *s != ' '; s++, digits++) {
		int c = *s, d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
					      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0 || digits >= 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits || s == end)
		return false;
	*p = s + 1;
	*out = v;
	return true;
}

static int add(struct perfmap *m, uint64_t start, uint64_t size, const char *name, size_t len)
{
	if (array_grow(&m->e, &m->cap, m->n + 1, sizeof(*m->e)) ||
	    array_grow(&m->names, &m->names_cap, m->names_len + len + 1, 1))
		return -ENOMEM;
	memcpy(m->names + m->names_len, name, len);
	m->names[m->names_len + len] = '\0';
	m->e[m->n] = (struct pm_entry){ start, start + size, (uint32_t)m->n, (uint32_t)m->names_len };
	m->n++;
	m->names_len += len + 1;
	return 0;
}

/* One line without its newline; malformed ones are counted and skipped. */
static int parse_line(struct perfmap *m, const char *s, const char *end)
{
	uint64_t start, size;
	while (end > s && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	if (s == end)
		return 0;
	if (!hex(&s, end, &start) || !hex(&s, end, &size) || !size || start + size < start || s >= end ||
	    end - s > MAX_NAME || memchr(s, '\0', (size_t)(end - s)) || m->n >= UINT32_MAX / 2 ||
	    m->names_len > UINT32_MAX / 2) {
		m->skipped++;
		return 0;
	}
	return add(m, start, size, s, (size_t)(end - s));
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pm_entry *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A max-heap of entry indices by seq: the latest line on top. */
static void heap_push(uint32_t *h, size_t *n, const struct pm_entry *e, uint32_t i)
{
	size_t k = (*n)++;
	for (; k && e[h[(k - 1) / 2]].seq < e[i].seq; k = (k - 1) / 2)
		h[k] = h[(k - 1) / 2];
	h[k] = i;
}

static void heap_pop(uint32_t *h, size_t *n, const struct pm_entry *e)
{
	uint32_t last = h[--*n];
	size_t k = 0;
	for (size_t c; (c = 2 * k + 1) < *n; k = c) {
		if (c + 1 < *n && e[h[c + 1]].seq > e[h[c]].seq)
			c++;
		if (e[h[c]].seq < e[last].seq)
			break;
		h[k] = h[c];
	}
	h[k] = last;
}

/*
 * Replaces the entries (sorted by start) by disjoint ranges, each named by
 * the latest line covering it: a sweep over the starts with the lines
 * covering the current address in a heap.  Each range ends where its line
 * ends or another starts, so there are at most 2n (n when none overlap).
 */
static int flatten(struct perfmap *m)
{
	const struct pm_entry *e = m->e;
	size_t n = m->n, i = 0, hn = 0, ns = 0, cap = n;
	uint64_t pos = 0;
	uint32_t *heap = malloc(n * sizeof(*heap));
	struct pm_entry *seg = malloc(n * sizeof(*seg)); /* as many as lines, unless they overlap */
	int err = heap && seg ? 0 : -ENOMEM;

	while (!err && (i < n || hn)) {
		if (!hn)
			pos = e[i].start;
		while (i < n && e[i].start <= pos)
			heap_push(heap, &hn, e, (uint32_t)i++);
		while (hn && e[heap[0]].end <= pos)
			heap_pop(heap, &hn, e);
		if (!hn)
			continue;
		const struct pm_entry *top = &e[heap[0]];
		uint64_t next = i < n && e[i].start < top->end ? e[i].start : top->end;
		if (ns && seg[ns - 1].end == pos && seg[ns - 1].seq == top->seq)
			seg[ns - 1].end = next; /* an older line starts inside the latest */
		else if (!(err = array_grow(&seg, &cap, ns + 1, sizeof(*seg))))
			seg[ns++] = (struct pm_entry){ pos, next, top->seq, top->name };
		pos = next;
	}
	if (!err) {
		struct pm_entry *fit = ns < cap ? realloc(seg, ns * sizeof(*seg)) : seg;
		free(m->e);
		m->e = fit ? fit : seg;
		m->cap = m->nseg = ns;
		seg = NULL;
	}
	free(heap);
	free(seg);
	return err;
}

int perfmap_parse(const char *text, size_t len, struct perfmap **out)
{
	struct perfmap *m = calloc(1, sizeof(*m));
	int err = 0;
	if (!m)
		return -ENOMEM;
	for (const char *p = text, *end = text + len; p < end && !err;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		err = parse_line(m, p, le);
		p = le + 1;
	}
	if (err) {
		perfmap_free(m);
		return err;
	}
	if (m->n) /* qsort(NULL, 0) is undefined */
		qsort(m->e, m->n, sizeof(*m->e), entry_cmp);
	if (m->n && (err = flatten(m))) {
		perfmap_free(m);
		return err;
	}
	*out = m;
	return 0;
}

int perfmap_read(const char *path, struct perfmap **out)
{
	char *buf = NULL;
	size_t len = 0;
	int err, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	err = read_fd_all(fd, MAX_FILE, &buf, &len);
	close(fd);
	if (!err)
		err = perfmap_parse(buf, len, out);
	free(buf);
	return err;
}

void perfmap_free(struct perfmap *m)
{
	if (!m)
		return;
	free(m->e);
	free(m->names);
	free(m);
}

const char *perfmap_lookup(const struct perfmap *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nseg;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->e[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && addr < m->e[lo - 1].end ? m->names + m->e[lo - 1].name : NULL;
}

size_t perfmap_count(const struct perfmap *m)
{
	return m->n;
}

size_t perfmap_ranges(const struct perfmap *m)
{
	return m->nseg;
}

bool perfmap_range(const struct perfmap *m, size_t i, uint64_t *start, uint64_t *end, const char **name)
{
	if (i >= m->nseg)
		return false;
	*start = m->e[i].start;
	*end = m->e[i].end;
	*name = m->names + m->e[i].name;
	return true;
}

size_t perfmap_skipped(const struct perfmap *m)
{
	return m->skipped;
}
