/* SPDX-License-Identifier: MIT */
/*
 * drain: what `record` keeps of the in-kernel tables while it runs.  The
 * capture counts into one of two sets of maps (capture_window_flip, as the
 * agent's windows); record flips on a period and whenever the open set nears
 * full (capture_window_fill), and drain_window moves the closed set's counts
 * and stacks here and empties it.  So the kernel's tables stay small, and no
 * sample loses its stack to a full table however long the run.
 *
 * Counts are merged by key (process, thread, exec generation, stack ids,
 * comm): a stack id is the BPF side's content hash, the same in every
 * window.  Each stack is kept once, raw (addresses, not names) in a
 * stackstore bounded in bytes: symbolizing still happens once, at the end.
 * A count whose stack cannot be kept (the store at its bound, or the stack
 * not in the window's maps) is kept under STACK_DROPPED and counted.
 */
#ifndef SCORCH_PROFILER_DRAIN_H
#define SCORCH_PROFILER_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/capture.h"
#include "profiler/stackstore.h"

struct drain;

enum drain_kind {
	DRAIN_SAMPLES = 0, /* counts of samples */
	DRAIN_OFFCPU,      /* nanoseconds off the CPU */
	DRAIN_KINDS,
};

struct drain_stats {
	uint64_t drains;               /* windows drained */
	uint64_t entries;              /* counts read from the kernel, all drains */
	uint64_t stacks;               /* stacks kept */
	size_t stack_bytes;            /* what they take (stackstore_bytes) */
	uint64_t dropped[DRAIN_KINDS]; /* samples (nanoseconds) whose stack was not kept: the store full */
	uint64_t missing[DRAIN_KINDS]; /* likewise: the stack was not in the window's maps */
};

/* Reads stack id into out: 0, or -ENOENT when absent. */
typedef int (*drain_read_fn)(void *ctx, uint64_t id, struct stack_trace *out);

/* A drain keeping up to max_stack_bytes of stacks (0: no bound).  0 or -ENOMEM. */
int drain_new(size_t max_stack_bytes, struct drain **out);
void drain_free(struct drain *d);

/* Merges counts e[0..n) of kind into d, reading each stack it does not
 * keep yet with read.  0 or -ENOMEM (d keeps what it merged before). */
int drain_add(struct drain *d, enum drain_kind kind, const struct capture_entry *e, size_t n, drain_read_fn read,
	      void *ctx);
/* Moves the closed window's counts (and with offcpu its time off the CPU)
 * and their stacks into d, then empties the window (capture_window_clear).
 * The caller has flipped it (capture_window_flip).  0 or -errno. */
int drain_window(struct drain *d, struct capture *c, bool offcpu);

/* Hands the merged counts of kind to the caller (free(*out); NULL when
 * none); d holds none of that kind afterwards. */
void drain_take(struct drain *d, enum drain_kind kind, struct capture_entry **out, size_t *n);
/* The stacks kept, owned by d. */
const struct stackstore *drain_stacks(const struct drain *d);
void drain_stats(const struct drain *d, struct drain_stats *out);

#endif
