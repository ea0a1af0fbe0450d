/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "capture.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/array.h"
#include "base/clock.h"
#include "base/errmsg.h"
#include "kbtf.h"
#include "log.h"
#include "symbolize/elfsym.h"
#include "profile.skel.h"

_Static_assert(sizeof(struct sample_key) == 56, "sample_key layout is shared with BPF");
_Static_assert(sizeof(struct stack_trace) == 8 + 8 * SCORCH_MAX_DEPTH, "stack_trace layout");
_Static_assert(sizeof(struct proc_event) == 8, "proc_event layout");
_Static_assert(sizeof(struct offcpu_start) == 64, "offcpu_start layout");
_Static_assert(sizeof(struct proc_state) == 24, "proc_state layout");
_Static_assert(sizeof(struct unwind_row) == 16, "unwind_row layout");
_Static_assert(sizeof(struct unwind_mapping) == 32, "unwind_mapping layout");
_Static_assert(sizeof(struct py_proc) == 80, "py_proc layout");
_Static_assert(sizeof(struct py_event) == 16, "py_event layout");
_Static_assert(sizeof(struct java_proc) == 24, "java_proc layout");
_Static_assert(sizeof(struct unwind_proc) == 8 + 32 * UNWIND_MAX_MAPPINGS, "unwind_proc layout");

#define CAPTURE_MAX_LOADERS 2

/* A map libbpf would create, built ahead on a thread of its own. */
struct premap {
	struct bpf_map *map;
	int fd;
	uint32_t entries; /* 0: the map's max_entries */
};

/* A thread working in the background (in_background) and whether it was
 * asked to hurry: both atomic (the thread or its hurrier may come first). */
struct bgthread {
	pid_t tid;
	bool hurry;
};

struct capture {
	struct profile_bpf *skel;
	struct ring_buffer *rb;
	int *fds;                 /* perf event per CPU, -1 when closed */
	struct bpf_link **links;
	size_t nfds;
	bool cycles;
	uint64_t period_ns;
	int ncpus_possible;
	capture_proc_fn proc_fn;
	void *proc_ctx;
	capture_python_fn py_fn;
	void *py_ctx;
	capture_python_fn java_fn; /* Java stacks come the same way, for processes in java_procs */
	void *java_ctx;
	int read_window; /* the window reads see: the closed one */
	struct capture_load_info load;
	char *loader; /* the command's dynamic loader */
	/* attach_hooks on a thread from capture_open's end to capture_start:
	 * the process tracepoints (~0.3 ms each here: the kernel patches its
	 * text) and the loader's uprobe (a breakpoint set in every process
	 * mapping the loader: 0.7-1.8 ms), off the path to the release. */
	pthread_t hooks_thread;
	bool hooks_running, hooks_done;
	int hooks_err; /* the process tracepoints' attach */
	struct bpf_link *loader_links[CAPTURE_MAX_LOADERS];
	uint64_t loader_ino[CAPTURE_MAX_LOADERS], loader_dev[CAPTURE_MAX_LOADERS];
	size_t nloaders;
	pthread_t detacher; /* removing the uprobes after capture_stop */
	bool detaching;
	/* defer_sampler: the full sampler, a second instance of the object
	 * sharing every map, loaded on a thread from capture_background_start. */
	struct capture_opts opts; /* its configuration (the pointers not followed) */
	char *btf_dir;
	struct profile_bpf *full;
	pthread_t full_thread;
	bool full_started; /* capture_background_start or capture_walkers_hurry called */
	bool full_loading;
	uint64_t start_ns;
	/* Each window's stacks and counts maps (what stack_maps and count_maps
	 * hold) and their capacities; final: not to be replaced.  Window 1's,
	 * and with a small first window window 0's full-size ones, are built
	 * on a thread from capture_start (later: stacks1, counts1, then window
	 * 0's stacks and counts) and put in place by window_in_place. */
	int wstacks[2], wcounts[2];
	uint32_t wstack_cap[2], wcount_cap[2];
	bool wfinal[2];
	struct premap later[4];
	size_t nlater;
	pthread_t later_thread;
	struct bgthread later_bg;
	bool later_started, later_building;
	struct bgthread full_bg; /* the full sampler's */
	size_t later_done; /* later[] built so far (atomic while building) */
};

int capture_online_cpus(int **cpus, size_t *n)
{
	char buf[4096];
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	size_t cap = 0, cnt = 0;
	int *out = NULL;
	for (char *p = buf; *p && *p != '\n';) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b; c++) {
			if (array_grow(&out, &cap, cnt + 1, sizeof(*out))) {
				free(out);
				return -ENOMEM;
			}
			out[cnt++] = (int)c;
		}
		p = *end == ',' ? end + 1 : end;
	}
	*cpus = out;
	*n = cnt;
	return 0;
}

static int perf_open(struct perf_event_attr *attr, int cpu)
{
	return (int)syscall(SYS_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Opens the sampling event on one CPU: cycles if the PMU has it, else cpu-clock. */
static int open_event(struct capture *c, const struct capture_opts *o, int cpu)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.disabled = 1,
		.freq = o->frequency ? 1 : 0,
		.sample_freq = o->frequency ? o->frequency : o->period,
	};
	if (c->cycles) {
		attr.type = PERF_TYPE_HARDWARE;
		attr.config = PERF_COUNT_HW_CPU_CYCLES;
		int fd = perf_open(&attr, cpu);
		if (fd >= 0 || (errno != ENOENT && errno != EOPNOTSUPP && errno != ENODEV && errno != EINVAL))
			return fd;
		c->cycles = false; /* no PMU (a VM): fall back for every CPU */
	}
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	return perf_open(&attr, cpu);
}

static int fill_filter(int map_fd, const void *keys, size_t keysz, size_t n, uint8_t value)
{
	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(map_fd, (const char *)keys + i * keysz, &value, BPF_ANY))
			return -errno;
	return 0;
}

static uint32_t at_least_one(size_t n)
{
	return n ? (uint32_t)n : 1;
}

/* What an instance of the object loads: everything, or with defer_sampler
 * the boot sampler and the rest (STAGE_BOOT), then the full sampler alone,
 * with the maps only it uses (STAGE_FULL). */
enum stage { STAGE_ALL, STAGE_BOOT, STAGE_FULL };

