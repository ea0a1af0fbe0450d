/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "record_opts.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <float.h>
#include <math.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/parse.h"
#include "capture.h"
#include "log.h"
#include "svg_opts.h"
#include "workload.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: scorch record [OPTIONS] [-- COMMAND [ARGS...]]\n"
		"  Samples kernel and user stacks on every CPU and writes a profile.\n"
		"  -F, --frequency HZ    samples per second per CPU (default 99)\n"
		"  -c, --period N        one sample every N events (ns for cpu-clock) instead of -F\n"
		"  -d, --duration SECS   stop after SECS seconds (default: until the command, or every\n"
		"                        process given with -p/-L, exits, or Ctrl-C)\n"
		"  -o, --output FILE     .folded/.collapsed/.txt, .svg, .pb.gz/.pprof (default: folded to stdout)\n"
		"      --format F        folded, svg or pprof, whatever the extension\n"
		"  -p, --pid PID[,PID]   only these processes (all their threads)\n"
		"  -L, --tid TID[,TID]   only these threads\n"
		"  -C, --cpu CPU[,CPU]   only these CPUs\n"
		"      --cgroup PATH     only tasks in this cgroup v2 (or below); repeatable; a relative\n"
		"                        PATH is taken from the cgroup2 mount\n"
		"  -U, --user-only       user stacks only\n"
		"  -K, --kernel-only     kernel stacks only\n"
		"      --include-idle    keep the idle task (pid 0)\n"
		"      --per-pid         add the pid to the root frame\n"
		"      --per-thread      add the pid and tid to the root frame\n"
		"      --lines           folded: add file:line to frame names when known\n"
		"      --no-inline       no frames for inlined calls (DWARF lines are still read)\n"
		"      --symbols MODE    full (default: symbol tables, DWARF lines and inlined calls)\n"
		"                        or names (symbol tables only: faster, less memory)\n"
		"      --no-demangle     C++ and Rust names as the symbol tables have them\n"
		"      --no-python       CPython's eval loop as native frames, not the Python functions it runs\n"
		"      --no-java         do not ask JVMs for their compiled methods (names, frame sizes)\n"
		"      --debug-dir DIR   separate debug info root (default /usr/lib/debug)\n"
		"      --debuginfod URL[,URL]  ask these debuginfod servers for debug files not found\n"
		"                        locally (default: $DEBUGINFOD_URLS), after sampling stops\n"
		"      --no-debuginfod   never ask debuginfod servers\n"
		"      --debuginfod-deadline SECS  stop waiting for debuginfod after SECS (default 30)\n"
		"      --stack-entries N capacity of each of the two in-kernel stack tables, drained into\n"
		"                        scorch as they fill (default: sized from -F, CPUs, -d)\n"
		"      --count-entries N capacity of each of the two in-kernel count tables (likewise)\n"
		"      --unwind MODE     user stacks: auto (default: unwind tables compiled from each file's CFI,\n"
		"                        walked in the kernel; frame pointers where a file has none), dwarf (the\n"
		"                        same, fallbacks warned about) or fp (frame pointers only)\n"
		"      --unwind-rows N   capacity of the in-kernel unwind table (default 1048576, 16 bytes a row)\n"
		"      --off-cpu         time spent waiting (off the CPU), by stack, in microseconds, instead of\n"
		"                        CPU samples: the kernel stack says why (futex, pipe_read, do_nanosleep)\n"
		"      --wall            wall-clock time: CPU samples (as microseconds) and time off the CPU in\n"
		"                        one profile; waiting stacks end in an [off-cpu] frame\n"
		"      --off-cpu-min-us N  waits shorter than N microseconds are left out (default 1)\n"
		"  -v, --verbose\n"
		"  COMMAND runs under the profiler from its first instruction; its children\n"
		"  are followed and scorch exits with its exit status.\n");
	svg_opts_usage(out);
}

/* Parses "1,2,3" into a growing array of uint32 (or int when as_int). */
static int parse_list(const char *what, const char *arg, uint32_t **out, size_t *n)
{
	char *copy = strdup(arg), *save = NULL;
	int err = copy ? 0 : -ENOMEM;
	size_t given = 0;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !err; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (parse_u64(tok, 0, INT32_MAX, &v)) {
			log_error("%s %s: '%s' is not a number", what, arg, tok);
			err = -EINVAL;
			break;
		}
		uint32_t *a = realloc(*out, (*n + 1) * sizeof(**out));
		if (!a) {
			err = -ENOMEM;
			break;
		}
		*out = a;
		(*out)[(*n)++] = (uint32_t)v;
		given++;
	}
	free(copy);
	if (!err && !given) {
		/* An empty list would mean every process: -p "$(pgrep nothing)". */
		log_error("%s '%s': no numbers given", what, arg);
		err = -EINVAL;
	}
	return err;
}

