/* SPDX-License-Identifier: MIT */
#include "array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int array_grow_slow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -EOVERFLOW;
		n *= 2;
	}
	if (elem && n > SIZE_MAX / elem)
		return -EOVERFLOW;
	void *a = realloc(*(void **)arr, n * elem);
	if (!a)
		return -ENOMEM;
	*(void **)arr = a;
	*cap = n;
	return 0;
}
