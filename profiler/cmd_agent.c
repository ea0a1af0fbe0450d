/* SPDX-License-Identifier: MIT */
/*
 * scorch agent: continuous profiling.  Samples every CPU at a low frequency
 * in windows of --interval; at the end of each window the in-kernel counts
 * are switched to the other set of maps and drained (agent/window.c), so no
 * sample is lost between windows.  SIGTERM/SIGINT flush the current window
 * and exit 0; SIGHUP reloads --config.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/window.h"
#include "java.h"
#include "python.h"
#include "session.h"
#include "unwind.h"
#include "base/fdlimit.h"
#include "cmd.h"
#include "log.h"
#include "symbolize/debuginfod.h"

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_hup(int sig)
{
	reload_signal = sig;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !log_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(void)
{
	printf("usage: scorch agent [--frequency HZ] [--interval DURATION] [--output-dir DIR]\n"
	       "                    [--retention DURATION] [--max-disk SIZE] [--push URL]\n"
	       "                    [--push-header 'Name: value']... [--label key=value]...\n"
	       "                    [--push-max-age DURATION] [--push-series-max N]\n"
	       "                    [--push-max-samples N]\n"
	       "                    [--per-process] [--spool-max SIZE] [--unwind fp|dwarf|auto]\n"
	       "                    [--off-cpu [--off-cpu-min-us N]] [--no-python] [--no-java]\n"
	       "                    [--debuginfod URL[,URL] | --no-debuginfod] [--config FILE] [-v]\n\n"
	       "Samples every CPU (default 19 Hz) and writes one pprof per window (default 10s)\n"
	       "to DIR (default /var/lib/scorch), named by the window's UTC start time; with\n"
	       "--push, each window also goes to Pyroscope (its push API, URL the server's base),\n"
	       "one profile per service (process_cpu, and off_cpu with --off-cpu), spooled in\n"
	       "DIR/spool and retried while the server is unreachable or busy; a window the\n"
	       "server refuses (HTTP 400, 413, 415, 422) or older than --push-max-age (55m)\n"
	       "is dropped and counted in status.json.  A service shows at most\n"
	       "--push-series-max (16) sets of exe/cgroup/container_id an hour; past that a\n"
	       "process goes with its service name alone.  A profile over --push-max-samples\n"
	       "(16000, Pyroscope's default limit) or 1 MiB is split.  docs/pyroscope.md tells more.\n"
	       "Labels: host, pid, comm, exe, cgroup, container_id, service_name (--label\n"
	       "service=NAME, else the executable's name) and every --label.\n"
	       "SIGTERM writes the current window and exits; SIGHUP reloads --config (a\n"
	       "'key = value' file with these option names).\n"
	       "--unwind: user stacks from each binary's CFI tables (auto and dwarf, the\n"
	       "default; frame pointers where a file has none) or frame pointers only (fp).\n"
	       "--debuginfod: servers asked for debug files not installed (default\n"
	       "$DEBUGINFOD_URLS), on a thread of their own; a restart applies a change.\n"
	       "--off-cpu: also where threads wait, as time (off_cpu/nanoseconds), in files\n"
	       "NAME.offcpu.pb.gz and pushes of their own; a wait counts in the window it ends\n"
	       "in; waits under --off-cpu-min-us (default 1) are dropped and counted.\n"
	       "Python (CPython 3.10-3.14) processes show their Python functions in place of\n"
	       "the interpreter's eval loop; --no-python shows the eval loop instead.\n"
	       "HotSpot JVMs are asked for the names of their compiled methods (as jcmd's\n"
	       "Compiler.perfmap); --no-java does not ask them.\n");
}

static int set_labels(struct agent *a)
{
	size_t n = 0;
	struct build_label *l = calloc(a->o.nlabels + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l[n++] = (struct build_label){ "host", a->host };
	for (size_t i = 0; i < a->o.nlabels; i++)
		if (strcmp(a->o.labels[i].key, "service_name") && strcmp(a->o.labels[i].key, "host"))
			l[n++] = (struct build_label){ a->o.labels[i].key, a->o.labels[i].value };
		else if (!strcmp(a->o.labels[i].key, "host"))
			l[0].value = a->o.labels[i].value; /* --label host=... overrides */
	free(a->labels);
	a->labels = l;
	a->nlabels = n;
	return agent_procs_set_service(a->procs, agent_opts_label(&a->o, "service_name"));
}

