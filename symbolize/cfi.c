/* SPDX-License-Identifier: MIT */
/*
 * cfi: compiles x86-64 CFI into sorted rows (see cfi.h).
 *
 * One pass over .eh_frame (and/or .debug_frame) reads every CIE and FDE; the
 * FDEs are sorted by initial location and each one's instructions are run
 * once, from its CIE's initial state, emitting a row at every advance of the
 * location.  Only the rules a row can hold are tracked: the CFA, rbp and the
 * return address.  Where no FDE covers an address a GAP row follows.
 *
 * libdw's dwarf_cfi_addrframe did the same per row (re-running the FDE from
 * its start and finding it again in a search tree each time): python3.11's
 * 65k rows took 16-35 ms that way, which a command's first samples waited
 * for.  This interpreter is checked row by row against readelf's
 * (tests/unit/symbolize/test_cfi.c).
 */
#include "cfi.h"

#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "symbolize/gopclntab.h"

#define X86_RBP 6
#define X86_RSP 7
#define X86_RIP 16
#define REMEMBER_MAX 16 /* DW_CFA_remember_state depth */
#define MAX_FDES (1u << 24)

/* A byte cursor; any read past end sets bad. */
struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t read_u(struct cursor *c, size_t size)
{
	uint64_t v = 0;
	if ((size_t)(c->end - c->p) < size) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += size;
	return v;
}

static uint64_t read_uleb(struct cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; c->p < c->end; shift += 7) {
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = true;
	return 0;
}

static int64_t read_sleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	while (c->p < c->end) {
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				v |= ~(uint64_t)0 << shift;
			return (int64_t)v;
		}
	}
	c->bad = true;
	return 0;
}

/* Reads one pointer encoded as enc (DW_EH_PE_*) at the cursor, whose address
 * in the file is at; datarel is relative to data.  False for encodings CFI
 * on x86-64 does not use. */
static bool read_encoded(struct cursor *c, uint8_t enc, uint64_t at, uint64_t data, uint64_t *out)
{
	uint64_t v;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8: v = read_u(c, 8); break;
	case DW_EH_PE_udata4: v = read_u(c, 4); break;
	case DW_EH_PE_sdata4: v = (uint64_t)(int64_t)(int32_t)read_u(c, 4); break;
	case DW_EH_PE_udata2: v = read_u(c, 2); break;
	case DW_EH_PE_sdata2: v = (uint64_t)(int64_t)(int16_t)read_u(c, 2); break;
	case DW_EH_PE_uleb128: v = read_uleb(c); break;
	case DW_EH_PE_sleb128: v = (uint64_t)read_sleb(c); break;
	default: return false;
	}
	switch (enc & 0x70) {
	case DW_EH_PE_absptr: break;
	case DW_EH_PE_pcrel: v += at; break;
	case DW_EH_PE_datarel: v += data; break;
	default: return false;
	}
	*out = v;
	return !c->bad;
}

/* A register's rule.  The expression, for the EXPR kinds, points into the
 * section. */
enum rule_kind { RULE_SAME = 0, RULE_UNDEF, RULE_OFFSET, RULE_OTHER, RULE_EXPR };

struct rule {
	uint8_t kind;
	int64_t off;
	const uint8_t *expr;
	size_t len;
};

struct frame_state {
	bool cfa_expr;
	uint64_t cfa_reg;
	int64_t cfa_off;
	const uint8_t *expr; /* the CFA expression */
	size_t len;
	struct rule rbp, ra;
};

struct cie {
	size_t off; /* in the section */
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;
	uint8_t fde_enc;
	bool aug_z;
	const uint8_t *insns, *insns_end;
	struct frame_state init; /* after the initial instructions */
	bool ok;
};

struct section;

struct fde {
	uint64_t start, end;
	const uint8_t *insns, *insns_end;
	uint32_t cie; /* index into its section's CIEs */
	const struct section *sec;
};

