// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Sampling: one program on a perf event per CPU.  Each sample's kernel and
 * user stacks are stored once in `stacks`, keyed by a 64-bit hash of their
 * contents (a STACK_TRACE map would drop a stack whenever two land in one
 * bucket), and counted in `counts` by (process, thread, stacks, comm).  Only
 * aggregated counts cross to userspace.  Every sample that cannot be stored
 * whole is counted in `stats`.
 */
#include "vmlinux_min.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "scorch.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile bool filter_pid = false;
const volatile bool filter_tid = false;
const volatile bool filter_cgroup = false;
const volatile bool follow_children = false;
const volatile bool include_idle = false;
const volatile bool per_thread = false;
const volatile bool want_kernel = true;
const volatile bool want_user = true;
/* agent: counts and stacks alternate between two sets of maps (window 0:
 * counts/stacks, window 1: counts1/stacks1); userspace flips `window`, waits
 * for programs already running to finish, then drains the other set. */
const volatile bool windowed = false;
__u32 window = 0;
/* New entries per window and map (enum scorch_fill); userspace zeroes a
 * window's when it clears it. */
__u32 window_fill[2][FILL_NR];

/*
 * Each window's stacks and counts, reached through stack_maps and
 * count_maps (slot = window): window 0's are created with the object and
 * put in slot 0 by libbpf; window 1's are not written before the first
 * window closes, so userspace builds them (preallocated) after the command
 * is released and puts them in slot 1 before the first flip.  `record --
 * CMD` also starts with small window-0 maps (quick to build) and flips as
 * soon as window 1's are there; full-size ones replace them in slot 0
 * before window 0 opens again.  One entry each where not built.
 */
struct stacks_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct stack_trace);
	__uint(max_entries, 1);
};

struct counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sample_key);
	__type(value, __u64);
	__uint(max_entries, 1);
};

struct stacks_map stacks SEC(".maps");
struct stacks_map stacks1 SEC(".maps");
struct counts_map counts SEC(".maps");
struct counts_map counts1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 2);
	__array(values, struct stacks_map);
} stack_maps SEC(".maps") = {
	.values = { &stacks },
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 2);
	__array(values, struct counts_map);
} count_maps SEC(".maps") = {
	.values = { &counts },
};

/* Windowed, with off-CPU time: the stacks of waits, by window, apart from
 * the samples' so that they cannot crowd them out (offcpu.bpf.h); one entry
 * otherwise.  Preallocated, as the others: allocating at a context switch,
 * with interrupts off, fails in bursts once the per-CPU cache runs dry. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct stack_trace);
	__uint(max_entries, 1);
} offcpu_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct stack_trace);
	__uint(max_entries, 1);
} offcpu_stacks1 SEC(".maps");

/* The window the sample running on this CPU counts into (read once per sample,
 * so its stacks and its count land in the same window); plus
 * SAMPLE_WINDOW_OFFCPU while a thread leaving the CPU stores its stacks. */
#define SAMPLE_WINDOW_OFFCPU 2
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} sample_window SEC(".maps");

/* PID_FOLLOWED or PID_FROM_EXEC by pid.  Written only by userspace, at fork
 * and at exec (never in the sampling interrupt), so not preallocated: 64k entries for a command's children took ~10 ms of
 * its launch to build. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1);
} tids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, __u8);
	__uint(max_entries, 1);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct proc_state);
	__uint(max_entries, 65536);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} proc_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct stack_trace);
	__uint(max_entries, 1);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, STAT_NR);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);
	if (v)
		*v += 1;
}

static __always_inline __u64 mix(__u64 h, __u64 v)
{
	h ^= v * 0x87c37b91114253d5ULL;
	h = (h << 31) | (h >> 33);
	return h * 0x4cf5ad432745937fULL + 0x52dce729ULL;
}

__u64 store_stack(__u64 flags);

struct stack_hash {
	const struct stack_trace *st;
	__u64 h;
	__u32 nr;
};

/* One frame into the stack's hash: a bpf_loop callback, which the verifier
 * checks once where a loop over the frames was checked once per frame
 * (1,783 of the boot sampler's 11,511 instructions verified). */
static long hash_frame(__u32 i, void *data)
{
	struct stack_hash *sh = data;
	if (i >= sh->nr || i >= SCORCH_MAX_DEPTH)
		return 1;
	sh->h = mix(sh->h, sh->st->ips[i]);
	return 0;
}

