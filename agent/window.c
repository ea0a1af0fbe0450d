/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "window.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "agent/agent.h"
#include "agent/ratelimit.h"
#include "formats/format.h"
#include "formats/pprof.h"
#include "profiler/log.h"
#include "profiler/python.h"
#include "profiler/unwind.h"

/* offcpu: the window's time off the CPU, in microseconds. */
static void fill_meta(struct agent *a, struct profile *p, bool offcpu, time_t from, time_t until)
{
	struct profile_meta *m = profile_meta(p);
	m->frequency = a->o.frequency;
	m->period_ns = offcpu ? 0 : capture_period_ns(a->c);
	m->unit = offcpu ? PROFILE_UNIT_OFFCPU_US : PROFILE_UNIT_SAMPLES;
	m->time_ns = (uint64_t)from * 1000000000ull;
	m->duration_ns = (uint64_t)(until - from) * 1000000000ull;
}

/* The process labels a push carries (build_proc_labels_fn, ctx the
 * agent): the process's, unless its service has shown as many label sets
 * as the budget allows this period (series.h): then its service name alone
 * (agent_procs_labels puts it first). */
static size_t push_proc_labels(void *ctx, uint32_t pid, uint32_t gen, const struct build_label **out)
{
	struct agent *a = ctx;
	size_t n = agent_procs_labels(a->procs, pid, gen, out);
	if (n <= 1 || agent_series_admit(a->series, (*out)[0].value, *out + 1, n - 1, time(NULL)))
		return n;
	return 1;
}

static struct build_opts window_build_opts(struct agent *a, bool for_push)
{
	return (struct build_opts){
		.no_pid = for_push,
		.no_comm = for_push,
		.keep_processes = true,
		.labels = a->labels,
		.nlabels = a->nlabels,
		.proc_labels = for_push ? push_proc_labels : agent_procs_labels,
		.proc_ctx = for_push ? (void *)a : (void *)a->procs,
		.python = pytrack_frames(a->py),
		.java = a->jvm,
	};
}

/* Writes p as DIR/name, or keeps it for later (the oldest kept is dropped
 * past AGENT_PENDING_MAX).  Takes ownership of p. */
static void write_or_keep(struct agent *a, struct profile *p, const char *name)
{
	struct format_error fe = { "" };
	char path[4096];
	struct write_opts wo;
	write_opts_init(&wo);
	snprintf(path, sizeof(path), "%s/%s", a->o.output_dir, name);
	if (!profile_write_path(p, path, FORMAT_PPROF, &wo, &fe)) {
		a->st.windows_written++;
		profile_free(p);
		return;
	}
	a->st.write_failures++;
	agent_warn_limited(&a->rl_write, "%s (window kept in memory, %zu waiting)", fe.msg, a->npending + 1);
	if (a->npending == AGENT_PENDING_MAX) {
		profile_free(a->pending[0].p);
		memmove(a->pending, a->pending + 1, (AGENT_PENDING_MAX - 1) * sizeof(*a->pending));
		a->npending--;
		agent_warn_limited(&a->rl_drop, "output: %d windows waiting to be written: the oldest dropped",
				   AGENT_PENDING_MAX);
	}
	a->pending[a->npending].p = p;
	snprintf(a->pending[a->npending].name, sizeof(a->pending[a->npending].name), "%s", name);
	a->npending++;
}

void agent_pending_flush(struct agent *a)
{
	size_t n = a->npending;
	struct agent_pending tmp[AGENT_PENDING_MAX];
	memcpy(tmp, a->pending, n * sizeof(*tmp));
	a->npending = 0;
	for (size_t i = 0; i < n; i++)
		write_or_keep(a, tmp[i].p, tmp[i].name);
}

/* Builds entries e[0..n) (offcpu: microseconds off the CPU) into a new
 * profile; NULL after logging on error. */
static struct profile *build(struct agent *a, const struct capture_entry *e, size_t n, bool for_push, bool offcpu,
			     time_t from, time_t until)
{
	struct build_opts bo = window_build_opts(a, for_push);
	struct build_stats bs;
	struct profile *p = profile_new();
	int err = p ? build_profile_entries(a->c, e, n, a->sym, &bo, p, &bs) : -ENOMEM;
	if (err) {
		log_error("agent: cannot build the window's profile: %s", strerror(-err));
		profile_free(p);
		return NULL;
	}
	fill_meta(a, p, offcpu, from, until);
	return p;
}

static int pid_cmp(const void *x, const void *y)
{
	const struct capture_entry *a = x, *b = y;
	return a->key.pid < b->key.pid ? -1 : a->key.pid > b->key.pid;
}

