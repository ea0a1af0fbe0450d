/* SPDX-License-Identifier: MIT */
/* Calls into libc through PLT stubs, for naming them: called only, a
 * function gets a stub in .plt (.plt.sec under IBT); called and taken by
 * address, one in .plt.got, through the slot the address is loaded from. */
#include <stdlib.h>
#include <string.h>

size_t pltfix_len(const char *s)
{
	return strlen(s);
}

void *pltfix_copy(void *dst, const void *src, size_t n)
{
	return memcpy(dst, src, n);
}

void *pltfix_alloc(size_t n)
{
	return malloc(n);
}

void *(*pltfix_malloc_addr(void))(size_t)
{
	return malloc;
}