/* Collects one stack (user or kernel) and returns its id (see STACK_*). */
static __always_inline __u64 collect_stack(void *ctx, __u64 flags, __u32 lost_stat)
{
	__u32 zero = 0;
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st)
		return STACK_LOST;
	long n = bpf_get_stack(ctx, st->ips, sizeof(st->ips), flags);
	if (n < 0) {
		stat_inc(lost_stat);
		return STACK_LOST;
	}
	__u32 nr = (__u32)n / sizeof(__u64);
	if (nr == 0)
		return STACK_NONE;
	st->nr = nr;
	st->flags = 0;
	if (nr >= SCORCH_MAX_DEPTH) {
		st->flags = STACK_F_TRUNCATED;
		stat_inc(STAT_TRUNCATED);
	}
	return store_stack(flags);
}

/* Hashes the stack in scratch (nr frames) and stores it once; returns its id.
 * A global function: the verifier checks it once, not at each caller. */
__noinline __u64 store_stack(__u64 flags)
{
	__u32 zero = 0;
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st)
		return STACK_LOST;
	struct stack_hash sh = { st, 0x9e3779b97f4a7c15ULL ^ flags, st->nr };
	bpf_loop(SCORCH_MAX_DEPTH, hash_frame, &sh, 0);
	__u64 h = sh.h;
	h ^= h >> 29;
	if (h < STACK_ID_MIN)
		h += STACK_ID_MIN;
	__u32 *w = windowed ? bpf_map_lookup_elem(&sample_window, &zero) : NULL;
	__u32 slot = w ? *w : 0;
	__u32 win = slot & 1;
	void *map = slot < SAMPLE_WINDOW_OFFCPU ? bpf_map_lookup_elem(&stack_maps, &win)
		  : slot == SAMPLE_WINDOW_OFFCPU ? (void *)&offcpu_stacks : (void *)&offcpu_stacks1;
	if (!map) {
		stat_inc(STAT_STACKS_FULL);
		return STACK_DROPPED;
	}
	/* Frames past nr are left over from earlier samples; userspace reads only nr. */
	if (bpf_map_lookup_elem(map, &h))
		return h;
	long err = bpf_map_update_elem(map, &h, st, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU stored it first */) {
		stat_inc(slot >= SAMPLE_WINDOW_OFFCPU ? STAT_OFFCPU_STACKS_FULL : STAT_STACKS_FULL);
		return STACK_DROPPED;
	}
	if (!err)
		__sync_fetch_and_add(&window_fill[slot & 1][slot >= SAMPLE_WINDOW_OFFCPU ? FILL_OFFCPU_STACKS : FILL_STACKS], 1);
	return h;
}

/* Exec generations are unique across the whole run (not per pid), so a
 * reused pid never matches an older process's maps snapshot. */
__u32 next_gen = 1;