static int parse_entries(const char *what, const char *arg, uint32_t *out)
{
	uint64_t v;
	if (parse_u64(arg, 64, 1u << 26, &v)) {
		log_error("%s %s: not a capacity between 64 and %u", what, arg, 1u << 26);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

enum {
	OPT_FORMAT = 1000,
	OPT_CGROUP,
	OPT_IDLE,
	OPT_PER_PID,
	OPT_PER_THREAD,
	OPT_LINES,
	OPT_NO_INLINE,
	OPT_SYMBOLS,
	OPT_NO_DEMANGLE,
	OPT_DEBUG_DIR,
	OPT_DEBUGINFOD,
	OPT_NO_DEBUGINFOD,
	OPT_NO_PYTHON,
	OPT_NO_JAVA,
	OPT_DEBUGINFOD_DEADLINE,
	OPT_OFF_CPU,
	OPT_WALL,
	OPT_OFF_CPU_MIN,
	OPT_STACK_ENTRIES,
	OPT_COUNT_ENTRIES,
	OPT_UNWIND,
	OPT_UNWIND_ROWS,
};

static const struct option record_long[] = {
	{ "frequency", required_argument, NULL, 'F' },
	{ "period", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "pid", required_argument, NULL, 'p' },
	{ "tid", required_argument, NULL, 'L' },
	{ "cpu", required_argument, NULL, 'C' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "user-only", no_argument, NULL, 'U' },
	{ "kernel-only", no_argument, NULL, 'K' },
	{ "include-idle", no_argument, NULL, OPT_IDLE },
	{ "per-pid", no_argument, NULL, OPT_PER_PID },
	{ "per-thread", no_argument, NULL, OPT_PER_THREAD },
	{ "lines", no_argument, NULL, OPT_LINES },
	{ "no-inline", no_argument, NULL, OPT_NO_INLINE },
	{ "symbols", required_argument, NULL, OPT_SYMBOLS },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
	{ "debuginfod", required_argument, NULL, OPT_DEBUGINFOD },
	{ "no-debuginfod", no_argument, NULL, OPT_NO_DEBUGINFOD },
	{ "no-python", no_argument, NULL, OPT_NO_PYTHON },
	{ "no-java", no_argument, NULL, OPT_NO_JAVA },
	{ "debuginfod-deadline", required_argument, NULL, OPT_DEBUGINFOD_DEADLINE },
	{ "off-cpu", no_argument, NULL, OPT_OFF_CPU },
	{ "wall", no_argument, NULL, OPT_WALL },
	{ "off-cpu-min-us", required_argument, NULL, OPT_OFF_CPU_MIN },
	{ "stack-entries", required_argument, NULL, OPT_STACK_ENTRIES },
	{ "count-entries", required_argument, NULL, OPT_COUNT_ENTRIES },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "unwind-rows", required_argument, NULL, OPT_UNWIND_ROWS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
};

static int parse_one(struct record_opts *o, int c, const char *arg, const char **fmt)
{
	uint64_t v;
	switch (c) {
	case 'F':
		if (parse_u64(arg, 1, UINT64_MAX, &v)) {
			log_error("-F %s: the frequency must be a positive number of Hz", arg);
			return -EINVAL;
		}
		o->frequency = v;
		return 0;
	case 'c':
		if (parse_u64(arg, 1, UINT64_MAX, &v)) {
			log_error("-c %s: the period must be a positive number of events", arg);
			return -EINVAL;
		}
		o->period = v;
		return 0;
	case 'd':
		if (parse_double(arg, 0, DBL_MAX, &o->duration) || o->duration == 0) {
			log_error("-d %s: the duration must be a positive number of seconds", arg);
			return -EINVAL;
		}
		return 0;
	case 'o':
		o->output = arg;
		return 0;
	case OPT_FORMAT:
		*fmt = arg;
		return 0;
	case 'p':
		return parse_list("-p", arg, &o->pids, &o->npids);
	case 'L':
		return parse_list("-L", arg, &o->tids, &o->ntids);
	case 'C':
		return parse_list("-C", arg, (uint32_t **)&o->cpus, &o->ncpus);
	case OPT_CGROUP: {
		char **a = realloc(o->cgroups, (o->ncgroups + 1) * sizeof(*a));
		if (!a)
			return -ENOMEM;
		o->cgroups = a;
		o->cgroups[o->ncgroups++] = (char *)arg;
		return 0;
	}
	case 'U':
		o->user_only = true;
		return 0;
	case 'K':
		o->kernel_only = true;
		return 0;
	case OPT_IDLE:
		o->include_idle = true;
		return 0;
	case OPT_PER_PID:
		o->per_pid = true;
		return 0;
	case OPT_PER_THREAD:
		o->per_thread = true;
		return 0;
	case OPT_LINES:
		o->write.lines = true;
		return 0;
	case OPT_NO_INLINE:
		o->no_inline = true;
		return 0;
	case OPT_SYMBOLS:
		if (strcmp(arg, "full") && strcmp(arg, "names")) {
			log_error("--symbols %s: unknown mode (full or names)", arg);
			return -EINVAL;
		}
		o->names_only = !strcmp(arg, "names");
		return 0;
	case OPT_NO_DEMANGLE:
		o->no_demangle = true;
		return 0;
	case OPT_DEBUG_DIR:
		o->debug_root = arg;
		return 0;
	case OPT_DEBUGINFOD:
		if (!arg[strspn(arg, ", ")]) {
			log_error("--debuginfod '%s': no server URL", arg);
			return -EINVAL;
		}
		o->debuginfod_urls = arg;
		return 0;
	case OPT_OFF_CPU:
		if (o->time != RECORD_TIME_WALL)
			o->time = RECORD_TIME_OFFCPU;
		return 0;
	case OPT_WALL:
		o->time = RECORD_TIME_WALL;
		return 0;
	case OPT_OFF_CPU_MIN:
		if (parse_u64(arg, 0, 60000000, &v)) {
			log_error("--off-cpu-min-us %s: not a number of microseconds (at most a minute)", arg);
			return -EINVAL;
		}
		o->offcpu_min_us = v;
		return 0;
	case OPT_NO_DEBUGINFOD:
		o->no_debuginfod = true;
		return 0;
	case OPT_NO_PYTHON:
		o->no_python = true;
		return 0;
	case OPT_NO_JAVA:
		o->no_java = true;
		return 0;
	case OPT_DEBUGINFOD_DEADLINE:
		if (parse_double(arg, 0, DBL_MAX, &o->debuginfod_deadline)) {
			log_error("--debuginfod-deadline %s: not a number of seconds", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_STACK_ENTRIES:
		return parse_entries("--stack-entries", arg, &o->stack_entries);
	case OPT_COUNT_ENTRIES:
		return parse_entries("--count-entries", arg, &o->count_entries);
	case OPT_UNWIND:
		if (!strcmp(arg, "fp"))
			o->unwind = RECORD_UNWIND_FP;
		else if (!strcmp(arg, "dwarf"))
			o->unwind = RECORD_UNWIND_DWARF;
		else if (!strcmp(arg, "auto"))
			o->unwind = RECORD_UNWIND_AUTO;
		else {
			log_error("--unwind %s: unknown mode (fp, dwarf or auto)", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_UNWIND_ROWS:
		if (parse_u64(arg, 1024, 1u << 27, &v)) {
			log_error("--unwind-rows %s: not a capacity between 1024 and %u", arg, 1u << 27);
			return -EINVAL;
		}
		o->unwind_rows = (uint32_t)v;
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	default: {
		int r = svg_opts_parse(&o->write.svg, c, arg);
		if (r > 0)
			usage(stderr);
		return r ? -EINVAL : 0;
	}
	}
}

static int pick_format(struct record_opts *o, const char *fmt)
{
	if (fmt) {
		o->format = format_from_name(fmt);
		if (o->format == FORMAT_UNKNOWN) {
			log_error("--format %s: unknown format (folded, svg or pprof)", fmt);
			return -EINVAL;
		}
	} else if (o->output && strcmp(o->output, "-")) {
		o->format = format_from_path(o->output);
		if (o->format == FORMAT_UNKNOWN) {
			log_error("-o %s: cannot tell the format from the extension; use .folded, .svg, .pb.gz or --format",
				  o->output);
			return -EINVAL;
		}
	} else {
		o->format = FORMAT_FOLDED;
	}
	return 0;
}

int record_opts_parse(int argc, char **argv, struct record_opts *o)
{
	struct option longopts[64];
	const char *fmt = NULL;
	int err = 0;

	memset(o, 0, sizeof(*o));
	o->unwind = RECORD_UNWIND_AUTO;
	o->debuginfod_deadline = 30;
	o->offcpu_min_us = 1;
	write_opts_init(&o->write);
	svg_opts_longopts(longopts, sizeof(longopts) / sizeof(longopts[0]), record_long,
			  sizeof(record_long) / sizeof(record_long[0]));
	optind = 1;
	/* '+': stop at the first non-option, the command. */
	for (int c; (c = getopt_long(argc, argv, "+F:c:d:o:p:L:C:UKvh", longopts, NULL)) != -1;) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == '?') {
			usage(stderr);
			return -EINVAL;
		}
		if ((err = parse_one(o, c, optarg, &fmt)))
			return err;
	}
	if (optind < argc)
		o->command = &argv[optind];
	if (o->frequency && o->period) {
		log_error("-F and -c exclude each other: give a frequency or a period");
		return -EINVAL;
	}
	if (!o->period && !o->frequency)
		o->frequency = 99;
	if (o->user_only && o->kernel_only) {
		log_error("-U and -K exclude each other");
		return -EINVAL;
	}
	if (o->command && (o->pids || o->tids)) {
		log_error("a command and -p/-L exclude each other");
		return -EINVAL;
	}
	return pick_format(o, fmt);
}

static int check_rate(const struct record_opts *o)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "re");
	unsigned long long max = 0;
	if (f) {
		if (fscanf(f, "%llu", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (o->frequency && max && o->frequency > max) {
		log_error("-F %" PRIu64 ": above the kernel's limit of %llu Hz (kernel.perf_event_max_sample_rate)",
			  o->frequency, max);
		return -EINVAL;
	}
	return 0;
}

static int check_ids(const char *what, const uint32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%" PRIu32, ids[i]);
		if (access(path, F_OK)) {
			log_error("%s %" PRIu32 ": no such process", what, ids[i]);
			return -ESRCH;
		}
	}
	return 0;
}

static int check_cpus(const struct record_opts *o)
{
	int *online = NULL;
	size_t n = 0;
	int err = capture_online_cpus(&online, &n);
	if (err) {
		log_error("cannot read the online CPUs: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < o->ncpus && !err; i++) {
		bool found = false;
		for (size_t j = 0; j < n; j++)
			found |= online[j] == o->cpus[i];
		if (!found) {
			log_error("-C %d: no such online CPU", o->cpus[i]);
			err = -EINVAL;
		}
	}
	free(online);
	return err;
}

/* Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on
 * hybrid systems); relative --cgroup paths are taken from there. */
static void cgroup2_root(char *out, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	while (f && (m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(out, len, "%s", m->mnt_dir);
			break;
		}
	}
	if (f)
		endmntent(f);
}

/* A cgroup v2 id is its kernfs node id, which is the directory's inode
 * number on 64-bit kernels (bpf_get_current_cgroup_id compares against it). */
static int cgroup_id(const char *path, uint64_t *id)
{
	char full[4096], root[4096] = "/sys/fs/cgroup";
	struct statfs sfs;
	struct stat st;

	if (path[0] != '/')
		cgroup2_root(root, sizeof(root));
	snprintf(full, sizeof(full), "%s%s%s", path[0] == '/' ? "" : root, path[0] == '/' ? "" : "/", path);
	if (statfs(full, &sfs) || stat(full, &st))
		return -errno;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

static int check_cgroups(struct record_opts *o)
{
	if (!o->ncgroups)
		return 0;
	o->cgroup_ids = calloc(o->ncgroups, sizeof(*o->cgroup_ids));
	if (!o->cgroup_ids)
		return -ENOMEM;
	for (size_t i = 0; i < o->ncgroups; i++) {
		int err = cgroup_id(o->cgroups[i], &o->cgroup_ids[i]);
		if (err) {
			log_error("--cgroup %s: not a cgroup v2 directory: %s", o->cgroups[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

int record_opts_check(struct record_opts *o)
{
	int err;
	if ((err = check_rate(o)) || (err = check_ids("-p", o->pids, o->npids)) ||
	    (err = check_ids("-L", o->tids, o->ntids)) || (err = check_cpus(o)) || (err = check_cgroups(o)))
		return err;
	if (o->command && (err = workload_find(o->command[0]))) {
		log_error("%s: %s", o->command[0], err == -ENOENT ? "command not found" : strerror(-err));
		return err;
	}
	return 0;
}

void record_opts_release(struct record_opts *o)
{
	free(o->pids);
	free(o->tids);
	free(o->cpus);
	free(o->cgroups);
	free(o->cgroup_ids);
	memset(o, 0, sizeof(*o));
}