static int configure(struct profile_bpf *s, const struct capture_opts *o, enum stage stage)
{
	int err = 0;

	s->rodata->filter_pid = o->pids != NULL;
	s->rodata->filter_tid = o->tids != NULL;
	s->rodata->filter_cgroup = o->cgroups != NULL;
	s->rodata->follow_children = o->follow_children;
	s->rodata->include_idle = o->include_idle;
	s->rodata->per_thread = o->per_thread;
	s->rodata->want_user = o->user_stacks;
	s->rodata->want_kernel = o->kernel_stacks;
	s->rodata->unwind_dwarf = o->unwind_dwarf;
	s->rodata->windowed = o->windowed;
	/* Preallocated: a map without preallocation allocates in the sampling
	 * interrupt and fails there whenever its per-CPU cache runs dry, which
	 * loses stacks of a map far from full. */
	bool small = o->windowed && o->first_stack_entries && o->first_count_entries;
	err = err ?: bpf_map__set_max_entries(s->maps.stacks, small ? o->first_stack_entries : o->stack_entries);
	err = err ?: bpf_map__set_max_entries(s->maps.counts, small ? o->first_count_entries : o->count_entries);
	err = err ?: bpf_map__set_max_entries(s->maps.stacks1, o->windowed ? o->stack_entries : 1);
	err = err ?: bpf_map__set_autocreate(s->maps.stacks1, false);
	err = err ?: bpf_map__set_max_entries(s->maps.counts1, o->windowed ? o->count_entries : 1);
	err = err ?: bpf_map__set_autocreate(s->maps.counts1, false);
	err = err ?: bpf_map__set_max_entries(s->maps.pids, o->pids ? o->pid_entries : 1);
	/* Followed processes get an entry at their first sample or exec: with
	 * -p and no children followed, only the processes named (a fork's copy
	 * for a child then finds the table full and is skipped: the child is
	 * never sampled).  Preallocated, 64k entries took ~15 ms to build. */
	if (o->pids && !o->follow_children)
		err = err ?: bpf_map__set_max_entries(s->maps.procs, at_least_one(o->npids));
	/* Following a command's children, every entry is made at fork or exec
	 * (on_exec), in process context, not in the sampling interrupt (where
	 * an allocation can fail): not preallocated, as pids. */
	if (o->pids && o->follow_children) {
		err = err ?: bpf_map__set_max_entries(s->maps.procs, at_least_one(o->pid_entries));
		err = err ?: bpf_map__set_map_flags(s->maps.procs, BPF_F_NO_PREALLOC);
	}
	err = err ?: bpf_map__set_max_entries(s->maps.tids, at_least_one(o->ntids));
	err = err ?: bpf_map__set_max_entries(s->maps.cgroups, at_least_one(o->ncgroups));
	err = err ?: bpf_map__set_max_entries(s->maps.exited, o->windowed ? CAPTURE_EXITED : 1);
	err = err ?: bpf_map__set_max_entries(s->maps.unwind_rows, o->unwind_dwarf ? at_least_one(o->unwind_rows) : 1);
	err = err ?: bpf_map__set_max_entries(s->maps.unwind_procs, o->unwind_dwarf ? at_least_one(o->unwind_procs) : 1);
	if (!o->follow_children && !o->unwind_dwarf)
		bpf_program__set_autoload(s->progs.on_fork, false);
	/* Library loads: a uprobe on the dynamic loader, or where none can be
	 * attached (known only then), the mmap syscall tracepoint for
	 * followed processes. */
	bpf_program__set_autoload(s->progs.on_loader, o->unwind_dwarf);
	bpf_program__set_autoload(s->progs.on_mmap, o->unwind_dwarf && o->pids);
	bpf_program__set_autoattach(s->progs.on_loader, false);
	bpf_program__set_autoattach(s->progs.on_mmap, false);
	/* Off-CPU time: waiting threads (preallocated: the switch must not
	 * allocate) and their totals by stack. */
	bpf_program__set_autoload(s->progs.on_switch, o->offcpu);
	bpf_program__set_autoattach(s->progs.on_switch, false); /* by capture_start itself */
	s->rodata->offcpu_min_ns = o->offcpu_min_ns;
	err = err ?: bpf_map__set_max_entries(s->maps.offcpu_starts, o->offcpu ? at_least_one(o->offcpu_threads) : 1);
	/* Python frames: interpreters described by userspace, and a remembered
	 * thread state per thread (an LRU: a thread of an exited process ages out). */
	s->rodata->python_walk = o->python;
	err = err ?: bpf_map__set_max_entries(s->maps.py_procs, o->python ? 16384 : 1);
	err = err ?: bpf_map__set_max_entries(s->maps.py_threads, o->python ? at_least_one(o->python_threads) : 1);
	/* Interpreted Java frames: read by the native unwinder; new stacks told as Python's are. */
	s->rodata->java_walk = o->java && o->unwind_dwarf;
	err = err ?: bpf_map__set_max_entries(s->maps.java_procs, s->rodata->java_walk ? 4096 : 1);
	err = err ?: bpf_map__set_max_entries(s->maps.py_seen, o->python || s->rodata->java_walk ? o->stack_entries : 1);
	uint32_t offcpu_counts = o->offcpu_count_entries ? o->offcpu_count_entries : o->count_entries;
	err = err ?: bpf_map__set_max_entries(s->maps.offcpu_counts, o->offcpu ? offcpu_counts : 1);
	err = err ?: bpf_map__set_max_entries(s->maps.offcpu_counts1, o->offcpu && o->windowed ? offcpu_counts : 1);
	uint32_t offcpu_stacks = o->offcpu && o->windowed ? at_least_one(o->offcpu_stack_entries) : 1;
	err = err ?: bpf_map__set_max_entries(s->maps.offcpu_stacks, offcpu_stacks);
	err = err ?: bpf_map__set_max_entries(s->maps.offcpu_stacks1, offcpu_stacks);
	bpf_program__set_autoload(s->progs.on_sample_boot, stage == STAGE_BOOT);
	bpf_program__set_autoload(s->progs.on_sample, stage != STAGE_BOOT);
	/* The walkers' caches: created with the sampler that uses them. */
	err = err ?: bpf_map__set_autocreate(s->maps.py_threads, stage != STAGE_BOOT);
	err = err ?: bpf_map__set_autocreate(s->maps.py_seen, stage != STAGE_BOOT);
	if (stage == STAGE_FULL) {
		struct bpf_program *p;
		bpf_object__for_each_program(p, s->obj)
			bpf_program__set_autoload(p, p == s->progs.on_sample);
	}
	return err;
}

/* The skeleton opened to relocate against the boot's minimal kernel BTF
 * (kbtf.h): libbpf then never parses all of /sys/kernel/btf/vmlinux.  The
 * file is found by the object's image, without opening it; only to build
 * the file (the boot's first start) is the object opened twice.  Where
 * that cannot be had, opened to use the full BTF as before.  NULL and
 * errno on failure. */
