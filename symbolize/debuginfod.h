/* SPDX-License-Identifier: MIT */
/*
 * debuginfod: debug files fetched by build ID from the servers in
 * $DEBUGINFOD_URLS, through elfutils' client library (libdebuginfod, loaded
 * with dlopen on first use, so that scorch without servers does not load
 * libcurl).  The library brings the cache ($DEBUGINFOD_CACHE_PATH, with its
 * own memory of misses), timeouts and retries; this module adds worker
 * threads with a bounded queue, a memory of every answer for the run (a
 * build ID is asked for once), and a way to give up at a deadline.
 *
 * Lookups never block: dbgd_get answers from what is known, or queues the
 * build ID and says so; whoever wants to wait for the answers calls
 * dbgd_wait (record, after sampling), and whoever cannot (the agent) asks
 * again later.  A fetched file whose build ID is not the one asked for is
 * refused.
 */
#ifndef SCORCH_SYMBOLIZE_DEBUGINFOD_H
#define SCORCH_SYMBOLIZE_DEBUGINFOD_H

#include <stddef.h>
#include <stdint.h>

struct dbgd;

struct dbgd_opts {
	const char *urls;      /* space- or comma-separated; NULL: $DEBUGINFOD_URLS */
	const char *cache_dir; /* NULL: $DEBUGINFOD_CACHE_PATH, else the library's default (as root: /var/cache/scorch/debuginfod) */
	unsigned threads;      /* fetches at once; 0: 4 */
	size_t max_queue;      /* build IDs waiting at once; 0: 256 (more are refused, and asked again later) */
};

/* -ENOENT when no server is named (the feature is off), -ENOSYS when
 * libdebuginfod cannot be loaded, -EPERM when the cache directory is not
 * safe (as root: owned by another user, or writable by others). */
int dbgd_new(const struct dbgd_opts *o, struct dbgd **out);
/* Stops the workers (an ongoing transfer is abandoned) and closes the
 * descriptors of answers not taken. */
void dbgd_free(struct dbgd *d);

/* The debug file of build_id (lowercase hex): 0 and *fd, a descriptor the
 * caller owns (a fresh duplicate on every call); -EINPROGRESS when it is
 * queued or being fetched; -ENOENT when no server has it; -EAGAIN when the
 * queue was full; another -errno when the servers could not be reached
 * (-ECONNREFUSED, -ETIMEDOUT, -ECANCELED after dbgd_wait's deadline ...),
 * or -EBADMSG when what came back is not that build ID's. */
int dbgd_get(struct dbgd *d, const char *build_id, int *fd);

/* Reports progress while dbgd_wait waits: done of total build IDs answered,
 * seconds since the wait began. */
typedef void (*dbgd_progress_fn)(void *ctx, size_t done, size_t total, double secs);
/* Waits until every queued build ID has its answer, or for at most secs;
 * fetches still going then are abandoned (their answer is -ECANCELED).
 * progress (may be NULL) is called about every 250 ms once a second has
 * passed.  0, or -ETIMEDOUT when the deadline came first. */
int dbgd_wait(struct dbgd *d, double secs, dbgd_progress_fn progress, void *ctx);

struct dbgd_stats {
	uint64_t asked;     /* distinct build IDs */
	uint64_t found;     /* fetched (or from the cache) */
	uint64_t missing;   /* not on any server */
	uint64_t failed;    /* servers unreachable, timed out, cancelled */
	uint64_t refused;   /* a file of another build ID */
	uint64_t queue_full;
};
void dbgd_stats(const struct dbgd *d, struct dbgd_stats *out);

/* Why build ID lookups failed, in words: "not on the debuginfod servers",
 * "debuginfod servers unreachable (connection refused)" ... */
const char *dbgd_strerror(int err);

#endif
