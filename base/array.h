/* SPDX-License-Identifier: MIT */
/*
 * array: growing a heap array by doubling, the one helper every module's
 * dynamic arrays share.
 */
#ifndef SCORCH_BASE_ARRAY_H
#define SCORCH_BASE_ARRAY_H

#include <stddef.h>

/*
 * Makes *arr (an array of elem-byte elements with room for *cap) hold at least
 * need elements, doubling from 16.  *arr is a pointer to the caller's pointer
 * (void ** in disguise, so any element type works without casts).  0, or
 * -ENOMEM (or -EOVERFLOW) with *arr and *cap unchanged.
 */
int array_grow(void *arr, size_t *cap, size_t need, size_t elem);

#endif