static struct profile_bpf *open_object(const char *cache_dir)
{
	size_t size;
	const void *image = profile_bpf__elf_bytes(&size);
	struct profile_bpf *s = NULL;
	char *path = NULL;

	/* Opened once when the file is there (every start but the boot's first). */
	if (kbtf_min_path(NULL, image, size, cache_dir, &path)) {
		s = profile_bpf__open();
		if (!s || kbtf_min_path(bpf_object__btf(s->obj), image, size, cache_dir, &path))
			return s;
		profile_bpf__destroy(s);
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = path);
	s = profile_bpf__open_opts(&opts);
	int err = errno;
	free(path);
	errno = err;
	return s;
}

static void *premap_create(void *arg)
{
	struct premap *p = arg;
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = bpf_map__map_flags(p->map));
	p->fd = bpf_map_create(bpf_map__type(p->map), bpf_map__name(p->map), bpf_map__key_size(p->map),
			       bpf_map__value_size(p->map), p->entries ? p->entries : bpf_map__max_entries(p->map), &mo);
	return NULL;
}

#define PREMAP_MAX 12
#define PREMAP_BYTES ((uint64_t)256 << 10)
#define PREMAP_BUCKETS 8192

/* What building a map costs the kernel, roughly: its preallocated bytes, or
 * for a hash without preallocation its bucket array. */
static uint64_t premap_cost(const struct bpf_map *m)
{
	if (bpf_map__map_flags(m) & BPF_F_NO_PREALLOC)
		return (uint64_t)bpf_map__max_entries(m) * 16;
	return (uint64_t)(bpf_map__key_size(m) + bpf_map__value_size(m)) * bpf_map__max_entries(m);
}

struct premap_queue {
	struct premap *p;
	size_t n;
	size_t next; /* atomic: the next map to build */
};

static void *premap_worker(void *arg)
{
	struct premap_queue *q = arg;
	for (size_t i; (i = __atomic_fetch_add(&q->next, 1, __ATOMIC_SEQ_CST)) < q->n;)
		premap_create(&q->p[i]);
	return NULL;
}

/* Preallocating a map is the kernel allocating, zeroing and linking every
 * element (a 9,998-entry stacks map: ~20 ms), one map after another inside
 * bpf_object__load; a hash map without preallocation still gets its bucket
 * array (16 bytes a bucket: ~1.2 ms for 32k on the pvm VM).  The
 * preallocated hash and array maps of 256 KiB or more and the others of
 * 8k buckets or more are built here, the costliest first, by one worker
 * per CPU (this thread one of them), and handed to libbpf to use.  One that
 * cannot be is left to libbpf, which reports why.  A thread each made this
 * thread start its own ~5 ms late on the pvm VM, where creating a thread
 * takes 0.5-1 ms. */
static void create_big_maps(struct bpf_object *obj)
{
	struct premap p[PREMAP_MAX];
	pthread_t helpers[PREMAP_MAX];
	size_t n = 0, nhelpers = 0;
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		enum bpf_map_type t = bpf_map__type(m);
		bool costly = bpf_map__map_flags(m) & BPF_F_NO_PREALLOC ? bpf_map__max_entries(m) >= PREMAP_BUCKETS
									: premap_cost(m) >= PREMAP_BYTES;
		if (n < PREMAP_MAX && costly && bpf_map__autocreate(m) &&
		    (t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_ARRAY))
			p[n++] = (struct premap){ .map = m, .fd = -1 };
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && premap_cost(p[j].map) > premap_cost(p[j - 1].map); j--) {
			struct premap t = p[j];
			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	struct premap_queue q = { p, n, 0 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	for (size_t i = 1; i < n && (long)i < cpus; i++)
		if (!pthread_create(&helpers[nhelpers], NULL, premap_worker, &q))
			nhelpers++;
	premap_worker(&q);
	for (size_t i = 0; i < nhelpers; i++)
		pthread_join(helpers[i], NULL);
	for (size_t i = 0; i < n; i++)
		if (p[i].fd >= 0) {
			bpf_map__reuse_fd(p[i].map, p[i].fd); /* on failure libbpf creates it */
			close(p[i].fd);
		}
}

static void ask_verifier_stats(struct profile_bpf *s, char *log, size_t size)
{
	bpf_program__set_log_buf(s->progs.on_sample, log, size);
	bpf_program__set_log_level(s->progs.on_sample, 4); /* BPF_LOG_STATS */
}

static void read_verifier_stats(const struct profile_bpf *s, const char *log, struct capture_load_info *li)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(s->progs.on_sample), &info, &len))
		li->verified_insns = info.verified_insns;
	const char *vt = strstr(log, "verification time ");
	if (vt)
		li->verify_us = (uint32_t)strtoul(vt + strlen("verification time "), NULL, 10);
}

/* Work for later, done on a thread that yields the CPU to the command
 * just released (on 2 CPUs its start waited up to ~30 ms behind it
 * otherwise): the lowest priority, also out of a real-time policy given
 * to the run, until it is waited for (hurry). */
static void in_background(struct bgthread *bg)
{
	struct sched_param sp = { 0 };
	pid_t tid = gettid();
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	setpriority(PRIO_PROCESS, (id_t)tid, 19);
	__atomic_store_n(&bg->tid, tid, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&bg->hurry, __ATOMIC_SEQ_CST))
		setpriority(PRIO_PROCESS, (id_t)tid, 0); /* asked before it was known */
}

static void *build_later(void *arg)
{
	struct capture *c = arg;
	in_background(&c->later_bg);
	for (size_t i = 0; i < c->nlater; i++) {
		premap_create(&c->later[i]);
		__atomic_store_n(&c->later_done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void start_full(struct capture *c, bool now);
static void *attach_hooks_main(void *arg);

/* The full sampler: a second instance of the object, every map the first
 * made taken over (the same object: the same maps in the same order), the
 * sampler alone loaded, then put in `samplers` for on_sample_boot to hand
 * its samples to.  On the thread start_full starts. */
static void *load_full_sampler(void *arg)
{
	struct capture *c = arg;
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	char vlog[1024] = "";
	in_background(&c->full_bg);
	struct profile_bpf *s = open_object(c->btf_dir);
	int err = s ? configure(s, &c->opts, STAGE_FULL) : -errno;
	struct bpf_map *m, *mine = NULL;
	bpf_object__for_each_map(m, c->skel->obj) {
		if (err)
			break;
		mine = bpf_object__next_map(s->obj, mine);
		if (!mine || strcmp(bpf_map__name(m), bpf_map__name(mine)))
			err = -EINVAL;
		else if (bpf_map__fd(m) >= 0)
			err = bpf_map__reuse_fd(mine, bpf_map__fd(m));
	}
	if (!err && c->opts.verifier_stats)
		ask_verifier_stats(s, vlog, sizeof(vlog));
	err = err ?: profile_bpf__load(s);
	if (!err) {
		uint32_t zero = 0;
		int fd = bpf_program__fd(s->progs.on_sample);
		if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.samplers), &zero, &fd, BPF_ANY))
			err = -errno;
	}
	if (!err) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		read_verifier_stats(s, vlog, &c->load);
		c->load.full_load_ns = now - t0;
		c->load.full_ready_ns = now - c->start_ns;
	}
	c->load.full_err = err;
	c->full = s;
	return NULL;
}