/* (Re)starts the push thread for the current --push (none without it).
 * The spool stays: what the old target had not taken goes to the new one. */
static int open_push(struct agent *a)
{
	struct agent_push *p = NULL;
	int err = a->o.push_url ? agent_push_new(a->o.push_url, a->o.headers, a->o.nheaders, &p) : 0;
	if (err == -ELIBACC)
		log_error("agent: --push: %s", agent_push_load_error());
	if (err)
		return err;
	agent_pusher_stop(a->pusher, 0, &a->pushed_before);
	a->pusher = NULL;
	agent_series_set_max(a->series, a->o.push_series_max);
	return p ? agent_pusher_start(a->spool, p, a->o.push_url, a->o.push_max_age_s, &a->pusher) : 0;
}

/* Debug files not installed are asked for on a thread of their own, one
 * at a time: a window names a file from what it has, and from its debug
 * file once that came (an answer, found or not, is kept for the run). */
static void open_debuginfod(struct agent *a)
{
	if (a->o.no_debuginfod)
		return;
	struct dbgd_opts dopts = { .urls = a->o.debuginfod, .threads = 1, .max_queue = 64 };
	int err = dbgd_new(&dopts, &a->dbgd);
	if (err && err != -ENOENT)
		log_warn("agent: debuginfod: %s: not asking the servers",
			 err == -ENOSYS  ? "cannot load libdebuginfod.so.1"
			 : err == -EPERM ? "the cache directory is not root's alone"
					 : strerror(-err));
	if (!err)
		log_info("agent: debug files not installed are asked for at %s", getenv("DEBUGINFOD_URLS"));
}

static int new_symbolizer(struct agent *a)
{
	struct symbolizer_opts so = {
		.kernel_cache_dir = "/run/scorch",
		.dwarf_cache_dir = "/var/cache/scorch",
		.dwarf_cache_bytes = 32u << 20,
		.trim_dwarf = true,
		.debuginfod = a->dbgd,
	};
	return symbolizer_new(&so, &a->sym);
}

/* Before a process is read (session.h): its labels; non-zero when it is
 * gone.  Under churn many processes announced have exited by the time the
 * announcement is read (a 1 ms /bin/true sampled near its end): for those
 * the BPF side kept their name and cgroup, and nothing of them is read
 * from /proc (a zombie cost a dozen system calls: exe, cgroup, comm, maps,
 * the task directory, for an empty answer). */
static int admit(void *ctx, uint32_t pid, uint32_t gen)
{
	struct agent *a = ctx;
	if (agent_procs_read(a->procs, pid, gen))
		return 0; /* known: announced again at its 2nd, 4th, 8th... sample */
	struct capture_proc cp;
	if (capture_process_state(a->c, pid, gen, &cp))
		cp.cgroup = 0; /* exec'd since, or not known: read from /proc */
	if (!cp.exited)
		return agent_procs_track(a->procs, pid, gen, cp.cgroup) == -ESRCH;
	if (!agent_procs_track_exited(a->procs, pid, gen, cp.cgroup, cp.comm))
		a->st.processes_exited_unread++;
	return 1;
}

/* SIGHUP: the options again (defaults, --config, command line).  What needs
 * new BPF or perf events (frequency, per-process, unwind, output dir) waits for a restart. */
