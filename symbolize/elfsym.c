/* SPDX-License-Identifier: MIT */
#include "elfsym.h"

#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/hashtab.h"
#include "elfnote.h"
#include "elfseg.h"

struct elfsym_file {
	struct elfsym *syms;
	size_t n, cap;
	char *names; /* NUL-separated names; syms[i].name points in here after finish() */
	size_t names_len, names_cap;
	struct elf_segment *segs; /* every PT_LOAD */
	size_t nsegs;
	char build_id[2 * 64 + 1];
	bool has_symtab;
	uint64_t digest; /* of the section layout, segments and symbols */
};

/* Copies name, without a symbol version (`@@GLIBC_2.34`, `@GLIBC_2.2.5`),
 * then suffix. */
static int add_name(struct elfsym_file *f, const char *name, const char *suffix, size_t *off)
{
	size_t base = strcspn(name, "@"), len = base + strlen(suffix) + 1;
	if (array_grow(&f->names, &f->names_cap, f->names_len + len, 1))
		return -ENOMEM;
	memcpy(f->names + f->names_len, name, base);
	memcpy(f->names + f->names_len + base, suffix, len - base); /* with the NUL */
	*off = f->names_len;
	f->names_len += len;
	return 0;
}

/* Appends a symbol; name_off as add_name gave it (finish() turns it into a
 * pointer).  With stretch, size is only a bound (below). */
static int add_sym(struct elfsym_file *f, uint64_t addr, uint64_t size, size_t name_off, uint32_t rank, bool stretch)
{
	if (array_grow(&f->syms, &f->cap, f->n + 1, sizeof(*f->syms)))
		return -ENOMEM;
	f->syms[f->n++] = (struct elfsym){ addr, size, (const char *)(uintptr_t)name_off, rank, stretch };
	return 0;
}

/* Which of two symbols at one address is kept (the lower): rank, then the
 * larger size; then, as perf chooses (tools/perf/util/symbol.c,
 * choose_best_symbol), fewer leading underscores, then the longer name:
 * libc6-dbg's __memmove_avx_unaligned_erms, not __memcpy_avx_unaligned_erms
 * at the same address; then the name.  names: where names are, as offsets,
 * before finish() (NULL after it, pointers). */
static int sym_order(const char *names, const struct elfsym *x, const struct elfsym *y)
{
	uint64_t xs = x->stretch ? 0 : x->size, ys = y->stretch ? 0 : y->size;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (xs != ys)
		return xs > ys ? -1 : 1;
	const char *a = names ? names + (uintptr_t)x->name : x->name, *b = names ? names + (uintptr_t)y->name : y->name;
	size_t ua = strspn(a, "_"), ub = strspn(b, "_"), la = strlen(a), lb = strlen(b);
	if (ua != ub)
		return ua < ub ? -1 : 1;
	if (la != lb)
		return la > lb ? -1 : 1;
	return strcmp(a, b);
}

/* How far a symbol is from the name a user knows (perf and gdb agree on
 * libc's __libc_start_main, where .symtab also has __libc_start_main_impl
 * and two local __libc_start_main_alias_N): a label without a type, then an
 * alias-looking name, then the binding, then a non-default version. */
static uint32_t sym_rank(const GElf_Sym *sym, const char *name)
{
	uint32_t rank = 0;
	if (GELF_ST_TYPE(sym->st_info) == STT_NOTYPE)
		rank += 16;
	if (strstr(name, "_alias_") || strstr(name, ".localalias") || !strncmp(name, "__GI_", 5))
		rank += 8;
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		break;
	case STB_WEAK:
		rank += 2;
		break;
	default:
		rank += 4;
	}
	const char *at = strchr(name, '@');
	if (at && at[1] != '@')
		rank += 1;
	return rank;
}

static bool in_code(Elf *elf, size_t shndx)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elf_getscn(elf, shndx);
	return scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_EXECINSTR);
}

/* The bytes of section shndx from address addr to its end; 0 when addr is
 * not in it. */
