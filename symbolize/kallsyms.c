/* SPDX-License-Identifier: MIT */
#include "kallsyms.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/atomicfile.h"
#include "base/readfile.h"

struct kallsyms {
	struct ksym *syms; /* parsed text; NULL for a core image */
	size_t n;
	char *text; /* the file's bytes; names and modules point into it */
	/* A core image (kallsyms_load_core), mapped read-only and looked up in
	 * place: only the pages a lookup touches are read in. */
	const char *image;
	size_t image_len;
	const char *addrs, *offs, *names; /* u64[n], u32[n], NUL-separated */
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

int kallsyms_load_modules(const char *path, struct kallsyms **out)
{
	char *line = NULL, *text = NULL;
	size_t linecap = 0, cap = 0, len = 0;
	ssize_t n;
	int err = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	/* Only lines with a module tag, a line at a time: the ~5 MB of the
	 * whole text is never held. */
	while ((n = getline(&line, &linecap, f)) > 0) {
		if (!memchr(line, '\t', (size_t)n))
			continue;
		if ((err = array_grow(&text, &cap, len + (size_t)n + 1, 1)))
			break;
		memcpy(text + len, line, (size_t)n);
		len += (size_t)n;
	}
	if (!err && ferror(f))
		err = -EIO;
	err = err ?: array_grow(&text, &cap, len + 1, 1);
	free(line);
	fclose(f);
	if (err) {
		free(text);
		return err;
	}
	text[len] = '\0';
	return kallsyms_take(text, len, out);
}

void kallsyms_free(struct kallsyms *k)
{
	if (!k)
		return;
	if (k->image)
		munmap((void *)k->image, k->image_len);
	free(k->syms);
	free(k->text);
	free(k);
}

static uint64_t image_addr(const struct kallsyms *k, size_t i)
{
	uint64_t a;
	memcpy(&a, k->addrs + i * 8, 8);
	return a;
}

static uint64_t sym_addr(const struct kallsyms *k, size_t i)
{
	return k->syms ? k->syms[i].addr : image_addr(k, i);
}

bool kallsyms_lookup(const struct kallsyms *k, uint64_t addr, struct ksym *out)
{
	size_t lo = 0, hi = k->n;
	/* Last symbol with sym.addr <= addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sym_addr(k, mid) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	if (lo == k->n && addr - sym_addr(k, lo - 1) > LAST_SYMBOL_REACH)
		return false;
	if (k->syms) {
		*out = k->syms[lo - 1];
		return true;
	}
	uint32_t o;
	memcpy(&o, k->offs + (lo - 1) * 4, 4);
	*out = (struct ksym){ image_addr(k, lo - 1), k->names + o, NULL };
	return true;
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

/* Checks a cache image (every size, offset and the order) and looks its
 * symbols up in place: no copy of the file, no array of its entries. */
static int adopt_core(struct kallsyms *k)
{
	struct core_header h;
	size_t len = k->image_len;
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, k->image, sizeof(h));
	if (memcmp(h.magic, CORE_MAGIC, sizeof(h.magic)) || h.n > (len - sizeof(h)) / 12 ||
	    len - sizeof(h) - h.n * 12 != h.names_len || !h.names_len)
		return -EINVAL;
	k->addrs = k->image + sizeof(h);
	k->offs = k->addrs + h.n * 8;
	k->names = k->offs + h.n * 4;
	if (k->names[h.names_len - 1] != '\0')
		return -EINVAL;
	k->n = h.n;
	k->core_lo = UINT64_MAX;
	k->core_hi = 0;
	for (size_t i = 0; i < h.n; i++) {
		uint64_t a = image_addr(k, i);
		uint32_t o;
		memcpy(&o, k->offs + i * 4, 4);
		if (o >= h.names_len || (i && a < image_addr(k, i - 1)))
			return -EINVAL;
		if (a && a < k->core_lo)
			k->core_lo = a;
		if (a && a + LAST_SYMBOL_REACH > k->core_hi)
			k->core_hi = a + LAST_SYMBOL_REACH;
	}
	return 0;
}

int kallsyms_load_core(const char *path, struct kallsyms **out)
{
	struct kallsyms *k = NULL;
	struct stat st;
	int err = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (1 << 28) || !st.st_size) {
		err = -EINVAL;
		goto out;
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		err = -ENOMEM;
		goto out;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	k->image = m;
	k->image_len = (size_t)st.st_size;
	if ((err = adopt_core(k)))
		goto out;
	/* Checking read every address and offset (1.4 MB): those pages go
	 * back, and a lookup reads the few it needs from the file again. */
	madvise(m, k->image_len, MADV_DONTNEED);
	*out = k;
	k = NULL;
out:
	kallsyms_free(k);
	close(fd);
	return err;
}
