/* SPDX-License-Identifier: MIT */
/*
 * stackends: where user stacks stopped short, from a built profile.
 *
 * A stack whose outermost user frame is not a known root of a thread
 * (_start, __libc_start_main, clone, start_thread, musl's
 * libc_start_main_stage2 and start_c, Go's runtime.goexit...) ended early.
 * It is counted here when that frame's file has CFI but no row at its
 * address: the unwinder had no table there and fell back to frame
 * pointers, which the code does not keep (a static musl program: its own
 * code has CFI, Debian's libc.a neither).  A file without any CFI is left
 * out: it may keep frame pointers throughout (Go), and the run's unwind
 * line counts such files.  The rows are the
 * unwinder's own: those it holds for the file (unwind_view_file), else,
 * when it has dropped them, compiled again as it compiles them
 * (unwind_compile), the file read from our root and only when its build
 * ID matches the mapping's.
 */
#ifndef SCORCH_PROFILER_STACKENDS_H
#define SCORCH_PROFILER_STACKENDS_H

#include <stdint.h>

#include "formats/profile.h"

struct unwind;

struct stackend_file {
	const char *path; /* the mapping's, in the profile's strings */
	uint64_t samples; /* samples whose stacks ended in its code without CFI */
	const char *top;  /* the function most of them ended in (profile string) */
	uint64_t top_samples;
};

/*
 * Fills a new array *out (free it) of *n files, most samples first.  u:
 * the run's unwinder (NULL: rows are compiled here); debug_root as for unwind_new.  0 or -ENOMEM.
 */
int stackends_find(const struct profile *p, const struct unwind *u, const char *debug_root,
		   struct stackend_file **out, size_t *n);

#endif
