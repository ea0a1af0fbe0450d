/* SPDX-License-Identifier: MIT */
/* leafcfi: rows for code without CFI that keeps its return address at rsp. */
#include "symbolize/leafcfi.h"

#include <capstone/capstone.h>
#include <dlfcn.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

/*
 * capstone is loaded the first time a function needs decoding, not linked:
 * linked, the loader relocates its 1.7 MB of tables at every start of
 * scorch (3.3 MiB of RSS).  Without the library no rows are added from code.
 */
#define CS_FUNCS(X) X(cs_open) X(cs_option) X(cs_malloc) X(cs_disasm_iter) X(cs_regs_access) X(cs_free) X(cs_close)
static struct {
#define CS_PTR(name) __typeof__(name) *name;
	CS_FUNCS(CS_PTR)
#undef CS_PTR
} cs_fn;
static bool cs_loaded;
static pthread_once_t cs_once = PTHREAD_ONCE_INIT;

static void cs_load(void)
{
	void *h = dlopen("libcapstone.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
#define CS_SYM(name)                                          \
	if (!(*(void **)&cs_fn.name = dlsym(h, #name))) {     \
		dlclose(h);                                   \
		return;                                       \
	}
	CS_FUNCS(CS_SYM)
#undef CS_SYM
	cs_loaded = true;
}

struct func {
	uint64_t start, end; /* sorted by start (the first member) */
	uint64_t limit;	     /* the end of its section */
};

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int row_cmp(const void *a, const void *b)
{
	const struct cfi_row *x = a, *y = b;
	return (x->pc > y->pc) - (x->pc < y->pc);
}

/* Whether [start, end) is wholly in a gap of t: no row in effect there but
 * gap rows, none starting inside. */
static bool in_gap(const struct cfi_table *t, uint64_t start, uint64_t end)
{
	const struct cfi_row *r = cfi_table_find(t, start);
	if (r && r->cfa_type != CFI_CFA_GAP)
		return false;
	size_t next = r ? (size_t)(r - t->rows) + 1 : 0;
	return next >= t->n || t->rows[next].pc >= end;
}

/* Registers a function keeping its frame as at entry never writes. */
static const uint16_t stack_regs[] = {
    X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL,
};

/* Instructions that move rsp whether or not the decoder lists it written. */
static const uint16_t stack_insns[] = {
    X86_INS_PUSH,   X86_INS_PUSHAW, X86_INS_PUSHAL, X86_INS_PUSHF,   X86_INS_PUSHFD,
    X86_INS_PUSHFQ, X86_INS_POP,    X86_INS_POPAW,  X86_INS_POPAL,   X86_INS_POPF,
    X86_INS_POPFD,  X86_INS_POPFQ,  X86_INS_ENTER,  X86_INS_LEAVE,   X86_INS_IRET,
    X86_INS_IRETD,  X86_INS_IRETQ,  X86_INS_SYSRET, X86_INS_SYSEXIT,
};

static bool in_list(const uint16_t *v, size_t n, unsigned x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Whether the code decodes whole and no instruction but a call or a return
 * writes rsp or rbp. */
static bool keeps_stack(csh cs, cs_insn *insn, const uint8_t *code, size_t size, uint64_t addr)
{
	while (size) {
		if (!cs_fn.cs_disasm_iter(cs, &code, &size, &addr, insn))
			return false; /* undecodable: not code we can judge */
		if (insn->id == X86_INS_CALL || insn->id == X86_INS_RET)
			continue;
		if (in_list(stack_insns, sizeof(stack_insns) / sizeof(stack_insns[0]), insn->id))
			return false;
		cs_regs rd, wr;
		uint8_t nrd, nwr;
		if (cs_fn.cs_regs_access(cs, insn, rd, &nrd, wr, &nwr))
			return false;
		for (uint8_t i = 0; i < nwr; i++)
			if (in_list(stack_regs, sizeof(stack_regs) / sizeof(stack_regs[0]), wr[i]))
				return false;
	}
	return true;
}

/* The first bound above addr, or limit. */
static uint64_t next_bound(const uint64_t *b, size_t n, uint64_t addr, uint64_t limit)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && b[lo] < limit ? b[lo] : limit;
}

/* The addresses of every symbol in an executable section (function bounds),
 * sorted, and the FUNC symbols among them that start in a gap of t, with
 * their ends. */
static int read_symbols(Elf *elf, const struct cfi_table *t, uint64_t **bounds, size_t *nb,
			struct func **funcs, size_t *nf)
{
	size_t cap_b = 0, cap_f = 0;
	Elf_Scn *scn = NULL, *symscn = NULL;
	GElf_Shdr sh;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || (!symscn && sh.sh_type == SHT_DYNSYM)))
			symscn = scn;
	if (!symscn || !gelf_getshdr(symscn, &sh) || !sh.sh_entsize)
		return 0;
	Elf_Data *d = elf_getdata(symscn, NULL);
	size_t n = d ? sh.sh_size / sh.sh_entsize : 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		GElf_Shdr ts;
		Elf_Scn *text;
		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE ||
		    GELF_ST_TYPE(s.st_info) == STT_SECTION || GELF_ST_TYPE(s.st_info) == STT_FILE ||
		    !(text = elf_getscn(elf, s.st_shndx)) || !gelf_getshdr(text, &ts) ||
		    !(ts.sh_flags & SHF_EXECINSTR) || s.st_value < ts.sh_addr ||
		    s.st_value >= ts.sh_addr + ts.sh_size)
			continue;
		int err = array_grow(bounds, &cap_b, *nb + 1, sizeof(**bounds));
		if (err)
			return err;
		(*bounds)[(*nb)++] = s.st_value;
		if (GELF_ST_TYPE(s.st_info) != STT_FUNC || !in_gap(t, s.st_value, s.st_value + 1))
			continue; /* only functions starting in a gap can be given rows */
		if ((err = array_grow(funcs, &cap_f, *nf + 1, sizeof(**funcs))))
			return err;
		/* A size of 0 (assembly without .size): ended by the next symbol
		 * or its section (end 0 until the bounds are sorted). */
		(*funcs)[(*nf)++] = (struct func){s.st_value, s.st_size ? s.st_value + s.st_size : 0,
						  ts.sh_addr + ts.sh_size};
	}
	if (!*nf)
		return 0;
	qsort(*bounds, *nb, sizeof(**bounds), u64_cmp);
	for (size_t i = 0; i < *nf; i++)
		if (!(*funcs)[i].end)
			(*funcs)[i].end = next_bound(*bounds, *nb, (*funcs)[i].start, (*funcs)[i].limit);
	qsort(*funcs, *nf, sizeof(**funcs), u64_cmp);
	return 0;
}

