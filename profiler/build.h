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
#include "profiler/stackstore.h"
#include "symbolize/python.h"

struct java;
#include "symbolize/symbolizer.h"

/* A string label added to samples (agent: host, service, container...). */
struct build_label {
	const char *key, *value;
};

/* Labels of one process, or 0 with none; the array stays the caller's. */
typedef size_t (*build_proc_labels_fn)(void *ctx, uint32_t pid, uint32_t gen, const struct build_label **out);

struct build_opts {
	bool per_pid;    /* pid becomes a root frame after comm */
	bool per_thread; /* tid too */
	bool no_pid;     /* no pid label (a pushed profile: pids would be series) */
	bool no_comm;    /* no comm label: a pushed profile, where each thread name would be a series */
	bool keep_processes; /* do not forget each (pid, gen) once built: the caller does */
	const struct build_label *labels; /* on every sample */
	size_t nlabels;
	build_proc_labels_fn proc_labels; /* per process, NULL for none */
	void *proc_ctx;
	/* Called once every user address's file is loaded, before any is
	 * named (its debug files asked for): record waits for debuginfod
	 * there.  NULL for none. */
	void (*files_loaded)(void *ctx);
	void *files_ctx;
	const char *leaf_frame; /* a frame of this name below every stack (e.g. "[off-cpu]"), or NULL */
	struct pyframes *python; /* Python frames replace the eval loop's native ones; NULL for none */
	const struct java *java; /* interpreted Java frames replace the interpreter's native ones; NULL for none */
};

struct build_stats {
	uint64_t samples;          /* counted samples turned into stacks */
	uint64_t stacks;           /* unique stacks read */
	uint64_t stacks_missing;   /* stack ids whose stack could not be read back */
	uint64_t unknown_frames;   /* frames with no function name */
	uint64_t truncated;        /* samples with a stack cut at the depth limit */
	uint64_t python_frames;    /* distinct Python frames named */
	uint64_t java_frames;      /* interpreted Java frames named (samples' frames) */
};

/* Reads every count and stack from c, symbolizes with s and adds the samples
 * to p (labels pid, comm, and tid when per_thread). 0 or -errno. */
int build_profile(const struct capture *c, struct symbolizer *s, const struct build_opts *o, struct profile *p,
		  struct build_stats *st);
/* As build_profile for counts already read (e[0..n), not changed), reading
 * their stacks from c. */
int build_profile_entries(const struct capture *c, const struct capture_entry *e, size_t n, struct symbolizer *s,
			  const struct build_opts *o, struct profile *p, struct build_stats *st);
/* As build_profile_entries with the stacks in stacks (record's drained
 * ones, the caller's) instead of a capture's maps. */
int build_profile_stored(const struct stackstore *stacks, const struct capture_entry *e, size_t n,
			 struct symbolizer *s, const struct build_opts *o, struct profile *p, struct build_stats *st);

#endif