/* One CFI section being read. */
struct section {
	const uint8_t *buf;
	size_t size;
	uint64_t addr; /* sh_addr, for pcrel pointers */
	uint64_t data; /* for datarel: the .got's address (x86-64 ABI), unused in practice */
	bool eh;       /* .eh_frame rather than .debug_frame */
	struct cie *cies; /* sorted by offset (read in order) */
	size_t ncies, cap_cies;
	struct fde *fdes;
	size_t nfdes, cap_fdes;
};

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
	if (array_grow(&t->rows, &b->cap, t->n + 1, sizeof(*t->rows)))
		return -ENOMEM;
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

static bool fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static bool fits16(int64_t v)
{
	return v >= INT16_MIN && v <= INT16_MAX;
}

/* A DWARF expression of exactly one DW_OP_breg7 (rsp) K, optionally
 * followed by DW_OP_deref: K in *k. */
static bool is_rsp_expr(const uint8_t *e, size_t len, bool deref, int64_t *k)
{
	struct cursor c = { e, e + len, false };
	if (len < 2 || *c.p++ != DW_OP_breg7)
		return false;
	*k = read_sleb(&c);
	if (deref && (c.p == c.end || *c.p++ != DW_OP_deref))
		return false;
	return !c.bad && c.p == c.end;
}

/* The PLT's CFA: rsp + 8 + ((rip & 15) >= N ? 8 : 0), written as
 * breg7 8; breg16 0; lit15; and; litN; ge; lit3; shl; plus. */
static bool is_plt_expr(const uint8_t *e, size_t len, int64_t *off, int *threshold)
{
	struct cursor c = { e, e + len, false };
	if (len < 2 || *c.p++ != DW_OP_breg7)
		return false;
	*off = read_sleb(&c);
	if (c.bad || c.end - c.p != 9 || c.p[0] != DW_OP_breg16 || c.p[1] != 0 || c.p[2] != DW_OP_lit15 ||
	    c.p[3] != DW_OP_and || c.p[4] < DW_OP_lit0 || c.p[4] > DW_OP_lit31 || c.p[5] != DW_OP_ge ||
	    c.p[6] != DW_OP_lit3 || c.p[7] != DW_OP_shl || c.p[8] != DW_OP_plus)
		return false;
	*threshold = c.p[4] - DW_OP_lit0;
	return true;
}

/* The signal trampoline's rules: CFA = *(rsp + K) (the saved rsp in the
 * ucontext), rip saved at rsp + K + 8, rbp at rsp + J. */
static bool signal_row(const struct frame_state *s, struct cfi_row *r)
{
	int64_t k, rip, j;
	if (!s->cfa_expr || !is_rsp_expr(s->expr, s->len, true, &k) || s->ra.kind != RULE_EXPR ||
	    !is_rsp_expr(s->ra.expr, s->ra.len, false, &rip) || rip != k + 8 || s->rbp.kind != RULE_EXPR ||
	    !is_rsp_expr(s->rbp.expr, s->rbp.len, false, &j) || !fits32(k) || !fits16(j))
		return false;
	r->cfa_type = CFI_CFA_SIGNAL;
	r->cfa_offset = (int32_t)k;
	r->rbp_type = CFI_RBP_UNCHANGED;
	r->rbp_offset = (int16_t)j;
	return true;
}