static const char *service_of(const struct agent *a, const struct capture_entry *e)
{
	const char *s = agent_procs_service(a->procs, e->key.pid, e->key.gen);
	const char *fixed = agent_opts_label(&a->o, "service_name");
	return s ? s : fixed ? fixed : e->key.pid ? "unknown" : "kernel";
}

static int service_cmp(const void *x, const void *y, void *ctx)
{
	int c = strcmp(service_of(ctx, x), service_of(ctx, y));
	return c ? c : pid_cmp(x, y);
}

static void write_files(struct agent *a, struct capture_entry *e, size_t n, bool offcpu, time_t from, time_t until)
{
	char name[64];
	if (!a->o.per_process) {
		struct profile *p = build(a, e, n, false, offcpu, from, until);
		agent_window_name(from, 0, offcpu, name, sizeof(name));
		if (p)
			write_or_keep(a, p, name);
		return;
	}
	if (n)
		qsort(e, n, sizeof(*e), pid_cmp);
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		for (hi = lo + 1; hi < n && e[hi].key.pid == e[lo].key.pid; hi++)
			;
		struct profile *p = build(a, e + lo, hi - lo, false, offcpu, from, until);
		agent_window_name(from, e[lo].key.pid, offcpu, name, sizeof(name)); /* pid 0 (idle) is never sampled */
		if (p)
			write_or_keep(a, p, name);
	}
}

/* Queues entries e[0..n) of one service as push requests: one profile,
 * or, when it is over what Pyroscope takes (--push-max-samples, or
 * push.h's size before compression), two of half the entries each, and so
 * on. */
static int queue_service(struct agent *a, struct capture_entry *e, size_t n, const char *svc, bool offcpu,
			 time_t from, time_t until)
{
	struct profile *p = build(a, e, n, true, offcpu, from, until);
	char *pprof = NULL, meta[512], id[37];
	void *body = NULL;
	size_t len = 0, raw = 0, blen = 0;
	if (!p)
		return -ENOMEM; /* build logged why */
	size_t nsamples = profile_nsamples(p);
	FILE *mem = open_memstream(&pprof, &len);
	int err = mem ? pprof_write_sized(p, mem, &raw) : -ENOMEM;
	if (mem && fclose(mem) && !err)
		err = -ENOMEM;
	profile_free(p);
	if (!err && n > 1 && (raw > AGENT_PUSH_RAW_MAX || nsamples > a->o.push_max_samples)) {
		free(pprof);
		a->st.push_splits++;
		err = queue_service(a, e, n / 2, svc, offcpu, from, until);
		int err2 = queue_service(a, e + n / 2, n - n / 2, svc, offcpu, from, until);
		return err ? err : err2;
	}
	/* The series: its profile type's name, the service, the static labels
	 * (host first); each process's own labels are the pprof's sample
	 * labels, which Pyroscope adds to these (pprofsplit). */
	const char *name = offcpu ? AGENT_PUSH_NAME_OFFCPU : AGENT_PUSH_NAME_CPU;
	struct build_label *l = err ? NULL : calloc(a->nlabels + 2, sizeof(*l));
	if (!err && !l)
		err = -ENOMEM;
	if (!err) {
		l[0] = (struct build_label){ "__name__", name };
		l[1] = (struct build_label){ "service_name", svc };
		memcpy(l + 2, a->labels, a->nlabels * sizeof(*l));
		agent_push_uuid(id);
		err = agent_push_request(l, a->nlabels + 2, pprof, len, id, &body, &blen);
	}
	if (!err) {
		snprintf(meta, sizeof(meta), "%" PRId64 " %s %s", (int64_t)from, name, svc);
		err = agent_spool_add(a->spool, (uint64_t)from, meta, body, blen);
	}
	free(l);
	free(body);
	free(pprof);
	return err;
}

/* One series per service and profile type into the spool.  Time off the
 * CPU goes in requests of its own, as Pyroscope's own off_cpu profiles
 * (DESIGN "Push"), and each is retried alone. */
static void queue_pushes(struct agent *a, struct capture_entry *e, size_t n, bool offcpu, time_t from, time_t until)
{
	if (n)
		qsort_r(e, n, sizeof(*e), service_cmp, a);
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		const char *svc = service_of(a, &e[lo]);
		for (hi = lo + 1; hi < n && !strcmp(service_of(a, &e[hi]), svc); hi++)
			;
		int err = queue_service(a, e + lo, hi - lo, svc, offcpu, from, until);
		if (err)
			agent_warn_limited(&a->rl_drop, "push: window of %s%s not queued: %s", svc,
					   offcpu ? " (off-CPU)" : "", strerror(-err));
	}
}

