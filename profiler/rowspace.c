/* SPDX-License-Identifier: MIT */
#include "rowspace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

void rowspace_init(struct rowspace *rs, uint32_t cap)
{
	memset(rs, 0, sizeof(*rs));
	rs->cap = cap;
}

void rowspace_release(struct rowspace *rs)
{
	free(rs->ranges);
	rowspace_init(rs, 0);
}

int64_t rowspace_alloc(struct rowspace *rs, uint32_t n)
{
	if (!n)
		return -EINVAL;
	uint64_t at = 0;
	size_t i = 0;
	for (; i < rs->nranges && rs->ranges[i].first - at < n; i++)
		at = (uint64_t)rs->ranges[i].first + rs->ranges[i].n;
	if (i == rs->nranges && rs->cap - at < n)
		return -ENOSPC;
	if (array_grow(&rs->ranges, &rs->cap_ranges, rs->nranges + 1, sizeof(*rs->ranges)))
		return -ENOMEM;
	memmove(&rs->ranges[i + 1], &rs->ranges[i], (rs->nranges - i) * sizeof(*rs->ranges));
	rs->ranges[i] = (struct row_range){(uint32_t)at, n};
	rs->nranges++;
	rs->used += n;
	return (int64_t)at;
}

int rowspace_free(struct rowspace *rs, uint32_t first)
{
	size_t lo = 0, hi = rs->nranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rs->ranges[mid].first < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == rs->nranges || rs->ranges[lo].first != first)
		return -ENOENT;
	rs->used -= rs->ranges[lo].n;
	memmove(&rs->ranges[lo], &rs->ranges[lo + 1], (rs->nranges - lo - 1) * sizeof(*rs->ranges));
	rs->nranges--;
	return 0;
}
