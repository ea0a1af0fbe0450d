/* SPDX-License-Identifier: MIT */
/*
 * perfmap: JIT symbols from a /tmp/perf-PID.map file, the format Node
 * (--perf-basic-prof), Python 3.12 (-X perf) and Java agents write: one
 * "START SIZE name" line per compiled function, START and SIZE in hex.
 * Input is untrusted: malformed lines are skipped and counted, the file is
 * read up to a size limit, and a later line for an overlapping address wins
 * (code that was re-compiled).
 */
#ifndef SCORCH_SYMBOLIZE_PERFMAP_H
#define SCORCH_SYMBOLIZE_PERFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perfmap;

/* Parses map text (need not be NUL-terminated). 0 or -ENOMEM. */
int perfmap_parse(const char *text, size_t len, struct perfmap **out);
/* Reads and parses the file at path (at most 256 MiB of it); -errno when it
 * cannot be opened. */
int perfmap_read(const char *path, struct perfmap **out);
void perfmap_free(struct perfmap *m);

/* The name of the function containing addr, or NULL. Owned by m. */
const char *perfmap_lookup(const struct perfmap *m, uint64_t addr);
size_t perfmap_count(const struct perfmap *m);
/* The disjoint named ranges, sorted by start (a line overlapped by a later
 * one is cut): range i < perfmap_ranges(m) is [*start, *end), its name
 * owned by m.  False past the last. */
size_t perfmap_ranges(const struct perfmap *m);
bool perfmap_range(const struct perfmap *m, size_t i, uint64_t *start, uint64_t *end, const char **name);
/* Lines skipped as malformed. */
size_t perfmap_skipped(const struct perfmap *m);

#endif
