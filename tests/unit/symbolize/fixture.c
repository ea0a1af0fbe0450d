/* SPDX-License-Identifier: MIT */
/* A shared library of known symbols for the symbolizer tests. */
#include <stdint.h>

volatile uint64_t fixture_sink;

__attribute__((noinline)) static uint64_t fixture_hidden(uint64_t x)
{
	fixture_sink += x;
	return fixture_sink * 3;
}

__attribute__((noinline)) uint64_t fixture_alpha(uint64_t x)
{
	return fixture_hidden(x) + 1;
}

__attribute__((noinline)) uint64_t fixture_beta(uint64_t x)
{
	return fixture_alpha(x) * 2;
}

/* The address of the static function, so tests can look it up. */
void *fixture_hidden_addr(void)
{
	return (void *)fixture_hidden;
}
