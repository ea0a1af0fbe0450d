/* SPDX-License-Identifier: MIT */
/*
 * python: Python frames during a capture.  At each process announcement a
 * CPython process is found and its interpreter's layout written to the BPF
 * side (struct py_proc), which then walks its threads' frames; each new
 * Python stack the BPF side stores has its code objects read while the
 * process lives (symbolize/python.h keeps them for build).
 */
#ifndef SCORCH_PROFILER_PYTHON_H
#define SCORCH_PROFILER_PYTHON_H

#include <stdint.h>

#include "profiler/capture.h"
#include "symbolize/python.h"

struct symbolizer;

struct pytrack;

/* Hooks into c (capture_on_python); c must have been opened with
 * capture_opts.python. */
int pytrack_new(struct capture *c, struct pytrack **out);
void pytrack_free(struct pytrack *t);
/* The code objects read so far, for build_opts.python. */
struct pyframes *pytrack_frames(struct pytrack *t);
/* A process announcement: finds out whether (pid, gen) is Python, from the
 * mappings and files sym has for it (call it after symbolizer_track). */
void pytrack_announce(struct pytrack *t, const struct symbolizer *sym, uint32_t pid, uint32_t gen);
/* Stops walking (pid, gen), which has exited or exec'd; its code objects
 * stay for build. */
void pytrack_forget(struct pytrack *t, uint32_t pid, uint32_t gen);

struct pytrack_stats {
	uint64_t processes;   /* Python processes found */
	uint64_t unavailable; /* Python processes whose frames could not be walked (each logged) */
	uint64_t codes_read;  /* Python stacks whose code objects were read */
	uint64_t codes_gone;  /* ... whose process exited first */
};
void pytrack_stats(const struct pytrack *t, struct pytrack_stats *out);

#endif
