/* SPDX-License-Identifier: MIT */
/*
 * scorch record: checks everything it can before attaching (the output
 * included), samples until the duration, the command's exit or
 * SIGINT/SIGTERM, then symbolizes and writes the output atomically.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/array.h"
#include "base/atomicfile.h"
#include "base/clock.h"
#include "base/fdlimit.h"
#include "base/hashtab.h"
#include "build.h"
#include "capture.h"
#include "cmd.h"
#include "debugpkg.h"
#include "drain.h"
#include "log.h"
#include "output.h"
#include "java.h"
#include "python.h"
#include "record_opts.h"
#include "session.h"
#include "stackends.h"
#include "symbolize/elfsym.h"
#include "symbolize/debuginfod.h"
#include "symbolize/symbolizer.h"
#include "unwind.h"
#include "workload.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_child(int sig)
{
	(void)sig; /* only interrupts the poll */
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !log_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Root, or CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) in the effective set. */
static int check_privileges(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	if (syscall(SYS_capget, &hdr, data))
		return 0; /* cannot tell: let the kernel say */
	uint64_t eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	bool admin = eff >> CAP_SYS_ADMIN & 1, bpf = eff >> CAP_BPF & 1, perfmon = eff >> CAP_PERFMON & 1;
	if (admin || (bpf && perfmon))
		return 0;
	log_error("record: needs root or CAP_BPF and CAP_PERFMON (missing: %s)",
		  !bpf && !perfmon ? "CAP_BPF, CAP_PERFMON" : !bpf ? "CAP_BPF" : "CAP_PERFMON");
	return -EPERM;
}

/*
 * The tables are drained into userspace (profiler/drain.h) every
 * RECORD_DRAIN_PERIOD_S and whenever the open set of maps is
 * RECORD_DRAIN_FILL full, checked every RECORD_POLL_MS: so each of the two
 * sets need only hold what comes between two drains, whatever the run's
 * length.  They are preallocated in the kernel (about 1.1 KiB a stack) and
 * building them is most of a short recording's own CPU (a 64k table: ~10
 * ms), so each set is the smaller of two bounds: unique stacks cannot
 * outnumber samples (two per sample: user and kernel), and a second's
 * samples (frequency x CPUs), which even if every sample brings two new
 * stacks fill half a set in a quarter of a second.  Between 2k and 64k; a
 * full table is reported with the option that raises it.
 */
#define RECORD_DRAIN_PERIOD_S 1.0
#define RECORD_DRAIN_FILL 0.5
#define RECORD_POLL_MS 100
/* A command's first window is an eighth of the others (its maps are built
 * before the command starts: see fill_capture_opts), checked this often
 * until the next window's maps are built and it is flipped. */
#define RECORD_FIRST_POLL_MS 5
/* The work capture_start leaves in the background (capture.h) starts this
 * long after the command's exec: its loader and first instructions come
 * first (the small first window holds ~250 ms of samples). */
#define RECORD_BACKGROUND_S 0.01
#define RECORD_JAVA_FINISH_S 5.0 /* for the JVMs' last maps once sampling stopped */
#define RECORD_STACK_BYTES_MAX ((size_t)512 << 20) /* drained stacks kept; past it samples keep no stack */

static uint32_t size_entries(double samples, double per_second)
{
	double n = 2 * samples;
	if (n > per_second)
		n = per_second;
	if (n < 2048)
		return 2048;
	if (n > 65536)
		return 65536;
	return (uint32_t)n;
}

static uint32_t first_entries(uint32_t n)
{
	return n / 8 > 1024 ? n / 8 : n < 1024 ? n : 1024;
}

/* Processes a command's tree can have at once: the kernel's pid_max
 * (32768 on most machines), at most 64k. */
static uint32_t pid_max(void)
{
	unsigned long n = 65536;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	if (f) {
		if (fscanf(f, "%lu", &n) != 1 || n > 65536 || n < 1024)
			n = 65536;
		fclose(f);
	}
	return (uint32_t)n;
}

static void fill_capture_opts(const struct record_opts *o, const struct workload *w, size_t ncpus,
			      struct capture_opts *co)
{
	static uint32_t child_pid;
	double hz = o->frequency ? (double)o->frequency : 1e9 / (double)o->period;
	double samples = hz * (double)ncpus * (o->duration > 0 ? o->duration : 60.0);

	memset(co, 0, sizeof(*co));
	co->frequency = o->frequency;
	co->period = o->period;
	co->cpus = o->ncpus ? o->cpus : NULL;
	co->ncpus = o->ncpus;
	co->pids = o->pids;
	co->npids = o->npids;
	if (w) {
		child_pid = (uint32_t)w->pid;
		co->pids = &child_pid;
		co->npids = 1;
		co->pids_from_exec = true;
		co->follow_children = true;
	}
	co->pid_entries = co->follow_children ? pid_max() : (uint32_t)co->npids;
	co->tids = o->tids;
	co->ntids = o->ntids;
	co->cgroups = o->cgroup_ids;
	co->ncgroups = o->ncgroups;
	co->include_idle = o->include_idle;
	co->per_thread = o->per_thread;
	co->user_stacks = !o->kernel_only;
	co->kernel_stacks = !o->user_only;
	co->windowed = true; /* drained as it runs: see size_entries */
	co->stack_entries = o->stack_entries ? o->stack_entries : size_entries(samples, hz * (double)ncpus);
	co->count_entries = o->count_entries ? o->count_entries : size_entries(samples, hz * (double)ncpus);
	co->unwind_dwarf = o->unwind != RECORD_UNWIND_FP && co->user_stacks;
	co->unwind_rows = o->unwind_rows ? o->unwind_rows : CAPTURE_UNWIND_ROWS;
	co->unwind_procs = CAPTURE_UNWIND_PROCS;
	co->verifier_stats = o->verbose;
	co->offcpu = o->time != RECORD_TIME_CPU;
	co->offcpu_min_ns = o->offcpu_min_us * 1000;
	co->offcpu_threads = 16384; /* threads waiting at once; preallocated, ~100 bytes each */
	co->offcpu_stack_entries = co->stack_entries; /* each window's stacks of waits */
	co->python = !o->no_python && co->user_stacks;
	co->python_threads = CAPTURE_PYTHON_THREADS;
	co->java = !o->no_java && co->user_stacks;
	/* A new process has no Python or Java frames to give before scorch has
	 * read it, and an interpreter's start is longer than that: the walkers
	 * are verified while the command starts (on_sample_boot).  Not with -p
	 * (its processes are read before sampling starts) nor with --off-cpu
	 * (whose switch program holds the same walkers). */
	co->defer_sampler = w && !co->offcpu && (co->python || co->java);
	co->background_later = w != NULL;
	/* Each window's stacks map at 4999 Hz on 2 CPUs is 9,998 preallocated
	 * 1 KiB entries, 15-25 ms of the kernel's time to build.  A command's
	 * first window gets an eighth (at least 1024), and is flipped as soon
	 * as the next window's maps, built once it runs, are there (~20 ms
	 * here; a stack of its own at every sample of one CPU fills it in
	 * 250 ms; at the flip it was 1.2 % full at a quarter under a load of
	 * 12): see capture_window_small. */
	if (w) {
		co->first_stack_entries = first_entries(co->stack_entries);
		co->first_count_entries = first_entries(co->count_entries);
	}
}