/* Translates one frame state into a row (without pc). */
static void row_of(const struct cie *cie, const struct frame_state *s, struct cfi_row *r, struct cfi_table *t)
{
	int64_t off;
	int plt;
	r->cfa_type = CFI_CFA_UNSUPPORTED;
	r->cfa_offset = 0;
	r->rbp_type = CFI_RBP_UNCHANGED;
	r->rbp_offset = 0;
	if (cie->ra_reg != X86_RIP)
		goto unsupported;
	if (s->ra.kind == RULE_UNDEF) {
		r->cfa_type = CFI_CFA_END; /* return address undefined: outermost */
		return;
	}
	if (s->cfa_expr) {
		if (signal_row(s, r)) {
			t->signal++;
			return;
		}
		if (is_plt_expr(s->expr, s->len, &off, &plt) && fits32(off)) {
			r->cfa_type = CFI_CFA_PLT;
			r->cfa_offset = (int32_t)off;
			r->rbp_offset = (int16_t)plt;
			return;
		}
		goto unsupported;
	}
	if ((s->cfa_reg != X86_RSP && s->cfa_reg != X86_RBP) || !fits32(s->cfa_off))
		goto unsupported;
	/* The return address must be at CFA - 8. */
	if (s->ra.kind != RULE_OFFSET || s->ra.off != -8)
		goto unsupported;
	if (s->rbp.kind == RULE_OFFSET) {
		if (!fits16(s->rbp.off))
			goto unsupported;
		r->rbp_type = CFI_RBP_CFA_OFFSET;
		r->rbp_offset = (int16_t)s->rbp.off;
	} else if (s->rbp.kind != RULE_SAME && s->rbp.kind != RULE_UNDEF) {
		goto unsupported; /* a value rule, another register, an expression */
	}
	r->cfa_type = s->cfa_reg == X86_RSP ? CFI_CFA_RSP : CFI_CFA_RBP;
	r->cfa_offset = (int32_t)s->cfa_off;
	return;
unsupported:
	r->cfa_type = CFI_CFA_UNSUPPORTED;
	r->rbp_type = CFI_RBP_UNCHANGED;
	r->rbp_offset = 0;
	t->unsupported++;
}

/* An offset times the data alignment factor.  One that overflows saturates
 * (then fits no row and becomes UNSUPPORTED) rather than wrapping into a
 * plausible offset; so does an unsigned one past INT64_MAX. */
static int64_t factored_u(uint64_t v, int64_t align)
{
	int64_t r;
	return __builtin_mul_overflow(v, align, &r) ? INT64_MAX : r;
}

static int64_t factored_s(int64_t v, int64_t align)
{
	int64_t r;
	return __builtin_mul_overflow(v, align, &r) ? INT64_MAX : r;
}

static int64_t factored_neg(uint64_t v, int64_t align)
{
	int64_t r = factored_u(v, align);
	return r == INT64_MAX || r == INT64_MIN ? INT64_MAX : -r;
}

static struct rule *rule_for(struct frame_state *s, uint64_t reg)
{
	return reg == X86_RBP ? &s->rbp : reg == X86_RIP ? &s->ra : NULL;
}

static void set_rule(struct frame_state *s, uint64_t reg, uint8_t kind, int64_t off)
{
	struct rule *r = rule_for(s, reg);
	if (r)
		*r = (struct rule){ .kind = kind, .off = off };
}

/* Emits rows into b from an interpreter. */
struct run {
	struct builder *b;
	const struct cie *cie;
	uint64_t loc, limit; /* rows at or past limit (the FDE's end, or the next FDE) are not emitted */
	bool emit;           /* false while running a CIE's initial instructions */
};

static int emit_row(struct run *x, const struct frame_state *s)
{
	if (!x->emit || x->loc >= x->limit)
		return 0;
	struct cfi_row r = { .pc = x->loc };
	row_of(x->cie, s, &r, x->b->t);
	return push(x->b, &r);
}

/* Locations only move forward (DWARF 5 6.4.2.1): a set_loc backwards, or an
 * advance that wraps, is malformed, as rows out of order would break the
 * table's binary search. */
static int advance(struct run *x, const struct frame_state *s, uint64_t to)
{
	if (to < x->loc)
		return -EINVAL;
	int err = emit_row(x, s);
	x->loc = to;
	return err;
}

static int advance_by(struct run *x, const struct frame_state *s, uint64_t delta)
{
	uint64_t d, to;
	if (__builtin_mul_overflow(delta, x->cie->code_align, &d) || __builtin_add_overflow(x->loc, d, &to))
		return -EINVAL;
	return advance(x, s, to);
}