/* Tells userspace to read (pid, gen)'s maps. */
static __always_inline void announce(__u32 pid, __u32 gen)
{
	struct proc_event *ev = bpf_ringbuf_reserve(&proc_events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(STAT_PROC_EVENTS_LOST);
		return;
	}
	ev->pid = pid;
	ev->gen = gen;
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline bool power_of_two(__u32 n)
{
	return (n & (n - 1)) == 0 && n <= SCORCH_ANNOUNCE_MAX;
}

static __always_inline bool pid_followed(__u32 pid)
{
	const __u8 *v = bpf_map_lookup_elem(&pids, &pid);
	return v && *v == PID_FOLLOWED;
}

#include "unwind.bpf.h"
#include "python.bpf.h"
#include "java.bpf.h"

static __always_inline bool in_cgroups(void)
{
	for (int level = 0; level < 32; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			return false;
		if (bpf_map_lookup_elem(&cgroups, &id))
			return true;
	}
	return false;
}

/* A new entry for pid in the process table with the next generation (or the
 * one another CPU just made); NULL, counted, when the table is full. */
static __always_inline struct proc_state *proc_new(__u32 pid)
{
	/* In pid's context (at fork its parent's: record does not use it). */
	struct proc_state fresh = { .gen = __sync_fetch_and_add(&next_gen, 1), .cgroup = bpf_get_current_cgroup_id() };
	long err = bpf_map_update_elem(&procs, &pid, &fresh, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST */) {
		stat_inc(STAT_PROCS_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&procs, &pid);
}

/* The process's exec generation; announces it on a doubling schedule. */
static __always_inline __u32 proc_gen(__u32 pid)
{
	struct proc_state *ps = bpf_map_lookup_elem(&procs, &pid);
	if (!ps && !(ps = proc_new(pid)))
		return 0;
	__u32 gen = ps->gen;
	if (power_of_two(++ps->samples))
		announce(pid, gen);
	return gen;
}

/* Adds n to key's count in map (a sample: 1; a wait: its nanoseconds);
 * a full map is counted in stats[full], a new entry in *fill. */
static __always_inline void count_add(void *map, const struct sample_key *key, __u64 n, __u32 full, __u32 *fill)
{
	__u64 *count = bpf_map_lookup_elem(map, key);
	if (count) {
		__sync_fetch_and_add(count, n);
		return;
	}
	long err = bpf_map_update_elem(map, key, &n, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		count = bpf_map_lookup_elem(map, key);
		if (count)
			__sync_fetch_and_add(count, n);
	} else if (err) {
		stat_inc(full);
	} else {
		__sync_fetch_and_add(fill, 1);
	}
}

#define PF_KTHREAD 0x00200000 /* task_struct.flags: a kernel thread */

/* The task_struct fields has_memory() reads (a CO-RE flavour of the kernel's). */
struct mm_struct;
struct task_struct___mm {
	unsigned int flags;
	struct mm_struct *mm; /* NULL in kernel threads, and in exit once the address space is let go */
} __attribute__((preserve_access_index));

/* False for kernel threads, and for a process in exit that has torn down
 * its address space (exit_mm, then unmapping all of it, can take
 * milliseconds): its user stack is gone, so only the kernel's is taken. */
static __always_inline bool has_memory(void)
{
	struct task_struct___mm *task = (struct task_struct___mm *)bpf_get_current_task_btf();
	if (BPF_CORE_READ(task, mm))
		return true;
	if (!(BPF_CORE_READ(task, flags) & PF_KTHREAD))
		stat_inc(STAT_USTACK_EXITED);
	return false;
}

/* The current thread's key: process, thread when asked, comm, and its
 * kernel stack (the first kskip frames left out) and user stack.  ctx is
 * the program's; pctx the perf event's, or NULL at a context switch (the
 * user registers are then those saved entering the kernel). */
static __always_inline void fill_key_as(struct sample_key *key, void *ctx, struct bpf_perf_event_data *pctx,
					__u32 pid, __u32 tid, __u64 kskip, const bool boot)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->pid = pid;
	key->tid = per_thread ? tid : 0;
	key->gen = pid ? proc_gen(pid) : 0;
	bpf_get_current_comm(key->comm, sizeof(key->comm));
	key->kstack = want_kernel ? collect_stack(ctx, kskip & BPF_F_SKIP_FIELD_MASK, STAT_KSTACK_LOST) : STACK_NONE;
	key->ustack = STACK_NONE;
	if (want_user && pid && has_memory())
		if (!(unwind_dwarf && collect_user_dwarf(pctx, pid, key->gen, &key->ustack, boot)))
			key->ustack = collect_stack(ctx, BPF_F_USER_STACK, STAT_USTACK_LOST);
	key->pystack = STACK_NONE;
	if (boot)
		return;
	if (python_walk && key->ustack >= STACK_ID_MIN)
		key->pystack = python_stack(pid, tid, key->gen);
	if (java_walk) {
		__u64 js = java_stack(pid, key->gen, key->ustack >= STACK_ID_MIN && key->pystack == STACK_NONE);
		if (js != STACK_NONE)
			key->pystack = js;
	}
}

static __always_inline void fill_key(struct sample_key *key, void *ctx, struct bpf_perf_event_data *pctx,
				     __u32 pid, __u32 tid, __u64 kskip)
{
	fill_key_as(key, ctx, pctx, pid, tid, kskip, false);
}

/* Whether the current thread passes the process, thread and cgroup filters. */
static __always_inline bool followed(__u32 pid, __u32 tid)
{
	if (filter_pid && !pid_followed(pid))
		return false;
	if (filter_tid && !bpf_map_lookup_elem(&tids, &tid))
		return false;
	return !filter_cgroup || in_cgroups();
}

#include "offcpu.bpf.h"

/* One sample; boot: by the boot sampler (below). */
static __always_inline int sample(struct bpf_perf_event_data *ctx, const bool boot)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;

	if (!pid && !include_idle)
		return 0;
	if (!followed(pid, tid))
		return 0;
	stat_inc(STAT_SAMPLES);

	__u32 zero = 0, win = 0;
	if (windowed) {
		__u32 *w = bpf_map_lookup_elem(&sample_window, &zero);
		if (!w)
			return 0;
		win = *w = window & 1;
	}

	if (boot)
		stat_inc(STAT_BOOT);
	struct sample_key key;
	fill_key_as(&key, ctx, ctx, pid, tid, 0, boot);
	__u32 slot = win; /* its own stack slot: win stays bounded for window_fill */
	void *counts_now = bpf_map_lookup_elem(&count_maps, &slot);
	if (!counts_now) {
		stat_inc(STAT_COUNTS_FULL);
		return 0;
	}
	count_add(counts_now, &key, 1, STAT_COUNTS_FULL, &window_fill[win][FILL_COUNTS]);
	return 0;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, false);
}

