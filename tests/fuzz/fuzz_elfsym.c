/* SPDX-License-Identifier: MIT */
/*
 * ELF symbol tables, segments and build ID (elfsym), from memory (the vdso
 * path) and from a file descriptor (every mapped binary): a mutated binary
 * must be refused or give lookups that hold, and both paths must agree; the
 * libraries it needs (elfsym_needed) are names, whatever the bytes.
 */
#include <string.h>

#include "fuzz.h"
#include "probe.h"
#include "symbolize/elfsym.h"

static void check(const struct elfsym_file *f, const uint64_t *probe, size_t n)
{
	const char *id = elfsym_build_id(f);
	FUZZ_CHECK(!id || (strlen(id) % 2 == 0 && strspn(id, "0123456789abcdef") == strlen(id)));
	for (size_t i = 0; i < n; i++) {
		const struct elfsym *s = elfsym_lookup(f, probe[i]);
		/* At or below, or a function whose padding the probe is in (+1). */
		FUZZ_CHECK(!s || ((s->addr <= probe[i] || s->addr == probe[i] + 1) && s->name));
		uint64_t v;
		elfsym_offset_to_vaddr(f, probe[i], &v);
	}
}

static void needed(void *ctx, const char *name)
{
	(void)ctx;
	FUZZ_CHECK(strlen(name) < 1 << 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct elfsym_file *m = NULL, *f = NULL;
	uint64_t probe[PROBES_MAX];
	size_t n = probes_from(data, size, probe);

	int em = elfsym_load_mem(data, size, &m);
	int ef = elfsym_load_fd(fuzz_memfd(&fd, data, size), &f);
	elfsym_needed(fd, needed, NULL);
	FUZZ_CHECK((em == 0) == (ef == 0));
	if (m && f) {
		FUZZ_CHECK(elfsym_count(m) == elfsym_count(f));
		FUZZ_CHECK(elfsym_has_symtab(m) == elfsym_has_symtab(f));
		check(m, probe, n);
		check(f, probe, n);
	}
	elfsym_free(m);
	elfsym_free(f);
	return 0;
}
