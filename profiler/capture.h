/* SPDX-License-Identifier: MIT */
/*
 * capture: the BPF side of a recording.  Loads the sampling skeleton with its
 * filters, opens one perf event per CPU (cycles where the machine has a PMU,
 * cpu-clock otherwise), and afterwards reads the in-kernel counts and stacks.
 */
#ifndef SCORCH_PROFILER_CAPTURE_H
#define SCORCH_PROFILER_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/scorch.h"

struct capture;

/* Sizes record and the agent both ask for, in entries (record's --unwind-rows overrides the first). */
#define CAPTURE_UNWIND_ROWS (1u << 20) /* 16 MiB of rows: python3 has 65k, libc 28k */
#define CAPTURE_UNWIND_PROCS 16384     /* processes with tables; not preallocated: a bound, not a cost */
#define CAPTURE_PYTHON_THREADS 16384   /* an LRU: threads beyond it are searched for again */
#define CAPTURE_EXITED 4096            /* windowed: exited processes remembered (an LRU, ~140 KiB) */

struct capture_opts {
	uint64_t frequency;      /* samples per second per CPU, or 0 with period */
	uint64_t period;         /* events per sample when frequency is 0 */
	const int *cpus;         /* CPUs to sample; NULL for every online CPU */
	size_t ncpus;
	const uint32_t *pids;    /* process filter; NULL for all */
	size_t npids;
	bool pids_from_exec;     /* the pids are followed from their next exec (a command forked to run it) */
	const uint32_t *tids;    /* thread filter; NULL for all */
	size_t ntids;
	const uint64_t *cgroups; /* cgroup v2 ids: tasks in them or below; NULL for all */
	size_t ncgroups;
	bool follow_children;    /* children forked by filtered processes join the filter */
	bool include_idle;
	bool per_thread;
	bool user_stacks;
	bool kernel_stacks;
	uint32_t stack_entries;  /* capacity of the stacks map */
	uint32_t count_entries;  /* capacity of the counts map */
	uint32_t pid_entries;    /* capacity of the pid filter (room for children) */
	bool unwind_dwarf;       /* user stacks from CFI tables where a process has them */
	uint32_t unwind_rows;    /* capacity of the unwind row array */
	uint32_t unwind_procs;   /* processes with unwind tables at once */
	const char *loader;      /* the command's dynamic loader, probed besides scorch's own (or NULL) */
	bool offcpu;             /* time off the CPU by stack too (capture_read_offcpu) */
	uint64_t offcpu_min_ns;  /* shorter waits are dropped */
	uint32_t offcpu_threads; /* threads off the CPU at once that can be followed */
	bool python;             /* Python frames of processes described in the py_procs map (capture_python_map) */
	uint32_t python_threads; /* Python threads whose thread state is remembered */
	bool java;               /* interpreted Java frames of JVMs in the java_procs map (with unwind_dwarf) */
	uint32_t offcpu_count_entries; /* capacity of (each window's) off-CPU counts map; 0: count_entries */
	uint32_t offcpu_stack_entries; /* windowed: capacity of each window's off-CPU stacks map */
	bool windowed;           /* two windows of counts and stacks (agent): see capture_window_flip */
	/* windowed: the first window's capacities when smaller (quicker to
	 * build before the start; see capture_window_small); 0: as the others */
	uint32_t first_stack_entries, first_count_entries;
	bool verifier_stats;     /* ask the verifier for its statistics (capture_load_info.verify_us) */
	const char *btf_cache_dir; /* the per-boot minimal kernel BTF (kbtf.h); NULL: /run/scorch */
	/* Attach the boot sampler (no Python or Java walkers) and load the
	 * full one on a thread from capture_background_start: see on_sample_boot. */
	bool defer_sampler;
	bool background_later;   /* capture_start leaves its background threads to capture_background_start */
	/* Called by capture_open once the big maps are built, before the
	 * programs are verified: on two CPUs the verifier leaves one idle,
	 * where the maps' builders took both. */
	void (*before_programs)(void *ctx);
	void *before_programs_ctx;
};