static void reload(struct agent *a, int argc, char **argv)
{
	struct agent_opts n;
	char msg[512] = "";
	int err = agent_opts_load(&n, argc, argv, msg, sizeof(msg));
	if (err) {
		log_error("agent: reload: %s (keeping the running configuration)", msg);
		agent_opts_release(&n);
		return;
	}
	if (n.frequency != a->o.frequency || n.per_process != a->o.per_process || n.unwind_cfi != a->o.unwind_cfi ||
	    n.offcpu != a->o.offcpu || n.offcpu_min_us != a->o.offcpu_min_us || strcmp(n.output_dir, a->o.output_dir))
		log_warn("agent: reload: frequency, per-process, unwind, off-cpu and output-dir change only on restart");
	n.frequency = a->o.frequency;
	n.per_process = a->o.per_process;
	n.unwind_cfi = a->o.unwind_cfi;
	n.offcpu = a->o.offcpu;
	n.offcpu_min_us = a->o.offcpu_min_us;
	char *tmp = n.output_dir;
	n.output_dir = a->o.output_dir;
	a->o.output_dir = tmp;
	agent_opts_release(&a->o);
	a->o = n;
	log_verbose = a->o.verbose;
	agent_spool_set_max(a->spool, a->o.spool_max);
	if ((err = set_labels(a)) || (err = open_push(a)))
		log_error("agent: reload: %s", strerror(-err));
	else
		log_info("agent: configuration reloaded (interval %" PRIu64 " ms, push %s, %zu labels)",
			 a->o.interval_ms, a->o.push_url ? a->o.push_url : "off", a->nlabels);
}

/* The agent's own map sizes, in entries, all preallocated (the kernel
 * memory each costs: DESIGN "Windows without loss" and "Off-CPU time"). */
#define WINDOW_ENTRIES_MIN 2048    /* each window's counts and stacks at low rates: 2.2 MiB of stacks */
#define WINDOW_ENTRIES_MAX 65536   /* ~70 MiB a stacks map (1.1 KiB a stack), two of them */
#define OFFCPU_WAITING_MIN 4096    /* threads waiting at once: what ~2k threads need */
#define OFFCPU_WAITING_MAX (1u << 20) /* ~110 MiB at ~110 bytes a thread */
#define OFFCPU_COUNTS_MIN 65536    /* each window's distinct waits: short processes' too, each its own pid */
#define OFFCPU_COUNTS_MAX (1u << 20) /* ~100 MiB a window at ~100 bytes a wait, two of them */
#define OFFCPU_STACKS_MIN 8192     /* each window's stacks of waits: what ~1k threads need */
#define OFFCPU_STACKS_MAX (1u << 18) /* ~290 MiB a window at 1.1 KiB a stack, two of them */

/* Threads on the machine now (/proc/loadavg's "running/total"), or 1024. */
static uint32_t threads_now(void)
{
	unsigned long run = 0, total = 0;
	FILE *f = fopen("/proc/loadavg", "re");
	if (!f)
		return 1024;
	if (fscanf(f, "%*s %*s %*s %lu/%lu", &run, &total) != 2 || !total)
		total = 1024;
	fclose(f);
	return total > UINT32_MAX / 4 ? UINT32_MAX / 4 : (uint32_t)total;
}

static uint32_t clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

/* --off-cpu: the maps are sized from the threads the machine runs at start
 * (every thread but kernel threads is followed, and each is off the CPU
 * most of the time): twice as many waiting at once; each window's counts
 * for 64 distinct waits a thread (at least 64k, ~100 bytes each: short
 * processes started meanwhile wait too, each under its own pid), its stacks
 * of waits for 8 (at least 8k, ~1.1 KiB each), all preallocated.  Past these bounds waits are lost or counted without
 * stacks, as status.json shows; the samples' maps are apart, unchanged. */
static void size_offcpu(struct agent *a, struct capture_opts *co)
{
	uint64_t threads = threads_now();
	co->offcpu = true;
	co->offcpu_min_ns = a->o.offcpu_min_us * 1000;
	co->offcpu_threads = clamp_u32(2 * threads, OFFCPU_WAITING_MIN, OFFCPU_WAITING_MAX);
	co->offcpu_count_entries = clamp_u32(64 * threads, OFFCPU_COUNTS_MIN, OFFCPU_COUNTS_MAX);
	co->offcpu_stack_entries = clamp_u32(8 * threads, OFFCPU_STACKS_MIN, OFFCPU_STACKS_MAX);
	a->offcpu_count_cap = co->offcpu_count_entries;
	log_debug("agent: off-CPU maps for %" PRIu64 " threads: %u waiting, %u counts and %u stacks a window", threads,
		  co->offcpu_threads, co->offcpu_count_entries, co->offcpu_stack_entries);
}

