/* SPDX-License-Identifier: MIT */
/*
 * Unwind-table fixture, built with -O2 -fomit-frame-pointer: functions whose
 * CFA moves with pushes and stack adjustments, one that needs rbp as its CFA
 * base (a variable-length array), a PLT call, and recursion.
 */
#include <stdint.h>
#include <string.h>

extern volatile uint64_t cfifix_sink;
volatile uint64_t cfifix_sink;

__attribute__((noinline)) uint64_t cfifix_leaf(uint64_t x)
{
	return x * 2654435761u + 1;
}

/* Many live values across calls: callee-saved registers pushed. */
__attribute__((noinline)) uint64_t cfifix_saves(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t x = cfifix_leaf(a), y = cfifix_leaf(b), z = cfifix_leaf(c);
	uint64_t w = cfifix_leaf(x ^ y);
	return x + y + z + w + cfifix_leaf(a + b + c + x * y);
}

/* A variable-length array: the CFA is based on rbp. */
__attribute__((noinline)) uint64_t cfifix_vla(unsigned n)
{
	char buf[n + 1];
	memset(buf, (int)n, n + 1); /* through the PLT */
	cfifix_sink = (uint64_t)buf[n / 2];
	return cfifix_saves(n, buf[0], buf[n]);
}

__attribute__((noinline)) uint64_t cfifix_recurse(unsigned depth)
{
	if (depth == 0)
		return cfifix_vla(17);
	uint64_t r = cfifix_recurse(depth - 1);
	cfifix_sink = r;
	return r + 1;
}
