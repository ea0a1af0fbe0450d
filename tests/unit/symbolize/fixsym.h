/* SPDX-License-Identifier: MIT */
/* fixsym: a fixture's symbol by name, for tests that place addresses in it
 * (test_leafcfi, profiler's test_stackends). */
#ifndef SCORCH_TESTS_FIXSYM_H
#define SCORCH_TESTS_FIXSYM_H

#include <stdint.h>

/* The value of symbol name in the .symtab of the ELF file open at fd, and
 * its size when size is not NULL; fails the test when there is none. */
uint64_t fixsym(int fd, const char *name, uint64_t *size);

#endif