static int setup(struct agent *a, char *msg, size_t msglen)
{
	int err, dir_err = 0;
	int *cpus = NULL;
	size_t ncpus = 1;
	char spool[4096];

	if (gethostname(a->host, sizeof(a->host) - 1))
		snprintf(a->host, sizeof(a->host), "unknown");
	if ((err = fdlimit_raise(NULL)))
		log_warn("agent: cannot raise the limit on open files: %s", strerror(-err));
	if (mkdir(a->o.output_dir, 0750) && errno != EEXIST)
		log_warn("%s: cannot create: %s (windows kept in memory until it can be written)", a->o.output_dir,
			 strerror(errno));
	open_debuginfod(a);
	if ((err = agent_procs_new(NULL, &a->procs)) || (err = set_labels(a)) || (err = new_symbolizer(a)) ||
	    (err = agent_series_new(a->o.push_series_max, &a->series))) {
		snprintf(msg, msglen, "cannot set up: %s", strerror(-err));
		return err;
	}
	snprintf(spool, sizeof(spool), "%s/spool", a->o.output_dir);
	if ((err = agent_spool_open(spool, a->o.spool_max, 16u << 20, &a->spool, &dir_err))) {
		snprintf(msg, msglen, "cannot set up the spool: %s", strerror(-err));
		return err;
	}
	if (dir_err)
		log_warn("%s: cannot use: %s (unsent windows kept in memory, up to 16 MiB)", spool, strerror(-dir_err));
	if ((err = open_push(a))) {
		snprintf(msg, msglen, "cannot set up --push: %s", strerror(-err));
		return err;
	}
	if (capture_online_cpus(&cpus, &ncpus))
		ncpus = 1;
	free(cpus);
	/* Two windows of counts and stacks, each sized for four windows' samples. */
	double samples = (double)a->o.frequency * (double)ncpus * (double)a->o.interval_ms / 1000.0;
	uint32_t entries = samples * 4 > WINDOW_ENTRIES_MAX   ? WINDOW_ENTRIES_MAX
			   : samples * 4 < WINDOW_ENTRIES_MIN ? WINDOW_ENTRIES_MIN
							      : (uint32_t)(samples * 4);
	struct capture_opts co = {
		.frequency = a->o.frequency,
		.user_stacks = true,
		.kernel_stacks = true,
		.stack_entries = entries,
		.count_entries = entries,
		.pid_entries = 1,
		.windowed = true,
		.unwind_dwarf = a->o.unwind_cfi,
		.unwind_rows = CAPTURE_UNWIND_ROWS,
		.unwind_procs = CAPTURE_UNWIND_PROCS,
		.python = !a->o.no_python,
		.java = !a->o.no_java,
		.python_threads = CAPTURE_PYTHON_THREADS,
	};
	if (a->o.offcpu)
		size_offcpu(a, &co);
	struct capture_unwind_maps um;
	if ((err = capture_open(&co, &a->c, msg, msglen)))
		return err;
	if (co.unwind_dwarf && (err = capture_unwind_maps(a->c, &um) ?: unwind_new(&um, NULL, &a->unw))) {
		snprintf(msg, msglen, "cannot map the unwind table: %s", strerror(-err));
		return err;
	}
	if (co.python && (err = pytrack_new(a->c, &a->py))) {
		snprintf(msg, msglen, "cannot set up Python frames: %s", strerror(-err));
		return err;
	}
	if (!a->o.no_java && (err = java_new(a->c, a->unw, &a->jvm))) {
		snprintf(msg, msglen, "cannot set up Java method names: %s", strerror(-err));
		return err;
	}
	struct session_parts parts = {
		.c = a->c, .sym = a->sym, .unw = a->unw, .py = a->py, .jvm = a->jvm, .admit = admit, .ctx = a,
	};
	if ((err = session_new(&parts, &a->ss))) {
		snprintf(msg, msglen, "cannot set up: %s", strerror(-err));
		return err;
	}
	return capture_start(a->c, msg, msglen);
}