/* Counts and stacks drained so far, and how full the tables got. */
struct drain_state {
	struct drain *d;   /* freed once the profile is built */
	struct drain_stats st; /* d's, taken then */
	double last;       /* when the last drain was (monotonic) */
	double fill_peak;  /* the fullest the open set was found */
	uint64_t early;    /* drains because the open set was RECORD_DRAIN_FILL full */
	uint64_t first;    /* drains of a small first set (capture_window_small) */
	double first_fill; /* how full it was then */
};

/* Closes the open set of maps and moves it into the drain; announcements
 * made meanwhile are handled first, while the closed set's Python stacks
 * can still be read. */
static int drain_now(struct capture *c, struct session *ss, const struct record_opts *o, struct drain_state *ds)
{
	int err = capture_window_flip(c);
	if (!err) {
		capture_poll(c, 0, session_on_proc, ss);
		session_update(ss);
		err = drain_window(ds->d, c, o->time != RECORD_TIME_CPU);
	}
	ds->last = clock_s(CLOCK_MONOTONIC);
	if (err)
		log_error("record: cannot drain the in-kernel tables: %s", strerror(-err));
	return err;
}

/* Drains on the period, or before the open set fills. */
static int drain_due(struct capture *c, struct session *ss, const struct record_opts *o, struct drain_state *ds)
{
	double fill = capture_window_fill(c);
	bool ready, small = capture_window_small(c, &ready);
	if (fill > ds->fill_peak)
		ds->fill_peak = fill;
	if (small && fill > ds->first_fill)
		ds->first_fill = fill;
	if (small && !ready && fill >= RECORD_DRAIN_FILL / 4)
		capture_window_hurry(c);
	if (small && ready)
		ds->first++; /* flipped once the next window's maps are built */
	else if (fill >= RECORD_DRAIN_FILL)
		ds->early++;
	else if (clock_s(CLOCK_MONOTONIC) - ds->last < RECORD_DRAIN_PERIOD_S)
		return 0;
	return drain_now(c, ss, o, ds);
}

/*
 * The processes and threads given with -p and -L, watched through pidfds
 * (a pid reused by another process does not keep the run going): when all
 * of them have exited, sampling ends, as perf record -p does.  A thread's
 * pidfd needs PIDFD_THREAD (Linux 6.9); where it cannot be had, the run
 * is not ended by exits and lasts until -d or a signal.
 */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
struct targets {
	struct pollfd *fds;
	size_t n;    /* watched */
	size_t gone; /* exited before they could be watched */
	bool on;     /* every target watched */
};

