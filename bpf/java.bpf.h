/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Interpreted Java frames, read while the native unwinder (unwind.bpf.h)
 * walks a JVM's thread.  Included by profile.bpf.c after python.bpf.h.
 *
 * HotSpot's x86-64 template interpreter keeps rbp as the frame pointer of
 * each interpreted method's frame and, at fixed slots below it, the
 * frame's Method* (frame::interpreter_frame_method_offset, -3 words) and
 * bytecode pointer (interpreter_frame_bcp_offset, -8 words; the same from
 * JDK 9, checked against JDK 17's and the current frame_x86.hpp).  So at
 * each frame whose pc is in the interpreter's code (a range userspace
 * read from gHotSpotVMStructs: AbstractInterpreter::_code's stub buffer),
 * one read of those slots gives the method it runs.  The frames are
 * collected innermost first in a per-CPU array and stored, once the
 * native stack is, as a stack of their own (struct java_proc in scorch.h
 * for the encoding).  A process without a java_procs entry costs one hash
 * lookup a sample, and nothing per frame.
 *
 * The leaf frame's bcp slot is the one last saved (the interpreter keeps
 * the live bcp in r13 and spills it at calls): a leaf's line is that of
 * its last call.  A sample in the interpreter's method entry, before the
 * frame is built, reads its caller's slots: that frame is named as its
 * caller.
 */
#ifndef SCORCH_BPF_JAVA_BPF_H
#define SCORCH_BPF_JAVA_BPF_H

/* pid -> the JVM's interpreter range: written by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct java_proc);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} java_procs SEC(".maps");

struct java_state {
	struct java_proc l;
	__u32 pid, gen;
	__u32 nr;
	__u8 active; /* set by java_begin for a JVM, consumed by java_stack */
	__u8 truncated;
	__u8 pad[2];
	__u64 slots[6]; /* from bp - 64: bcp, locals, cache, mdp, mirror, Method* */
	__u64 frames[SCORCH_MAX_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct java_state);
	__uint(max_entries, 1);
} java_cpu SEC(".maps");

/* Whether (pid, gen) is a JVM to walk: readies the per-CPU state. */
__noinline int java_begin(__u32 pid, __u32 gen)
{
	__u32 zero = 0;
	struct java_state *s = bpf_map_lookup_elem(&java_cpu, &zero);
	if (!s)
		return 0;
	s->active = 0;
	const struct java_proc *l = bpf_map_lookup_elem(&java_procs, &pid);
	if (!l || l->gen != gen)
		return 0;
	s->l = *l;
	s->pid = pid;
	s->gen = gen;
	s->nr = 0;
	s->truncated = 0;
	s->active = 1;
	return 1;
}

/* One native frame at pc (a return address less one, or the leaf's pc)
 * with frame pointer bp: recorded when the interpreter runs it. */
__noinline int java_frame(__u64 pc, __u64 bp)
{
	__u32 zero = 0;
	struct java_state *s = bpf_map_lookup_elem(&java_cpu, &zero);
	if (!s || !s->active || pc < s->l.interp_start || pc >= s->l.interp_end)
		return 0;
	__u32 nr = s->nr;
	if (nr >= SCORCH_MAX_DEPTH) {
		s->truncated = 1;
		return 0;
	}
	__u64 f = 0;
	if (bp > 64 && !bpf_probe_read_user(s->slots, sizeof(s->slots), (const void *)(bp + JAVA_FP_BCP))) {
		__u64 method = s->slots[(JAVA_FP_METHOD - JAVA_FP_BCP) / 8];
		if (method && !(method & 7) && method < (1ull << 47))
			f = method >> 3 | (s->slots[0] & JAVA_FRAME_BCP_MASK) << JAVA_FRAME_BCP_SHIFT;
	}
	if (!f)
		stat_inc(STAT_JAVA_READ_ERR);
	s->frames[nr] = f;
	s->nr = nr + 1;
	return 0;
}

/* The id of the sampled thread's Java stack, or STACK_NONE; called after
 * each sample's native user stack (want: it is stored and no other
 * runtime's stack is), which clears the state java_begin readied. */
__noinline __u64 java_stack(__u32 pid, __u32 gen, int want)
{
	__u32 zero = 0;
	struct java_state *s = bpf_map_lookup_elem(&java_cpu, &zero);
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || !st || !s->active)
		return STACK_NONE;
	s->active = 0;
	if (!want || s->pid != pid || s->gen != gen || !s->nr)
		return STACK_NONE;
	if (bpf_probe_read_kernel(st->ips, sizeof(st->ips), s->frames))
		return STACK_NONE;
	st->nr = s->nr;
	st->flags = s->truncated ? STACK_F_TRUNCATED : 0;
	stat_inc(STAT_JAVA_STACKS);
	__u64 id = store_stack(JAVA_STACK_SEED);
	runtime_stack_new(pid, gen, id);
	return id;
}

#endif