/*
 * Runs CFA instructions from state s.  With emit, a row is emitted at each
 * advance and at the end.  Returns 0, -EINVAL for malformed instructions
 * (the caller stops there), -ENOMEM.
 */
static int execute(struct run *x, const struct section *sec, const uint8_t *p, const uint8_t *end,
		   struct frame_state *s)
{
	const struct cie *cie = x->cie;
	struct frame_state stack[REMEMBER_MAX];
	int depth = 0, err = 0;
	struct cursor c = { p, end, false };
	uint64_t reg;

	while (c.p < c.end && !c.bad && !err) {
		uint8_t op = *c.p++, low = op & 0x3f;
		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			err = advance_by(x, s, low);
			continue;
		case DW_CFA_offset:
			set_rule(s, low, RULE_OFFSET, factored_u(read_uleb(&c), cie->data_align));
			continue;
		case DW_CFA_restore:
			if (rule_for(s, low))
				*rule_for(s, low) = *rule_for((struct frame_state *)&cie->init, low);
			continue;
		}
		switch (op) {
		case DW_CFA_nop:
		case DW_CFA_GNU_args_size:
			if (op == DW_CFA_GNU_args_size)
				read_uleb(&c);
			break;
		case DW_CFA_set_loc: {
			uint64_t to;
			if (!read_encoded(&c, cie->fde_enc, sec->addr + (uint64_t)(c.p - sec->buf), sec->data, &to))
				return -EINVAL;
			err = advance(x, s, to);
			break;
		}
		case DW_CFA_advance_loc1: err = advance_by(x, s, read_u(&c, 1)); break;
		case DW_CFA_advance_loc2: err = advance_by(x, s, read_u(&c, 2)); break;
		case DW_CFA_advance_loc4: err = advance_by(x, s, read_u(&c, 4)); break;
		case DW_CFA_offset_extended:
			reg = read_uleb(&c);
			set_rule(s, reg, RULE_OFFSET, factored_u(read_uleb(&c), cie->data_align));
			break;
		case DW_CFA_offset_extended_sf:
			reg = read_uleb(&c);
			set_rule(s, reg, RULE_OFFSET, factored_s(read_sleb(&c), cie->data_align));
			break;
		case DW_CFA_GNU_negative_offset_extended:
			reg = read_uleb(&c);
			set_rule(s, reg, RULE_OFFSET, factored_neg(read_uleb(&c), cie->data_align));
			break;
		case DW_CFA_restore_extended:
			reg = read_uleb(&c);
			if (rule_for(s, reg))
				*rule_for(s, reg) = *rule_for((struct frame_state *)&cie->init, reg);
			break;
		case DW_CFA_undefined: set_rule(s, read_uleb(&c), RULE_UNDEF, 0); break;
		case DW_CFA_same_value: set_rule(s, read_uleb(&c), RULE_SAME, 0); break;
		case DW_CFA_register:
			reg = read_uleb(&c);
			read_uleb(&c);
			set_rule(s, reg, RULE_OTHER, 0);
			break;
		case DW_CFA_val_offset:
		case DW_CFA_val_offset_sf:
			reg = read_uleb(&c);
			op == DW_CFA_val_offset ? (void)read_uleb(&c) : (void)read_sleb(&c);
			set_rule(s, reg, RULE_OTHER, 0);
			break;
		case DW_CFA_remember_state:
			if (depth == REMEMBER_MAX)
				return -EINVAL;
			stack[depth++] = *s;
			break;
		case DW_CFA_restore_state:
			if (depth == 0)
				return -EINVAL;
			/* The CFA is restored with the registers (DWARF 5 6.4.2.4). */
			*s = stack[--depth];
			break;
		case DW_CFA_def_cfa:
			s->cfa_reg = read_uleb(&c);
			s->cfa_off = factored_u(read_uleb(&c), 1);
			s->cfa_expr = false;
			break;
		case DW_CFA_def_cfa_sf:
			s->cfa_reg = read_uleb(&c);
			s->cfa_off = factored_s(read_sleb(&c), cie->data_align);
			s->cfa_expr = false;
			break;
		case DW_CFA_def_cfa_register:
			s->cfa_reg = read_uleb(&c);
			if (s->cfa_expr)
				return -EINVAL;
			break;
		case DW_CFA_def_cfa_offset:
			s->cfa_off = factored_u(read_uleb(&c), 1);
			if (s->cfa_expr)
				return -EINVAL;
			break;
		case DW_CFA_def_cfa_offset_sf:
			s->cfa_off = factored_s(read_sleb(&c), cie->data_align);
			if (s->cfa_expr)
				return -EINVAL;
			break;
		case DW_CFA_def_cfa_expression: {
			uint64_t len = read_uleb(&c);
			if (c.bad || len > (uint64_t)(c.end - c.p))
				return -EINVAL;
			s->cfa_expr = true;
			s->expr = c.p;
			s->len = len;
			c.p += len;
			break;
		}
		case DW_CFA_expression:
		case DW_CFA_val_expression: {
			reg = read_uleb(&c);
			uint64_t len = read_uleb(&c);
			if (c.bad || len > (uint64_t)(c.end - c.p))
				return -EINVAL;
			struct rule *r = rule_for(s, reg);
			if (r)
				*r = (struct rule){ .kind = op == DW_CFA_expression ? RULE_EXPR : RULE_OTHER,
						    .expr = c.p,
						    .len = len };
			c.p += len;
			break;
		}
		default: return -EINVAL; /* an instruction of another architecture, or garbage */
		}
	}
	if (c.bad)
		return -EINVAL;
	return err;
}

