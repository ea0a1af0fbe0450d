/* SPDX-License-Identifier: MIT */
/*
 * Call frame information (cfi: .eh_frame and .debug_frame) compiled into an
 * unwind table, from a mutated ELF file, through a file descriptor (every
 * mapped binary), as an image in memory (the vDSO) and with the file as its
 * own debug file: all three must agree, and a table that compiles must hold
 * what cfi.h promises: rows strictly sorted by pc, valid kinds with the
 * fields their kind uses, no two neighbours with the same rule, rules only
 * over code the FDEs describe (a GAP after the last), counts that match the
 * rows, and lookups that land on the last row at or below the address.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "probe.h"
#include "symbolize/cfi.h"
#include "symbolize/elfsym.h"

static bool same_rule(const struct cfi_row *a, const struct cfi_row *b)
{
	return a->cfa_type == b->cfa_type && a->cfa_offset == b->cfa_offset && a->rbp_type == b->rbp_type &&
	       a->rbp_offset == b->rbp_offset;
}

static void check_row(const struct cfi_row *r)
{
	FUZZ_CHECK(r->cfa_type <= CFI_CFA_SIGNAL);
	FUZZ_CHECK(r->rbp_type <= CFI_RBP_CFA_OFFSET);
	/* Only rows with a register CFA say where rbp was saved. */
	FUZZ_CHECK(r->rbp_type == CFI_RBP_UNCHANGED || r->cfa_type == CFI_CFA_RSP || r->cfa_type == CFI_CFA_RBP);
	switch (r->cfa_type) {
	case CFI_CFA_GAP:
	case CFI_CFA_END:
	case CFI_CFA_UNSUPPORTED: FUZZ_CHECK(r->cfa_offset == 0 && r->rbp_offset == 0); break;
	case CFI_CFA_PLT: FUZZ_CHECK(r->rbp_offset >= 0 && r->rbp_offset <= 31); break;
	case CFI_CFA_RSP:
	case CFI_CFA_RBP: FUZZ_CHECK(r->rbp_type == CFI_RBP_CFA_OFFSET || r->rbp_offset == 0); break;
	}
}

static void check_table(const struct cfi_table *t, const uint64_t *probe, size_t np)
{
	uint32_t unsupported = 0, signal = 0;
	uint64_t ruled = 0; /* bytes under a rule other than GAP, up to the last row */

	FUZZ_CHECK(t->n == 0 || t->rows);
	FUZZ_CHECK(t->segs || t->nsegs == 0);
	FUZZ_CHECK((t->fdes == 0) == (t->covered == 0));
	FUZZ_CHECK(t->fdes || t->n == 0);
	for (size_t i = 0; i < t->n; i++) {
		const struct cfi_row *r = &t->rows[i];
		check_row(r);
		unsupported += r->cfa_type == CFI_CFA_UNSUPPORTED;
		signal += r->cfa_type == CFI_CFA_SIGNAL;
		if (i) {
			FUZZ_CHECK(t->rows[i - 1].pc < r->pc);
			FUZZ_CHECK(!same_rule(&t->rows[i - 1], r));
			if (t->rows[i - 1].cfa_type != CFI_CFA_GAP)
				ruled += r->pc - t->rows[i - 1].pc;
		}
	}
	/* Rows counted before merging: at least as many as remain. */
	FUZZ_CHECK(unsupported <= t->unsupported);
	FUZZ_CHECK(signal <= t->signal);
	/* Every rule is over code some FDE describes, and the table ends with a
	 * GAP (unless the last FDE reaches the end of the address space). */
	FUZZ_CHECK(ruled <= t->covered);
	FUZZ_CHECK(t->n == 0 || t->rows[t->n - 1].cfa_type == CFI_CFA_GAP ||
		   t->covered - ruled >= UINT64_MAX - t->rows[t->n - 1].pc);

	for (size_t i = 0; i < np; i++) {
		const struct cfi_row *r = cfi_table_find(t, probe[i]);
		if (!r) {
			FUZZ_CHECK(t->n == 0 || probe[i] < t->rows[0].pc);
			continue;
		}
		FUZZ_CHECK(r >= t->rows && r < t->rows + t->n);
		FUZZ_CHECK(r->pc <= probe[i]);
		FUZZ_CHECK(r == t->rows + t->n - 1 || r[1].pc > probe[i]);
		/* The same rows are found at each row's own pc. */
		FUZZ_CHECK(cfi_table_find(t, r->pc) == r);
		uint64_t bias;
		if (!elfseg_bias(t->segs, t->nsegs, probe[i], probe[np - 1 - i] & ~(uint64_t)0xfff, &bias))
			FUZZ_CHECK(t->nsegs > 0);
	}
}

static bool same_table(const struct cfi_table *a, const struct cfi_table *b)
{
	return a->n == b->n && a->nsegs == b->nsegs && a->fdes == b->fdes && a->unsupported == b->unsupported &&
	       a->signal == b->signal && a->from_debug_frame == b->from_debug_frame && a->covered == b->covered &&
	       (!a->n || !memcmp(a->rows, b->rows, a->n * sizeof(*a->rows))) &&
	       (!a->nsegs || !memcmp(a->segs, b->segs, a->nsegs * sizeof(*a->segs)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct cfi_table t, m, d;
	uint64_t probe[PROBES_MAX];
	size_t n = probes_from(data, size, probe);
	char interp[64];

	fuzz_memfd(&fd, data, size);
	int et = cfi_compile(fd, -1, &t);
	int em = cfi_compile_image(data, size, &m);
	int ed = cfi_compile(fd, fd, &d);
	FUZZ_CHECK(et <= 0 && (et == 0 || et == -ENOENT || et == -ENOTSUP || et == -EINVAL || et == -ENOMEM));
	/* The file is its own debug file: .debug_frame is read from it either way. */
	FUZZ_CHECK(ed == et);
	/* A file that libelf refuses from a descriptor may open from memory
	 * (elf_begin checks the size against the file's); otherwise both agree. */
	FUZZ_CHECK(em == et || et == -EINVAL);
	if (!et) {
		check_table(&t, probe, n);
		FUZZ_CHECK(same_table(&t, &d));
		if (!em)
			FUZZ_CHECK(same_table(&t, &m));
	} else {
		/* Failures leave an empty table behind. */
		FUZZ_CHECK(!t.rows && !t.n && !t.segs && !t.nsegs && !t.fdes);
	}
	if (!em)
		check_table(&m, probe, n);
	cfi_table_release(&t);
	cfi_table_release(&m);
	cfi_table_release(&d);

	int ei = elfsym_interpreter(fd, interp, sizeof(interp));
	FUZZ_CHECK(ei == 0 || ei == -ENOENT || ei == -EINVAL);
	if (!ei)
		FUZZ_CHECK(interp[0] && strlen(interp) < sizeof(interp));
	return 0;
}
