/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Python frames: the sampled thread's chain of CPython interpreter frames,
 * walked in the kernel when its native stack is in the eval loop.  Included
 * by profile.bpf.c after its maps, stat_inc() and store_stack().
 *
 * The thread's PyThreadState is found in the interpreter's list of threads
 * by its thread_id, pthread_self() of the thread, which glibc and musl on
 * x86-64 make the thread pointer, the task's fsbase: the same in every PID
 * namespace, where the native thread id is the innermost namespace's (the
 * thread state remembered per thread, checked at each use: a thread state
 * is freed and its memory reused when its thread ends); from it the
 * current frame, and from each frame the previous one (3.10: from the
 * thread state's PyFrameObject along f_back, each frame run by its own
 * eval loop call).  Each frame costs one read of its first bytes (70-104).  Every stack that ends
 * early is counted.  As for the native unwinder, one frame is a global
 * function (checked once by the verifier) and the walk's state lives in a
 * per-CPU map.
 */
#ifndef SCORCH_BPF_PYTHON_BPF_H
#define SCORCH_BPF_PYTHON_BPF_H

const volatile bool python_walk = false;

/* pid -> the process's interpreter layout: written by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct py_proc);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} py_procs SEC(".maps");

/* tid (the host's) -> its PyThreadState, found once. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} py_threads SEC(".maps");

/* Python stacks userspace was told of (stack id -> 1). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u64);
	__type(value, __u8);
	__uint(max_entries, 1);
} py_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} py_events SEC(".maps");

#define PY_FRAME_BYTES PY_FRAME_MAX_BYTES /* every field the walk reads lies in a frame's first bytes */
#define PY_MAX_THREADS 256 /* thread states searched for the sampled thread's */

struct py_state {
	struct py_proc l;
	__u64 frame; /* the next frame to read */
	__u32 nr;
	__u8 truncated;
	__u8 failed;
	__u8 in_eval;
	__u8 pad;
	__u64 ts, found; /* the thread search: the next thread state, the sampled thread's */
	__u64 thread;    /* the sampled thread's pthread_self() */
	__u8 buf[256]; /* a frame's first frame_bytes: room for any u8, which the verifier then needs not bound */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct py_state);
	__uint(max_entries, 1);
} py_cpu SEC(".maps");

static __always_inline __u64 py_field(const struct py_state *s, __u32 off)
{
	if (off > PY_FRAME_BYTES - 8)
		return 0;
	return *(const __u64 *)(s->buf + off);
}

/* A runtime's stack (Python's, Java's) just stored as id: userspace is
 * told the first time, to read what its frames name while the process
 * lives. */
static __always_inline void runtime_stack_new(__u32 pid, __u32 gen, __u64 id)
{
	if (id < STACK_ID_MIN || bpf_map_lookup_elem(&py_seen, &id))
		return;
	struct py_event *ev = bpf_ringbuf_reserve(&py_events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(STAT_PY_EVENTS_LOST);
		return; /* told at its next sample */
	}
	ev->pid = pid;
	ev->gen = gen;
	ev->stack = id;
	bpf_ringbuf_submit(ev, 0);
	__u8 one = 1;
	bpf_map_update_elem(&py_seen, &id, &one, BPF_ANY);
}

/* One frame: records s->frame and steps to the previous one. */
__noinline int py_frame(void)
{
	__u32 zero = 0;
	struct py_state *s = bpf_map_lookup_elem(&py_cpu, &zero);
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || !st)
		return 1;
	if (!s->frame)
		return 1;
	if (bpf_probe_read_user(s->buf, s->l.frame_bytes, (const void *)s->frame)) {
		s->failed = 1;
		return 1;
	}
	__u32 nr = s->nr;
	/* 3.14's f_executable is a tagged reference: its low bit is a flag. */
	__u64 code = py_field(s, s->l.frame_code) & ~7ull, instr = py_field(s, s->l.frame_instr);
	__u32 oo = s->l.frame_owner;
	__u8 owner = oo < PY_FRAME_BYTES ? s->buf[oo] : 0;
	s->frame = py_field(s, s->l.frame_previous);
	if (s->l.owner_cstack != PY_OWNER_NONE && owner == s->l.owner_cstack) {
		/* The shim an eval loop pushes on entry: the frame below it was the first it ran. */
		__u32 k = nr - 1;
		if (nr > 0 && k < SCORCH_MAX_DEPTH)
			st->ips[k] |= PY_FRAME_ENTRY;
		return 0;
	}
	if (nr >= SCORCH_MAX_DEPTH) {
		s->truncated = 1;
		return 1;
	}
	__u64 first = code + s->l.code_first_instr, idx = 0;
	if (s->l.walk_flags & PY_WALK_LASTI) {
		__s32 lasti = (__s32)instr; /* -1 before the first instruction */
		idx = lasti > 0 ? (__u64)lasti : 0;
	} else if (instr >= first) {
		idx = (instr - first) / 2;
	}
	if (idx > PY_FRAME_INSTR_MAX)
		idx = PY_FRAME_INSTR_MAX;
	__u64 f = (code >> 3) & ((1ull << PY_FRAME_INSTR_SHIFT) - 1);
	f |= idx << PY_FRAME_INSTR_SHIFT;
	__s32 eo = s->l.frame_is_entry;
	if ((eo >= 0 && eo < PY_FRAME_BYTES && s->buf[eo]) || (s->l.walk_flags & PY_WALK_ALL_ENTRY))
		f |= PY_FRAME_ENTRY;
	st->ips[nr] = f;
	s->nr = nr + 1;
	return 0;
}