/* The unit at off: its length and where its content starts (after the
 * length field).  False at the end (a zero terminator) or when malformed. */
static bool unit_at(const struct section *sec, size_t off, const uint8_t **content, const uint8_t **end,
		    bool *dwarf64)
{
	struct cursor c = { sec->buf + off, sec->buf + sec->size, false };
	uint64_t len = read_u(&c, 4);
	*dwarf64 = len == 0xffffffffu;
	if (*dwarf64)
		len = read_u(&c, 8);
	if (c.bad || len == 0 || len > (uint64_t)(c.end - c.p))
		return false;
	*content = c.p;
	*end = c.p + len;
	return true;
}

static void parse_cie(const struct section *sec, struct cursor *c, struct cie *cie)
{
	memset(cie, 0, sizeof(*cie));
	uint8_t version = (uint8_t)read_u(c, 1);
	const char *aug = (const char *)c->p;
	const uint8_t *nul = memchr(c->p, 0, (size_t)(c->end - c->p));
	if (!nul || (version != 1 && version != 3 && version != 4))
		return;
	c->p = nul + 1;
	if (aug[0] && aug[0] != 'z')
		return; /* "eh" and other pre-'z' augmentations: not seen on x86-64 */
	if (version == 4) {
		uint8_t addr_size = (uint8_t)read_u(c, 1), seg_size = (uint8_t)read_u(c, 1);
		if (addr_size != 8 || seg_size != 0)
			return;
	}
	cie->code_align = read_uleb(c);
	cie->data_align = read_sleb(c);
	cie->ra_reg = version == 1 ? read_u(c, 1) : read_uleb(c);
	cie->fde_enc = sec->eh ? DW_EH_PE_absptr : DW_EH_PE_udata8;
	if (aug[0] == 'z') {
		cie->aug_z = true;
		uint64_t len = read_uleb(c);
		if (c->bad || len > (uint64_t)(c->end - c->p))
			return;
		struct cursor a = { c->p, c->p + len, false };
		c->p += len;
		for (const char *k = aug + 1; *k && !a.bad; k++) {
			uint64_t ignored;
			if (*k == 'R')
				cie->fde_enc = (uint8_t)read_u(&a, 1);
			else if (*k == 'L')
				read_u(&a, 1);
			else if (*k == 'P') {
				uint8_t enc = (uint8_t)read_u(&a, 1);
				if (!read_encoded(&a, enc & 0x7f, 0, 0, &ignored))
					return;
			} else if (*k != 'S' && *k != 'B' && *k != 'G')
				break; /* unknown: the data length lets us skip the rest */
		}
	}
	if (c->bad)
		return;
	cie->insns = c->p;
	cie->insns_end = c->end;
	cie->ok = true;
}