static uint64_t section_left(Elf *elf, size_t shndx, uint64_t addr)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elf_getscn(elf, shndx);
	if (!scn || !gelf_getshdr(scn, &sh) || addr < sh.sh_addr || addr - sh.sh_addr >= sh.sh_size)
		return 0;
	return sh.sh_size - (addr - sh.sh_addr);
}

static int read_symtab(struct elfsym_file *f, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || !sh->sh_entsize)
		return 0;
	size_t count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		int type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx >= SHN_LORESERVE || !sym.st_value)
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		/* Untyped labels name code only in an executable section (assembly
		 * entry points such as _start); skip local and mapping labels. */
		if (type == STT_NOTYPE && (name[0] == '.' || name[0] == '$' || !in_code(elf, sym.st_shndx)))
			continue;
		/* A symbol without a size (an assembly label, _init) reaches the
		 * next symbol, but not past the end of its section: _init's would
		 * cover the PLT stubs after .init. */
		uint64_t size = sym.st_size;
		if (!size)
			size = section_left(elf, sym.st_shndx, sym.st_value);
		size_t off;
		if (add_name(f, name, "", &off) ||
		    add_sym(f, sym.st_value, size, off, sym_rank(&sym, name), !sym.st_size))
			return -ENOMEM;
	}
	return 0;
}

/*
 * PLT stubs.  A call into another file (or to an IFUNC) goes through a stub
 * the linker writes into .plt (.plt.sec under IBT, .plt.got where the slot
 * is filled at load time, .plt.bnd under MPX): an indirect jump through the
 * function's GOT slot.  Stubs have no symbols; objdump and perf name one
 * "func@plt" after the relocation that fills its slot, and so do we.  The
 * slot is read from the stub's own jump, not assumed from the order of
 * .rela.plt: ld lays out IRELATIVE stubs first and their relocations last
 * (libc.so.6).  x86-64 only.
 */

/* A slot's relocation, by slot address: a symbol (its symbol table's section
 * index << 32 | its index), or with SLOT_IREL the IFUNC resolver whose
 * answer fills it. */
#define SLOT_IREL (1ull << 63)
/* Behind any symbol of the file's own at the same address. */
#define PLT_RANK 64

struct plt {
	struct u64map slots;     /* slot address -> relocation (above) */
	struct u64map resolvers; /* IFUNC resolver address -> 1 + index of its best symbol, or 0 */
	struct u64map names;     /* slot address -> 1 + offset of its stubs' name */
};

/* True for a section of PLT stubs: code named .plt or .plt.*. */
static bool plt_section(Elf *elf, size_t shstrndx, const GElf_Shdr *sh)
{
	const char *name = elf_strptr(elf, shstrndx, sh->sh_name);
	return sh->sh_type == SHT_PROGBITS && (sh->sh_flags & SHF_EXECINSTR) && name && !strncmp(name, ".plt", 4) &&
	       (!name[4] || name[4] == '.');
}

/* The relocations of loaded sections (not --emit-relocs' .rela.text) that
 * can fill a slot a stub jumps through. */
static int read_slots(Elf *elf, struct plt *p)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !(sh.sh_flags & SHF_ALLOC) || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			uint64_t v;
			if (!gelf_getrela(d, (int)i, &r))
				break;
			switch (GELF_R_TYPE(r.r_info)) {
			case R_X86_64_JUMP_SLOT:
			case R_X86_64_GLOB_DAT:
				v = (uint64_t)sh.sh_link << 32 | GELF_R_SYM(r.r_info);
				break;
			case R_X86_64_IRELATIVE:
				v = SLOT_IREL | ((uint64_t)r.r_addend & ~SLOT_IREL);
				if (u64map_put(&p->resolvers, v & ~SLOT_IREL, 0))
					return -ENOMEM;
				break;
			default:
				continue;
			}
			if (u64map_put(&p->slots, r.r_offset, v))
				return -ENOMEM;
		}
	}
	return 0;
}