/* Called for each process the BPF side announces (first sample after start or exec). */
typedef void (*capture_proc_fn)(void *ctx, uint32_t pid, uint32_t gen);

/* Loads and configures the programs and opens the perf events, disabled.
 * The error names what failed in msg. 0 or -errno. */
int capture_open(const struct capture_opts *o, struct capture **out, char *msg, size_t msglen);
/* Attaches the program to every perf event and enables them. */
int capture_start(struct capture *c, char *msg, size_t msglen);
/* Waits up to timeout_ms for process announcements and handles them. */
int capture_poll(struct capture *c, int timeout_ms, capture_proc_fn fn, void *ctx);
/* Disables sampling; announcements already made can still be polled. */
void capture_stop(struct capture *c);
void capture_free(struct capture *c);

/* "cycles" or "cpu-clock": the event in use after capture_open. */
const char *capture_event_name(const struct capture *c);
/* Nanoseconds per sample when known (cpu-clock), else 0. */
uint64_t capture_period_ns(const struct capture *c);

/* What loading the BPF object cost (the verifier is most of it).  With
 * defer_sampler, the full sampler's part is known once it took over:
 * capture_sampler_wait. */
struct capture_load_info {
	uint64_t load_ns;        /* bpf_object__load: maps created, programs verified */
	uint32_t verified_insns; /* instructions the verifier processed for the sampling program */
	uint32_t verify_us;      /* the verifier's time on it, with capture_opts.verifier_stats; else 0 */
	/* defer_sampler: the full sampler's load on its thread (verified_insns
	 * and verify_us are then its), and when it took over, from capture_start;
	 * 0 until it has; full_err, why it could not. */
	uint64_t full_load_ns, full_ready_ns;
	int full_err;
};
void capture_load_info(const struct capture *c, struct capture_load_info *out);
/* defer_sampler: waits for the full sampler's load; 0 once it took over
 * (or when nothing was deferred, or its load was never started: the boot
 * sampler then took every sample), else why it could not. */
int capture_sampler_wait(struct capture *c);

/* Sums the per-CPU counters. */
int capture_stats(const struct capture *c, uint64_t stats[STAT_NR]);

struct capture_entry {
	struct sample_key key;
	uint64_t count;
};

/* Reads all counts (owned by the caller: free(*out)). 0 or -errno. */
int capture_read_counts(const struct capture *c, struct capture_entry **out, size_t *n);
/* The same for time off the CPU (capture_opts.offcpu): count is nanoseconds. */
int capture_read_offcpu(const struct capture *c, struct capture_entry **out, size_t *n);
/* Counts of nanoseconds (scale 0) or of samples of scale nanoseconds each,
 * made microseconds (rounded). */
void capture_entries_to_us(struct capture_entry *e, size_t n, uint64_t scale);
/* Looks up one stack by id (windowed, of samples or of waits). -ENOENT when absent. */
int capture_read_stack(const struct capture *c, uint64_t id, struct stack_trace *out);

/*
 * Windows (capture_opts.windowed): samples are counted into one of two sets
 * of maps while userspace reads the other.  capture_window_flip closes the
 * current window (new samples go to the other set) and waits for samples
 * already being counted; capture_read_counts, capture_read_offcpu and
 * capture_read_stack then read the closed window, which capture_window_clear
 * empties before the next flip.  Without windows they read the only set.
 * A wait is counted in the window in which it ends.
 */
int capture_window_flip(struct capture *c);

struct capture_window_info {
	size_t entries; /* counts the closed window held (map fill) */
	size_t carried; /* stacks of threads still waiting, copied into the open window */
	size_t carry_lost; /* of them, not copied: the open window's stacks map full */
	size_t gone;       /* entries of waiting threads that no longer exist, deleted */
};
/* Deletes every count and stack of the closed window, after copying the
 * stacks of threads off the CPU now into the open window's (their waits,
 * when they end, count there).  0 or -errno. */
int capture_window_clear(struct capture *c, struct capture_window_info *info);
/* True while the open window is a small first one
 * (capture_opts.first_stack_entries): it should be flipped as soon as
 * *ready says the next window's maps are built. */
