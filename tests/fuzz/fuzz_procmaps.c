/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID/maps parser.  What parses must be sorted, well formed, and found
 * again by address.
 */
#include "fuzz.h"
#include "symbolize/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procmaps m;

	if (procmaps_parse((const char *)data, size, &m))
		return 0;
	for (size_t i = 0; i < m.n; i++) {
		const struct procmap *a = &m.maps[i];
		FUZZ_CHECK(a->start <= a->end && a->path);
		FUZZ_CHECK(!i || m.maps[i - 1].start <= a->start);
		if (a->start == a->end)
			continue;
		const uint64_t probes[] = { a->start, a->end - 1, a->start + (a->end - a->start) / 2 };
		for (size_t j = 0; j < sizeof(probes) / sizeof(*probes); j++) {
			const struct procmap *r = procmaps_find(&m, probes[j]);
			/* Overlapping mappings (never from the kernel) may answer with another. */
			FUZZ_CHECK(!r || (r->start <= probes[j] && probes[j] < r->end));
		}
	}
	procmaps_release(&m);
	return 0;
}
