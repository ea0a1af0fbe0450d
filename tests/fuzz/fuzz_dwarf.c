/* SPDX-License-Identifier: MIT */
/*
 * DWARF lines and inline chains (dwarfidx, libdw), and the search for
 * separate debug info (debuginfo: build ID, .gnu_debuglink, .gnu_debugdata),
 * over a mutated ELF file.  An index that opens must give chains that are
 * well formed (no more frames than asked for, a name wherever one is marked
 * mangled, strings that stay readable after the index is freed), that keep
 * the innermost frames when cut short, and that do not depend on the order
 * of lookups: a second index over the same file answers every address the
 * same, looked up in reverse.
 */
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "probe.h"
#include "symbolize/debuginfo.h"
#include "symbolize/dwarfidx.h"
#include "symbolize/elfsym.h"

#define CAP 16	/* frames per lookup */
#define SHORT 2 /* the same lookup cut short */

struct chain {
	size_t n;
	struct dw_frame f[CAP];
};

static volatile size_t sink;

static bool same_frame(const struct dw_frame *a, const struct dw_frame *b)
{
	/* Pooled strings: the same string is the same pointer. */
	return a->name == b->name && a->mangled == b->mangled && a->file == b->file && a->line == b->line;
}

static void lookup(struct dwarfidx *d, uint64_t addr, struct chain *c)
{
	struct dw_frame s[SHORT];
	c->n = dwarfidx_lookup(d, addr, c->f, CAP);
	FUZZ_CHECK(c->n <= CAP);
	for (size_t i = 0; i < c->n; i++)
		FUZZ_CHECK(!c->f[i].mangled || c->f[i].name);
	size_t k = dwarfidx_lookup(d, addr, s, SHORT);
	FUZZ_CHECK(k == (c->n < SHORT ? c->n : SHORT));
	for (size_t i = 0; i < k; i++)
		FUZZ_CHECK(same_frame(&s[i], &c->f[c->n - k + i]));
	FUZZ_CHECK(dwarfidx_lookup(d, addr, s, 0) == 0);
}

/* The build ID, the debug file (looked for only in a scratch directory:
 * there is none, but the .gnu_debuglink name is read and tried), and the mini
 * debuginfo, whose symbols are loaded as the symbolizer does. */
static void debug_files(int fd)
{
	char bid[129], dir[512];
	int dfd = -1;
	void *img = NULL;
	size_t len = 0;
	struct elfsym_file *syms = NULL;

	int has_id = !debuginfo_build_id(fd, bid);
	if (has_id)
		FUZZ_CHECK(bid[0] && strlen(bid) % 2 == 0 && strspn(bid, "0123456789abcdef") == strlen(bid));
	const char *path = fuzz_scratch_path("lib.so");
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if (!debuginfo_open(fd, dir, "", path, has_id ? bid : NULL, &dfd))
		close(dfd);
	if (!debuginfo_minidebug(fd, &img, &len)) {
		elfsym_load_mem(img, len, &syms);
		elfsym_free(syms);
		free(img);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static struct chain chains[PROBES_MAX];
	struct strpool pool;
	struct dwarfidx *d = NULL;
	uint64_t probe[PROBES_MAX];
	size_t n = probes_from(data, size, probe);

	fuzz_memfd(&fd, data, size);
	debug_files(fd);
	strpool_init(&pool);
	if (dwarfidx_open(fd, &pool, &d))
		goto out;
	for (size_t i = 0; i < n; i++)
		lookup(d, probe[i], &chains[i]);
	FUZZ_CHECK(dwarfidx_bytes(d) > 0);
	dwarfidx_free(d);
	d = NULL;

	/* What lookups returned outlives the index (ASan checks the reads). */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < chains[i].n; j++)
			sink += (chains[i].f[j].name ? strlen(chains[i].f[j].name) : 0) +
				(chains[i].f[j].file ? strlen(chains[i].f[j].file) : 0);

	/* A second index, the other way round, answers the same. */
	FUZZ_CHECK(!dwarfidx_open(fd, &pool, &d));
	for (size_t i = n; i-- > 0;) {
		struct chain c;
		lookup(d, probe[i], &c);
		FUZZ_CHECK(c.n == chains[i].n);
		for (size_t j = 0; j < c.n; j++)
			FUZZ_CHECK(same_frame(&c.f[j], &chains[i].f[j]));
	}
out:
	dwarfidx_free(d);
	strpool_release(&pool);
	return 0;
}