/* The CIE at offset off, read on first use; NULL when malformed. */
static const struct cie *cie_at(struct section *sec, size_t off, uint32_t *index)
{
	size_t lo = 0, hi = sec->ncies;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sec->cies[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < sec->ncies && sec->cies[lo].off == off) {
		*index = (uint32_t)lo;
		return sec->cies[lo].ok ? &sec->cies[lo] : NULL;
	}
	return NULL;
}

/* First pass: every CIE (with its initial state) and every FDE's range. */
static int read_entries(struct section *sec)
{
	size_t off = 0;
	/* CIEs first: an FDE may point at a CIE further on (in .debug_frame). */
	for (int pass = 0; pass < 2; pass++) {
		for (off = 0; off < sec->size;) {
			const uint8_t *p, *end;
			bool dwarf64;
			if (!unit_at(sec, off, &p, &end, &dwarf64))
				break;
			size_t next = (size_t)(end - sec->buf);
			struct cursor c = { p, end, false };
			const uint8_t *id_at = c.p;
			uint64_t id = read_u(&c, dwarf64 ? 8 : 4);
			bool is_cie = sec->eh ? id == 0 : id == (dwarf64 ? ~(uint64_t)0 : 0xffffffffu);
			if (pass == 0 && is_cie) {
				int err = array_grow(&sec->cies, &sec->cap_cies, sec->ncies + 1, sizeof(*sec->cies));
				if (err)
					return err;
				struct cie *cie = &sec->cies[sec->ncies++];
				parse_cie(sec, &c, cie);
				cie->off = off;
			} else if (pass == 1 && !is_cie) {
				/* .eh_frame: back from this field; .debug_frame: from the section's start. */
				size_t here = (size_t)(id_at - sec->buf);
				uint32_t ci = 0;
				const struct cie *cie = NULL;
				if (!sec->eh || id <= here)
					cie = cie_at(sec, sec->eh ? here - id : id, &ci);
				uint64_t start, range;
				if (!cie || !read_encoded(&c, cie->fde_enc, sec->addr + (uint64_t)(c.p - sec->buf),
							  sec->data, &start) ||
				    !read_encoded(&c, cie->fde_enc & 0x0f, 0, 0, &range)) {
					off = next;
					continue;
				}
				if (cie->aug_z) {
					uint64_t len = read_uleb(&c);
					if (c.bad || len > (uint64_t)(c.end - c.p)) {
						off = next;
						continue;
					}
					c.p += len;
				}
				if (range && start + range > start) {
					if (sec->nfdes == MAX_FDES)
						return -EINVAL;
					int err = array_grow(&sec->fdes, &sec->cap_fdes, sec->nfdes + 1, sizeof(*sec->fdes));
					if (err)
						return err;
					sec->fdes[sec->nfdes++] = (struct fde){ start, start + range, c.p, c.end, ci, sec };
				}
			}
			off = next;
		}
	}
	return 0;
}

static int cmp_fde(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* The same start: only the last is used.  .eh_frame's over
	 * .debug_frame's (the one the program's own unwinder uses), then the
	 * longer. */
	if (x->sec->eh != y->sec->eh)
		return x->sec->eh ? 1 : -1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* Runs each CIE's initial instructions into its initial state. */