static void teardown(struct agent *a)
{
	session_free(a->ss);
	unwind_free(a->unw);
	pytrack_free(a->py);
	java_free(a->jvm);
	capture_free(a->c);
	for (size_t i = 0; i < a->npending; i++)
		profile_free(a->pending[i].p);
	agent_pusher_stop(a->pusher, 0, NULL);
	agent_spool_free(a->spool);
	agent_procs_free(a->procs);
	agent_series_free(a->series);
	symbolizer_free(a->sym);
	dbgd_free(a->dbgd);
	free(a->labels);
	agent_opts_release(&a->o);
}

static int run(struct agent *a, int argc, char **argv)
{
	time_t from = time(NULL);
	uint64_t end = agent_now_ms() + a->o.interval_ms;
	int err;

	while (!stop_signal) {
		uint64_t now = agent_now_ms();
		int timeout = 0;
		if (now < end)
			timeout = end - now > 200 ? 200 : (int)(end - now);
		else if (time(NULL) <= from)
			timeout = 20; /* due, but still in the second it began: see below */
		err = capture_poll(a->c, timeout, session_on_proc, a->ss);
		session_update(a->ss);
		if (err) {
			log_error("agent: polling the ring buffer: %s", strerror(-err));
			return err;
		}
		if (reload_signal) {
			reload_signal = 0;
			reload(a, argc, argv);
		}
		/* A window ends no sooner than the second after it began: files
		 * (and pushed profiles) are named by their start's second, and a
		 * window closed late must not leave the next one starting and
		 * ending in one second, its file replacing the one before. */
		if (agent_now_ms() < end || time(NULL) <= from)
			continue;
		time_t until = time(NULL);
		if ((err = agent_window_close(a, from, until)))
			return err;
		from = until;
		end += a->o.interval_ms;
		if (end < agent_now_ms()) /* fell behind (suspend, slow disk): start afresh */
			end = agent_now_ms() + a->o.interval_ms;
	}
	/* The last, partial window: written and, if the server answers, pushed
	 * (backoff or not); what is not sent waits in the spool for the next start. */
	capture_poll(a->c, 0, session_on_proc, a->ss);
	session_update(a->ss);
	if ((err = agent_window_close(a, from, time(NULL))))
		return err;
	agent_pusher_stop(a->pusher, 5000, &a->pushed_before);
	a->pusher = NULL;
	agent_pending_flush(a);
	agent_status_update(a);
	struct agent_spool_stats ss;
	agent_spool_stats(a->spool, &ss);
	log_info("agent: stopped by signal %d after %" PRIu64 " windows (%" PRIu64 " files written, %" PRIu64
		 " pushed, %zu left in the spool)",
		 (int)stop_signal, a->st.windows, a->st.windows_written, a->st.pushed, ss.entries);
	if (a->npending || ss.in_memory)
		log_warn("agent: %zu window files and %zu pushes could not be written to %s: lost", a->npending,
			 ss.in_memory, a->o.output_dir);
	return 0;
}

int cmd_agent(int argc, char **argv)
{
	struct agent a;
	char msg[512] = "";
	int ret = 2, err;

	memset(&a, 0, sizeof(a));
	err = agent_opts_load(&a.o, argc, argv, msg, sizeof(msg));
	if (err > 0) {
		usage();
		agent_opts_release(&a.o);
		return 0;
	}
	if (err) {
		log_error("agent: %s", msg);
		agent_opts_release(&a.o);
		return 2;
	}
	log_verbose = a.o.verbose;
	libbpf_set_print(libbpf_log);
	struct sigaction sa = { .sa_handler = on_stop }, sh = { .sa_handler = on_hup };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sh, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((err = setup(&a, msg, sizeof(msg)))) {
		log_error("agent: %s", msg);
		goto out;
	}
	log_info("agent: sampling %s at %" PRIu32 " Hz%s in windows of %.1f s into %s%s%s", capture_event_name(a.c),
		 a.o.frequency, a.o.offcpu ? " and time off the CPU" : "", a.o.interval_ms / 1000.0, a.o.output_dir,
		 a.o.push_url ? ", pushing to " : "", a.o.push_url ? a.o.push_url : "");
	if (!run(&a, argc, argv))
		ret = 0;
out:
	teardown(&a);
	return ret;
}