int capture_sampler_wait(struct capture *c)
{
	if (!c->full_started)
		return 0; /* never wanted: the boot sampler took every sample */
	capture_walkers_hurry(c);
	if (c->full_loading) {
		pthread_join(c->full_thread, NULL);
		c->full_loading = false;
	}
	return c->load.full_err;
}

int capture_open(const struct capture_opts *o, struct capture **out, char *msg, size_t msglen)
{
	int err = 0;
	int *all = NULL;
	size_t nall = 0;
	const int *cpus = o->cpus;
	size_t ncpus = o->ncpus;
	struct capture *c = calloc(1, sizeof(*c));

	if (!c)
		return errmsg_set(msg, msglen, -ENOMEM, "out of memory");
	c->cycles = true;
	for (size_t i = 0; i < 4; i++)
		c->later[i].fd = -1;
	c->wstacks[1] = c->wcounts[1] = -1;
	if (o->loader && !(c->loader = strdup(o->loader))) {
		err = errmsg_set(msg, msglen, -ENOMEM, "out of memory");
		goto fail;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!(c->btf_dir = strdup(o->btf_cache_dir ? o->btf_cache_dir : "/run/scorch"))) {
		err = errmsg_set(msg, msglen, -ENOMEM, "out of memory");
		goto fail;
	}
	c->opts = *o;
	c->skel = open_object(c->btf_dir);
	if (!c->skel) {
		err = errmsg_set(msg, msglen, -errno, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	if ((err = configure(c->skel, o, o->defer_sampler ? STAGE_BOOT : STAGE_ALL))) {
		errmsg_set(msg, msglen, err, "cannot size the BPF maps: %s", strerror(-err));
		goto fail;
	}
	char vlog[1024] = "";
	if (o->verifier_stats && !o->defer_sampler)
		ask_verifier_stats(c->skel, vlog, sizeof(vlog));
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	create_big_maps(c->skel->obj);
	if (o->before_programs)
		o->before_programs(o->before_programs_ctx);
	if ((err = profile_bpf__load(c->skel))) {
		errmsg_set(msg, msglen, err, "cannot load the BPF programs: %s", strerror(-err));
		goto fail;
	}
	c->load.load_ns = clock_ns(CLOCK_MONOTONIC) - t0;
	if (!o->defer_sampler)
		read_verifier_stats(c->skel, vlog, &c->load);
	c->wstacks[0] = bpf_map__fd(c->skel->maps.stacks);
	c->wcounts[0] = bpf_map__fd(c->skel->maps.counts);
	c->wstack_cap[0] = bpf_map__max_entries(c->skel->maps.stacks);
	c->wcount_cap[0] = bpf_map__max_entries(c->skel->maps.counts);
	c->wfinal[0] = c->wstack_cap[0] >= o->stack_entries && c->wcount_cap[0] >= o->count_entries;
	if ((err = fill_filter(bpf_map__fd(c->skel->maps.pids), o->pids, sizeof(*o->pids), o->npids,
			       o->pids_from_exec ? PID_FROM_EXEC : PID_FOLLOWED)) ||
	    (err = fill_filter(bpf_map__fd(c->skel->maps.tids), o->tids, sizeof(*o->tids), o->ntids, 1)) ||
	    (err = fill_filter(bpf_map__fd(c->skel->maps.cgroups), o->cgroups, sizeof(*o->cgroups), o->ncgroups, 1))) {
		errmsg_set(msg, msglen, err, "cannot set the filters: %s", strerror(-err));
		goto fail;
	}
	if (!cpus) {
		if ((err = capture_online_cpus(&all, &nall))) {
			errmsg_set(msg, msglen, err, "cannot read the online CPUs: %s", strerror(-err));
			goto fail;
		}
		cpus = all;
		ncpus = nall;
	}
	c->fds = malloc(ncpus * sizeof(*c->fds));
	c->links = calloc(ncpus, sizeof(*c->links));
	if (!c->fds || !c->links) {
		err = errmsg_set(msg, msglen, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ncpus; i++) {
		int fd = open_event(c, o, cpus[i]);
		if (fd < 0) {
			err = errmsg_set(msg, msglen, -errno, "cpu %d: cannot open the %s perf event: %s", cpus[i],
				   c->cycles ? "cycles" : "cpu-clock", strerror(errno));
			goto fail;
		}
		c->fds[c->nfds++] = fd;
	}
	if (!c->cycles)
		c->period_ns = o->frequency ? 1000000000ull / o->frequency : o->period;
	c->hooks_running = !pthread_create(&c->hooks_thread, NULL, attach_hooks_main, c);
	free(all);
	*out = c;
	return 0;
fail:
	free(all);
	capture_free(c);
	return err;
}

static int on_proc_event(void *ctx, void *data, size_t len)
{
	struct capture *c = ctx;
	const struct proc_event *ev = data;
	if (len >= sizeof(*ev) && c->proc_fn)
		c->proc_fn(c->proc_ctx, ev->pid, ev->gen);
	return 0;
}

/* A new Python stack: read from whichever window it went into. */
static int on_py_event(void *ctx, void *data, size_t len)
{
	struct capture *c = ctx;
	const struct py_event *ev = data;
	struct stack_trace st;
	struct java_proc jp;
	bool java = c->java_fn && !bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.java_procs), &ev->pid, &jp);
	capture_python_fn fn = java ? c->java_fn : c->py_fn;
	void *fn_ctx = java ? c->java_ctx : c->py_ctx;
	if (len < sizeof(*ev) || !fn)
		return 0;
	/* Windowed, a wait's stacks go to maps of their own. */
	int fds[] = { c->wstacks[0], c->wstacks[1], bpf_map__fd(c->skel->maps.offcpu_stacks),
		      bpf_map__fd(c->skel->maps.offcpu_stacks1) };
	size_t i = 0, n = c->skel->rodata->windowed ? 4 : 1;
	while (i < n && (fds[i] < 0 || bpf_map_lookup_elem(fds[i], &ev->stack, &st)))
		i++;
	if (i == n)
		return 0;
	if (st.nr > SCORCH_MAX_DEPTH)
		st.nr = SCORCH_MAX_DEPTH;
	fn(fn_ctx, ev->pid, ev->gen, ev->stack, &st);
	return 0;
}

void capture_on_python(struct capture *c, capture_python_fn fn, void *ctx)
{
	c->py_fn = fn;
	c->py_ctx = ctx;
}

void capture_on_java(struct capture *c, capture_python_fn fn, void *ctx)
{
	c->java_fn = fn;
	c->java_ctx = ctx;
}

int capture_java_map(const struct capture *c)
{
	return c->skel->rodata->java_walk ? bpf_map__fd(c->skel->maps.java_procs) : -ENOTSUP;
}

int capture_python_map(const struct capture *c)
{
	return c->skel->rodata->python_walk ? bpf_map__fd(c->skel->maps.py_procs) : -ENOTSUP;
}

int capture_process_gen(const struct capture *c, uint32_t pid, uint32_t *gen)
{
	struct proc_state ps;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.procs), &pid, &ps))
		return -ENOENT;
	*gen = ps.gen;
	return 0;
}

