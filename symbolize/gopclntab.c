/* SPDX-License-Identifier: MIT */
/*
 * gopclntab: Go's function table (see gopclntab.h).  The layout is the Go
 * runtime's (runtime/symtab.go, debug/gosym): a header (magic, two zero
 * bytes, the pc quantum, the pointer size, the function and file counts,
 * then offsets of the name, compilation-unit, file, pc-value and function
 * tables), a function table of (entry, offset of its _func) pairs ending in
 * the end of the text, and per function a _func record whose pcsp, pcfile
 * and pcln fields are offsets of pc-value tables: pairs of varints, a
 * zig-zag value delta and a pc delta in quanta.
 */
#include "gopclntab.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/elfseg.h"

enum layout { GO116 = 1, GO118, GO120 };

struct gopclntab {
	const uint8_t *p; /* the table, from its header */
	size_t size;      /* bytes readable from p */
	void *own;        /* p's copy (gopclntab_parse), or NULL */
	Elf *elf;         /* the mapped file p points into, or NULL */
	enum layout layout;
	uint8_t quantum;
	uint64_t nfunc;
	uint64_t text; /* what go1.18+ entries are relative to */
	uint64_t names, cus, files, pcs, functab; /* offsets from p */
	/* For inline trees (go1.18+), which live outside the table: the
	 * file's non-executable segments, the table's address, and the base
	 * their offsets are relative to (moduledata.gofunc; 0 unknown). */
	struct gseg { uint64_t vaddr; const uint8_t *p; size_t size; } segs[8];
	size_t nsegs;
	uint64_t addr, gofunc;
};

static bool rd(const struct gopclntab *t, uint64_t off, size_t len, void *out)
{
	if (off > t->size || len > t->size - off)
		return false;
	memcpy(out, t->p + off, len);
	return true;
}

static bool rd32(const struct gopclntab *t, uint64_t off, uint32_t *v)
{
	return rd(t, off, 4, v); /* little-endian: amd64 only */
}

static bool rd64(const struct gopclntab *t, uint64_t off, uint64_t *v)
{
	return rd(t, off, 8, v);
}

/* The NUL-terminated string at off, or NULL. */
static const char *str_at(const struct gopclntab *t, uint64_t off)
{
	if (off >= t->size || !memchr(t->p + off, '\0', t->size - off))
		return NULL;
	return (const char *)t->p + off;
}

/* Size of one function table entry (entry pc, _func offset). */
static size_t ftab_entry(const struct gopclntab *t)
{
	return t->layout == GO116 ? 16 : 8;
}

/* Entry i of the function table: the function's first pc and the offset of
 * its _func from the function table.  i == nfunc gives the text's end. */
static bool ftab(const struct gopclntab *t, uint64_t i, uint64_t *pc, uint64_t *func)
{
	uint64_t at = t->functab + i * ftab_entry(t), f = 0;
	if (t->layout == GO116) {
		if (!rd64(t, at, pc) || (i < t->nfunc && !rd64(t, at + 8, &f)))
			return false;
	} else {
		uint32_t a, b = 0;
		if (!rd32(t, at, &a) || (i < t->nfunc && !rd32(t, at + 4, &b)))
			return false;
		*pc = t->text + a;
		f = b;
	}
	if (func)
		*func = f;
	return true;
}

/* The _func fields read (offsets by layout: go1.16 starts with an 8-byte
 * entry, go1.18 a 4-byte one, go1.20 adds startLine before funcID). */
struct func {
	uint64_t off; /* of the _func, from p */
	uint64_t entry;
	int32_t name;
	uint32_t pcsp, pcfile, pcln, cu, npcdata;
	uint8_t flag, nfuncdata;
	uint64_t tail; /* its pcdata offsets, then its funcdata offsets */
};