static void targets_add(struct targets *t, const uint32_t *ids, size_t n, unsigned flags)
{
	for (size_t i = 0; i < n && t->on; i++) {
		int fd = (int)syscall(SYS_pidfd_open, (pid_t)ids[i], flags);
		if (fd >= 0)
			t->fds[t->n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		else if (errno == ESRCH)
			t->gone++;
		else {
			log_debug("record: cannot watch %" PRIu32 " for its exit: %s", ids[i], strerror(errno));
			t->on = false;
		}
	}
}

/* Watches o's -p and -L ids (none when one of them cannot be). */
static void targets_open(struct targets *t, const struct record_opts *o)
{
	memset(t, 0, sizeof(*t));
	if (!o->npids && !o->ntids)
		return;
	if (!(t->fds = calloc(o->npids + o->ntids, sizeof(*t->fds))))
		return;
	t->on = true;
	targets_add(t, o->pids, o->npids, 0);
	targets_add(t, o->tids, o->ntids, PIDFD_THREAD);
}

/* Every target has exited: every pidfd is readable. */
static bool targets_exited(const struct targets *t)
{
	return t->on && (!t->n || poll(t->fds, t->n, 0) == (int)t->n);
}

static void targets_close(struct targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		close(t->fds[i].fd);
	free(t->fds);
	memset(t, 0, sizeof(*t));
}

/* Samples until the duration passes, the command (or every process given
 * with -p/-L) exits or a signal comes. */
static int run_loop(struct capture *c, struct session *ss, const struct record_opts *o, struct workload *w,
		    const struct targets *tg, struct drain_state *ds)
{
	double start = clock_s(CLOCK_MONOTONIC);
	ds->last = start;
	while (!stop_signal) {
		bool ready;
		int timeout = capture_window_small(c, &ready) ? RECORD_FIRST_POLL_MS : RECORD_POLL_MS;
		if (o->duration > 0) {
			double left = o->duration - (clock_s(CLOCK_MONOTONIC) - start);
			if (left <= 0)
				break;
			if (left * 1000 < timeout)
				timeout = (int)(left * 1000) + 1;
		}
		if (clock_s(CLOCK_MONOTONIC) - start >= RECORD_BACKGROUND_S)
			capture_background_start(c); /* once; see capture.h */
		int err = capture_poll(c, timeout, session_on_proc, ss);
		session_update(ss);
		if (err) {
			log_error("record: polling the ring buffer: %s", strerror(-err));
			return err;
		}
		if ((err = drain_due(c, ss, o, ds)))
			return err;
		if (w && workload_reap(w, false))
			break;
		if (targets_exited(tg)) {
			log_info("record: the processes given have exited");
			break;
		}
	}
	return 0;
}

/* Unnamed user and kernel frames by reason (each distinct address once per process). */
static void report_misses(const struct symbolizer_stats *ss)
{
	static const char *const why[SYM_MISS_NR] = {
		[SYM_MISS_NO_PROCESS] = "process gone",
		[SYM_MISS_NO_MAPPING] = "no mapping",
		[SYM_MISS_NO_FILE] = "no such file",
		[SYM_MISS_NO_SYMBOL] = "no symbols",
		[SYM_MISS_ANON] = "anonymous memory without a perf map",
		[SYM_MISS_KERNEL] = "kernel symbols",
	};
	char buf[512];
	size_t len = 0;
	uint64_t total = 0;
	for (int i = 1; i < SYM_MISS_NR; i++) {
		if (!ss->misses[i])
			continue;
		total += ss->misses[i];
		int n = snprintf(buf + len, sizeof(buf) - len, "%s%" PRIu64 " %s", len ? ", " : "", ss->misses[i], why[i]);
		if (n > 0 && (size_t)n < sizeof(buf) - len)
			len += (size_t)n;
	}
	if (total)
		log_info("%" PRIu64 " addresses left unnamed: %s", total, buf);
	log_debug("symbols: %" PRIu64 " files, %" PRIu64 " debug files, %" PRIu64 " DWARF loads (%" PRIu64
		  " from the DWARF cache, %" PRIu64 " evicted, peak %zu KiB), %" PRIu64 " perf maps (%" PRIu64
		  " bad lines)",
		  ss->files, ss->debug_files, ss->dwarf_loads, ss->dwarf_cached, ss->dwarf_evictions,
		  ss->dwarf_bytes_peak >> 10, ss->jit_maps, ss->jit_skipped);
}

/* How user stacks were unwound with --unwind dwarf|auto; fallbacks are
 * warnings with dwarf, details with auto. */
static void report_unwind(const struct record_opts *o, const uint64_t *stats, const struct unwind *u)
{
	struct unwind_stats us;
	if (!u)
		return;
	unwind_stats(u, &us);
	log_info("unwind: %" PRIu64 " user stacks from CFI tables, %" PRIu64 " by frame pointers (tables not loaded "
		 "yet); %" PRIu64 " files (%" PRIu64 " without CFI, %" PRIu64 " with a debug file's), %" PRIu64
		 " kept after their last process exited and taken again, %" PRIu64 " of %" PRIu64 " rows at peak, %.1f ms compiling",
		 stats[STAT_UNWIND_DWARF], stats[STAT_UNWIND_NO_TABLE], us.files, us.files_no_cfi, us.files_debug_frame,
		 us.files_reused, us.rows_peak, us.rows_cap, us.compile_ns / 1e6);
	if (us.files_gopclntab)
		log_info("unwind: %" PRIu64 " rows from Go's frame sizes (.gopclntab) for %" PRIu64 " files without CFI",
			 us.rows_gopclntab, us.files_gopclntab);
	uint64_t ended = stats[STAT_UNWIND_READ_ERR] + stats[STAT_UNWIND_BAD_FRAME];
	void (*say)(const char *, ...) = o->unwind == RECORD_UNWIND_DWARF ? log_warn : log_debug;
	if (stats[STAT_UNWIND_FP_FRAMES] || ended || stats[STAT_UNWIND_ROW_MISS])
		say("unwind: %" PRIu64 " frames by frame pointers (code without CFI, %" PRIu64 " of them at a pc "
		    "without a rule), %" PRIu64 " stacks ended early (%" PRIu64 " unreadable, %" PRIu64
		    " bad frames), %" PRIu64 " signal frames",
		    stats[STAT_UNWIND_FP_FRAMES], stats[STAT_UNWIND_ROW_MISS], ended, stats[STAT_UNWIND_READ_ERR],
		    stats[STAT_UNWIND_BAD_FRAME], stats[STAT_UNWIND_SIGNAL]);
	if (us.table_full)
		log_warn("unwind: %" PRIu64 " files without room in the unwind table: frame pointers there "
			 "(raise --unwind-rows)",
			 us.table_full);
	if (us.procs_full || us.mappings_dropped || us.files_failed)
		log_warn("unwind: %" PRIu64 " processes without room for tables, %" PRIu64
			 " mappings past %d per process, %" PRIu64 " files unreadable",
			 us.procs_full, us.mappings_dropped, UNWIND_MAX_MAPPINGS, us.files_failed);
}

/* The files whose code without CFI or frame pointers ended stacks early
 * (their callers lost), and what would keep them: said whenever unwind
 * tables were in use, as their callers are missing from the profile. */
static void report_stack_ends(const struct profile *p, const struct unwind *u, const char *debug_root)
{
	struct stackend_file *f = NULL;
	size_t n = 0;
	int64_t total = profile_total(p);
	if (!u || total <= 0)
		return;
	int err = stackends_find(p, u, debug_root, &f, &n);
	if (err)
		log_debug("unwind: stacks that ended early not looked for: %s", strerror(-err));
	size_t shown = 0;
	for (size_t i = 0; i < n && shown < 5; i++) {
		/* Under 1 % of the samples: detail, not worth a warning. */
		void (*say)(const char *, ...) = f[i].samples * 100 >= (uint64_t)total ? log_warn : log_debug;
		shown += say == log_warn;
		say("unwind: %s: %" PRIu64 " of %" PRId64 " samples (%.1f %%) have stacks ending in its code "
			 "without CFI or frame pointers (%" PRIu64 " in %s), their callers lost; build that code with "
			 "-fasynchronous-unwind-tables or -fno-omit-frame-pointer (for a static program, its libc "
			 "too: Debian's musl has neither)",
			 f[i].path, f[i].samples, total, 100.0 * (double)f[i].samples / (double)total,
			 f[i].top_samples, f[i].top);
	}
	if (n > shown)
		log_debug("unwind: %zu other files ended stacks in code without CFI or frame pointers", n - shown);
	free(f);
}

/* The drains: how often, how full the tables got, what userspace holds. */
static void report_drains(const uint64_t *stats, const struct drain_state *ds)
{
	const struct drain_stats st = ds->st;
	log_debug("tables drained %" PRIu64 " times (%" PRIu64 " a small first set, at %.1f %%; %" PRIu64
		  " at %.0f %% full, the rest every %.0f s), fullest at %.1f %%; %" PRIu64 " counts read, %" PRIu64
		  " stacks kept (%.1f MiB)",
		  st.drains, ds->first, ds->first_fill * 100, ds->early, RECORD_DRAIN_FILL * 100, RECORD_DRAIN_PERIOD_S, ds->fill_peak * 100, st.entries,
		  st.stacks, st.stack_bytes / 1048576.0);
	if (st.dropped[DRAIN_SAMPLES] || st.dropped[DRAIN_OFFCPU])
		log_warn("%" PRIu64 " samples and %.3f s off the CPU kept without their stacks: the drained stacks "
			 "reached %zu MiB (record for less time or at a lower -F)",
			 st.dropped[DRAIN_SAMPLES], st.dropped[DRAIN_OFFCPU] / 1e9, RECORD_STACK_BYTES_MAX >> 20);
	if (st.missing[DRAIN_SAMPLES] || st.missing[DRAIN_OFFCPU] || stats[STAT_OFFCPU_NO_STACK] ||
	    stats[STAT_OFFCPU_STACKS_FULL])
		log_warn("%" PRIu64 " samples and %.3f s off the CPU drained without their stacks (not in the "
			 "tables); %" PRIu64 " waits whose stacks were in neither set of tables, %" PRIu64
			 " not stored (raise --stack-entries)",
			 st.missing[DRAIN_SAMPLES], st.missing[DRAIN_OFFCPU] / 1e9, stats[STAT_OFFCPU_NO_STACK],
			 stats[STAT_OFFCPU_STACKS_FULL]);
}

static void report(const struct record_opts *o, const struct capture *c, const uint64_t *stats,
		   const struct build_stats *bs, const struct symbolizer *sym, double secs, const struct drain_stats *ds)
{
	struct symbolizer_stats ss;
	/* Samples without room in a table, or whose stack was drained without it. */
	uint64_t lost = stats[STAT_STACKS_FULL] + stats[STAT_COUNTS_FULL] + ds->dropped[DRAIN_SAMPLES] +
			ds->missing[DRAIN_SAMPLES];

	symbolizer_stats(sym, &ss);
	log_info("%" PRIu64 " samples (%s, %s %" PRIu64 "%s) in %.2f s, %" PRIu64 " unique stacks, %" PRIu64 " lost",
		 stats[STAT_SAMPLES], capture_event_name(c), o->frequency ? "at" : "period",
		 o->frequency ? o->frequency : o->period, o->frequency ? " Hz" : "", secs, bs->stacks, lost);
	if (stats[STAT_COUNTS_FULL])
		log_warn("%" PRIu64 " samples not counted: count table full (raise --count-entries)",
			 stats[STAT_COUNTS_FULL]);
	if (stats[STAT_STACKS_FULL])
		log_warn("%" PRIu64 " stacks not stored: stack table full (raise --stack-entries)",
			 stats[STAT_STACKS_FULL]);
	if (stats[STAT_KSTACK_LOST] || stats[STAT_USTACK_LOST])
		log_warn("stacks the kernel could not walk: %" PRIu64 " kernel, %" PRIu64 " user (shown as [unknown])",
			 stats[STAT_KSTACK_LOST], stats[STAT_USTACK_LOST]);
	if (bs->truncated)
		log_warn("%" PRIu64 " samples had stacks deeper than %d frames (marked [truncated])", bs->truncated,
			 SCORCH_MAX_DEPTH);
	if (stats[STAT_PROC_EVENTS_LOST] || stats[STAT_PROCS_FULL] || stats[STAT_FOLLOW_FULL])
		log_warn("process tracking lost %" PRIu64 " announcements, %" PRIu64 " table entries, %" PRIu64
			 " children",
			 stats[STAT_PROC_EVENTS_LOST], stats[STAT_PROCS_FULL], stats[STAT_FOLLOW_FULL]);
	if (o->time != RECORD_TIME_CPU && (stats[STAT_OFFCPU_FULL] || stats[STAT_OFFCPU_SHORT]))
		(stats[STAT_OFFCPU_FULL] ? log_warn : log_debug)(
			"off-CPU: %" PRIu64 " waits lost (the table of waiting threads or of their stacks full: "
			"raise --count-entries), %" PRIu64 " shorter than --off-cpu-min-us left out",
			stats[STAT_OFFCPU_FULL], stats[STAT_OFFCPU_SHORT]);
	if (stats[STAT_USTACK_EXITED])
		log_debug("%" PRIu64 " samples in exit after the address space was torn down: kernel stack only",
			  stats[STAT_USTACK_EXITED]);
	if (ss.misses[SYM_MISS_NO_PROCESS])
		log_warn("%" PRIu64 " processes exited before their maps were read (%" PRIu64 " frames unnamed)",
			 ss.processes_gone, ss.misses[SYM_MISS_NO_PROCESS]);
	if (ss.files_failed)
		log_warn("%" PRIu64 " mapped files could not be read for symbols", ss.files_failed);
	report_misses(&ss);
}

/* Java: the JVMs asked for their maps of compiled methods, how fast they
 * answered, the methods unwound by their frame sizes, and the interpreted
 * frames named. */
static void report_java(const uint64_t *stats, const struct java *j)
{
	struct java_stats js;
	if (!j)
		return;
	java_stats(j, &js);
	if (!js.jvms)
		return;
	log_info("java: %" PRIu64 " JVMs, %" PRIu64 " maps of compiled methods (%" PRIu64 " changed), asked in %.1f ms"
		 " on average, %.1f ms at most (%.1f ms at most the first time)",
		 js.jvms, js.asks, js.maps_changed, js.asks ? js.latency_ns_sum / 1e6 / (double)js.asks : 0.0,
		 js.latency_ns_max / 1e6, js.first_latency_ns_max / 1e6);
	if (js.methods_unwound || js.no_layout)
		log_info("java: %" PRIu64 " compiled methods unwound by their frame sizes (%.1f ms reading them); %" PRIu64
			 " JVMs without (a code cache layout not known)", js.methods_unwound, js.rows_ns / 1e6, js.no_layout);
	if (js.codelist_jvms)
		log_info("java: %" PRIu64 " JVMs without Compiler.perfmap, named by Compiler.codelist (%" PRIu64
			 " lines not a method)", js.codelist_jvms, js.codelist_skipped);
	if (js.failed || js.not_ready)
		log_info("java: %" PRIu64 " asks failed, %" PRIu64 " not made (SIGQUIT not caught yet)", js.failed,
			 js.not_ready);
	if (js.walked)
		log_info("java: %" PRIu64 " samples with interpreted frames in %" PRIu64 " JVMs, %" PRIu64
			 " methods named (%" PRIu64 " not readable), %" PRIu64 " frames without a method",
			 stats[STAT_JAVA_STACKS], js.walked, js.methods_named, js.methods_unread, stats[STAT_JAVA_READ_ERR]);
}

/* Python frames: what was found, and every stack that could not be walked whole. */
static void report_python(const uint64_t *stats, const struct pytrack *py)
{
	struct pytrack_stats ps;
	if (!py)
		return;
	pytrack_stats(py, &ps);
	if (!ps.processes)
		return;
	log_info("python: %" PRIu64 " interpreters, %" PRIu64 " samples with Python frames", ps.processes,
		 stats[STAT_PY_STACKS]);
	if (stats[STAT_PY_NO_THREAD] || stats[STAT_PY_READ_ERR] || stats[STAT_PY_TRUNCATED])
		log_warn("python: %" PRIu64 " samples in the eval loop without a thread state, %" PRIu64
			 " frame walks cut short by an unreadable frame, %" PRIu64 " deeper than %d frames "
			 "(marked [truncated])",
			 stats[STAT_PY_NO_THREAD], stats[STAT_PY_READ_ERR], stats[STAT_PY_TRUNCATED], SCORCH_MAX_DEPTH);
	if (stats[STAT_PY_EVENTS_LOST] || ps.codes_gone)
		log_debug("python: %" PRIu64 " new stacks not announced in time, %" PRIu64
			  " whose process exited before its code objects were read",
			  stats[STAT_PY_EVENTS_LOST], ps.codes_gone);
}

/* The debuginfod servers of --debuginfod or $DEBUGINFOD_URLS; NULL when
 * none are named, --no-debuginfod, or they cannot be used (said why). */
static struct dbgd *debuginfod_open(const struct record_opts *o)
{
	struct dbgd *d = NULL;
	if (o->no_debuginfod)
		return NULL;
	struct dbgd_opts dopts = { .urls = o->debuginfod_urls };
	int err = dbgd_new(&dopts, &d);
	if (err == -ENOSYS)
		log_warn("debuginfod: cannot load libdebuginfod.so.1 (apt install libdebuginfod1): not asking the servers");
	else if (err == -EPERM)
		log_warn("debuginfod: the cache directory ($DEBUGINFOD_CACHE_PATH) is not root's alone: not asking the "
			 "servers");
	else if (err && err != -ENOENT)
		log_warn("debuginfod: %s: not asking the servers", strerror(-err));
	return err ? NULL : d;
}

struct debuginfod_wait {
	struct dbgd *d;
	double deadline;
};

static void debuginfod_progress(void *ctx, size_t done, size_t total, double secs)
{
	(void)ctx;
	log_info("debuginfod: %zu of %zu debug files after %.0f s", done, total, secs);
}

/* Every file with samples is loaded and its debug file asked for: waits
 * for the answers, at most the deadline. */
static void wait_debuginfod(void *ctx)
{
	struct debuginfod_wait *w = ctx;
	struct dbgd_stats st;
	if (dbgd_wait(w->d, w->deadline, debuginfod_progress, NULL) == -ETIMEDOUT) {
		dbgd_stats(w->d, &st);
		log_warn("debuginfod: gave up waiting after %.0f s (--debuginfod-deadline): %" PRIu64
			 " of %" PRIu64 " debug files not fetched",
			 w->deadline, st.asked - st.found - st.missing, st.asked);
		return;
	}
	dbgd_stats(w->d, &st);
	if (st.asked)
		log_debug("debuginfod: %" PRIu64 " debug files asked for: %" PRIu64 " fetched, %" PRIu64
			  " not on the servers, %" PRIu64 " failed",
			  st.asked, st.found, st.missing, st.failed + st.refused);
}

struct unnamed_file {
	struct sym_unnamed_file f;
	char *path, *build_id; /* f's, copied */
};

struct unnamed_files {
	struct unnamed_file *v;
	size_t n, cap;
	int err;
};

/* Keeps a file that will be reported: one its symbols would help. */
static void collect_unnamed_file(void *ctx, const struct sym_unnamed_file *f)
{
	struct unnamed_files *u = ctx;
	if (f->has_symtab || (f->debug_file && !f->debuginfod_err))
		return; /* named but for a few addresses outside its symbols */
	if (u->err || (u->err = array_grow((void **)&u->v, &u->cap, u->n + 1, sizeof(*u->v))))
		return;
	struct unnamed_file *e = &u->v[u->n];
	e->f = *f;
	e->path = strdup(f->path);
	e->build_id = f->build_id ? strdup(f->build_id) : NULL;
	if (!e->path || (f->build_id && !e->build_id)) {
		free(e->path);
		free(e->build_id);
		u->err = -ENOMEM;
		return;
	}
	e->f.path = e->path;
	e->f.build_id = e->build_id;
	u->n++;
}

/* The package hint for a file with a build ID: the Debian package of its
 * debug symbols when dpkg says which package installed it (pkg, "" if
 * none; NULL when the file is in another root, whose packages are not
 * looked up), else debuginfod. */
static void package_help(const char *pkg, bool servers, char *help, size_t len)
{
	char dbg[160];
	const char *or_dbgd = servers ? "" : " or set DEBUGINFOD_URLS";
	if (pkg && pkg[0]) {
		bool archive = debugpkg_debug_name(pkg, dbg, sizeof(dbg));
		snprintf(help, len, "; it is from Debian package %s: apt install %s%s%s", pkg, dbg,
			 archive ? " (Debian's debug archive)" : "", or_dbgd);
	} else if (pkg) {
		snprintf(help, len, "; no Debian package installed it (dpkg lists no owner): %s",
			 servers ? "install its debug file" : "set DEBUGINFOD_URLS or install its debug file");
	} else if (!servers) {
		snprintf(help, len, "; set DEBUGINFOD_URLS or install its debug file");
	} else {
		help[0] = '\0';
	}
}

/* Says which stripped Go binaries were named from their .gopclntab. */
static void report_go_file(void *ctx, const struct sym_go_file *f)
{
	(void)ctx;
	if (f->unnamed)
		log_info("%s: %" PRIu64 " addresses named from .gopclntab (%s layout), %" PRIu64
			 " outside its functions unnamed",
			 f->path, f->addresses, f->layout, f->unnamed);
	else
		log_info("%s: %" PRIu64 " addresses named from .gopclntab (%s layout)", f->path, f->addresses,
			 f->layout);
}

/* Says, per file that left addresses as module+0xoffset for want of
 * symbols, why, and what would help.  Packages are looked up in our dpkg
 * database, once for all such files, and only for files in our root: a
 * container's file is named by its own database, which may be gone with
 * the container by the end of the run. */
static void report_unnamed_files(const struct symbolizer *sym, bool servers)
{
	struct unnamed_files u = { 0 };
	struct debugpkg_query *q = NULL;
	size_t nq = 0;
	symbolizer_unnamed_files(sym, collect_unnamed_file, &u);
	if (u.err)
		log_warn("unnamed files: %s", strerror(-u.err));
	if (u.n && (q = calloc(u.n, sizeof(*q)))) {
		for (size_t i = 0; i < u.n; i++)
			if (u.v[i].f.build_id && u.v[i].f.host_root)
				q[nq++].path = u.v[i].path;
		int err = nq ? debugpkg_owners("/", q, nq) : 0;
		if (err) {
			log_debug("dpkg database: %s: no package hints", strerror(-err));
			nq = 0;
		}
	}
	for (size_t i = 0, j = 0; i < u.n; i++) {
		const struct sym_unnamed_file *f = &u.v[i].f;
		char help[640] = "";
		const char *pkg = NULL;
		if (j < nq && q[j].path == u.v[i].path)
			pkg = q[j++].pkg;
		if (f->build_id)
			package_help(pkg, servers, help, sizeof(help));
		const char *why = !f->build_id ? "no build ID, so no debug file can be looked up"
				  : f->debuginfod_err ? dbgd_strerror(f->debuginfod_err)
				  : servers ? "no debug file (not asked: queue full)"
					    : "no symbol table and no debug file";
		log_info("%s: %" PRIu64 " addresses unnamed: %s%s", f->path, f->addresses, why, help);
		free(u.v[i].path);
		free(u.v[i].build_id);
	}
	free(q);
	free(u.v);
	symbolizer_go_files(sym, report_go_file, NULL);
}

/* --off-cpu: the time off the CPU by stack.  --wall: CPU samples as the
 * time they stand for, then the time off the CPU with an [off-cpu] leaf;
 * a state label says which. */
static int build_time(const struct capture *c, struct drain *d, struct symbolizer *sym, const struct record_opts *o,
		      const struct build_opts *base, struct profile *p, struct build_stats *bs)
{
	struct capture_entry *e = NULL;
	size_t n = 0;
	struct build_opts bo = *base;
	struct build_label running = { "state", "running" }, waiting = { "state", "off-cpu" };
	int err = 0;
	if (o->time == RECORD_TIME_WALL) {
		uint64_t period = capture_period_ns(c);
		if (!period) /* cycles: the frequency is the kernel's average */
			period = o->frequency ? 1000000000ull / o->frequency : o->period;
		drain_take(d, DRAIN_SAMPLES, &e, &n);
		capture_entries_to_us(e, n, period);
		bo.labels = &running;
		bo.nlabels = 1;
		bo.keep_processes = true;
		err = build_profile_stored(drain_stacks(d), e, n, sym, &bo, p, bs);
		free(e);
		e = NULL;
		bo = *base;
		bo.leaf_frame = "[off-cpu]";
		bo.labels = &waiting;
		bo.nlabels = 1;
	}
	if (!err) {
		struct build_stats on = { 0 };
		if (o->time == RECORD_TIME_WALL)
			on = *bs;
		drain_take(d, DRAIN_OFFCPU, &e, &n);
		capture_entries_to_us(e, n, 0);
		err = build_profile_stored(drain_stacks(d), e, n, sym, &bo, p, bs);
		bs->stacks += on.stacks;
		bs->truncated += on.truncated;
	}
	free(e);
	return err;
}

/* Checks -o before anything is attached, so an unwritable path fails early:
 * a temporary file can be created beside it (and is removed at once), or it
 * is a device or FIFO (/dev/null), which is written in place.  Nothing is
 * left at path until the profile is written, so a kill -9 leaves nothing. */
static int check_output(const char *path)
{
	struct atomic_file af;
	struct stat st;
	int err;

	if (!lstat(path, &st)) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			return 0;
	}
	err = atomic_file_open(&af, path);
	atomic_file_abort(&af);
	return err;
}