int capture_process_state(const struct capture *c, uint32_t pid, uint32_t gen, struct capture_proc *out)
{
	struct proc_state ps;
	struct proc_exit pe;
	memset(out, 0, sizeof(*out));
	if (!bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.procs), &pid, &ps) && ps.gen == gen) {
		out->cgroup = ps.cgroup;
		return 0;
	}
	if (!c->skel->rodata->windowed || bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.exited), &pid, &pe) ||
	    pe.gen != gen)
		return -ENOENT;
	out->exited = true;
	out->cgroup = pe.cgroup;
	memcpy(out->comm, pe.comm, sizeof(pe.comm));
	out->comm[sizeof(out->comm) - 1] = '\0';
	return 0;
}

int capture_process_seed(struct capture *c, uint32_t pid, uint32_t *gen)
{
	/* The BPF side's counter of generations (unique across the run), in
	 * its .data map: taken atomically, as proc_new does. */
	struct proc_state ps = { .gen = __atomic_fetch_add(&c->skel->data->next_gen, 1, __ATOMIC_SEQ_CST) };
	int fd = bpf_map__fd(c->skel->maps.procs);
	if (bpf_map_update_elem(fd, &pid, &ps, BPF_NOEXIST) && errno != EEXIST)
		return -errno;
	return capture_process_gen(c, pid, gen);
}

/* The uprobe on path's _dl_debug_state; false when it cannot be set. */
static bool probe_loader(struct capture *c, const char *path)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "_dl_debug_state");
	struct stat st;
	if (stat(path, &st))
		return false;
	for (size_t i = 0; i < c->nloaders; i++)
		if (c->loader_ino[i] == st.st_ino && c->loader_dev[i] == st.st_dev)
			return true;
	if (c->nloaders == CAPTURE_MAX_LOADERS)
		return false;
	struct bpf_link *l = bpf_program__attach_uprobe_opts(c->skel->progs.on_loader, -1, path, 0, &uo);
	if (!l) {
		log_debug("BPF: cannot probe %s's _dl_debug_state: %s", path, strerror(errno));
		return false;
	}
	c->loader_links[c->nloaders] = l;
	c->loader_ino[c->nloaders] = st.st_ino;
	c->loader_dev[c->nloaders++] = st.st_dev;
	return true;
}

/* Library loads announce a process: a uprobe on the dynamic loader of
 * scorch and of the command (processes with another loader, in a
 * container, are announced at a sample instead); where no loader can be
 * probed, the mmap system call's exit for followed processes. */
static void attach_loader_hooks(struct capture *c)
{
	char own[PATH_MAX];
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	bool probed = false;
	if (fd >= 0) {
		if (!elfsym_interpreter(fd, own, sizeof(own)))
			probed = probe_loader(c, own);
		close(fd);
	}
	if (c->loader)
		probed = probe_loader(c, c->loader) || probed;
	if (probed || bpf_program__fd(c->skel->progs.on_mmap) < 0)
		return;
	c->skel->links.on_mmap = bpf_program__attach(c->skel->progs.on_mmap);
	if (!c->skel->links.on_mmap)
		log_debug("BPF: no syscalls/sys_exit_mmap tracepoint either (%s): libraries get tables at a sample",
			  strerror(errno));
}

/* The process tracepoints (fork, exec, exit) and the loader hooks. */
static void attach_hooks(struct capture *c)
{
	c->hooks_err = profile_bpf__attach(c->skel);
	if (!c->hooks_err && c->skel->rodata->unwind_dwarf)
		attach_loader_hooks(c);
}

static void *attach_hooks_main(void *arg)
{
	attach_hooks(arg);
	return NULL;
}

/* The hooks attached (joined if on their thread). 0 or -errno. */
static int hooks_wait(struct capture *c)
{
	if (c->hooks_running) {
		pthread_join(c->hooks_thread, NULL);
		c->hooks_running = false;
	} else if (!c->hooks_done) {
		attach_hooks(c);
	}
	c->hooks_done = true;
	return c->hooks_err;
}

int capture_start(struct capture *c, char *msg, size_t msglen)
{
	int err;
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.proc_events), on_proc_event, c, NULL);
	if (!c->rb)
		return errmsg_set(msg, msglen, -errno, "cannot set up the process ring buffer: %s", strerror(errno));
	if ((c->skel->rodata->python_walk || c->skel->rodata->java_walk) &&
	    (err = ring_buffer__add(c->rb, bpf_map__fd(c->skel->maps.py_events), on_py_event, c)))
		return errmsg_set(msg, msglen, err, "cannot set up the Python ring buffer: %s", strerror(-err));
	if ((err = hooks_wait(c)))
		return errmsg_set(msg, msglen, err, "cannot attach the process tracepoints: %s", strerror(-err));
	if (bpf_program__fd(c->skel->progs.on_switch) >= 0 &&
	    !(c->skel->links.on_switch = bpf_program__attach(c->skel->progs.on_switch)))
		return errmsg_set(msg, msglen, -errno, "cannot attach the context switch tracepoint: %s",
				  strerror(errno));
	for (size_t i = 0; i < c->nfds; i++) {
		c->links[i] = bpf_program__attach_perf_event(
			c->opts.defer_sampler ? c->skel->progs.on_sample_boot : c->skel->progs.on_sample, c->fds[i]);
		if (!c->links[i])
			return errmsg_set(msg, msglen, -errno, "cannot attach to the perf event: %s", strerror(errno));
	}
	c->start_ns = clock_ns(CLOCK_MONOTONIC);
	/* Not needed before the first window closes (capture_window_flip
	 * waits for them, or builds them). */
	if (c->skel->rodata->windowed) {
		c->later[c->nlater++] = (struct premap){ .map = c->skel->maps.stacks1, .fd = -1 };
		c->later[c->nlater++] = (struct premap){ .map = c->skel->maps.counts1, .fd = -1 };
		if (!c->wfinal[0]) {
			c->later[c->nlater++] = (struct premap){ .map = c->skel->maps.stacks, .fd = -1,
								 .entries = c->opts.stack_entries };
			c->later[c->nlater++] = (struct premap){ .map = c->skel->maps.counts, .fd = -1,
								 .entries = c->opts.count_entries };
		}
	}
	if (!c->opts.background_later)
		capture_background_start(c);
	return 0;
}

