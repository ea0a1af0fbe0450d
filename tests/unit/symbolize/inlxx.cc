// SPDX-License-Identifier: MIT
// A C++ library for the DWARF and demangling tests, built -O2 -g: a function
// in a namespace (a mangled name) into which a member function of a class
// template is inlined.  The inlined code records an address inside itself
// and the lines involved, as inl.c does.
#include <stdint.h>

struct inlxx_where {
	uint64_t pc;
	int leaf_line;
	int outer_call_line;
};

volatile long inlxx_sink;

namespace fx {
template <typename T> struct Acc {
	T total;
	__attribute__((always_inline)) inline T add(T x, inlxx_where *w)
	{
		uint64_t pc;
		__asm__ volatile("lea -7(%%rip), %0" : "=r"(pc)); w->leaf_line = __LINE__;
		w->pc = pc;
		total += x + inlxx_sink;
		return total;
	}
};

__attribute__((noinline)) long run(long x, inlxx_where *w)
{
	Acc<long> a{ 1 };
	long r = a.add(x, w); w->outer_call_line = __LINE__;
	return r * 2;
}
} // namespace fx

extern "C" long inlxx_entry(long x, inlxx_where *w)
{
	return fx::run(x, w);
}
