/* SPDX-License-Identifier: MIT */
/*
 * rowspace: which rows of the unwinder's fixed-size BPF row array are in
 * use.  Each file's table takes one contiguous range, placed first-fit (the
 * lowest index with room), and gives it back when no process maps the file
 * any more.  Plain data: no BPF, so it is tested without root.
 */
#ifndef SCORCH_PROFILER_ROWSPACE_H
#define SCORCH_PROFILER_ROWSPACE_H

#include <stddef.h>
#include <stdint.h>

struct row_range {
	uint32_t first, n;
};

struct rowspace {
	uint32_t cap;		  /* rows in the array */
	uint64_t used;		  /* rows in ranges now */
	struct row_range *ranges; /* in use, sorted by first */
	size_t nranges, cap_ranges;
};

void rowspace_init(struct rowspace *rs, uint32_t cap);
void rowspace_release(struct rowspace *rs);
/* The first row of n (> 0) free ones, the lowest such index; -ENOSPC when
 * no gap is that large, -EINVAL for n 0, -ENOMEM. */
int64_t rowspace_alloc(struct rowspace *rs, uint32_t n);
/* Gives back the range that starts at first; -ENOENT when none does. */
int rowspace_free(struct rowspace *rs, uint32_t first);

#endif
