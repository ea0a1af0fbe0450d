/* SPDX-License-Identifier: MIT */
/*
 * spool: windows waiting to be pushed, oldest first, in a directory
 * that survives a restart (DIR/spool).  Each entry is one file,
 * "<from, 20 digits>-<seq, 6 digits>.push": a header line, a line that
 * describes the entry (the caller's; the pusher's is "FROM NAME SERVICE"),
 * then the body (an encoded push request).  An entry of another format
 * (an older scorch's) reads as unreadable, -EBADMSG.  The spool holds at most
 * max_bytes; adding past that drops the oldest entries (counted).  An entry
 * that cannot be written (disk full, read-only) is kept in memory instead,
 * up to mem_max bytes, so a full disk loses nothing until that bound too.
 * It is locked: the agent adds while its push thread peeks and pops.
 *
 * Also here: the retry schedule (exponential backoff with a cap).
 */
#ifndef SCORCH_AGENT_SPOOL_H
#define SCORCH_AGENT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_spool;

struct agent_spool_stats {
	size_t entries;       /* waiting, on disk and in memory */
	size_t in_memory;     /* of them, not written to disk */
	uint64_t bytes;       /* their size */
	uint64_t dropped;     /* entries dropped because the spool was full */
	uint64_t write_errors;/* entries that could not be written to disk */
};

/* Opens (creating) dir and lists the entries a previous run left.  0 or
 * -errno; a directory that cannot be created still gives a spool (memory only)
 * and the error is returned in *dir_err. */
int agent_spool_open(const char *dir, uint64_t max_bytes, uint64_t mem_max, struct agent_spool **out, int *dir_err);
void agent_spool_free(struct agent_spool *sp);
void agent_spool_set_max(struct agent_spool *sp, uint64_t max_bytes);
/* Queues one window's body (copied) under its one-line meta; drops the oldest
 * while over the bound.  0, -ENOMEM, or -ENOSPC when it did not fit at all. */
int agent_spool_add(struct agent_spool *sp, uint64_t from, const char *meta, const void *data, size_t len);
/* The oldest entry: *meta and *data owned by the caller (free both), *id
 * names it for agent_spool_pop.  0, -ENOENT when empty, -errno when its file
 * is unreadable (pop it). */
int agent_spool_peek(struct agent_spool *sp, char **meta, void **data, size_t *len, uint64_t *id);
/* Removes entry id (after it was sent, or when it is unreadable) if it is
 * still the oldest: a full spool may have dropped it since the peek.
 * Whether it did. */
bool agent_spool_pop(struct agent_spool *sp, uint64_t id);
void agent_spool_stats(struct agent_spool *sp, struct agent_spool_stats *out);

/* Delay before retry number `failures` (1 = after the first failure):
 * base * 2^(failures-1), at most cap.  0 for failures 0. */
uint64_t agent_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t cap_ms);

#endif