/* Root keeps the per-boot kernel symbol cache in /run/scorch; a user running
 * with CAP_BPF and CAP_PERFMON cannot write there, so theirs goes in their
 * runtime directory (also emptied at reboot), or nowhere. */
static const char *kernel_cache_dir(char *buf, size_t len)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	if (geteuid() == 0)
		return "/run/scorch";
	if (!run || run[0] != '/' || snprintf(buf, len, "%s/scorch", run) >= (int)len)
		return NULL;
	return buf;
}

/* Root keeps debug files with their DWARF inflated here, by build ID
 * (symbolize/dwarfcache.h): they outlive a reboot, as the packages do. */
#define DWARF_CACHE_DIR "/var/cache/scorch"

/* Everything one recording holds, released by recording_release. */
struct recording {
	struct record_opts o;
	struct workload w;
	struct workload *wp; /* &w with a command, else NULL */
	struct dbgd *dbgd;
	struct symbolizer *sym;
	struct capture *c;
	bool deferred; /* the full sampler loaded once the command started */
	bool python_cmd; /* deferred, and the command looks like CPython (workload_runs_python) */
	struct unwind_preload *preload;
	const char *preload_exe; /* the command's program, for start_preload */
	struct unwind *unw;   /* NULL with --unwind fp */
	struct pytrack *py;   /* NULL with --no-python */
	struct java *jvm;     /* NULL with --no-java or without user stacks */
	struct session *ss;   /* every process announcement goes here */
	struct drain_state drain; /* counts and stacks drained from the kernel */
	struct profile *p;
	struct targets tg;    /* -p and -L: sampling ends when all have exited */
	double t0, t1, wall0; /* sampling's start and end (monotonic), its start (Unix) */
};

