/* SPDX-License-Identifier: MIT */
/*
 * Perf map parser (/tmp/perf-PID.map, written by the profiled process's JIT,
 * so untrusted).  Lines are independent, so each line parsed alone is the
 * reference: the map holds exactly the entries and skipped lines of its
 * lines, and a lookup answers with the last line whose range contains the
 * address (a later line wins an overlap), or NULL when none does.  Reading
 * the same text from a file gives the same map.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "probe.h"
#include "symbolize/perfmap.h"

#define MAX_NAME 4096 /* perfmap.c's limit on a name */
#define NPROBES (PROBES_MAX + 64)

/* Adds the edges of the range a line seems to give ("START SIZE ..."), to
 * probe where lookups change their answer. */
static size_t edges(const char *s, size_t len, uint64_t *out, size_t n)
{
	char buf[48];
	uint64_t start, size;
	size_t k = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	memcpy(buf, s, k);
	buf[k] = '\0';
	if (sscanf(buf, "%" SCNx64 " %" SCNx64, &start, &size) != 2 || n + 4 > NPROBES)
		return n;
	out[n++] = start;
	out[n++] = start - 1;
	out[n++] = start + size - 1;
	out[n++] = start + size;
	return n;
}

static void check_name(const char *name, const uint8_t *data, size_t size)
{
	size_t len = strlen(name);
	FUZZ_CHECK(len && len <= MAX_NAME && !memchr(name, '\n', len));
	FUZZ_CHECK(memmem(data, size, name, len)); /* a name comes from the text */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	struct perfmap *m = NULL, *f = NULL;
	uint64_t probe[NPROBES];
	const char *got[NPROBES];
	size_t nlines = 0, count = 0, skipped = 0, n = probes_from(data, size, probe);
	long last[NPROBES];
	int match[NPROBES];

	if (perfmap_parse(text, size, &m))
		return 0; /* out of memory */
	for (const char *p = text; p < end; nlines++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		if (nlines < 8 || nlines % 64 == 0) /* the first lines, then one in 64 */
			n = edges(p, len, probe, n);
		p += len + 1;
	}
	FUZZ_CHECK(perfmap_count(m) + perfmap_skipped(m) <= nlines);
	for (size_t i = 0; i < n; i++) {
		got[i] = perfmap_lookup(m, probe[i]);
		if (got[i])
			check_name(got[i], data, size);
		last[i] = -1;
		match[i] = 0;
	}

	/* Each line alone: its entry (if any) and which probes it contains. */
	long line = 0;
	for (const char *p = text; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		struct perfmap *one = NULL;
		if (perfmap_parse(p, len, &one))
			goto out;
		FUZZ_CHECK(perfmap_count(one) + perfmap_skipped(one) <= 1);
		count += perfmap_count(one);
		skipped += perfmap_skipped(one);
		for (size_t i = 0; i < n && perfmap_count(one); i++) {
			const char *name = perfmap_lookup(one, probe[i]);
			if (name) {
				last[i] = line;
				match[i] = got[i] && !strcmp(got[i], name);
			}
		}
		perfmap_free(one);
		p += len + 1;
	}
	FUZZ_CHECK(perfmap_count(m) == count && perfmap_skipped(m) == skipped);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(last[i] < 0 ? !got[i] : match[i]);

	/* The same text from a file. */
	const char *path = fuzz_scratch_path("perf-1.map");
	FILE *out = fopen(path, "wb");
	FUZZ_CHECK(out && fwrite(data, 1, size, out) == size && !fclose(out));
	if (perfmap_read(path, &f))
		goto out;
	FUZZ_CHECK(perfmap_count(f) == count && perfmap_skipped(f) == skipped);
	for (size_t i = 0; i < n; i++) {
		const char *name = perfmap_lookup(f, probe[i]);
		FUZZ_CHECK(!name == !got[i] && (!name || !strcmp(name, got[i])));
	}
out:
	perfmap_free(f);
	perfmap_free(m);
	return 0;
}