/* For each IFUNC resolver, the symbol elfsym_lookup will give for its
 * address (finish()'s choice): one pass over the symbols read so far. */
static void find_resolvers(const struct elfsym_file *f, struct plt *p)
{
	for (size_t i = 0; u64map_len(&p->resolvers) && i < f->n; i++) {
		uint64_t *best = u64map_get(&p->resolvers, f->syms[i].addr);
		if (best && (!*best || sym_order(f->names, &f->syms[i], &f->syms[*best - 1]) < 0))
			*best = i + 1;
	}
}

/* The GOT slot the stub code[0..len), at address at, jumps through:
 * `jmp *disp32(%rip)`, after an endbr64, mold's `mov $index, %r11d` and a
 * bnd prefix, each if there.  0 for a stub without one: the first entry of
 * .plt and the lazy-binding stubs, which push an index and jump to the
 * resolver. */
static uint64_t stub_slot(const unsigned char *code, size_t len, uint64_t at)
{
	static const unsigned char endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	size_t p = len >= sizeof(endbr64) && !memcmp(code, endbr64, sizeof(endbr64)) ? sizeof(endbr64) : 0;
	if (p + 6 <= len && code[p] == 0x41 && code[p + 1] == 0xbb)
		p += 6;
	if (p < len && code[p] == 0xf2) /* bnd */
		p++;
	if (p + 6 > len || code[p] != 0xff || code[p + 1] != 0x25)
		return 0;
	uint32_t disp = code[p + 2] | (uint32_t)code[p + 3] << 8 | (uint32_t)code[p + 4] << 16 | (uint32_t)code[p + 5] << 24;
	return at + p + 6 + (uint64_t)(int64_t)(int32_t)disp;
}

/* The name, into f->names, of the stubs jumping through slot (filled by
 * relocation v): *off; -ENOENT when the relocation names nothing. */
static int stub_name(struct elfsym_file *f, Elf *elf, struct plt *p, uint64_t slot, uint64_t v, size_t *off)
{
	uint64_t *known = u64map_get(&p->names, slot);
	const char *name = NULL;
	char buf[40], *copy;

	if (known) {
		*off = *known - 1;
		return 0;
	}
	if (v & SLOT_IREL) {
		/* The IFUNC symbol is at its resolver's address: the name a user
		 * knows; else objdump's. */
		uint64_t *best = u64map_get(&p->resolvers, v & ~SLOT_IREL);
		if (best && *best) {
			name = f->names + (uintptr_t)f->syms[*best - 1].name;
		} else {
			snprintf(buf, sizeof(buf), "*ABS*+0x%" PRIx64, (uint64_t)(v & ~SLOT_IREL));
			name = buf;
		}
	} else {
		Elf_Scn *scn = elf_getscn(elf, v >> 32);
		Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
		GElf_Shdr sh;
		GElf_Sym sym;
		if (d && gelf_getshdr(scn, &sh) && gelf_getsym(d, (int)(uint32_t)v, &sym))
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
	}
	if (!name || !*name)
		return -ENOENT;
	/* name may point into f->names, which add_name may move: copied first. */
	if (!(copy = strdup(name)))
		return -ENOMEM;
	int err = add_name(f, copy, "@plt", off) ?: u64map_put(&p->names, slot, *off + 1);
	free(copy);
	return err;
}

static int add_stubs(struct elfsym_file *f, Elf *elf, size_t shstrndx, struct plt *p)
{
	Elf_Scn *scn = NULL;
	int err = read_slots(elf, p);
	if (!err)
		find_resolvers(f, p);
	while (!err && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || !plt_section(elf, shstrndx, &sh) || !(d = elf_getdata(scn, NULL)) ||
		    !d->d_buf)
			continue;
		/* 16 bytes a stub; 8 in .plt.got without IBT (sh_entsize says). */
		uint64_t step = sh.sh_entsize ? sh.sh_entsize : 16;
		if (step < 8 || step > 32)
			continue;
		for (uint64_t off = 0; off + step <= d->d_size && !err; off += step) {
			uint64_t slot = stub_slot((const unsigned char *)d->d_buf + off, step, sh.sh_addr + off);
			uint64_t *v = slot ? u64map_get(&p->slots, slot) : NULL;
			size_t name;
			if (!v || (err = stub_name(f, elf, p, slot, *v, &name)) == -ENOENT) {
				err = 0;
				continue;
			}
			err = err ?: add_sym(f, sh.sh_addr + off, step, name, PLT_RANK, false);
		}
	}
	return err;
}

