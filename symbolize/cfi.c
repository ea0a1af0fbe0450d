/* SPDX-License-Identifier: MIT */
/*
 * cfi: compiles x86-64 CFI into sorted rows (see cfi.h).
 *
 * FDEs are enumerated by their initial locations: from .eh_frame_hdr's
 * binary search table (sorted, encoded as its header says), or by walking
 * .debug_frame with dwarf_next_cfi.  libdw then evaluates each FDE row by
 * row: dwarf_cfi_addrframe at an address gives the rules in effect and the
 * range [start, end) they hold for, so walking from the FDE's start to its
 * end visits every row once.  Where no FDE covers an address a GAP row
 * follows.
 */
#include "cfi.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define X86_RBP 6
#define X86_RSP 7
#define X86_RIP 16

struct builder {
	struct cfi_table *t;
	size_t cap;
};

static int push(struct builder *b, const struct cfi_row *r)
{
	struct cfi_table *t = b->t;
	if (t->n) {
		struct cfi_row *last = &t->rows[t->n - 1];
		if (last->pc == r->pc) {
			*last = *r;
			goto merge_back;
		}
		if (last->cfa_type == r->cfa_type && last->cfa_offset == r->cfa_offset &&
		    last->rbp_type == r->rbp_type && last->rbp_offset == r->rbp_offset)
			return 0;
	}
	if (t->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1024;
		struct cfi_row *rows = realloc(t->rows, cap * sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		t->rows = rows;
		b->cap = cap;
	}
	t->rows[t->n++] = *r;
	return 0;
merge_back:
	/* A row replaced in place may now repeat the one before it. */
	if (t->n >= 2) {
		struct cfi_row *prev = &t->rows[t->n - 2], *last = &t->rows[t->n - 1];
		if (prev->cfa_type == last->cfa_type && prev->cfa_offset == last->cfa_offset &&
		    prev->rbp_type == last->rbp_type && prev->rbp_offset == last->rbp_offset)
			t->n--;
	}
	return 0;
}

/* The PLT's CFA: rsp + 8 + ((rip & 15) >= N ? 8 : 0), written as
 * breg7 8; breg16 0; lit15; and; litN; ge; lit3; shl; plus. */
static bool is_plt_expr(const Dwarf_Op *o, size_t n, int *threshold)
{
	if (n != 9 || o[0].atom != DW_OP_breg7 || o[1].atom != DW_OP_breg16 || o[1].number != 0 ||
	    o[2].atom != DW_OP_lit15 || o[3].atom != DW_OP_and || o[4].atom < DW_OP_lit0 ||
	    o[4].atom > DW_OP_lit31 || o[5].atom != DW_OP_ge || o[6].atom != DW_OP_lit3 ||
	    o[7].atom != DW_OP_shl || o[8].atom != DW_OP_plus)
		return false;
	*threshold = o[4].atom - DW_OP_lit0;
	return true;
}

static bool fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* rbp's rule: unchanged, or saved at CFA + offset.  False when it is
 * something else (a value rule, an expression). */
static bool rbp_rule(Dwarf_Frame *f, struct cfi_row *r)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t n = 0;
	r->rbp_type = CFI_RBP_UNCHANGED;
	r->rbp_offset = 0;
	if (dwarf_frame_register(f, X86_RBP, mem, &ops, &n) || n == 0)
		return true; /* same value or undefined: nothing to restore */
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	int64_t off = 0;
	size_t i = 1;
	if (i < n && ops[i].atom == DW_OP_plus_uconst)
		off = (int64_t)ops[i++].number;
	else if (i + 1 < n && ops[i].atom == DW_OP_consts && ops[i + 1].atom == DW_OP_plus)
		off = (int64_t)ops[i].number, i += 2;
	if (i != n || off < INT16_MIN || off > INT16_MAX)
		return false;
	r->rbp_type = CFI_RBP_CFA_OFFSET;
	r->rbp_offset = (int16_t)off;
	return true;
}

/* The signal trampoline's rules: CFA = *(rsp + K) (the saved rsp in the
 * ucontext), rbp at rsp + J. */
