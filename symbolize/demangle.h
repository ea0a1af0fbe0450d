/* SPDX-License-Identifier: MIT */
/*
 * demangle: readable names for C++ (Itanium ABI) and Rust (legacy and v0)
 * symbols, through libiberty's cplus_demangle (GCC's own demangler, which
 * also knows both Rust manglings; libstdc++'s __cxa_demangle knows only C++).
 * Results are cached by the address of the pooled mangled string.
 */
#ifndef SCORCH_SYMBOLIZE_DEMANGLE_H
#define SCORCH_SYMBOLIZE_DEMANGLE_H

#include <stdbool.h>

#include "base/hashtab.h"
#include "symbolize/strpool.h"

struct demangler {
	struct strpool *pool; /* borrowed: names are pooled here */
	struct u64map cache;  /* pooled mangled pointer -> pooled demangled (or the same) */
	bool off;             /* return names as they are */
};

void demangler_init(struct demangler *d, struct strpool *pool);
void demangler_release(struct demangler *d);
/* The demangled form of name, a string of d's pool (name must be pooled there
 * too); name itself when it is not mangled or demangling fails. */
const char *demangler_get(struct demangler *d, const char *name);
/* True when name looks like a C++ or Rust mangled symbol. */
bool demangle_is_mangled(const char *name);

#endif