static bool read_func(const struct gopclntab *t, uint64_t i, struct func *f)
{
	uint64_t rel, end;
	if (i >= t->nfunc || !ftab(t, i, &f->entry, &rel) || !ftab(t, i + 1, &end, NULL) || end < f->entry)
		return false;
	f->off = t->functab + rel;
	uint64_t fields = f->off + (t->layout == GO116 ? 8 : 4);
	size_t flag_at = t->layout == GO120 ? 4 * 9 + 1 : 4 * 8 + 1; /* after the fields: funcID, flag */
	uint32_t v[8];
	if (rel > t->size || !rd(t, fields, sizeof(v), v) || !rd(t, fields + flag_at, 1, &f->flag) ||
	    !rd(t, fields + flag_at + 2, 1, &f->nfuncdata))
		return false;
	f->npcdata = v[6];
	f->tail = fields + flag_at + 3;
	f->name = (int32_t)v[0];
	f->pcsp = v[3];
	f->pcfile = v[4];
	f->pcln = v[5];
	f->cu = v[7];
	if (t->layout == GO116) { /* the _func says its entry again: they must agree */
		uint64_t e;
		if (!rd64(t, f->off, &e) || e != f->entry)
			return false;
	}
	return true;
}

/* A pc-value table being read. */
struct pcv {
	const struct gopclntab *t;
	uint64_t at; /* next byte, from p */
	uint64_t pc; /* start of the current run */
	uint64_t next; /* its end */
	int64_t val;
	bool first;
};