static bool signal_rule(Dwarf_Frame *f, const Dwarf_Op *cfa, size_t ncfa, struct cfi_row *r)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t n = 0;
	if (ncfa != 2 || cfa[0].atom != DW_OP_breg7 || cfa[1].atom != DW_OP_deref)
		return false;
	/* DW_CFA_expression rules: libdw puts the CFA first (DW_OP_call_frame_cfa). */
	if (dwarf_frame_register(f, X86_RIP, mem, &ops, &n) || n != 2 || ops[0].atom != DW_OP_call_frame_cfa ||
	    ops[1].atom != DW_OP_breg7 || (int64_t)ops[1].number != (int64_t)cfa[0].number + 8)
		return false;
	if (dwarf_frame_register(f, X86_RBP, mem, &ops, &n) || n != 2 || ops[0].atom != DW_OP_call_frame_cfa ||
	    ops[1].atom != DW_OP_breg7)
		return false;
	int64_t k = (int64_t)cfa[0].number, j = (int64_t)ops[1].number;
	if (!fits32(k) || j < INT16_MIN || j > INT16_MAX)
		return false;
	r->cfa_type = CFI_CFA_SIGNAL;
	r->cfa_offset = (int32_t)k;
	r->rbp_type = CFI_RBP_UNCHANGED;
	r->rbp_offset = (int16_t)j;
	return true;
}

/* Translates the rules of one frame state into a row (without pc). */
static void row_of(Dwarf_Frame *f, struct cfi_row *r, struct cfi_table *t)
{
	Dwarf_Op mem[3], *ops = NULL, *cfa = NULL;
	size_t n = 0, ncfa = 0;
	int plt;

	r->cfa_type = CFI_CFA_UNSUPPORTED;
	r->cfa_offset = 0;
	r->rbp_type = CFI_RBP_UNCHANGED;
	r->rbp_offset = 0;
	int ra = dwarf_frame_info(f, NULL, NULL, NULL);
	if (ra != X86_RIP)
		goto unsupported;
	if (dwarf_frame_register(f, ra, mem, &ops, &n) == 0 && n == 0 && ops == mem) {
		r->cfa_type = CFI_CFA_END; /* return address undefined: outermost */
		return;
	}
	if (dwarf_frame_cfa(f, &cfa, &ncfa) || ncfa == 0)
		goto unsupported;
	if (signal_rule(f, cfa, ncfa, r)) {
		t->signal++;
		return;
	}
	if (is_plt_expr(cfa, ncfa, &plt) && fits32((int64_t)cfa[0].number)) {
		r->cfa_type = CFI_CFA_PLT;
		r->cfa_offset = (int32_t)cfa[0].number;
		r->rbp_offset = (int16_t)plt;
		return;
	}
	/* A register rule comes as DW_OP_bregx reg offset, an expression as itself. */
	uint64_t reg, off;
	if (ncfa == 1 && cfa[0].atom == DW_OP_bregx)
		reg = cfa[0].number, off = cfa[0].number2;
	else if (ncfa == 1 && cfa[0].atom >= DW_OP_breg0 && cfa[0].atom <= DW_OP_breg31)
		reg = cfa[0].atom - DW_OP_breg0, off = cfa[0].number;
	else
		goto unsupported;
	if ((reg != X86_RSP && reg != X86_RBP) || !fits32((int64_t)off))
		goto unsupported;
	/* The return address must be at CFA - 8. */
	if (n < 2 || ops[0].atom != DW_OP_call_frame_cfa || ops[1].atom != DW_OP_plus_uconst ||
	    (int64_t)ops[1].number != -8)
		goto unsupported;
	if (!rbp_rule(f, r))
		goto unsupported;
	r->cfa_type = reg == X86_RSP ? CFI_CFA_RSP : CFI_CFA_RBP;
	r->cfa_offset = (int32_t)off;
	return;
unsupported:
	r->cfa_type = CFI_CFA_UNSUPPORTED;
	r->rbp_type = CFI_RBP_UNCHANGED;
	r->rbp_offset = 0;
	t->unsupported++;
}

/* Emits the rows of the FDE starting at a, stopping at limit (the next FDE). */
static int walk_fde(struct builder *b, Dwarf_CFI *cfi, uint64_t a, uint64_t limit)
{
	b->t->fdes++;
	while (a < limit) {
		Dwarf_Frame *f = NULL;
		Dwarf_Addr start, end;
		struct cfi_row r = { .pc = a };
		int err;
		if (dwarf_cfi_addrframe(cfi, a, &f)) {
			r.cfa_type = CFI_CFA_GAP;
			return push(b, &r);
		}
		if (dwarf_frame_info(f, &start, &end, NULL) < 0 || end <= a) {
			free(f);
			r.cfa_type = CFI_CFA_GAP;
			return push(b, &r);
		}
		row_of(f, &r, b->t);
		free(f);
		if ((err = push(b, &r)))
			return err;
		a = end;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
		const char *n;
		if (gelf_getshdr(s, sh) && (n = elf_strptr(elf, shstrndx, sh->sh_name)) && !strcmp(n, name))
			return sh->sh_type == SHT_NOBITS ? NULL : s;
	}
	return NULL;
}