void capture_background_start(struct capture *c)
{
	start_full(c, false);
	if (c->later_started || !c->nlater)
		return;
	c->later_started = true;
	c->later_building = !pthread_create(&c->later_thread, NULL, build_later, c);
}

/* Window w's full-size maps built and in its slots (window 0's: only
 * while it is closed and empty).  Window 0 keeps its small maps if the
 * others cannot be had. */
static int window_in_place(struct capture *c, int w)
{
	if (c->wfinal[w])
		return 0;
	size_t k = w ? 0 : 2;
	if (__atomic_load_n(&c->later_done, __ATOMIC_ACQUIRE) < k + 2)
		capture_window_hurry(c); /* waited for: no longer background */
	if (c->later_building)
		while (__atomic_load_n(&c->later_done, __ATOMIC_ACQUIRE) < k + 2) {
			struct timespec ts = { 0, 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	else
		for (; c->later_done < k + 2; c->later_done++)
			premap_create(&c->later[c->later_done]);
	struct premap *st = &c->later[k], *co = &c->later[k + 1];
	int err = st->fd < 0 ? st->fd : co->fd < 0 ? co->fd : 0; /* libbpf: -errno */
	uint32_t slot = (uint32_t)w;
	if (!err && (bpf_map_update_elem(bpf_map__fd(c->skel->maps.stack_maps), &slot, &st->fd, BPF_ANY) ||
		     bpf_map_update_elem(bpf_map__fd(c->skel->maps.count_maps), &slot, &co->fd, BPF_ANY)))
		err = -errno;
	if (err && w == 0) {
		log_debug("BPF: the first window's maps stay small: %s", strerror(-err));
		c->wfinal[0] = true;
		return 0;
	}
	if (err)
		return err;
	c->wstacks[w] = st->fd;
	c->wcounts[w] = co->fd;
	c->wstack_cap[w] = st->entries ? st->entries : bpf_map__max_entries(st->map);
	c->wcount_cap[w] = co->entries ? co->entries : bpf_map__max_entries(co->map);
	c->wfinal[w] = true;
	return 0;
}

/* A background thread (in_background) back to the normal priority, now
 * or as soon as it is known. */
static void hurry(struct bgthread *bg, bool running)
{
	if (!running || __atomic_exchange_n(&bg->hurry, true, __ATOMIC_SEQ_CST))
		return;
	pid_t tid = __atomic_load_n(&bg->tid, __ATOMIC_SEQ_CST);
	if (tid)
		setpriority(PRIO_PROCESS, (id_t)tid, 0);
}

void capture_window_hurry(struct capture *c)
{
	hurry(&c->later_bg, c->later_building);
}

/* The full sampler's load on its thread, once; now: at the normal priority. */
static void start_full(struct capture *c, bool now)
{
	if (!c->opts.defer_sampler || c->full_started)
		return;
	c->full_started = true;
	__atomic_store_n(&c->full_bg.hurry, now, __ATOMIC_SEQ_CST);
	c->full_loading = !pthread_create(&c->full_thread, NULL, load_full_sampler, c);
	if (!c->full_loading)
		load_full_sampler(c);
}

void capture_walkers_hurry(struct capture *c)
{
	if (!c->full_started)
		start_full(c, true);
	else
		hurry(&c->full_bg, c->full_loading);
}

bool capture_window_small(const struct capture *c, bool *ready)
{
	*ready = __atomic_load_n(&c->later_done, __ATOMIC_ACQUIRE) >= 2 || (c->later_started && !c->later_building);
	return !c->wfinal[0] && !(__atomic_load_n(&c->skel->bss->window, __ATOMIC_RELAXED) & 1);
}

int capture_poll(struct capture *c, int timeout_ms, capture_proc_fn fn, void *ctx)
{
	c->proc_fn = fn;
	c->proc_ctx = ctx;
	int n = ring_buffer__poll(c->rb, timeout_ms);
	return n < 0 && n != -EINTR ? n : 0;
}

static void *detach_loaders(void *arg)
{
	struct capture *c = arg;
	for (size_t i = 0; i < c->nloaders; i++)
		bpf_link__destroy(c->loader_links[i]);
	return NULL;
}

void capture_stop(struct capture *c)
{
	if (c->hooks_running) { /* capture_start not reached: let it end first */
		pthread_join(c->hooks_thread, NULL);
		c->hooks_running = false;
	}
	/* An attached event's descriptor is its link's: libbpf closes it
	 * with the link.  Closed here too, the number was closed twice, and
	 * the second close could take a file another thread had just opened. */
	for (size_t i = 0; i < c->nfds; i++) {
		if (c->links[i])
			bpf_link__destroy(c->links[i]);
		else if (c->fds[i] >= 0)
			close(c->fds[i]);
		c->links[i] = NULL;
		c->fds[i] = -1;
	}
	/* Removing a uprobe waits for the kernel's grace periods (72 ms on
	 * the 6.18 VM): done on a thread while the profile is built, joined
	 * by capture_free. */
	if (c->nloaders && !c->detaching && !pthread_create(&c->detacher, NULL, detach_loaders, c))
		c->detaching = true;
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	if (c->fds)
		capture_stop(c);
	free(c->fds);
	free(c->links);
	ring_buffer__free(c->rb);
	capture_sampler_wait(c);
	profile_bpf__destroy(c->full);
	free(c->btf_dir);
	if (c->later_building)
		pthread_join(c->later_thread, NULL);
	for (size_t i = 0; i < 4; i++)
		if (c->later[i].fd >= 0)
			close(c->later[i].fd);
	if (c->detaching)
		pthread_join(c->detacher, NULL);
	else
		detach_loaders(c);
	free(c->loader);
	profile_bpf__destroy(c->skel);
	free(c);
}

const char *capture_event_name(const struct capture *c)
{
	return c->cycles ? "cycles" : "cpu-clock";
}

uint64_t capture_period_ns(const struct capture *c)
{
	return c->period_ns;
}

void capture_load_info(const struct capture *c, struct capture_load_info *out)
{
	*out = c->load;
}

int capture_unwind_maps(const struct capture *c, struct capture_unwind_maps *out)
{
	if (!c->skel->rodata->unwind_dwarf)
		return -ENOTSUP;
	out->rows_fd = bpf_map__fd(c->skel->maps.unwind_rows);
	out->rows_cap = bpf_map__max_entries(c->skel->maps.unwind_rows);
	out->procs_fd = bpf_map__fd(c->skel->maps.unwind_procs);
	out->exec_fd = bpf_map__fd(c->skel->maps.unwind_exec_files);
	return 0;
}

int capture_stats(const struct capture *c, uint64_t stats[STAT_NR])
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	uint64_t *vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < STAT_NR; k++) {
		stats[k] = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.stats), &k, vals))
			continue;
		for (int i = 0; i < ncpu; i++)
			stats[k] += vals[i];
	}
	free(vals);
	return 0;
}