bool capture_window_small(const struct capture *c, bool *ready);
/* The next windows' maps are built at the lowest priority, out of the
 * way of the command just started; this gives their thread the normal
 * one back (the small first window filling before they are there). */
void capture_window_hurry(struct capture *c);
/* With background_later: starts the work capture_start leaves to threads
 * in the background (the next windows' maps; with defer_sampler the full
 * sampler's load).  Both are long stretches in the kernel, which does not
 * preempt them whatever their priority (PREEMPT_NONE): on 2 CPUs, the
 * command released just before waited ~20 ms to start one run in four,
 * and scorch's thread to hear of its exec.  The caller starts them once
 * the command has exec'd. */
void capture_background_start(struct capture *c);
/* The same at the normal priority, started now if it was not: called for a
 * command that looks like CPython, and once a Python or Java process is
 * found, whose frames wait for it. */
void capture_walkers_hurry(struct capture *c);
/* How full the open window's fullest map is, 0 to 1 (entries added since it
 * was last cleared over its capacity): a caller drains before it fills. */
double capture_window_fill(const struct capture *c);
/* Capacity of one window's counts map. */
uint32_t capture_count_capacity(const struct capture *c);

/* The maps DWARF unwinding fills (see bpf/scorch.h), owned by the capture. */
struct capture_unwind_maps {
	int rows_fd;  /* array of struct unwind_row, BPF_F_MMAPABLE */
	uint32_t rows_cap;
	int procs_fd; /* pid -> struct unwind_proc */
	int exec_fd;  /* struct unwind_exec_key -> struct unwind_exec */
};

/* The unwind maps; -ENOTSUP when the capture was opened without unwind_dwarf. */
int capture_unwind_maps(const struct capture *c, struct capture_unwind_maps *out);

/* A new Python stack of (pid, gen) was stored: its code objects are to be
 * read while the process lives. */
typedef void (*capture_python_fn)(void *ctx, uint32_t pid, uint32_t gen, uint64_t id, const struct stack_trace *st);
/* Where capture_poll hands new Python stacks (capture_opts.python). */
void capture_on_python(struct capture *c, capture_python_fn fn, void *ctx);
/* The pid -> struct py_proc map; -ENOTSUP without capture_opts.python. */
int capture_python_map(const struct capture *c);
/* Where capture_poll hands new Java stacks (of a pid in java_procs). */
void capture_on_java(struct capture *c, capture_python_fn fn, void *ctx);
/* The pid -> struct java_proc map; -ENOTSUP without capture_opts.java
 * and unwind_dwarf. */
int capture_java_map(const struct capture *c);
/* The exec generation the BPF side has for pid, a process it knows live:
 * 0, or -ENOENT when it knows none (exited, or never seen). */
int capture_process_gen(const struct capture *c, uint32_t pid, uint32_t *gen);
/* What the BPF side knows of process pid in exec generation gen. */
struct capture_proc {
	uint64_t cgroup; /* its cgroup v2 id at its first sample or last exec; 0 when
	                    not known (a process given by -p, a forked child) */
	bool exited;     /* gone since (windowed only): nothing of it left to read */
	char comm[16];   /* exited: its name then */
};
/* 0 when (pid, gen) is live, or (windowed) exited since it was announced
 * and not long ago (the last CAPTURE_EXITED of them); -ENOENT when it is
 * neither (exec'd since, or never seen). */
int capture_process_state(const struct capture *c, uint32_t pid, uint32_t gen, struct capture_proc *out);
/* Makes pid, a process running before sampling starts (-p), known to the
 * BPF side now, with its exec generation in *gen, so that userspace can
 * read it (its maps, unwind tables, Python) before its first sample
 * instead of at that sample's announcement.  0 or -errno (table full). */
int capture_process_seed(struct capture *c, uint32_t pid, uint32_t *gen);

/* The online CPUs from /sys/devices/system/cpu/online (caller frees). */
int capture_online_cpus(int **cpus, size_t *n);

#endif
