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

/* One function under several names at one address, as glibc has them
 * (__libc_start_main, a weak alias, local _alias_N names): lookups name
 * the global one. */
__attribute__((noinline)) uint64_t fixture_gamma(uint64_t x)
{
	return fixture_hidden(x) * 7;
}
uint64_t fixture_gamma_weak(uint64_t x) __attribute__((weak, alias("fixture_gamma")));
static uint64_t fixture_gamma_alias_2(uint64_t x) __attribute__((alias("fixture_gamma"), used));
/* Local names only: the one that does not look like an alias. */
__attribute__((noinline, used)) static uint64_t fixture_delta_impl(uint64_t x)
{
	return fixture_hidden(x) * 5;
}
static uint64_t fixture_delta_alias_1(uint64_t x) __attribute__((alias("fixture_delta_impl"), used));

void *fixture_delta_addr(void)
{
	return (void *)fixture_delta_impl;
}

/* Local names alike but for underscores and length, as libc6-dbg's
 * __memcpy_avx_unaligned_erms and __memmove_avx_unaligned_erms: the one
 * perf names, the fewest leading underscores, then the longest. */
__attribute__((noinline, used)) static uint64_t __fixture_memcpy_x(uint64_t x)
{
	return fixture_hidden(x) * 11;
}
static uint64_t __fixture_memmove_x(uint64_t x) __attribute__((alias("__fixture_memcpy_x"), used));
static uint64_t ___fixture_memmove_xyz(uint64_t x) __attribute__((alias("__fixture_memcpy_x"), used));

void *fixture_epsilon_addr(void)
{
	return (void *)__fixture_memcpy_x;
}

/* A function after padding no symbol covers, as glibc's signal trampoline
 * __restore_rt: a signal handler returns to its first byte, which is
 * looked up one byte back. */
__asm__(".text\n"
	".p2align 4\n"
	".type fixture_before_pad, @function\n"
	"fixture_before_pad:\n"
	"ret\n"
	".size fixture_before_pad, 1\n"
	".p2align 4, 0x90\n"
	".globl fixture_trampoline\n"
	".type fixture_trampoline, @function\n"
	"fixture_trampoline:\n"
	"ret\n"
	".size fixture_trampoline, 1\n");

extern char fixture_trampoline[];

void *fixture_trampoline_addr(void)
{
	return fixture_trampoline;
}