static long py_step(__u32 i, void *data)
{
	(void)i;
	(void)data;
	return py_frame() ? 1 : 0;
}

static __always_inline bool py_read(__u64 addr, __u64 *out)
{
	return bpf_probe_read_user(out, sizeof(*out), (const void *)addr) == 0;
}

/* One thread state of the interpreter's list: found when its thread_id
 * is s->thread; 1 stops the loop. */
static long py_thread_step(__u32 i, void *data)
{
	(void)i;
	(void)data;
	__u32 zero = 0;
	struct py_state *s = bpf_map_lookup_elem(&py_cpu, &zero);
	__u64 v;
	if (!s || !s->ts || !py_read(s->ts + s->l.tstate_thread_id, &v))
		return 1;
	if (v == s->thread) {
		s->found = s->ts;
		return 1;
	}
	if (!py_read(s->ts + s->l.tstate_next, &s->ts))
		return 1;
	return 0;
}

/* The task_struct fields the thread lookup reads (CO-RE flavours of the
 * kernel's x86-64 ones): fsbase, set by arch_prctl(ARCH_SET_FS) and clone's
 * CLONE_SETTLS, is where glibc and musl put the thread's struct pthread. */
struct thread_struct___py {
	unsigned long fsbase;
} __attribute__((preserve_access_index));

struct task_struct___py {
	struct thread_struct___py thread;
} __attribute__((preserve_access_index));

/* The thread state of the current thread (tid, the host's), or 0: the one
 * remembered if its thread_id still is the thread's, else searched for. */
static __always_inline __u64 py_find_thread(struct py_state *s, __u32 tid)
{
	struct task_struct___py *task = (struct task_struct___py *)bpf_get_current_task_btf();
	__u64 *known = bpf_map_lookup_elem(&py_threads, &tid);
	__u64 v = 0, interp;
#ifdef __TARGET_ARCH_x86
	s->thread = BPF_CORE_READ(task, thread.fsbase);
#else
	s->thread = 0; /* another architecture keeps its thread pointer elsewhere */
	(void)task;
#endif
	if (!s->thread)
		return 0;
	if (known && *known && py_read(*known + s->l.tstate_thread_id, &v) && v == s->thread)
		return *known;
	if (!py_read(s->l.interp_head, &interp) || !interp || !py_read(interp + s->l.interp_threads_head, &s->ts))
		return 0;
	s->found = 0;
	bpf_loop(PY_MAX_THREADS, py_thread_step, NULL, 0);
	if (s->found)
		bpf_map_update_elem(&py_threads, &tid, &s->found, BPF_ANY);
	return s->found;
}

/* One frame of the native user stack in scratch: whether it is in the
 * eval loop (of the layout in py_cpu); 1 stops the loop. */
static long py_eval_step(__u32 i, void *data)
{
	(void)data;
	__u32 zero = 0;
	struct py_state *s = bpf_map_lookup_elem(&py_cpu, &zero);
	const struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || !st || i >= st->nr || i >= SCORCH_MAX_DEPTH)
		return 1;
	__u64 pc = st->ips[i] - (i ? 1 : 0);
	const struct py_proc *l = &s->l;
	if ((pc >= l->eval_start && pc < l->eval_end) || (pc >= l->cold_start && pc < l->cold_end)) {
		s->in_eval = 1;
		return 1;
	}
	return 0;
}

/* The id of the sampled thread's Python stack, or STACK_NONE.  Called
 * right after its native user stack was stored, which is still in scratch.
 * A global function, checked once for the sampler and the switch. */
__noinline __u64 python_stack(__u32 pid, __u32 tid, __u32 gen)
{
	__u32 zero = 0;
	const struct py_proc *l = bpf_map_lookup_elem(&py_procs, &pid);
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	struct py_state *s = bpf_map_lookup_elem(&py_cpu, &zero);
	if (!l || !st || !s || l->gen != gen)
		return STACK_NONE;
	__builtin_memcpy(&s->l, l, sizeof(s->l));
	s->in_eval = 0;
	bpf_loop(SCORCH_MAX_DEPTH, py_eval_step, NULL, 0);
	if (!s->in_eval)
		return STACK_NONE;
	s->nr = 0;
	s->truncated = 0;
	s->failed = 0;
	__u64 ts = py_find_thread(s, tid), at = 0;
	if (!ts) {
		stat_inc(STAT_PY_NO_THREAD);
		return STACK_NONE;
	}
	if (s->l.tstate_cframe >= 0) {
		if (!py_read(ts + s->l.tstate_cframe, &at))
			at = 0;
	} else {
		at = ts;
	}
	if (!at || !py_read(at + s->l.current_frame, &s->frame)) {
		stat_inc(STAT_PY_READ_ERR);
		return STACK_NONE;
	}
	bpf_loop(SCORCH_MAX_DEPTH + 1, py_step, NULL, 0);
	if (s->failed)
		stat_inc(STAT_PY_READ_ERR);
	if (s->nr == 0)
		return STACK_NONE;
	st->nr = s->nr;
	st->flags = 0;
	if (s->truncated) {
		st->flags = STACK_F_TRUNCATED;
		stat_inc(STAT_PY_TRUNCATED);
	}
	stat_inc(STAT_PY_STACKS);
	__u64 id = store_stack(PY_STACK_SEED);
	runtime_stack_new(pid, gen, id);
	return id;
}

#endif
