/* SPDX-License-Identifier: MIT */
/*
 * array: growing a heap array by doubling, the one helper every module's
 * dynamic arrays (and byte buffers: elem 1) share.  Write
 *
 *	if (array_grow(&v->items, &v->cap, v->n + 1, sizeof(*v->items)))
 *		return -ENOMEM;
 *
 * instead of a realloc loop of your own.  Two arrays indexed alike keep a
 * capacity each.
 */
#ifndef SCORCH_BASE_ARRAY_H
#define SCORCH_BASE_ARRAY_H

#include <stddef.h>

/* The out-of-line part of array_grow (need > *cap); call array_grow. */
int array_grow_slow(void *arr, size_t *cap, size_t need, size_t elem);

/*
 * Makes *arr (an array of elem-byte elements with room for *cap) hold at least
 * need elements, doubling from 16.  *arr is a pointer to the caller's pointer
 * (void ** in disguise, so any element type works without casts).  0, or
 * -ENOMEM (or -EOVERFLOW) with *arr and *cap unchanged.  Inline when there is
 * room already, so a per-element call in a hot loop costs a compare.
 */
static inline int array_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	return need <= *cap ? 0 : array_grow_slow(arr, cap, need, elem);
}

#endif