/* What the BPF load cost; with the sampler deferred, the full sampler's
 * part, or why it could not be loaded (the run's samples then have no
 * Python or Java frames). */
static void report_load(struct capture *c, bool deferred)
{
	int err = capture_sampler_wait(c);
	struct capture_load_info li;
	uint64_t stats[STAT_NR] = { 0 };
	capture_load_info(c, &li);
	capture_stats(c, stats);
	if (err)
		log_error("record: cannot load the Python and Java walkers: %s; the profile has no Python or Java frames",
			  strerror(-err));
	if (!li.full_load_ns && deferred && !err)
		log_debug("BPF object loaded in %.1f ms; the Python and Java walkers not loaded: the command ended "
			  "before their load began", li.load_ns / 1e6);
	else if (!li.full_load_ns)
		log_debug("BPF object loaded in %.1f ms; sampler verified in %.1f ms, %" PRIu32 " instructions",
			  li.load_ns / 1e6, li.verify_us / 1e3, li.verified_insns);
	else
		log_debug("BPF object loaded in %.1f ms; sampler verified in %.1f ms, %" PRIu32 " instructions, "
			  "with the Python and Java walkers on a thread (%.1f ms), in place %.1f ms after the "
			  "command's release (%" PRIu64 " samples before)",
			  li.load_ns / 1e6, li.verify_us / 1e3, li.verified_insns, li.full_load_ns / 1e6,
			  li.full_ready_ns / 1e6, stats[STAT_BOOT]);
}

