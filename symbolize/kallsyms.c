/* SPDX-License-Identifier: MIT */
#include "kallsyms.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/atomicfile.h"
#include "base/readfile.h"

struct kallsyms {
	struct ksym *syms;
	size_t n;
	char *text; /* the file's bytes; names and modules point into it */
	uint64_t core_lo, core_hi; /* core kernel text: [lo, hi) */
};

/* Past the last symbol there is no end to trust: accept at most 1 MiB. */
#define LAST_SYMBOL_REACH (1u << 20)

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

static void set_core_range(struct kallsyms *k)
{
	k->core_lo = UINT64_MAX;
	k->core_hi = 0;
	for (size_t i = 0; i < k->n; i++) {
		if (k->syms[i].module || !k->syms[i].addr)
			continue;
		if (k->syms[i].addr < k->core_lo)
			k->core_lo = k->syms[i].addr;
		if (k->syms[i].addr + LAST_SYMBOL_REACH > k->core_hi)
			k->core_hi = k->syms[i].addr + LAST_SYMBOL_REACH;
	}
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
			if (array_grow(&k->syms, &cap, k->n + 1, sizeof(*k->syms)))
				return -ENOMEM;
			k->syms[k->n++] = (struct ksym){ addr, name, mod };
			nonzero += addr != 0;
		}
		p = line_end + 1;
	}
	if (k->n && !nonzero)
		return -EPERM;
	if (k->n) /* qsort(NULL, 0) is undefined */
		qsort(k->syms, k->n, sizeof(*k->syms), ksym_cmp);
	set_core_range(k);
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
	char *text = NULL;
	size_t len = 0;
	int err, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	err = read_fd_all(fd, SIZE_MAX, &text, &len);
	close(fd);
	return err ? err : kallsyms_take(text, len, out);
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
	if (lo == k->n && addr - s->addr > LAST_SYMBOL_REACH)
		return NULL;
	return s;
}

size_t kallsyms_count(const struct kallsyms *k)
{
	return k->n;
}

bool kallsyms_in_core(const struct kallsyms *k, uint64_t addr)
{
	return addr >= k->core_lo && addr < k->core_hi;
}

/* Cache layout: header, u64 addrs[n], u32 name_offs[n], names (NUL-separated). */
struct core_header {
	char magic[8];
	uint64_t n;
	uint64_t names_len;
};

static const char CORE_MAGIC[8] = "SCKSYM01";

int kallsyms_save_core(const struct kallsyms *k, const char *path)
{
	struct atomic_file af;
	struct core_header h = { .n = 0, .names_len = 0 };
	uint32_t off = 0;
	int err;

	memcpy(h.magic, CORE_MAGIC, sizeof(h.magic));
	for (size_t i = 0; i < k->n; i++) {
		if (!k->syms[i].module) {
			h.n++;
			h.names_len += strlen(k->syms[i].name) + 1;
		}
	}
	if (h.names_len > UINT32_MAX)
		return -E2BIG;
	if ((err = atomic_file_open(&af, path)))
		return err;
	fwrite(&h, sizeof(h), 1, af.fp);
	for (size_t i = 0; i < k->n; i++)
		if (!k->syms[i].module)
			fwrite(&k->syms[i].addr, sizeof(uint64_t), 1, af.fp);
	for (size_t i = 0; i < k->n; i++) {
		if (!k->syms[i].module) {
			fwrite(&off, sizeof(off), 1, af.fp);
			off += (uint32_t)strlen(k->syms[i].name) + 1;
		}
	}
	for (size_t i = 0; i < k->n; i++)
		if (!k->syms[i].module)
			fwrite(k->syms[i].name, strlen(k->syms[i].name) + 1, 1, af.fp);
	return atomic_file_commit(&af);
}

/* Checks a cache image and points k's symbols into it. */
static int adopt_core(struct kallsyms *k, size_t len)
{
	struct core_header h;
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, k->text, sizeof(h));
	if (memcmp(h.magic, CORE_MAGIC, sizeof(h.magic)) || h.n > (len - sizeof(h)) / 12 ||
	    len - sizeof(h) - h.n * 12 != h.names_len || !h.names_len)
		return -EINVAL;
	const char *addrs = k->text + sizeof(h), *offs = addrs + h.n * 8, *names = offs + h.n * 4;
	if (names[h.names_len - 1] != '\0')
		return -EINVAL;
	k->syms = malloc((h.n ? h.n : 1) * sizeof(*k->syms));
	if (!k->syms)
		return -ENOMEM;
	for (size_t i = 0; i < h.n; i++) {
		uint64_t a;
		uint32_t o;
		memcpy(&a, addrs + i * 8, 8);
		memcpy(&o, offs + i * 4, 4);
		if (o >= h.names_len || (i && a < k->syms[i - 1].addr))
			return -EINVAL;
		k->syms[i] = (struct ksym){ a, names + o, NULL };
	}
	k->n = h.n;
	set_core_range(k);
	return 0;
}

int kallsyms_load_core(const char *path, struct kallsyms **out)
{
	struct kallsyms *k = NULL;
	struct stat st;
	int err = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (1 << 28)) {
		err = -EINVAL;
		goto out;
	}
	k = calloc(1, sizeof(*k));
	if (!k || !(k->text = malloc((size_t)st.st_size + 1))) {
		err = -ENOMEM;
		goto out;
	}
	size_t len = 0;
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, k->text + len, (size_t)st.st_size - len);
		if (r <= 0) {
			err = r < 0 && errno == EINTR ? 0 : -EIO;
			if (err)
				goto out;
			continue;
		}
		len += (size_t)r;
	}
	if ((err = adopt_core(k, len)))
		goto out;
	*out = k;
	k = NULL;
out:
	kallsyms_free(k);
	close(fd);
	return err;
}
