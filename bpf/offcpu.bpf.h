/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Off-CPU time (record --off-cpu, --wall): where threads wait.  At a
 * context switch the thread leaving the CPU has its kernel stack (why it
 * waits: futex, pipe_read, do_nanosleep ...) and its user stack (unwound
 * with the same CFI tables as on-CPU samples, else frame pointers) stored,
 * and the time noted; when it runs again the nanoseconds it was away are
 * added to that (process, thread when asked, stacks, comm) in offcpu_counts.
 * Only aggregates cross to userspace.  Included by profile.bpf.c after
 * unwind.bpf.h.
 *
 * Windowed (agent): a wait can span a window's end.  Its stacks go into the
 * off-CPU stacks map of the window open when it began (offcpu_stacks or
 * offcpu_stacks1, apart from the samples'); when the thread runs again its
 * count goes into the window open then (offcpu_counts/offcpu_counts1, as
 * samples alternate counts/counts1), and its stacks are copied into that
 * window's off-CPU stacks map from the other one if not there yet.
 * Userspace, before it clears a closed window's stacks, copies those of
 * threads still waiting into the open window's (capture_window_clear), so
 * each window's maps hold every stack its counts name.  A stack found in
 * neither map is counted (STAT_OFFCPU_NO_STACK) and the time kept under
 * STACK_DROPPED.
 */
#ifndef SCORCH_BPF_OFFCPU_BPF_H
#define SCORCH_BPF_OFFCPU_BPF_H

const volatile __u64 offcpu_min_ns = 0; /* shorter waits are dropped (counted) */

/* Threads off the CPU now, by tid: sized by userspace, preallocated (the
 * switch must not allocate). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct offcpu_start);
	__uint(max_entries, 1);
} offcpu_starts SEC(".maps");

/* Nanoseconds off the CPU by (process, thread, stacks, comm). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sample_key);
	__type(value, __u64);
	__uint(max_entries, 1);
} offcpu_counts SEC(".maps");

/* The second window's counts: one entry unless windowed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sample_key);
	__type(value, __u64);
	__uint(max_entries, 1);
} offcpu_counts1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct offcpu_start);
	__uint(max_entries, 1);
} offcpu_scratch SEC(".maps");

/* Windowed: stack id made present in window win's off-CPU stacks map
 * (copied from the other window's, where a wait that began before the
 * window's start left it); the id to count under (STACK_DROPPED, counted,
 * when it is in neither or the window's map is full). */
static __always_inline __u64 offcpu_keep(__u64 id, __u32 win)
{
	void *map = win ? (void *)&offcpu_stacks1 : (void *)&offcpu_stacks;
	if (id < STACK_ID_MIN || bpf_map_lookup_elem(map, &id))
		return id;
	struct stack_trace *st = bpf_map_lookup_elem(win ? (void *)&offcpu_stacks : (void *)&offcpu_stacks1, &id);
	if (!st) {
		stat_inc(STAT_OFFCPU_NO_STACK);
		return STACK_DROPPED;
	}
	long err = bpf_map_update_elem(map, &id, st, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST */) {
		stat_inc(STAT_OFFCPU_STACKS_FULL);
		return STACK_DROPPED;
	}
	if (!err)
		__sync_fetch_and_add(&window_fill[win & 1][FILL_OFFCPU_STACKS], 1);
	return id;
}

/* The thread coming back: its time away is added to the stacks it left with
 * (windowed: in the window open now, read once). */
static __always_inline void offcpu_in(__u32 tid, __u64 now)
{
	struct offcpu_start *st = bpf_map_lookup_elem(&offcpu_starts, &tid);
	if (!st)
		return;
	__u64 ns = now - st->ts;
	if (ns < offcpu_min_ns) {
		stat_inc(STAT_OFFCPU_SHORT);
	} else if (windowed) {
		struct sample_key key = st->key;
		__u32 win = window & 1;
		key.kstack = offcpu_keep(key.kstack, win);
		key.ustack = offcpu_keep(key.ustack, win);
		key.pystack = offcpu_keep(key.pystack, win);
		count_add(win ? (void *)&offcpu_counts1 : (void *)&offcpu_counts, &key, ns, STAT_OFFCPU_FULL,
			  &window_fill[win][FILL_OFFCPU_COUNTS]);
	} else {
		count_add(&offcpu_counts, &st->key, ns, STAT_OFFCPU_FULL, &window_fill[0][FILL_OFFCPU_COUNTS]);
	}
	bpf_map_delete_elem(&offcpu_starts, &tid);
}

/* Kernel frames of the switch itself (this program, the tracepoint's
 * trampoline) skipped at the top of the kernel stack. */
#define OFFCPU_SKIP 3

/* The current thread, leaving the CPU: its stacks and the time, if it is
 * followed. */
static __always_inline void offcpu_out(void *ctx, __u32 pid, __u32 tid)
{
	if (!pid || !followed(pid, tid))
		return;
	__u32 zero = 0;
	struct offcpu_start *s = bpf_map_lookup_elem(&offcpu_scratch, &zero);
	if (!s)
		return;
	__u32 *w = windowed ? bpf_map_lookup_elem(&sample_window, &zero) : NULL;
	if (w) /* store_stack: into the window open now (read once, as a sample) */
		*w = SAMPLE_WINDOW_OFFCPU + (window & 1);
	fill_key(&s->key, ctx, NULL, pid, tid, OFFCPU_SKIP);
	s->ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&offcpu_starts, &tid, s, BPF_ANY))
		stat_inc(STAT_OFFCPU_FULL);
}

struct task_struct___pid {
	int pid;
	int tgid;
	unsigned int flags;
	int exit_state; /* set by exit_notify, before the task's last switch */
} __attribute__((preserve_access_index));

SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct task_struct___pid *p = (struct task_struct___pid *)prev, *n = (struct task_struct___pid *)next;
	__u64 now = bpf_ktime_get_ns();
	offcpu_in((__u32)BPF_CORE_READ(n, pid), now);
	/* An exiting thread's last switch is no wait: it would hold its entry
	 * in offcpu_starts forever (no switch in to delete it), and with short
	 * processes fill the table within a minute. */
	if ((BPF_CORE_READ(p, flags) & PF_KTHREAD) || BPF_CORE_READ(p, exit_state))
		return 0;
	offcpu_out(ctx, (__u32)BPF_CORE_READ(p, tgid), (__u32)BPF_CORE_READ(p, pid));
	return 0;
}

#endif