/* The off-CPU figures of the window just closed (now: the BPF counters). */
static void offcpu_status(struct agent *a, const uint64_t *now)
{
	uint64_t lost_now = now[STAT_OFFCPU_FULL], lost_prev = a->prev[STAT_OFFCPU_FULL];
	a->st.offcpu = true;
	a->st.offcpu_lost_window = lost_now - lost_prev;
	a->st.offcpu_lost_total = lost_now;
	/* Counted without stacks: found in neither window, or no room to store them. */
	uint64_t unknown_now = now[STAT_OFFCPU_NO_STACK] + now[STAT_OFFCPU_STACKS_FULL];
	uint64_t unknown_prev = a->prev[STAT_OFFCPU_NO_STACK] + a->prev[STAT_OFFCPU_STACKS_FULL];
	a->st.offcpu_unknown_window = unknown_now - unknown_prev;
	a->st.offcpu_unknown_total = unknown_now;
	a->st.offcpu_short_total = now[STAT_OFFCPU_SHORT];
}

/* The figures of the window just closed. */
static void window_status(struct agent *a, const struct capture_window_info *wi)
{
	uint64_t now[STAT_NR] = { 0 };
	capture_stats(a->c, now);
	if (a->o.offcpu)
		offcpu_status(a, now);
	/* Lost as record counts it: samples or stacks without room in a table. */
	uint64_t lost_now = now[STAT_STACKS_FULL] + now[STAT_COUNTS_FULL];
	uint64_t lost_prev = a->prev[STAT_STACKS_FULL] + a->prev[STAT_COUNTS_FULL];
	a->st.samples_window = now[STAT_SAMPLES] - a->prev[STAT_SAMPLES];
	a->st.samples_total = now[STAT_SAMPLES];
	a->st.lost_window = lost_now - lost_prev;
	a->st.lost_total = lost_now;
	memcpy(a->prev, now, sizeof(now));
	a->st.map_fill = (double)wi->entries / (double)capture_count_capacity(a->c);
	a->st.offcpu_carried_window = wi->carried;
}

void agent_status_update(struct agent *a)
{
	struct rusage ru;
	struct agent_spool_stats ss;
	struct agent_pusher_stats ps = a->pushed_before;
	getrusage(RUSAGE_SELF, &ru);
	a->st.cpu_user_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	a->st.cpu_sys_s = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	a->st.rss_kib = agent_self_rss_kib();
	a->st.processes = agent_procs_count(a->procs);
	struct symbolizer_stats sy;
	symbolizer_stats(a->sym, &sy);
	a->st.sym_files = sy.files_cached;
	a->st.sym_files_released = sy.files_released;
	a->st.dwarf_cache_kib = sy.dwarf_bytes >> 10;
	a->st.dwarf_memo_kib = sy.dwarf_memo_bytes >> 10;
	if (a->unw) {
		struct unwind_stats us;
		unwind_stats(a->unw, &us);
		a->st.unwind_files = us.files + us.files_no_cfi + us.files_failed;
		a->st.unwind_files_reused = us.files_reused;
		a->st.unwind_compile_ms = us.compile_ns / 1000000;
	}
	agent_spool_stats(a->spool, &ss);
	a->st.spool_entries = ss.entries;
	a->st.spool_bytes = ss.bytes;
	a->st.spool_dropped = ss.dropped;
	a->st.windows_pending = a->npending;
	if (a->pusher) {
		struct agent_pusher_stats cur;
		agent_pusher_stats(a->pusher, &cur);
		agent_pusher_stats_add(&ps, &cur);
	}
	a->st.pushed = ps.pushed;
	a->st.push_failures = ps.failures;
	a->st.push_refused = ps.refused;
	a->st.push_expired = ps.expired;
	a->st.push_refusal_time = ps.refusal_time;
	snprintf(a->st.push_refusal, sizeof(a->st.push_refusal), "%s", ps.refusal);
	struct agent_series_stats sst;
	agent_series_stats(a->series, &sst);
	a->st.series_services = sst.services;
	a->st.series_label_sets = sst.label_sets;
	a->st.series_most = sst.most;
	a->st.series_folded = sst.folded;
	a->st.time = time(NULL);
	int err = agent_status_write(a->o.output_dir, &a->st);
	if (err)
		agent_warn_limited(&a->rl_write, "%s/status.json: cannot write: %s", a->o.output_dir, strerror(-err));
}

static void forget(void *ctx, uint32_t pid, uint32_t gen)
{
	struct agent *a = ctx;
	symbolizer_forget(a->sym, pid, gen);
	if (a->py)
		pyframes_forget(pytrack_frames(a->py), pid, gen);
}

/* Memory malloc holds free before it is given back: below it, what a window
 * freed is kept for the next (giving back a few hundred KiB each window
 * and faulting it in again in the next cost ~70 page faults a second under
 * churn, at ~10 us each on the 6.18 VM). */
#define TRIM_FREE_BYTES (4u << 20)