static int counts_fd(const struct capture *c)
{
	return c->wcounts[c->read_window];
}

static int offcpu_fd(const struct capture *c)
{
	return bpf_map__fd(c->read_window ? c->skel->maps.offcpu_counts1 : c->skel->maps.offcpu_counts);
}

static int stacks_fd(const struct capture *c)
{
	return c->wstacks[c->read_window];
}

/* The off-CPU stacks of the closed window (open: of the open one). */
static int offcpu_stacks_fd(const struct capture *c, bool open)
{
	return bpf_map__fd((c->read_window ^ open) ? c->skel->maps.offcpu_stacks1 : c->skel->maps.offcpu_stacks);
}

int capture_window_flip(struct capture *c)
{
	if (!c->skel->rodata->windowed)
		return -ENOTSUP;
	uint32_t closing = c->skel->bss->window & 1;
	int err = window_in_place(c, (int)(closing ^ 1));
	if (err)
		return err;
	__atomic_store_n(&c->skel->bss->window, closing ^ 1, __ATOMIC_SEQ_CST);
	/* A sample reads the window once, on entry, and runs to completion in
	 * interrupt context within microseconds: after 10 ms none still counts
	 * into the closed window. */
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	c->read_window = (int)closing;
	return 0;
}

/* Entries a batched map operation takes at once (a window's maps hold up
 * to 64k; its stacks are ~1 KiB each). */
#define BATCH 1024

typedef int (*batch_fn)(void *ctx, const void *keys, const void *vals, uint32_t n);

/* Every entry of hash map fd, read (and with del deleted) BATCH at a time
 * and given to fn: a system call per batch instead of two per entry
 * (~1,000 a window under churn, the agent's most frequent call).  0, or
 * -errno: -ENOTSUP where the kernel has no batched operations on the map;
 * a batch can also fail partway (-ENOSPC for a hash bucket holding more
 * than BATCH entries).  Either way the caller walks the map key by key:
 * batching only saves calls. */
static int batch_walk(int fd, size_t keysz, size_t valsz, bool del, batch_fn fn, void *ctx)
{
	char *keys = malloc(BATCH * keysz), *vals = malloc(BATCH * valsz);
	uint32_t token = 0;
	int err = keys && vals ? 0 : -ENOMEM;
	for (bool first = true; !err; first = false) {
		uint32_t n = BATCH;
		int r = del ? bpf_map_lookup_and_delete_batch(fd, first ? NULL : &token, &token, keys, vals, &n, NULL)
			    : bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &n, NULL);
		if (r && r != -ENOENT) {
			err = r;
			break;
		}
		if (n && (err = fn(ctx, keys, vals, n)))
			break;
		if (r) /* -ENOENT: that was the last batch */
			break;
	}
	free(keys);
	free(vals);
	return err;
}

static int count_batch(void *ctx, const void *keys, const void *vals, uint32_t n)
{
	(void)keys;
	(void)vals;
	*(size_t *)ctx += n;
	return 0;
}

/* Deletes every entry of a map (values of valsz bytes), in batches; where
 * the kernel cannot (or a batch fails), the keys left collected first
 * (deleting while walking restarts the walk), then deleted in one call,
 * one by one from where that stopped.  *n (if asked) counts them. */
static int clear_map(int fd, size_t keysz, size_t valsz, size_t *n)
{
	size_t cap = 0, cnt = 0, batched = 0;
	char *keys = NULL;
	int err = batch_walk(fd, keysz, valsz, true, count_batch, &batched);

	if (!err) {
		if (n)
			*n = batched;
		return 0;
	}
	while (!(err = array_grow(&keys, &cap, cnt + 1, keysz)) &&
	       bpf_map_get_next_key(fd, cnt ? keys + (cnt - 1) * keysz : NULL, keys + cnt * keysz) == 0)
		cnt++;
	uint32_t done = cnt > UINT32_MAX ? UINT32_MAX : (uint32_t)cnt;
	if (cnt && bpf_map_delete_batch(fd, keys, &done, NULL))
		done = done > cnt ? 0 : done;
	for (size_t i = done; i < cnt; i++)
		bpf_map_delete_elem(fd, keys + i * keysz);
	free(keys);
	if (n)
		*n = batched + cnt;
	return err;
}

/* Copies stack id from the closed window's off-CPU stacks into the open one's. */
static void carry_stack(const struct capture *c, uint64_t id, struct stack_trace *buf,
			struct capture_window_info *info)
{
	if (id < STACK_ID_MIN || bpf_map_lookup_elem(offcpu_stacks_fd(c, false), &id, buf))
		return; /* not a stack, or stored in the open window already */
	if (!bpf_map_update_elem(offcpu_stacks_fd(c, true), &id, buf, BPF_NOEXIST))
		info->carried++;
	else if (errno != EEXIST)
		info->carry_lost++;
}

/* The stacks of threads off the CPU now, into the open window.  The window
 * was flipped and a thread leaving the CPU stores its stacks in microseconds,
 * so every thread that left in the closed window is in offcpu_starts or has
 * come back (its stacks copied in BPF, from this map not yet cleared).  A
 * batched walk goes bucket by bucket without restarting (as get_next_key
 * does when the key it was given is deleted meanwhile), so it sees every
 * entry present throughout it.  A walk that fails counts as one stack not
 * carried; the waits it misses are counted when they end.  Entries of
 * threads that no longer exist (their last switch was not recognised as an
 * exit) are deleted: no switch in will. */