/*
 * The boot sampler: what `record -- CMD` attaches before it releases the
 * command.  It is on_sample without the Python and Java walkers, whose
 * verification is a third of on_sample's (~4-7 ms of ~11-14 here) and
 * whose caches (py_threads, py_seen: preallocated LRU maps) took 2-4 ms
 * each to build.  A new process has no Python or Java frames to give in
 * its first milliseconds anyway: userspace must first read it (py_procs,
 * java_procs), and an interpreter's start takes longer than that.
 * Userspace loads on_sample from a second instance of this object (every
 * map shared) on a thread while the command starts and puts it in
 * `samplers`: from then on every sample is handed to it.  The samples
 * taken before are counted in STAT_BOOT.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} samplers SEC(".maps");

SEC("perf_event")
int on_sample_boot(struct bpf_perf_event_data *ctx)
{
	bpf_tail_call(ctx, &samplers, 0);
	return sample(ctx, true);
}

/* With a command or --follow: children of followed processes are followed
 * too.  With unwind tables, a child starts with a copy of its parent's. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid = BPF_CORE_READ(parent, tgid), cpid = BPF_CORE_READ(child, tgid);
	if (ppid == cpid)
		return 0; /* a thread */
	if (unwind_dwarf)
		unwind_fork(ppid, cpid);
	if (!follow_children || !pid_followed(ppid))
		return 0;
	__u8 one = PID_FOLLOWED;
	if (bpf_map_update_elem(&pids, &cpid, &one, BPF_ANY))
		stat_inc(STAT_FOLLOW_FULL);
	else
		proc_new(cpid); /* here, not in the sampling interrupt: see on_exec */
	return 0;
}

/* A new program image: the next sample announces a new maps generation.
 * With unwind tables, a followed process (the command, its children, -p)
 * is announced at once, so that its tables are set up while the dynamic
 * loader runs rather than after its first sample. */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, tgid);
	struct proc_state *ps = bpf_map_lookup_elem(&procs, &pid);
	if (ps) {
		ps->gen = __sync_fetch_and_add(&next_gen, 1);
		ps->samples = 0;
		ps->misses = 0;
		ps->cgroup = bpf_get_current_cgroup_id(); /* moved since its fork, maybe */
	}
	/* A followed process gets its entry here or at fork, in process
	 * context: with a command, `procs` is then not preallocated (the
	 * sampler finds every entry made). */
	__u8 *f = filter_pid ? bpf_map_lookup_elem(&pids, &pid) : NULL;
	if (!f)
		return 0;
	if (!ps)
		ps = proc_new(pid);
	if (ps && unwind_dwarf)
		unwind_exec(p, pid, ps->gen); /* before userspace hears of it */
	*f = PID_FOLLOWED; /* the command's samples from here: with its tables */
	if (!ps || !unwind_dwarf)
		return 0;
	/* Counts as its first sample's announcement: the next is at the 2nd. */
	ps->samples = 1;
	announce(pid, ps->gen);
	return 0;
}

/* The process is gone: its table entries are released (its maps snapshot,
 * taken when it was announced, lives on in userspace; so do the references
 * to its files' unwind rows until the next sweep).  The unwind entry goes
 * here too: a forked child's copy may never have been taken over. */
struct signal_struct___live {
	struct {
		int counter;
	} live; /* threads of the group not yet in exit */
} __attribute__((preserve_access_index));

struct task_struct___signal {
	struct signal_struct___live *signal;
} __attribute__((preserve_access_index));

/* True when p is the last thread of its group to exit: do_exit counts the
 * group's live threads down before this tracepoint.  The leader also exits
 * first when it calls pthread_exit while other threads run on. */
static __always_inline bool group_dead(struct task_struct *p)
{
	struct task_struct___signal *t = (struct task_struct___signal *)p;
	return BPF_CORE_READ(t, signal, live.counter) == 0;
}

/* Windowed (the agent): processes announced, as they were when they exited
 * (struct proc_exit), the oldest let go first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, struct proc_exit);
	__uint(max_entries, 1); /* userspace sizes it */
} exited SEC(".maps");

SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, tgid);
	if (BPF_CORE_READ(p, pid) != pid)
		return 0;
	const struct proc_state *ps = windowed ? bpf_map_lookup_elem(&procs, &pid) : NULL;
	if (ps && ps->samples) {
		struct proc_exit e = { .gen = ps->gen, .cgroup = ps->cgroup };
		bpf_get_current_comm(e.comm, sizeof(e.comm)); /* p's: it runs its exit */
		bpf_map_update_elem(&exited, &pid, &e, BPF_ANY);
	}
	bpf_map_delete_elem(&procs, &pid);
	if (unwind_dwarf)
		bpf_map_delete_elem(&unwind_procs, &pid);
	/* A filtered pid is that process, not whoever gets the number next
	 * (but a leader's pthread_exit is not the process's end). */
	if (filter_pid && group_dead(p))
		bpf_map_delete_elem(&pids, &pid);
	return 0;
}