static void init_cies(struct section *sec)
{
	for (size_t i = 0; i < sec->ncies; i++) {
		struct cie *cie = &sec->cies[i];
		if (!cie->ok)
			continue;
		/* Before the CIE's own instructions: CFA = rsp + 8, nothing else known. */
		cie->init = (struct frame_state){ .cfa_reg = X86_RSP, .cfa_off = 8, .ra = { .kind = RULE_OTHER } };
		struct run x = { .cie = cie, .emit = false };
		if (execute(&x, sec, cie->insns, cie->insns_end, &cie->init))
			cie->ok = false;
	}
}

/* Compiles the FDEs of every section together, in order of address. */
static int compile_sections(struct section *secs, size_t nsecs, struct cfi_table *t)
{
	struct builder b = { t, 0 };
	struct fde *all = NULL;
	size_t n = 0;
	int err = 0;

	for (size_t k = 0; k < nsecs && !err; k++) {
		err = read_entries(&secs[k]);
		init_cies(&secs[k]);
		n += secs[k].nfdes;
	}
	if (!err && !n)
		err = -ENOENT;
	if (err || !(all = malloc(n * sizeof(*all))))
		return err ?: -ENOMEM;
	/* Only FDEs whose CIE compiled: one left in would end the FDE before
	 * it (its limit) without a row of its own, and that FDE's last rule
	 * would run on over code no FDE describes. */
	n = 0;
	for (size_t k = 0; k < nsecs; k++)
		for (size_t i = 0; i < secs[k].nfdes; i++)
			if (secs[k].cies[secs[k].fdes[i].cie].ok)
				all[n++] = secs[k].fdes[i];
	if (!n) {
		free(all);
		return -ENOENT;
	}
	qsort(all, n, sizeof(*all), cmp_fde);
	for (size_t i = 0; i < n && !err; i++) {
		const struct fde *f = &all[i];
		const struct cie *cie = &f->sec->cies[f->cie];
		uint64_t next = i + 1 < n ? all[i + 1].start : UINT64_MAX;
		if (next == f->start)
			continue;
		/* Rows only within the FDE's range (a set_loc may point past it). */
		uint64_t limit = f->end < next ? f->end : next;
		t->fdes++;
		t->covered += limit - f->start;
		if (!f->sec->eh)
			t->from_debug_frame = 1;
		struct frame_state s = cie->init;
		struct run x = { &b, cie, f->start, limit, true };
		int e = execute(&x, f->sec, f->insns, f->insns_end, &s);
		if (e == -ENOMEM) {
			err = e;
			break;
		}
		if (!e)
			err = emit_row(&x, &s);
		/* A malformed FDE keeps the rows it had up to the bad instruction. */
		if (!err && f->end < next) {
			struct cfi_row gap = { .pc = f->end, .cfa_type = CFI_CFA_GAP };
			err = push(&b, &gap);
		}
	}
	free(all);
	return err;
}

/* Go's frame sizes as rows (Go emits no .eh_frame, and -w drops its
 * .debug_frame): from each run of a function's pcsp table, CFA = rsp + sp
 * + 8 and, in a function that has a frame (sp > 0), the caller's rbp at
 * CFA - 16: Go saves it in the top slot of the frame it allocates
 * (go1.16-1.20: SUBQ $n, SP then MOVQ BP, n-8(SP); go1.21+: PUSHQ BP first).
 * The one instruction between SUBQ and the save gets the rule early: every
 * Go row is rsp-based, so only a frame-pointer step further up would read
 * the stale slot.  The outermost functions (goexit, mstart) end the stack;
 * those that write SP at will (stack switches) get no rule (counted as
 * unsupported), so the walker takes a frame-pointer step there.  Each
 * function counts as an FDE. */
struct go_run {
	struct builder *b;
	struct gopc_func f;
};

