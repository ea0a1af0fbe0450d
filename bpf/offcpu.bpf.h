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
 */
#ifndef SCORCH_BPF_OFFCPU_BPF_H
#define SCORCH_BPF_OFFCPU_BPF_H

const volatile __u64 offcpu_min_ns = 0; /* shorter waits are dropped (counted) */

struct offcpu_start {
	struct sample_key key;
	__u64 ts;
};

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct offcpu_start);
	__uint(max_entries, 1);
} offcpu_scratch SEC(".maps");

/* The thread coming back: its time away is added to the stacks it left with. */
static __always_inline void offcpu_in(__u32 tid, __u64 now)
{
	struct offcpu_start *st = bpf_map_lookup_elem(&offcpu_starts, &tid);
	if (!st)
		return;
	__u64 ns = now - st->ts;
	if (ns >= offcpu_min_ns)
		count_add(&offcpu_counts, &st->key, ns, STAT_OFFCPU_FULL);
	else
		stat_inc(STAT_OFFCPU_SHORT);
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
	fill_key(&s->key, ctx, NULL, pid, tid, OFFCPU_SKIP);
	s->ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&offcpu_starts, &tid, s, BPF_ANY))
		stat_inc(STAT_OFFCPU_FULL);
}

struct task_struct___pid {
	int pid;
	int tgid;
	unsigned int flags;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct task_struct___pid *p = (struct task_struct___pid *)prev, *n = (struct task_struct___pid *)next;
	__u64 now = bpf_ktime_get_ns();
	offcpu_in((__u32)n->pid, now);
	if (p->flags & PF_KTHREAD)
		return 0;
	offcpu_out(ctx, (__u32)p->tgid, (__u32)p->pid);
	return 0;
}

#endif
