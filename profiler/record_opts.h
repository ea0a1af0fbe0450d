/* SPDX-License-Identifier: MIT */
/* record_opts: parsing and checking `scorch record`'s command line. */
#ifndef SCORCH_PROFILER_RECORD_OPTS_H
#define SCORCH_PROFILER_RECORD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/format.h"

enum record_unwind {
	RECORD_UNWIND_FP = 0, /* frame pointers (bpf_get_stack) */
	RECORD_UNWIND_DWARF,  /* CFI tables in the kernel, frame pointers where a file has none */
	RECORD_UNWIND_AUTO,   /* the same, fallbacks reported only with -v (the default) */
};

/* What the profile measures. */
enum record_time {
	RECORD_TIME_CPU = 0, /* CPU samples */
	RECORD_TIME_OFFCPU,  /* --off-cpu: time off the CPU */
	RECORD_TIME_WALL,    /* --wall: both, as time */
};

struct record_opts {
	uint64_t frequency;  /* -F, default 99 (0 when -c is given) */
	uint64_t period;     /* -c */
	double duration;     /* -d seconds, 0 = until the command exits or a signal */
	const char *output;  /* -o, NULL for stdout */
	enum profile_format format;
	struct write_opts write;
	uint32_t *pids;      /* -p */
	size_t npids;
	uint32_t *tids;      /* -L */
	size_t ntids;
	int *cpus;           /* -C */
	size_t ncpus;
	char **cgroups;      /* --cgroup, as given */
	size_t ncgroups;
	uint64_t *cgroup_ids;
	bool user_only, kernel_only, include_idle, per_pid, per_thread, verbose;
	uint32_t stack_entries, count_entries; /* 0 = sized from the run */
	bool no_inline;      /* --no-inline: no inlined frames */
	bool names_only;     /* --symbols=names: symbol tables only, no DWARF */
	bool no_demangle;    /* --no-demangle */
	const char *debug_root; /* --debug-dir, NULL: /usr/lib/debug */
	const char *debuginfod_urls; /* --debuginfod, NULL: $DEBUGINFOD_URLS */
	enum record_time time;       /* --off-cpu, --wall */
	uint64_t offcpu_min_us;      /* --off-cpu-min-us (1) */
	bool no_debuginfod;          /* --no-debuginfod */
	bool no_python;              /* --no-python */
	bool no_java;                /* --no-java */
	double debuginfod_deadline;  /* --debuginfod-deadline seconds; set to 30 by the parser */
	enum record_unwind unwind; /* --unwind, default auto */
	uint32_t unwind_rows;   /* --unwind-rows, 0: default */
	char **command;      /* after --, NULL-terminated, or NULL */
};

/* Parses argv into o; on a bad option prints one line and returns -EINVAL;
 * returns 1 when --help was printed. */
int record_opts_parse(int argc, char **argv, struct record_opts *o);
/* Checks what needs the system (PIDs exist, the sample rate, CPUs, cgroups,
 * the command); prints one line and returns -errno on the first problem. */
int record_opts_check(struct record_opts *o);
void record_opts_release(struct record_opts *o);

#endif
