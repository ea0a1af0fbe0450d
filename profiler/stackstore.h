/* SPDX-License-Identifier: MIT */
/*
 * stackstore: stacks by id, each stored once and compactly (its frames
 * only, not the kernel's fixed 127-frame record).  An id is the BPF side's
 * content hash (bpf/scorch.h), so the same stack read from two windows, or
 * twice, is one entry.  build keeps the stacks it reads from a capture in
 * one; record's drain keeps every stack it drains in one, up to a bound in
 * bytes.
 */
#ifndef SCORCH_PROFILER_STACKSTORE_H
#define SCORCH_PROFILER_STACKSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/scorch.h"

struct stackstore;

/* A store holding up to max_bytes of stacks (0: no bound).  0 or -ENOMEM. */
int stackstore_new(size_t max_bytes, struct stackstore **out);
void stackstore_free(struct stackstore *s);

/* Whether stack id is stored. */
bool stackstore_has(const struct stackstore *s, uint64_t id);
/* Stores st (its first nr frames) under id unless id is there already.
 * 0, -ENOSPC past the bound (nothing stored), or -ENOMEM. */
int stackstore_add(struct stackstore *s, uint64_t id, const struct stack_trace *st);
/* The frames of stack id (innermost first, *nr of them, valid until the
 * next add) and its STACK_F_* flags; NULL when absent. */
const uint64_t *stackstore_get(const struct stackstore *s, uint64_t id, uint32_t *nr, uint32_t *flags);

/* Stacks stored. */
size_t stackstore_count(const struct stackstore *s);
/* Bytes the stacks take (frames and records, the index included): what the bound counts. */
size_t stackstore_bytes(const struct stackstore *s);

#endif
