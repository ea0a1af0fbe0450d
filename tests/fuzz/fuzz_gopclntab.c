/* SPDX-License-Identifier: MIT */
/*
 * Go's function table (gopclntab): the input as a table (gopclntab_parse),
 * and as an ELF file searched for one (gopclntab_load_fd, then cfi_compile
 * whose rows come from it when the file has no CFI).  A table read must
 * answer lookups that hold (the function found contains the pc, its name
 * readable), functions in order, and frame-size runs in order inside their
 * function.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "probe.h"
#include "symbolize/cfi.h"
#include "symbolize/gopclntab.h"

static int in_order(void *ctx, uint64_t pc, int32_t sp)
{
	struct gopc_func *f = ctx;
	FUZZ_CHECK(pc >= f->entry && pc < f->end && sp >= 0);
	f->entry = pc; /* the next run starts at or after this one */
	return 0;
}

static void check(const struct gopclntab *t, const uint64_t *probe, size_t n)
{
	uint64_t prev = 0;
	size_t nf = gopclntab_nfuncs(t);
	for (size_t i = 0; i < nf && i < 4096; i++) {
		struct gopc_func f;
		FUZZ_CHECK(gopclntab_func(t, i, &f) == 0);
		FUZZ_CHECK(f.entry >= prev && f.end >= f.entry);
		prev = f.entry;
		int err = gopclntab_pcsp(t, i, in_order, &f);
		FUZZ_CHECK(err == 0 || err == -EINVAL);
	}
	for (size_t i = 0; i < n; i++) {
		struct gopc_line l;
		int err = gopclntab_lookup(t, probe[i], &l);
		FUZZ_CHECK(err == 0 || err == -ENOENT || err == -EINVAL);
		if (!err)
			FUZZ_CHECK(l.entry <= probe[i] && strlen(l.name) < SIZE_MAX && (!l.file || strlen(l.file) < SIZE_MAX));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct gopclntab *t = NULL;
	struct cfi_table ct;
	uint64_t probe[PROBES_MAX];
	size_t n = probes_from(data, size, probe);

	int err = gopclntab_parse(data, size, n ? probe[0] : 0, &t);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	if (t)
		check(t, probe, n);
	gopclntab_free(t);
	t = NULL;
	int mfd = fuzz_memfd(&fd, data, size);
	if (!gopclntab_load_fd(mfd, &t))
		check(t, probe, n);
	gopclntab_free(t);
	if (!cfi_compile(mfd, -1, &ct)) {
		for (size_t i = 1; i < ct.n; i++)
			FUZZ_CHECK(ct.rows[i - 1].pc < ct.rows[i].pc);
		cfi_table_release(&ct);
	}
	return 0;
}