/* The window's profiles are written and hold copies of every name: files no
 * live process maps can go.  What they and the window's profiles held goes
 * back to the system, not just to malloc: without it RSS follows the
 * largest window seen (at 999 Hz, a sawtooth of 100-140 MiB). */
static void trim_memory(struct agent *a)
{
	symbolizer_trim(a->sym);
	struct mallinfo2 mi = mallinfo2();
	if (mi.fordblks >= TRIM_FREE_BYTES)
		malloc_trim(0);
}

/* Processes of the window's samples that were never read (gone before
 * their announcement was, or a fork's image replaced by its exec) are
 * named by the comm their samples carry: no sample goes without a
 * service_name.  One whose announcement is still on its way (sampled
 * just before the window closed) is read when it comes, all the same. */
static void name_unread(struct agent *a, const struct capture_entry *e, size_t n)
{
	char comm[SCORCH_COMM_LEN + 1];
	for (size_t i = 0; i < n; i++) {
		if (!e[i].key.pid || agent_procs_service(a->procs, e[i].key.pid, e[i].key.gen))
			continue;
		memcpy(comm, e[i].key.comm, SCORCH_COMM_LEN);
		comm[SCORCH_COMM_LEN] = '\0';
		if (!agent_procs_name_unread(a->procs, e[i].key.pid, e[i].key.gen, comm))
			a->st.processes_unread++;
	}
}

/* The closed window's time off the CPU: its own files and pushes. */
static int offcpu_window(struct agent *a, time_t from, time_t until)
{
	struct capture_entry *e = NULL;
	size_t n = 0, kept = 0;
	int err = capture_read_offcpu(a->c, &e, &n);
	if (err)
		return err;
	capture_entries_to_us(e, n, 0);
	a->st.offcpu_us_window = 0;
	for (size_t i = 0; i < n; i++) /* waits under 0.5 us (--off-cpu-min-us 0) round to nothing */
		if (e[i].count) {
			a->st.offcpu_us_window += e[i].count;
			e[kept++] = e[i];
		}
	a->st.offcpu_map_fill = (double)n / (double)a->offcpu_count_cap;
	name_unread(a, e, kept);
	write_files(a, e, kept, true, from, until);
	if (a->pusher)
		queue_pushes(a, e, kept, true, from, until);
	free(e);
	return 0;
}

int agent_window_close(struct agent *a, time_t from, time_t until)
{
	struct capture_entry *e = NULL;
	size_t n = 0, deleted = 0;
	struct capture_window_info wi;
	int err;

	if ((err = capture_window_flip(a->c)) || (err = capture_read_counts(a->c, &e, &n))) {
		log_error("agent: cannot read the window's counts: %s", strerror(-err));
		return err;
	}
	a->st.windows++;
	agent_pending_flush(a);
	name_unread(a, e, n);
	write_files(a, e, n, false, from, until);
	if (a->pusher)
		queue_pushes(a, e, n, false, from, until);
	free(e);
	if (a->o.offcpu && (err = offcpu_window(a, from, until))) {
		log_error("agent: cannot read the window's time off the CPU: %s", strerror(-err));
		return err;
	}
	if ((err = capture_window_clear(a->c, &wi))) {
		log_error("agent: cannot clear the window's counts: %s", strerror(-err));
		return err;
	}
	agent_procs_sweep(a->procs, forget, a);
	trim_memory(a);
	if (a->pusher)
		agent_pusher_kick(a->pusher);
	if (a->o.retention_s || a->o.max_disk) {
		err = agent_output_prune(a->o.output_dir, a->o.retention_s, a->o.max_disk, time(NULL), &deleted,
					 &a->st.disk_bytes);
		if (err)
			agent_warn_limited(&a->rl_write, "%s: cannot list window files: %s", a->o.output_dir, strerror(-err));
		a->st.files_deleted += deleted;
	}
	window_status(a, &wi);
	agent_status_update(a);
	log_debug("window %" PRId64 ": %" PRIu64 " samples, %zu counts (%.1f %% of the table), %" PRIu64
		  " lost, %" PRIu64 " KiB RSS, %.2f s CPU", (int64_t)from, a->st.samples_window, wi.entries,
		  100 * a->st.map_fill, a->st.lost_window, a->st.rss_kib, a->st.cpu_user_s + a->st.cpu_sys_s);
	if (a->o.offcpu)
		log_debug("window %" PRId64 ": %.3f s off the CPU (%.1f %% of the table), %" PRIu64 " waits lost, %" PRIu64
			  " without stacks, %zu stacks of waiting threads carried (%zu not), %zu threads gone",
			  (int64_t)from, a->st.offcpu_us_window / 1e6, 100 * a->st.offcpu_map_fill,
			  a->st.offcpu_lost_window, a->st.offcpu_unknown_window, wi.carried, wi.carry_lost, wi.gone);
	return 0;
}