/* The bytes of [start, end) from the section holding them, or NULL. */
static const uint8_t *code_at(Elf *elf, uint64_t start, uint64_t end)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR) ||
		    start < sh.sh_addr || end > sh.sh_addr + sh.sh_size)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		return d && d->d_buf && d->d_size >= sh.sh_size
			   ? (const uint8_t *)d->d_buf + (start - sh.sh_addr)
			   : NULL;
	}
	return NULL;
}

static bool same_rule(const struct cfi_row *a, const struct cfi_row *b)
{
	return a->cfa_type == b->cfa_type && a->cfa_offset == b->cfa_offset && a->rbp_type == b->rbp_type &&
	       a->rbp_offset == b->rbp_offset;
}

/* t's rows with add[0..n) merged in, sorted by pc: of two rows at one pc
 * (a function's gap row where the next one starts) the one that is not a
 * gap, and a row with the same rule as the one before it dropped.  0 or
 * -ENOMEM (t unchanged). */
static int merge_rows(struct cfi_table *t, struct cfi_row *add, size_t n)
{
	struct cfi_row *rows = malloc((t->n + n) * sizeof(*rows));
	size_t i = 0, j = 0, k = 0;
	if (!rows)
		return -ENOMEM;
	qsort(add, n, sizeof(*add), row_cmp);
	while (i < t->n || j < n) {
		struct cfi_row r =
		    j < n && (i >= t->n || add[j].pc <= t->rows[i].pc) ? add[j++] : t->rows[i++];
		if (k && rows[k - 1].pc == r.pc) {
			if (r.cfa_type == CFI_CFA_GAP)
				continue;
			k--; /* r replaces the gap row at its pc */
		}
		if (k && same_rule(&rows[k - 1], &r))
			continue;
		rows[k++] = r;
	}
	free(t->rows);
	t->rows = rows;
	t->n = k;
	return 0;
}

int leafcfi_add(int fd, struct cfi_table *t)
{
	Elf *elf = NULL;
	csh cs = 0;
	cs_insn *insn = NULL;
	uint64_t *bounds = NULL;
	struct func *funcs = NULL;
	struct cfi_row *add = NULL;
	size_t nb = 0, nf = 0, nadd = 0, cap_add = 0;
	int err = 0, found = 0;

	if (elf_version(EV_CURRENT) == EV_NONE || !(elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)))
		goto out;
	if ((err = read_symbols(elf, t, &bounds, &nb, &funcs, &nf)) || !nf)
		goto out;
	uint64_t last = 0;
	for (size_t i = 0; i < nf; i++) {
		uint64_t start = funcs[i].start, end = funcs[i].end;
		const uint8_t *code;
		if (start == last || end <= start || !in_gap(t, start, end) ||
		    !(code = code_at(elf, start, end)))
			continue;
		if (!insn) { /* the decoder, once a function needs it */
			if (pthread_once(&cs_once, cs_load) || !cs_loaded ||
			    cs_fn.cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
				cs = 0;
				goto out;
			}
			cs_fn.cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
			if (!(insn = cs_fn.cs_malloc(cs))) {
				err = -ENOMEM;
				goto out;
			}
		}
		if (!keeps_stack(cs, insn, code, end - start, start))
			continue;
		last = start;
		if ((err = array_grow(&add, &cap_add, nadd + 2, sizeof(*add))))
			goto out;
		add[nadd++] = (struct cfi_row){.pc = start, .cfa_type = CFI_CFA_RSP, .cfa_offset = 8};
		add[nadd++] = (struct cfi_row){.pc = end, .cfa_type = CFI_CFA_GAP};
		found++;
	}
	if (nadd && (err = merge_rows(t, add, nadd)))
		goto out;
out:
	free(add);
	free(funcs);
	free(bounds);
	if (insn)
		cs_fn.cs_free(insn, 1);
	if (cs)
		cs_fn.cs_close(&cs);
	if (elf)
		elf_end(elf);
	return err ? err : found;
}