/* Reads one pointer encoded as enc at p (DW_EH_PE_*); base is the section's
 * address. False when the encoding is not one .eh_frame_hdr uses. */
static bool read_encoded(const uint8_t **p, const uint8_t *end, uint8_t enc, uint64_t base, uint64_t sec_addr,
			 uint64_t *out)
{
	uint64_t v = 0, field = base + 0;
	size_t size;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8: size = 8; break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4: size = 4; break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2: size = 2; break;
	default: return false;
	}
	if ((size_t)(end - *p) < size)
		return false;
	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)(*p)[i] << (8 * i);
	if ((enc & 0x0f) == DW_EH_PE_sdata4)
		v = (uint64_t)(int64_t)(int32_t)v;
	else if ((enc & 0x0f) == DW_EH_PE_sdata2)
		v = (uint64_t)(int64_t)(int16_t)v;
	switch (enc & 0x70) {
	case DW_EH_PE_absptr: break;
	case DW_EH_PE_pcrel: v += field; break;
	case DW_EH_PE_datarel: v += sec_addr; break;
	default: return false;
	}
	*p += size;
	*out = v;
	return true;
}

/* FDE initial locations from .eh_frame_hdr's search table. */
static int eh_frame_starts(Elf *elf, uint64_t **starts, size_t *n)
{
	GElf_Shdr sh;
	Elf_Scn *s = find_section(elf, ".eh_frame_hdr", &sh);
	Elf_Data *d = s ? elf_getdata(s, NULL) : NULL;
	if (!d || d->d_size < 4)
		return -ENOENT;
	const uint8_t *base = d->d_buf, *p = base + 4, *end = base + d->d_size;
	uint8_t ptr_enc = base[1], count_enc = base[2], table_enc = base[3];
	uint64_t ignored, count;
	if (base[0] != 1 || count_enc == DW_EH_PE_omit || table_enc == DW_EH_PE_omit ||
	    !read_encoded(&p, end, ptr_enc, sh.sh_addr + (uint64_t)(p - base), sh.sh_addr, &ignored) ||
	    !read_encoded(&p, end, count_enc, sh.sh_addr + (uint64_t)(p - base), sh.sh_addr, &count))
		return -EINVAL;
	if (count > (uint64_t)(end - p) / 2)
		return -EINVAL;
	uint64_t *v = malloc((count ? count : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint64_t i = 0; i < count; i++) {
		if (!read_encoded(&p, end, table_enc, sh.sh_addr + (uint64_t)(p - base), sh.sh_addr, &v[i]) ||
		    !read_encoded(&p, end, table_enc, sh.sh_addr + (uint64_t)(p - base), sh.sh_addr, &ignored)) {
			free(v);
			return -EINVAL;
		}
	}
	*starts = v;
	*n = count;
	return 0;
}

/* FDE initial locations from .debug_frame (absolute, 8 bytes on x86-64). */
static int debug_frame_starts(Elf *elf, uint64_t **starts, size_t *n)
{
	GElf_Shdr sh;
	Elf_Scn *s = find_section(elf, ".debug_frame", &sh);
	if (!s)
		return -ENOENT;
	if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(s, 0, 0) < 0)
		return -EINVAL;
	Elf_Data *d = elf_getdata(s, NULL);
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	size_t cap = 256, cnt = 0;
	uint64_t *v = malloc(cap * sizeof(*v));
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	if (!v)
		return -ENOMEM;
	while (d && ident && dwarf_next_cfi(ident, d, false, off, &next, &e) == 0) {
		off = next;
		if (dwarf_cfi_cie_p(&e) || e.fde.end - e.fde.start < 8)
			continue;
		if (cnt == cap) {
			uint64_t *nv = realloc(v, (cap *= 2) * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		uint64_t a = 0;
		for (int i = 0; i < 8; i++)
			a |= (uint64_t)e.fde.start[i] << (8 * i);
		v[cnt++] = a;
	}
	*starts = v;
	*n = cnt;
	return 0;
}

static int read_segments(Elf *elf, struct cfi_table *t)
{
	size_t phnum;
	if (elf_getphdrnum(elf, &phnum))
		return -EINVAL;
	t->segs = calloc(phnum ? phnum : 1, sizeof(*t->segs));
	if (!t->segs)
		return -ENOMEM;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
			t->segs[t->nsegs++] = (struct cfi_segment){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
	return 0;
}

/* Walks every FDE of cfi in order of initial location. */
static int compile_rows(Dwarf_CFI *cfi, uint64_t *starts, size_t n, struct cfi_table *t)
{
	struct builder b = { t, 0 };
	int err = 0;
	qsort(starts, n, sizeof(*starts), cmp_u64);
	for (size_t i = 0; i < n && !err; i++) {
		if (i + 1 < n && starts[i + 1] == starts[i])
			continue;
		err = walk_fde(&b, cfi, starts[i], i + 1 < n ? starts[i + 1] : UINT64_MAX);
	}
	return err;
}

static int compile_elf(Elf *elf, Elf *debug, struct cfi_table *out)
{
	GElf_Ehdr eh;
	Dwarf_CFI *cfi = NULL;
	Dwarf *dw = NULL;
	uint64_t *starts = NULL;
	size_t n = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!gelf_getehdr(elf, &eh))
		return -EINVAL;
	if (eh.e_machine != EM_X86_64)
		return -ENOTSUP;
	if ((err = read_segments(elf, out)))
		goto out;
	err = eh_frame_starts(elf, &starts, &n);
	if (err == 0 && !(cfi = dwarf_getcfi_elf(elf)))
		err = -EINVAL;
	if (err && debug) {
		free(starts);
		starts = NULL;
		if ((err = debug_frame_starts(debug, &starts, &n)))
			goto out;
		if (!(dw = dwarf_begin_elf(debug, DWARF_C_READ, NULL)) || !(cfi = dwarf_getcfi(dw))) {
			err = -EINVAL;
			goto out;
		}
		out->from_debug_frame = 1;
	}
	if (err)
		goto out;
	err = compile_rows(cfi, starts, n, out);
out:
	if (cfi && !dw)
		dwarf_cfi_end(cfi);
	if (dw)
		dwarf_end(dw);
	free(starts);
	if (err)
		cfi_table_release(out);
	return err;
}

int cfi_compile(int fd, int debug_fd, struct cfi_table *out)
{
	Elf *elf = NULL, *debug = NULL;
	int err;

	elf_version(EV_CURRENT);
	memset(out, 0, sizeof(*out));
	if (!(elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) || elf_kind(elf) != ELF_K_ELF) {
		err = -EINVAL;
		goto out;
	}
	if (debug_fd >= 0 && !(debug = elf_begin(debug_fd, ELF_C_READ_MMAP, NULL))) {
		err = -EINVAL;
		goto out;
	}
	err = compile_elf(elf, debug ? debug : elf, out);
out:
	elf_end(debug);
	elf_end(elf);
	return err;
}

int cfi_compile_image(const void *image, size_t size, struct cfi_table *out)
{
	elf_version(EV_CURRENT);
	memset(out, 0, sizeof(*out));
	Elf *elf = elf_memory((char *)image, size);
	if (!elf)
		return -EINVAL;
	int err = compile_elf(elf, elf, out);
	elf_end(elf);
	return err;
}

void cfi_table_release(struct cfi_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t->segs);
	memset(t, 0, sizeof(*t));
}

const struct cfi_row *cfi_table_find(const struct cfi_table *t, uint64_t pc)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) { /* first row with pc > the address */
		size_t mid = lo + (hi - lo) / 2;
		if (t->rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

int cfi_table_bias(const struct cfi_table *t, uint64_t map_start, uint64_t map_offset, uint64_t *bias)
{
	for (size_t i = 0; i < t->nsegs; i++) {
		const struct cfi_segment *s = &t->segs[i];
		/* Mappings start page-aligned, possibly before the segment's own offset. */
		uint64_t seg_page = s->offset & ~(uint64_t)0xfff;
		if (map_offset >= seg_page && map_offset < s->offset + s->filesz) {
			*bias = map_start - map_offset + s->offset - s->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}
