/* SPDX-License-Identifier: MIT */
/*
 * leafcfi fixture: functions in assembly without CFI (no .cfi directives),
 * as musl's string functions are, beside C code with CFI.  Never run.
 *   leaffix_copy   a loop and a return, no .size (ended by the next symbol)
 *   leaffix_calls  a call and a return, with .size
 *   leaffix_push   pushes and pops rbx
 *   leaffix_sub    moves rsp with sub and add
 *   leaffix_rbp    overwrites rbp
 *   leaffix_junk   a byte that is no instruction in 64-bit mode (0x06)
 */
#include <stdint.h>

__asm__(".text\n"
	".globl leaffix_copy\n.type leaffix_copy,@function\nleaffix_copy:\n"
	"\tmov %rdi,%rax\n1:\tmovb %sil,(%rdi)\n\tinc %rdi\n\tdec %rdx\n\tjnz 1b\n\tret\n"
	".p2align 4\n"
	".globl leaffix_calls\n.type leaffix_calls,@function\nleaffix_calls:\n"
	"\tcall leaffix_copy\n\tret\n"
	".size leaffix_calls, .-leaffix_calls\n"
	".globl leaffix_push\n.type leaffix_push,@function\nleaffix_push:\n"
	"\tpush %rbx\n\tmov %rdi,%rbx\n\tmov %rbx,%rax\n\tpop %rbx\n\tret\n"
	".size leaffix_push, .-leaffix_push\n"
	".globl leaffix_sub\n.type leaffix_sub,@function\nleaffix_sub:\n"
	"\tsub $24,%rsp\n\tmov %rdi,(%rsp)\n\tadd $24,%rsp\n\tret\n"
	".size leaffix_sub, .-leaffix_sub\n"
	".globl leaffix_rbp\n.type leaffix_rbp,@function\nleaffix_rbp:\n"
	"\tmov %rdi,%rbp\n\tret\n"
	".size leaffix_rbp, .-leaffix_rbp\n"
	".globl leaffix_junk\n.type leaffix_junk,@function\nleaffix_junk:\n"
	"\t.byte 0x06\n\tret\n"
	".size leaffix_junk, .-leaffix_junk\n");

extern volatile uint64_t leaffix_sink;
volatile uint64_t leaffix_sink;

/* C with CFI: its rows stay as they were. */
__attribute__((noinline)) uint64_t leaffix_c(uint64_t a, uint64_t b)
{
	uint64_t x = a * 3 + leaffix_sink;
	leaffix_sink = x;
	return x + b;
}