/* Adds a symbol for each PLT stub.  A file whose stubs cannot be read
 * (out of memory) keeps its own symbols, without stub names. */
static void read_plt(struct elfsym_file *f, Elf *elf)
{
	GElf_Ehdr eh;
	GElf_Shdr sh;
	size_t shstrndx, n = f->n;
	Elf_Scn *scn = NULL;
	struct plt p;

	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 || elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn)) && !(gelf_getshdr(scn, &sh) && plt_section(elf, shstrndx, &sh)))
		;
	if (!scn)
		return; /* no stubs (or a debug file's: NOBITS) */
	u64map_init(&p.slots);
	u64map_init(&p.resolvers);
	u64map_init(&p.names);
	if (add_stubs(f, elf, shstrndx, &p))
		f->n = n;
	u64map_release(&p.slots);
	u64map_release(&p.resolvers);
	u64map_release(&p.names);
}

int elfnote_build_id(Elf_Data *data, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 || nh.n_descsz > 64 ||
		    memcmp((char *)data->d_buf + name_off, "GNU", 4))
			continue;
		const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;
		for (size_t i = 0; i < nh.n_descsz; i++) {
			out[2 * i] = hex[d[i] >> 4];
			out[2 * i + 1] = hex[d[i] & 15];
		}
		out[2 * nh.n_descsz] = '\0';
		return nh.n_descsz ? 0 : -ENODATA;
	}
	return -ENOENT;
}

static int read_segments(struct elfsym_file *f, Elf *elf)
{
	int err = elfseg_read(elf, false, &f->segs, &f->nsegs);
	return err == -EINVAL ? 0 : err; /* no program headers: no addresses */
}

static int sym_cmp(const void *a, const void *b)
{
	const struct elfsym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return sym_order(NULL, x, y); /* the first at an address is kept */
}

/* Sorts, drops duplicate addresses, fills missing sizes: the distance to the
 * next symbol, within the symbol's section. */
static void finish(struct elfsym_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		f->syms[i].name = f->names + (uintptr_t)f->syms[i].name;
	if (f->n) /* qsort(NULL, 0) is undefined */
		qsort(f->syms, f->n, sizeof(*f->syms), sym_cmp);
	size_t w = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (w && f->syms[w - 1].addr == f->syms[i].addr)
			continue;
		f->syms[w++] = f->syms[i];
	}
	f->n = w;
	for (size_t i = 0; i < f->n; i++) {
		struct elfsym *s = &f->syms[i];
		uint64_t next = i + 1 < f->n ? f->syms[i + 1].addr - s->addr : 0; /* 0: none */
		if (s->stretch && (!s->size || (next && next < s->size)))
			s->size = next;
	}
}

static int load_elf(Elf *elf, struct elfsym_file **out)
{
	int err = 0;
	Elf_Scn *scn = NULL;
	struct elfsym_file *f;

	if (elf_kind(elf) != ELF_K_ELF)
		return -ENOEXEC;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		uint64_t layout[] = { sh.sh_name, sh.sh_type, sh.sh_flags, sh.sh_size };
		f->digest = hash_bytes(layout, sizeof(layout), f->digest);
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			f->has_symtab |= sh.sh_type == SHT_SYMTAB;
			if ((err = read_symtab(f, elf, scn, &sh)))
				goto fail;
		} else if (sh.sh_type == SHT_NOTE && !f->build_id[0]) {
			elfnote_build_id(elf_getdata(scn, NULL), f->build_id);
		}
	}
	read_plt(f, elf);
	if ((err = read_segments(f, elf)))
		goto fail;
	finish(f);
	for (size_t i = 0; i < f->nsegs; i++)
		f->digest = hash_bytes(&f->segs[i], sizeof(f->segs[i]), f->digest);
	for (size_t i = 0; i < f->n; i++) {
		uint64_t as[] = { f->syms[i].addr, f->syms[i].size };
		f->digest = hash_bytes(as, sizeof(as), f->digest);
		f->digest = hash_bytes(f->syms[i].name, strlen(f->syms[i].name), f->digest);
	}
	*out = f;
	return 0;
