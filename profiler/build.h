/* SPDX-License-Identifier: MIT */
/*
 * build: turns what a capture holds (counts keyed by process and stack ids,
 * the stacks themselves) into a profile, symbolizing each distinct address
 * once per process.
 */
#ifndef SCORCH_PROFILER_BUILD_H
#define SCORCH_PROFILER_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "formats/profile.h"
#include "profiler/capture.h"
#include "symbolize/symbolizer.h"

struct build_opts {
	bool per_pid;    /* pid becomes a root frame after comm */
	bool per_thread; /* tid too */
};

struct build_stats {
	uint64_t samples;          /* counted samples turned into stacks */
	uint64_t stacks;           /* unique stacks read */
	uint64_t stacks_missing;   /* stack ids whose stack could not be read back */
	uint64_t unknown_frames;   /* frames with no function name */
	uint64_t truncated;        /* samples with a stack cut at the depth limit */
};

/* Reads every count and stack from c, symbolizes with s and adds the samples
 * to p (labels pid, comm, and tid when per_thread). 0 or -errno. */
int build_profile(const struct capture *c, struct symbolizer *s, const struct build_opts *o, struct profile *p,
		  struct build_stats *st);

#endif