/* The command's unwind tables compiled on a thread while the BPF programs
 * are verified (capture_opts.before_programs). */
static void start_preload(void *ctx)
{
	struct recording *r = ctx;
	int err = unwind_preload_start(r->preload_exe, r->o.debug_root, &r->preload);
	if (err)
		log_debug("%s: cannot compile unwind tables ahead: %s", r->preload_exe, strerror(-err));
}

/* Opens what sampling needs: the command (started stopped), the
 * symbolizer, the BPF object and events, unwind tables, Python frames. */
static int recording_open(struct recording *r)
{
	struct record_opts *o = &r->o;
	struct capture_opts co;
	char msg[512] = "", cache_dir[PATH_MAX], exe[PATH_MAX], loader[PATH_MAX];
	int err;

	if (check_privileges() || record_opts_check(o))
		return -EINVAL;
	if (o->output && strcmp(o->output, "-") && (err = check_output(o->output))) {
		log_error("%s: cannot write: %s", o->output, strerror(-err));
		return err;
	}
	if (o->command) {
		if ((err = workload_fork(&r->w, o->command))) {
			log_error("%s: cannot start: %s", o->command[0], strerror(-err));
			return err;
		}
		r->wp = &r->w;
	}
	/* After the fork: the command keeps the environment it was given
	 * (dbgd_new sets DEBUGINFOD_URLS for --debuginfod). */
	r->dbgd = debuginfod_open(o);
	struct symbolizer_opts so = {
		.kernel_cache_dir = kernel_cache_dir(cache_dir, sizeof(cache_dir)),
		.debug_root = o->debug_root,
		.dwarf_cache_dir = geteuid() == 0 ? DWARF_CACHE_DIR : NULL,
		.names_only = o->names_only,
		.no_inline = o->no_inline,
		.no_demangle = o->no_demangle,
		.debuginfod = r->dbgd,
	};
	if ((err = symbolizer_new(&so, &r->sym))) {
		log_error("record: cannot set up symbolization: %s", strerror(-err));
		return err;
	}
	/* After the fork: the command keeps the limits it was given. */
	if ((err = fdlimit_raise(NULL)))
		log_debug("record: cannot raise the limit on open files: %s", strerror(-err));
	int *online = NULL;
	size_t nonline = 0;
	if (capture_online_cpus(&online, &nonline))
		nonline = 1;
	free(online);
	fill_capture_opts(o, r->wp, o->ncpus ? o->ncpus : nonline, &co);
	bool have_exe = r->wp && !workload_resolve(o->command[0], exe, sizeof(exe));
	if (have_exe && co.unwind_dwarf) {
		r->preload_exe = exe;
		co.before_programs = start_preload;
		co.before_programs_ctx = r;
		int fd = open(exe, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && !elfsym_interpreter(fd, loader, sizeof(loader)))
			co.loader = loader;
		if (fd >= 0)
			close(fd);
	}
	err = capture_open(&co, &r->c, msg, sizeof(msg));
	r->preload_exe = NULL; /* exe is this function's */
	if (err) {
		log_error("record: %s", msg);
		return err;
	}
	if ((err = drain_new(RECORD_STACK_BYTES_MAX, &r->drain.d))) {
		log_error("record: %s", strerror(-err));
		return err;
	}
	r->deferred = co.defer_sampler;
	/* Its walkers are wanted from its first samples: their load is not
	 * left in the background (capture_walkers_hurry) as for other
	 * commands, whose start it slowed by ~20 ms one run in four. */
	r->python_cmd = r->deferred && co.python && have_exe && workload_runs_python(exe);
	if (!r->deferred)
		report_load(r->c, false);
	struct capture_unwind_maps um;
	if (co.unwind_dwarf && (err = capture_unwind_maps(r->c, &um) ?: unwind_new(&um, o->debug_root, &r->unw))) {
		log_error("record: cannot map the unwind table: %s", strerror(-err));
		return err;
	}
	unwind_preload_finish(r->unw, r->preload);
	r->preload = NULL;
	if (co.python && (err = pytrack_new(r->c, &r->py))) {
		log_error("record: cannot set up Python frames: %s", strerror(-err));
		return err;
	}
	if (!o->no_java && co.user_stacks && (err = java_new(r->c, r->unw, &r->jvm))) {
		log_error("record: cannot set up Java method names: %s", strerror(-err));
		return err;
	}
	struct session_parts parts = { .c = r->c, .sym = r->sym, .unw = r->unw, .py = r->py, .jvm = r->jvm };
	if ((err = session_new(&parts, &r->ss))) {
		log_error("record: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* -p: the processes, running already, are read before sampling starts (their
 * maps, unwind tables, Python), not at their first sample's announcement:
 * else the samples taken until that is handled would have stacks cut short
 * and no Python frames. */
static void seed_processes(struct recording *r)
{
	for (size_t i = 0; i < r->o.npids; i++) {
		uint32_t gen;
		int err = capture_process_seed(r->c, r->o.pids[i], &gen);
		if (err)
			log_debug("record: %" PRIu32 " not read ahead: %s", r->o.pids[i], strerror(-err));
		else
			session_on_proc(r->ss, r->o.pids[i], gen);
	}
	session_update(r->ss);
}

/* Samples: attaches, releases the command, polls until the end. */
static int recording_sample(struct recording *r)
{
	char msg[512] = "";
	int err;
	struct sigaction sa = { .sa_handler = on_stop }, sc = { .sa_handler = on_child };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sc, NULL);
	seed_processes(r);
	if ((err = capture_start(r->c, msg, sizeof(msg)))) {
		log_error("record: %s", msg);
		return err;
	}
	if (r->python_cmd)
		capture_walkers_hurry(r->c);
	r->wall0 = clock_s(CLOCK_REALTIME);
	r->t0 = clock_s(CLOCK_MONOTONIC);
	if (r->wp && (err = workload_go(r->wp))) {
		log_error("%s: cannot execute: %s", r->o.command[0], strerror(-err));
		workload_reap(r->wp, true);
		return err;
	}
	targets_open(&r->tg, &r->o);
	if ((err = run_loop(r->c, r->ss, &r->o, r->wp, &r->tg, &r->drain)))
		return err;
	if (r->wp && stop_signal && !r->wp->exited)
		kill(r->wp->pid, stop_signal);
	capture_stop(r->c);
	r->t1 = clock_s(CLOCK_MONOTONIC);
	if (r->deferred)
		report_load(r->c, true);
	capture_poll(r->c, 0, session_on_proc, r->ss);
	session_update(r->ss);
	/* JVMs still running are asked a last time: code compiled since is named. */
	if (r->jvm)
		java_finish(r->jvm, r->sym, RECORD_JAVA_FINISH_S);
	return drain_now(r->c, r->ss, &r->o, &r->drain);
}

/* Builds the profile, writes it and says what happened. */
static int recording_write(struct recording *r)
{
	const struct record_opts *o = &r->o;
	struct build_stats bs;
	uint64_t stats[STAT_NR] = { 0 };
	int err;

	capture_stats(r->c, stats);
	if (!(r->p = profile_new())) {
		log_error("record: out of memory");
		return -ENOMEM;
	}
	struct debuginfod_wait dw = { r->dbgd, o->debuginfod_deadline };
	struct build_opts bo = {
		.per_pid = o->per_pid,
		.per_thread = o->per_thread,
		.files_loaded = r->dbgd ? wait_debuginfod : NULL,
		.files_ctx = &dw,
		.python = pytrack_frames(r->py),
		.java = r->jvm,
	};
	if (o->time == RECORD_TIME_CPU) {
		struct capture_entry *e = NULL;
		size_t n = 0;
		drain_take(r->drain.d, DRAIN_SAMPLES, &e, &n);
		err = build_profile_stored(drain_stacks(r->drain.d), e, n, r->sym, &bo, r->p, &bs);
		free(e);
	} else {
		err = build_time(r->c, r->drain.d, r->sym, o, &bo, r->p, &bs);
	}
	/* Built: the drained stacks are done with before the output's memory. */
	drain_stats(r->drain.d, &r->drain.st);
	drain_free(r->drain.d);
	r->drain.d = NULL;
	if (err) {
		log_error("record: cannot build the profile: %s", strerror(-err));
		return err;
	}
	struct profile_meta *m = profile_meta(r->p);
	m->frequency = (uint32_t)o->frequency;
	m->period_ns = o->time == RECORD_TIME_CPU ? capture_period_ns(r->c) : 0;
	m->unit = o->time == RECORD_TIME_OFFCPU ? PROFILE_UNIT_OFFCPU_US
		: o->time == RECORD_TIME_WALL	 ? PROFILE_UNIT_WALL_US
						 : PROFILE_UNIT_SAMPLES;
	m->duration_ns = (uint64_t)((r->t1 - r->t0) * 1e9);
	m->time_ns = (uint64_t)(r->wall0 * 1e9);
	if ((err = output_write(r->p, o->output, o->format, &o->write)))
		return err;
	report(o, r->c, stats, &bs, r->sym, r->t1 - r->t0, &r->drain.st);
	report_drains(stats, &r->drain);
	report_unwind(o, stats, r->unw);
	report_stack_ends(r->p, r->unw, o->debug_root);
	report_python(stats, r->py);
	report_java(stats, r->jvm);
	report_unnamed_files(r->sym, r->dbgd != NULL);
	if (!o->kernel_only && !o->user_only && symbolizer_kernel_error(r->sym))
		log_warn("kernel symbols unavailable (%s): kernel frames unnamed",
			 strerror(-symbolizer_kernel_error(r->sym)));
	return 0;
}

static void recording_release(struct recording *r)
{
	if (r->wp && !r->wp->exited)
		workload_abort(r->wp);
	unwind_preload_finish(NULL, r->preload);
	targets_close(&r->tg);
	session_free(r->ss);
	unwind_free(r->unw);
	pytrack_free(r->py);
	java_free(r->jvm);
	capture_free(r->c);
	drain_free(r->drain.d);
	symbolizer_free(r->sym);
	dbgd_free(r->dbgd);
	profile_free(r->p);
	record_opts_release(&r->o);
}

int cmd_record(int argc, char **argv)
{
	struct recording r = { .w = { .pid = -1, .go_fd = -1, .err_fd = -1 } };
	int ret = 2, err = record_opts_parse(argc, argv, &r.o);

	if (err)
		return err > 0 ? 0 : 2;
	log_verbose = r.o.verbose;
	libbpf_set_print(libbpf_log);
	if (!recording_open(&r) && !recording_sample(&r) && !recording_write(&r)) {
		ret = 0;
		if (r.wp) {
			workload_reap(r.wp, true);
			ret = workload_exit_code(r.wp);
		}
	}
	recording_release(&r);
	return ret;
}