fail:
	elfsym_free(f);
	return err;
}

int elfsym_load_fd(int fd, struct elfsym_file **out)
{
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	int err = load_elf(elf, out);
	elf_end(elf);
	return err;
}

int elfsym_load_mem(const void *image, size_t len, struct elfsym_file **out)
{
	int err;
	void *copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, image, len);
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory(copy, len);
	if (!elf) {
		free(copy);
		return -ENOEXEC;
	}
	err = load_elf(elf, out);
	elf_end(elf);
	free(copy);
	return err;
}

void elfsym_free(struct elfsym_file *f)
{
	if (!f)
		return;
	free(f->syms);
	free(f->names);
	free(f->segs);
	free(f);
}

int elfsym_offset_to_vaddr(const struct elfsym_file *f, uint64_t offset, uint64_t *vaddr)
{
	return elfseg_vaddr(f->segs, f->nsegs, offset, vaddr);
}

const struct elfsym *elfsym_lookup(const struct elfsym_file *f, uint64_t vaddr)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct elfsym *s = lo ? &f->syms[lo - 1] : NULL;
	if (s && vaddr < s->addr + (s->size ? s->size : 1))
		return s;
	/* Padding right before a function: its return-address lookup. */
	if (lo < f->n && f->syms[lo].addr == vaddr + 1)
		return &f->syms[lo];
	return NULL;
}

const char *elfsym_build_id(const struct elfsym_file *f)
{
	return f->build_id[0] ? f->build_id : NULL;
}

size_t elfsym_count(const struct elfsym_file *f)
{
	return f->n;
}

uint64_t elfsym_digest(const struct elfsym_file *f)
{
	return f->digest;
}

bool elfsym_has_symtab(const struct elfsym_file *f)
{
	return f->has_symtab;
}

int elfsym_interpreter(int fd, char *buf, size_t len)
{
	size_t phnum;
	int err = -ENOENT;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &phnum)) {
		elf_end(elf);
		return -EINVAL;
	}
	for (size_t i = 0; i < phnum && err == -ENOENT; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		size_t size;
		const char *image = elf_rawfile(elf, &size);
		err = -EINVAL;
		if (image && ph.p_offset < size && ph.p_filesz <= size - ph.p_offset && ph.p_filesz < len &&
		    ph.p_filesz > 1 && !memchr(image + ph.p_offset, 0, ph.p_filesz - 1)) {
			memcpy(buf, image + ph.p_offset, ph.p_filesz);
			buf[ph.p_filesz] = 0;
			err = 0;
		}
	}
	elf_end(elf);
	return err;
}

int elfsym_needed(int fd, void (*fn)(void *ctx, const char *name), void *ctx)
{
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return -EINVAL;
	}
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = d ? d->d_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Dyn dyn;
			const char *name;
			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag == DT_NEEDED && (name = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val)))
				fn(ctx, name);
		}
		break;
	}
	elf_end(elf);
	return 0;
}

void elfsym_each(Elf *elf, void (*fn)(void *ctx, const char *name, const GElf_Sym *sym), void *ctx)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = d ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym s;
			const char *name;
			if (gelf_getsym(d, (int)i, &s) && s.st_value && (name = elf_strptr(elf, sh.sh_link, s.st_name)))
				fn(ctx, name, &s);
		}
	}
}
