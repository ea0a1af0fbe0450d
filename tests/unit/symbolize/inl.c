/* SPDX-License-Identifier: MIT */
/*
 * A C library with an inline chain for the DWARF tests, built -O2 -g:
 * inl_outer (a real function) calls inl_middle, which calls inl_leaf; both
 * are always inlined.  inl_leaf records the address of an instruction (its own lea, 7 bytes) inside
 * its inlined copy, and each step records its source line, so the test knows
 * exactly which frames and lines the address must expand to.
 */
#include <stdint.h>

struct inl_where {
	uint64_t pc;               /* an address inside inl_leaf's inlined code */
	int leaf_line;             /* the line of that instruction */
	int middle_call_line;      /* where inl_middle calls inl_leaf */
	int outer_call_line;       /* where inl_outer calls inl_middle */
};

volatile int inl_sink;

static inline __attribute__((always_inline)) int inl_leaf(int x, struct inl_where *w)
{
	uint64_t pc;
	__asm__ volatile("lea -7(%%rip), %0" : "=r"(pc)); w->leaf_line = __LINE__;
	w->pc = pc;
	return x * 3 + inl_sink;
}

static inline __attribute__((always_inline)) int inl_middle(int x, struct inl_where *w)
{
	int r = inl_leaf(x + 1, w); w->middle_call_line = __LINE__;
	return r + inl_sink;
}

__attribute__((noinline)) int inl_outer(int x, struct inl_where *w)
{
	int r = inl_middle(x, w); w->outer_call_line = __LINE__;
	return r + 1;
}
