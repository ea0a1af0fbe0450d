/* SPDX-License-Identifier: MIT */
#include "kallsyms.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kallsyms {
	struct ksym *syms;
	size_t n;
	char *text; /* the file's bytes; names and modules point into it */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool is_text(char t)
{
	return t == 't' || t == 'T' || t == 'w' || t == 'W';
}

/* Parses the lines of k->text in place: "ADDR TYPE NAME[\t[MODULE]]\n". */
static int parse_lines(struct kallsyms *k, size_t len)
{
	size_t cap = 0, nonzero = 0;
	char *p = k->text, *end = k->text + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line_end = nl ? nl : end;
		uint64_t addr = 0;
		int v;
		char *q = p;
		while (q < line_end && (v = hexval(*q)) >= 0)
			addr = addr << 4 | (uint64_t)v, q++;
		if (q + 3 <= line_end && q > p && q[0] == ' ' && q[2] == ' ' && is_text(q[1])) {
			char *name = q + 3, *mod = NULL;
			char *tab = memchr(name, '\t', (size_t)(line_end - name));
			*line_end = '\0';
			if (tab) {
				*tab = '\0';
				mod = tab + 1;
				if (*mod == '[')
					mod++;
				size_t ml = strlen(mod);
				if (ml && mod[ml - 1] == ']')
					mod[ml - 1] = '\0';
			}
			if (k->n == cap) {
				cap = cap ? cap * 2 : 65536;
				struct ksym *s = realloc(k->syms, cap * sizeof(*s));
				if (!s)
					return -ENOMEM;
				k->syms = s;
			}
			k->syms[k->n++] = (struct ksym){ addr, name, mod };
			nonzero += addr != 0;
		}
		p = line_end + 1;
	}
	if (k->n && !nonzero)
		return -EPERM;
	qsort(k->syms, k->n, sizeof(*k->syms), ksym_cmp);
	return 0;
}

static int kallsyms_take(char *text, size_t len, struct kallsyms **out)
{
	int err;
	struct kallsyms *k = calloc(1, sizeof(*k));
	if (!k) {
		free(text);
		return -ENOMEM;
	}
	k->text = text;
	err = parse_lines(k, len);
	if (err) {
		kallsyms_free(k);
		return err;
	}
	*out = k;
	return 0;
}

int kallsyms_parse(const char *buf, size_t len, struct kallsyms **out)
{
	char *text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, buf, len);
	text[len] = '\0';
	return kallsyms_take(text, len, out);
}

int kallsyms_load(const char *path, struct kallsyms **out)
{
	int err = 0;
	size_t len = 0, cap = 1 << 22;
	char *text = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	text = malloc(cap + 1);
	if (!text) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			char *t = realloc(text, (cap *= 2) + 1);
			if (!t) {
				err = -ENOMEM;
				goto out;
			}
			text = t;
		}
		ssize_t r = read(fd, text + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	text[len] = '\0';
	close(fd);
	return kallsyms_take(text, len, out);
out:
	free(text);
	close(fd);
	return err;
}

void kallsyms_free(struct kallsyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->text);
	free(k);
}

const struct ksym *kallsyms_lookup(const struct kallsyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->n;
	/* Last symbol with sym.addr <= addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct ksym *s = &k->syms[lo - 1];
	/* Past the last symbol there is no end to trust: accept at most 1 MiB. */
	if (lo == k->n && addr - s->addr > (1u << 20))
		return NULL;
	return s;
}

size_t kallsyms_count(const struct kallsyms *k)
{
	return k->n;
}