static bool uvarint(struct pcv *r, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;
		if (!rd(r->t, r->at++, 1, &b))
			return false;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static void pcv_init(struct pcv *r, const struct gopclntab *t, uint32_t off, uint64_t entry)
{
	*r = (struct pcv){ .t = t, .at = t->pcs + off, .next = entry, .val = -1, .first = true };
}

/* The next run [pc, next) with its value: 1, 0 at the end, -EINVAL. */
static int pcv_step(struct pcv *r)
{
	uint64_t uv, dpc;
	if (!uvarint(r, &uv))
		return -EINVAL;
	if (!uv && !r->first)
		return 0;
	if (!uvarint(r, &dpc))
		return -EINVAL;
	int64_t dv = (uv & 1) ? (int64_t)~(uv >> 1) : (int64_t)(uv >> 1);
	r->first = false;
	/* Go's values are 32-bit: one past them is malformed (and would overflow). */
	if (__builtin_add_overflow(r->val, dv, &r->val) || r->val < INT32_MIN || r->val > INT32_MAX)
		return -EINVAL;
	r->pc = r->next;
	if (dpc > UINT32_MAX || (r->next += dpc * r->t->quantum) < r->pc)
		return -EINVAL;
	return 1;
}

/* The value of table off (of a function entered at entry) at pc, or -1. */
static int64_t pcvalue(const struct gopclntab *t, uint32_t off, uint64_t entry, uint64_t pc)
{
	struct pcv r;
	if (!off)
		return -1;
	pcv_init(&r, t, off, entry);
	while (pcv_step(&r) == 1)
		if (pc < r.next)
			return pc >= r.pc ? r.val : -1;
	return -1;
}

static const char *file_name(const struct gopclntab *t, const struct func *f, int64_t fileno)
{
	uint32_t off;
	if (fileno < 0 || !rd32(t, t->cus + ((uint64_t)f->cu + (uint64_t)fileno) * 4, &off) || off == UINT32_MAX)
		return NULL;
	return str_at(t, t->files + off);
}

/* The function containing pc: binary search of the function table. */
static int find(const struct gopclntab *t, uint64_t pc, uint64_t *idx)
{
	uint64_t lo = 0, hi = t->nfunc, first, end;
	if (!ftab(t, 0, &first, NULL) || !ftab(t, t->nfunc, &end, NULL))
		return -EINVAL;
	if (pc < first || pc >= end)
		return -ENOENT;
	while (hi - lo > 1) { /* entry(lo) <= pc < entry(hi) */
		uint64_t mid = lo + (hi - lo) / 2, e;
		if (!ftab(t, mid, &e, NULL))
			return -EINVAL;
		if (e <= pc)
			lo = mid;
		else
			hi = mid;
	}
	*idx = lo;
	return 0;
}

int gopclntab_lookup(const struct gopclntab *t, uint64_t pc, struct gopc_line *out)
{
	uint64_t i;
	struct func f;
	int err = find(t, pc, &i);
	if (err)
		return err;
	if (!read_func(t, i, &f) || f.name < 0 || !(out->name = str_at(t, t->names + (uint64_t)f.name)))
		return -EINVAL;
	out->entry = f.entry;
	out->file = file_name(t, &f, pcvalue(t, f.pcfile, f.entry, pc));
	int64_t line = pcvalue(t, f.pcln, f.entry, pc);
	out->line = line > 0 && line <= UINT32_MAX ? (uint32_t)line : 0;
	return 0;
}

/* Bytes at file virtual address vaddr, from the non-executable segments. */
static bool vread(const struct gopclntab *t, uint64_t vaddr, size_t len, void *out)
{
	for (size_t i = 0; i < t->nsegs; i++) {
		uint64_t off = vaddr - t->segs[i].vaddr;
		if (vaddr >= t->segs[i].vaddr && off <= t->segs[i].size && len <= t->segs[i].size - off) {
			memcpy(out, t->segs[i].p + off, len);
			return true;
		}
	}
	return false;
}

#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE 3

/* Value of f's pcdata table k at pc, or -1. */
static int64_t pcdata(const struct gopclntab *t, const struct func *f, uint32_t k, uint64_t pc)
{
	uint32_t off;
	if (k >= f->npcdata || !rd32(t, f->tail + 4ull * k, &off))
		return -1;
	return pcvalue(t, off, f->entry, pc);
}

/* Entry ix of f's inline tree: the inlined function's name and the pc
 * (offset from f's entry) whose position is the call site.  go1.18-1.19
 * entries are 20 bytes {parent, funcID, _, file, line, nameOff, parentPc},
 * go1.20+ 16 {funcID, _[3], nameOff, parentPc, startLine}. */
static bool inl_entry(const struct gopclntab *t, const struct func *f, int64_t ix, const char **name, uint32_t *ppc)
{
	uint32_t fd, at[2];
	uint8_t e[20];
	size_t size = t->layout == GO118 ? 20 : 16;
	if (!t->gofunc || ix < 0 || ix > 0xffff || f->nfuncdata <= FUNCDATA_INLTREE ||
	    !rd32(t, f->tail + 4ull * f->npcdata + 4 * FUNCDATA_INLTREE, &fd) || fd == UINT32_MAX ||
	    !vread(t, t->gofunc + fd + (uint64_t)ix * size, size, e))
		return false;
	memcpy(at, e + (t->layout == GO118 ? 12 : 4), 8);
	*name = str_at(t, t->names + at[0]);
	*ppc = at[1];
	return *name != NULL;
}

int gopclntab_lookup_inline(const struct gopclntab *t, uint64_t pc, struct gopc_line *out, size_t max)
{
	uint64_t i;
	struct func f;
	int err;
	if (!max)
		return -EINVAL;
	if ((err = find(t, pc, &i)) || (err = gopclntab_lookup(t, pc, &out[0])) || !read_func(t, i, &f))
		return err ? err : -EINVAL;
	/* Innermost first: each inlined function at the position in hand,
	 * then the call site (the position of its parent pc) for its caller. */
	size_t n = 0;
	struct gopc_line at = out[0];
	const char *name;
	uint32_t ppc;
	for (int64_t ix = pcdata(t, &f, PCDATA_INLTREEINDEX, pc); n + 1 < max && inl_entry(t, &f, ix, &name, &ppc);) {
		out[n++] = (struct gopc_line){ .name = name, .file = at.file, .line = at.line, .entry = f.entry };
		uint64_t cpc = f.entry + ppc;
		int64_t line = pcvalue(t, f.pcln, f.entry, cpc);
		at.file = file_name(t, &f, pcvalue(t, f.pcfile, f.entry, cpc));
		at.line = line > 0 && line <= UINT32_MAX ? (uint32_t)line : 0;
		int64_t parent = pcdata(t, &f, PCDATA_INLTREEINDEX, cpc);
		if (parent >= ix) /* parents come before their children: no loops */
			break;
		ix = parent;
	}
	at.name = f.name >= 0 ? str_at(t, t->names + (uint64_t)f.name) : NULL;
	if (!at.name)
		return -EINVAL;
	out[n++] = at;
	for (size_t a = 0, b = n - 1; a < b; a++, b--) { /* outermost first */
		struct gopc_line x = out[a];
		out[a] = out[b];
		out[b] = x;
	}
	return (int)n;
}

int gopclntab_func(const struct gopclntab *t, size_t i, struct gopc_func *out)
{
	struct func f;
	if (!read_func(t, i, &f) || !ftab(t, i + 1, &out->end, NULL))
		return -EINVAL;
	out->entry = f.entry;
	out->name = f.name >= 0 ? str_at(t, t->names + (uint64_t)f.name) : NULL;
	/* funcFlag_TOPFRAME and _SPWRITE (go1.17+); by name before. */
	out->top = (t->layout != GO116 && (f.flag & 1)) ||
		   (out->name && (!strcmp(out->name, "runtime.goexit") || !strcmp(out->name, "runtime.mstart") ||
				  !strcmp(out->name, "runtime.rt0_go")));
	out->spwrite = t->layout != GO116 && (f.flag & 2);
	return 0;
}

int gopclntab_pcsp(const struct gopclntab *t, size_t i, int (*fn)(void *ctx, uint64_t pc, int32_t sp), void *ctx)
{
	struct func f;
	struct pcv r;
	uint64_t end;
	int err;
	if (!read_func(t, i, &f) || !ftab(t, i + 1, &end, NULL) || !f.pcsp)
		return -EINVAL;
	pcv_init(&r, t, f.pcsp, f.entry);
	while ((err = pcv_step(&r)) == 1 && r.pc < end) {
		if (r.val < 0 || r.val > INT32_MAX - 16)
			return -EINVAL;
		if ((err = fn(ctx, r.pc, (int32_t)r.val)))
			return err;
	}
	return err < 0 ? err : 0;
}

const char *gopclntab_layout(const struct gopclntab *t)
{
	return t->layout == GO116 ? "go1.16-1.17" : t->layout == GO118 ? "go1.18-1.19" : "go1.20+";
}

size_t gopclntab_nfuncs(const struct gopclntab *t)
{
	return (size_t)t->nfunc;
}

/* Reads and checks the header and the function table of t->p. */
static int check(struct gopclntab *t, uint64_t text_start)
{
	uint8_t h[8];
	uint32_t magic;
	uint64_t w[8];
	if (!rd(t, 0, 8, h))
		return -EINVAL;
	memcpy(&magic, h, 4);
	t->layout = magic == 0xfffffffa ? GO116 : magic == 0xfffffff0 ? GO118 : magic == 0xfffffff1 ? GO120 : 0;
	if (!t->layout || h[4] || h[5] || (h[6] != 1 && h[6] != 2 && h[6] != 4) || h[7] != 8)
		return -EINVAL;
	t->quantum = h[6];
	size_t nw = t->layout == GO116 ? 7 : 8; /* nfunc, nfiles, [textStart,] five offsets */
	if (!rd(t, 8, nw * 8, w))
		return -EINVAL;
	const uint64_t *o = w + (t->layout == GO116 ? 2 : 3);
	t->nfunc = w[0];
	t->text = t->layout == GO116 ? 0 : w[2] ? w[2] : text_start;
	t->names = o[0];
	t->cus = o[1];
	t->files = o[2];
	t->pcs = o[3];
	t->functab = o[4];
	for (size_t k = 0; k < 5; k++)
		if (o[k] >= t->size)
			return -EINVAL;
	if (!t->nfunc || t->nfunc > (t->size - t->functab) / ftab_entry(t))
		return -EINVAL;
	/* Entries in order, each _func readable. */
	uint64_t prev = 0;
	for (uint64_t i = 0; i <= t->nfunc; i++) {
		uint64_t pc;
		struct func f;
		if (!ftab(t, i, &pc, NULL) || pc < prev || (i < t->nfunc && !read_func(t, i, &f)))
			return -EINVAL;
		prev = pc;
	}
	return 0;
}

int gopclntab_parse(const void *buf, size_t size, uint64_t text_start, struct gopclntab **out)
{
	struct gopclntab *t = calloc(1, sizeof(*t));
	int err = -ENOMEM;
	if (!t || !(t->own = malloc(size ? size : 1)))
		goto fail;
	memcpy(t->own, buf, size);
	t->p = t->own;
	t->size = size;
	if ((err = check(t, text_start)))
		goto fail;
	*out = t;
	return 0;
fail:
	gopclntab_free(t);
	return err;
}

void gopclntab_free(struct gopclntab *t)
{
	if (!t)
		return;
	free(t->own);
	elf_end(t->elf);
	free(t);
}

/* What go1.18+ entries are relative to when the header's text start is 0
 * (a PIE's, filled by a relocation at load): the start of .text, else of
 * the first executable segment. */
static uint64_t text_start(Elf *elf)
{
	GElf_Shdr sh;
	GElf_Phdr ph;
	size_t n;
	if (elfseg_section(elf, ".text", &sh))
		return sh.sh_addr;
	for (size_t i = 0; !elf_getphdrnum(elf, &n) && i < n; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
			return ph.p_vaddr;
	return 0;
}

/* The non-executable loaded segments of elf (file bytes only). */
static void read_segments(Elf *elf, struct gopclntab *t)
{
	GElf_Phdr ph;
	size_t n;
	if (elf_getphdrnum(elf, &n))
		return;
	for (size_t i = 0; i < n && t->nsegs < sizeof(t->segs) / sizeof(t->segs[0]); i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || (ph.p_flags & PF_X) || !ph.p_filesz)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		if (d && d->d_buf)
			t->segs[t->nsegs++] = (struct gseg){ ph.p_vaddr, d->d_buf, d->d_size };
	}
}

/* Searches the segments for a header that validates. */
static int scan(struct gopclntab *t, uint64_t ts)
{
	for (size_t i = 0; i < t->nsegs; i++) {
		const uint8_t *seg = t->segs[i].p;
		for (size_t off = 0; off + 64 <= t->segs[i].size; off += 4) {
			uint32_t m;
			memcpy(&m, seg + off, 4);
			if ((m != 0xfffffff1 && m != 0xfffffff0 && m != 0xfffffffa) || seg[off + 4] || seg[off + 5])
				continue;
			t->p = seg + off;
			t->size = t->segs[i].size - off;
			t->addr = t->segs[i].vaddr + off;
			if (!check(t, ts))
				return 0;
		}
	}
	return -ENOENT;
}

/* moduledata.gofunc, which go1.18+ funcdata offsets are relative to:
 * the module data is found by its first two words, the table's address
 * and that of its function names (runtime.firstmoduledata, in
 * .noptrdata); gofunc is its 39th word (go1.18-1.19) or, after the
 * coverage counters came, its 41st (go1.20+).  A PIE's pointers are
 * relocated at load (0 in the file): none found, no inline frames. */
static void find_gofunc(struct gopclntab *t)
{
	size_t at = t->layout == GO118 ? 38 * 8 : 40 * 8;
	if (t->layout == GO116 || !t->addr)
		return;
	for (size_t i = 0; i < t->nsegs; i++) {
		for (size_t off = 0; off + at + 8 <= t->segs[i].size; off += 8) {
			uint64_t w[2], gofunc, probe;
			memcpy(w, t->segs[i].p + off, 16);
			if (w[0] != t->addr || w[1] != t->addr + t->names)
				continue;
			memcpy(&gofunc, t->segs[i].p + off + at, 8);
			if (vread(t, gofunc, 8, &probe)) {
				t->gofunc = gofunc;
				return;
			}
		}
	}
}

static int load(Elf *elf, struct gopclntab *t)
{
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Scn *s;
	Elf_Data *d;
	size_t nsec = 0;
	int err = -ENOENT;
	if (!gelf_getehdr(elf, &eh) || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOENT;
	read_segments(elf, t);
	if ((s = elfseg_section(elf, ".gopclntab", &sh))) {
		if (!(d = elf_rawdata(s, NULL)) || !d->d_buf)
			return -EINVAL;
		t->p = d->d_buf;
		t->size = d->d_size;
		t->addr = sh.sh_addr;
		err = check(t, text_start(elf));
	} else if (elf_getshdrnum(elf, &nsec) || nsec <= 1 || elfseg_section(elf, ".go.buildinfo", &sh) ||
		   elfseg_section(elf, ".note.go.buildid", &sh)) {
		/* Without the section: only a Go binary (or one whose
		 * section headers are gone) is searched. */
		err = scan(t, text_start(elf));
	}
	if (!err)
		find_gofunc(t);
	return err;
}

int gopclntab_load_elf(Elf *elf, struct gopclntab **out)
{
	struct gopclntab *t = calloc(1, sizeof(*t));
	int err;
	if (!t)
		return -ENOMEM;
	if ((err = load(elf, t))) {
		free(t);
		return err;
	}
	*out = t;
	return 0;
}

int gopclntab_load_fd(int fd, struct gopclntab **out)
{
	struct gopclntab *t = calloc(1, sizeof(*t));
	int err = -ENOMEM;
	if (!t)
		return err;
	elf_version(EV_CURRENT);
	if (!(t->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) || elf_kind(t->elf) != ELF_K_ELF) {
		err = -ENOENT;
		goto fail;
	}
	if ((err = load(t->elf, t)))
		goto fail;
	*out = t;
	return 0;
fail:
	gopclntab_free(t);
	return err;
}