static int go_row(void *ctx, uint64_t pc, int32_t sp)
{
	struct go_run *g = ctx;
	struct cfi_row r = { .pc = pc, .cfa_type = CFI_CFA_RSP, .cfa_offset = sp + 8 };
	if (g->f.top) {
		r = (struct cfi_row){ .pc = pc, .cfa_type = CFI_CFA_END };
	} else if (g->f.spwrite) {
		r = (struct cfi_row){ .pc = pc, .cfa_type = CFI_CFA_UNSUPPORTED };
		g->b->t->unsupported++;
	} else if (sp > 0) {
		r = (struct cfi_row){ .pc = pc, .cfa_type = CFI_CFA_RSP, .cfa_offset = sp + 8,
				      .rbp_type = CFI_RBP_CFA_OFFSET, .rbp_offset = -16 };
	}
	return push(g->b, &r);
}

static int compile_go(const struct gopclntab *go, struct cfi_table *t)
{
	struct go_run g = { .b = &(struct builder){ t, 0 } };
	uint64_t end = 0;
	int err = 0;
	for (size_t i = 0; i < gopclntab_nfuncs(go) && !err; i++) {
		if (gopclntab_func(go, i, &g.f))
			return -EINVAL; /* checked at load: cannot happen */
		/* A function whose table is malformed keeps its rows up to the
		 * bad byte; its last rule runs on to the next function. */
		if (gopclntab_pcsp(go, i, go_row, &g) == -ENOMEM)
			err = -ENOMEM;
		t->fdes++; /* a function is Go's FDE */
		t->covered += g.f.end - g.f.entry;
		end = g.f.end;
	}
	if (!err && t->n)
		err = push(g.b, &(struct cfi_row){ .pc = end, .cfa_type = CFI_CFA_GAP });
	t->from_gopclntab = 1;
	return err ? err : t->n ? 0 : -ENOENT;
}

/* Finds the named CFI section of elf. -ENOENT when it has none. */
static int open_section(Elf *elf, const char *name, struct section *sec)
{
	GElf_Shdr sh, got;
	Elf_Scn *s = elfseg_section(elf, name, &sh);
	if (!s)
		return -ENOENT;
	if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(s, 0, 0) < 0)
		return -EINVAL;
	Elf_Data *d = elf_getdata(s, NULL);
	if (!d || !d->d_buf || !d->d_size)
		return -ENOENT;
	*sec = (struct section){ .buf = d->d_buf, .size = d->d_size, .addr = sh.sh_addr, .eh = name[1] == 'e' };
	if (elfseg_section(elf, ".got", &got))
		sec->data = got.sh_addr;
	return 0;
}

static int read_segments(Elf *elf, struct cfi_table *t)
{
	return elfseg_read(elf, true, &t->segs, &t->nsegs);
}

/* The rows of elf's .eh_frame and of the .debug_frame of debug (or of elf
 * itself) together. */
static int compile_elf(Elf *elf, Elf *debug, struct cfi_table *out)
{
	struct section secs[2];
	size_t n = 0;
	GElf_Ehdr eh;
	int err;

	memset(out, 0, sizeof(*out));
	memset(secs, 0, sizeof(secs));
	if (!gelf_getehdr(elf, &eh))
		return -EINVAL;
	if (eh.e_machine != EM_X86_64)
		return -ENOTSUP;
	if ((err = read_segments(elf, out)))
		goto out;
	if ((err = open_section(elf, ".eh_frame", &secs[n])) == 0)
		n++;
	if ((err = open_section(debug ? debug : elf, ".debug_frame", &secs[n])) == 0)
		n++;
	if (n) {
		err = compile_sections(secs, n, out);
	} else {
		struct gopclntab *go = NULL;
		if (!gopclntab_load_elf(elf, &go))
			err = compile_go(go, out);
		gopclntab_free(go);
	}
	for (size_t k = 0; k < n; k++) {
		free(secs[k].cies);
		free(secs[k].fdes);
	}
out:
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
	err = compile_elf(elf, debug, out);
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
	int err = compile_elf(elf, NULL, out);
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