static void carry_waiting(const struct capture *c, struct capture_window_info *info)
{
	enum { CHUNK = 256 };
	int fd = bpf_map__fd(c->skel->maps.offcpu_starts);
	struct stack_trace *buf = malloc(sizeof(*buf));
	uint32_t *keys = malloc(CHUNK * sizeof(*keys));
	struct offcpu_start *vals = malloc(CHUNK * sizeof(*vals));
	uint32_t token = 0;
	bool first = true, done = false;

	while (buf && keys && vals && !done) {
		uint32_t count = CHUNK;
		if (bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count, NULL)) {
			if (errno != ENOENT) {
				info->carry_lost++;
				break;
			}
			done = true; /* the last entries, if any, are in this chunk */
		}
		for (uint32_t i = 0; i < count; i++) {
			if (syscall(SYS_tgkill, (pid_t)vals[i].key.pid, (pid_t)keys[i], 0) && errno == ESRCH) {
				if (!bpf_map_delete_elem(fd, &keys[i]))
					info->gone++;
				continue;
			}
			carry_stack(c, vals[i].key.kstack, buf, info);
			carry_stack(c, vals[i].key.ustack, buf, info);
			carry_stack(c, vals[i].key.pystack, buf, info);
		}
		first = false;
	}
	if (!buf || !keys || !vals)
		info->carry_lost++;
	free(buf);
	free(keys);
	free(vals);
}

int capture_window_clear(struct capture *c, struct capture_window_info *info)
{
	if (!c->skel->rodata->windowed)
		return -ENOTSUP;
	memset(info, 0, sizeof(*info));
	bool offcpu = bpf_program__autoload(c->skel->progs.on_switch);
	int err = clear_map(counts_fd(c), sizeof(struct sample_key), sizeof(uint64_t), &info->entries);
	if (!err && offcpu)
		err = clear_map(offcpu_fd(c), sizeof(struct sample_key), sizeof(uint64_t), NULL);
	if (!err && offcpu) {
		carry_waiting(c, info);
		err = clear_map(offcpu_stacks_fd(c, false), sizeof(uint64_t), sizeof(struct stack_trace), NULL);
	}
	err = err ?: clear_map(stacks_fd(c), sizeof(uint64_t), sizeof(struct stack_trace), NULL);
	/* Emptied: the closed window starts again from nothing; the stacks
	 * carried fill the open one's map as BPF's own would. */
	uint32_t *fill = c->skel->bss->window_fill[c->read_window];
	for (int k = 0; !err && k < FILL_NR; k++)
		__atomic_store_n(&fill[k], 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->skel->bss->window_fill[c->read_window ^ 1][FILL_OFFCPU_STACKS], (uint32_t)info->carried,
			   __ATOMIC_RELAXED);
	return err;
}

double capture_window_fill(const struct capture *c)
{
	uint32_t open = __atomic_load_n(&c->skel->bss->window, __ATOMIC_RELAXED) & 1;
	const uint32_t cap[FILL_NR] = {
		[FILL_STACKS] = c->wstack_cap[open],
		[FILL_COUNTS] = c->wcount_cap[open],
		[FILL_OFFCPU_STACKS] = bpf_map__max_entries(c->skel->maps.offcpu_stacks),
		[FILL_OFFCPU_COUNTS] = bpf_map__max_entries(c->skel->maps.offcpu_counts),
	};
	const uint32_t *fill = c->skel->bss->window_fill[open];
	double most = 0;
	for (int k = 0; k < FILL_NR; k++) {
		double f = cap[k] ? (double)__atomic_load_n(&fill[k], __ATOMIC_RELAXED) / (double)cap[k] : 0;
		if (f > most)
			most = f;
	}
	return most;
}

uint32_t capture_count_capacity(const struct capture *c)
{
	return c->wcount_cap[c->read_window];
}

struct counts_acc {
	struct capture_entry *e;
	size_t n, cap;
};

static int add_counts(void *ctx, const void *keys, const void *vals, uint32_t n)
{
	struct counts_acc *a = ctx;
	const struct sample_key *k = keys;
	const uint64_t *v = vals;
	if (array_grow(&a->e, &a->cap, a->n + n, sizeof(*a->e)))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		a->e[a->n++] = (struct capture_entry){ .key = k[i], .count = v[i] };
	return 0;
}

/* Every (key, count) of a counts map: in batches, else (or when a batch
 * fails) key by key, from the start. */
static int read_counts(int fd, struct capture_entry **out, size_t *n)
{
	struct counts_acc a = { 0 };
	struct sample_key key, next;
	void *prev = NULL;
	int err = batch_walk(fd, sizeof(struct sample_key), sizeof(uint64_t), false, add_counts, &a);

	if (err) {
		/* Entries are only read once sampling has stopped (or its window
		 * closed), so a plain walk sees a stable map. */
		a.n = 0;
		err = 0;
		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			if ((err = array_grow(&a.e, &a.cap, a.n + 1, sizeof(*a.e))))
				break;
			if (bpf_map_lookup_elem(fd, &next, &a.e[a.n].count) == 0) {
				a.e[a.n].key = next;
				a.n++;
			}
			key = next;
			prev = &key;
		}
	}
	if (err) {
		free(a.e);
		return err;
	}
	*out = a.e;
	*n = a.n;
	return 0;
}

int capture_read_counts(const struct capture *c, struct capture_entry **out, size_t *n)
{
	return read_counts(counts_fd(c), out, n);
}

int capture_read_offcpu(const struct capture *c, struct capture_entry **out, size_t *n)
{
	return read_counts(offcpu_fd(c), out, n);
}

void capture_entries_to_us(struct capture_entry *e, size_t n, uint64_t scale)
{
	for (size_t i = 0; i < n; i++)
		e[i].count = ((scale ? e[i].count * scale : e[i].count) + 500) / 1000;
}

int capture_read_stack(const struct capture *c, uint64_t id, struct stack_trace *out)
{
	/* A stack of waits is in the window's off-CPU map (ids are content hashes:
	 * found in either, it is the same stack). */
	if (bpf_map_lookup_elem(stacks_fd(c), &id, out) &&
	    (!c->skel->rodata->windowed || bpf_map_lookup_elem(offcpu_stacks_fd(c, false), &id, out)))
		return -errno;
	if (out->nr > SCORCH_MAX_DEPTH)
		out->nr = SCORCH_MAX_DEPTH;
	return 0;
}
