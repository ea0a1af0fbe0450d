/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * User stacks unwound in the kernel from compiled CFI tables (--unwind
 * dwarf|auto).  Included by profile.bpf.c after its maps, stat_inc() and
 * store_stack().
 *
 * From the user registers at the sample (the perf event's when it
 * interrupted user mode, the task's saved ones when it interrupted the
 * kernel), each step finds the mapping holding the pc (binary search over
 * the process's sorted mappings), the row in effect (binary search over the
 * file's slice of unwind_rows), computes the CFA, reads the return address
 * at CFA - 8 and rbp where the row says it was saved.  A pc outside any
 * table (JIT code, the vDSO, a gap) takes one frame-pointer step instead.
 * After the first frame, and except right after a signal frame, the row is
 * looked up at pc - 1: a return address points past its call, possibly into
 * the next function.  Every way a stack ends early is counted in stats.
 *
 * Kept cheap to verify (its load delays the profiled command's start): one
 * frame is the global function unwind_frame(), which the verifier checks
 * once on its own, and the walk's state is in a per-CPU map.
 */
#ifndef SCORCH_BPF_UNWIND_BPF_H
#define SCORCH_BPF_UNWIND_BPF_H

const volatile bool unwind_dwarf = false;
const volatile bool java_walk = false; /* java.bpf.h: interpreted Java frames */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_row);
	__uint(max_entries, 1); /* --unwind-rows, set before load */
	__uint(map_flags, BPF_F_MMAPABLE);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct unwind_proc);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* written by userspace only */
} unwind_procs SEC(".maps");

struct unwind_state {
	__u64 ip, sp, bp;
	__u32 pid;
	__u32 nr;
	__u8 exact;     /* ip is an exact pc (first frame, after a signal frame) */
	__u8 truncated;
	__u8 java;      /* a JVM: each frame goes by java_frame() too (java.bpf.h) */
	__u8 pad;
	__u32 mid;      /* unwind_find_mapping's probe, kept out of the verifier's sight */
};

/* java.bpf.h's hooks (global functions, defined there). */
int java_begin(__u32 pid, __u32 gen);
int java_frame(__u64 pc, __u64 bp);

/* The walk's state, per CPU rather than on the caller's stack: the verifier
 * knows nothing of values read from a map, so bpf_loop's callback converges
 * in a pass or two.  On the stack the frame count was a known constant in
 * each iteration and the callback was checked once per count (128 times,
 * 91 ms of a launch). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_state);
	__uint(max_entries, 1);
} unwind_cpu SEC(".maps");

#define UNWIND_CONTINUE 0
#define UNWIND_STOP 1

/* The mapping holding pc, by binary search.  The probe's index goes through
 * s->mid, memory the verifier knows nothing of: indexing maps[] with it
 * directly made the verifier track lo and hi exactly, and check the search
 * once for every pair they can take (4,500 of the boot sampler's 11,511
 * instructions verified, with hi clamped to a constant as it was).  n is
 * never above UNWIND_MAX_MAPPINGS (userspace's limit). */
static __always_inline const struct unwind_mapping *unwind_find_mapping(struct unwind_state *s,
									const struct unwind_proc *p, __u64 pc)
{
	__u32 lo = 0, hi = p->n;
	if (hi > UNWIND_MAX_MAPPINGS)
		return NULL;
	for (int k = 0; k < UNWIND_MAPPING_STEPS; k++) {
		if (lo >= hi)
			break;
		__u32 mid = (lo + hi) / 2;
		*(volatile __u32 *)&s->mid = mid;
		const struct unwind_mapping *m = &p->maps[*(volatile __u32 *)&s->mid & (UNWIND_MAX_MAPPINGS - 1)];
		if (pc < m->start)
			hi = mid;
		else if (pc >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/* The row in effect at file address vaddr: the last one with pc <= vaddr. */
static __always_inline const struct unwind_row *unwind_find_row(__u32 first, __u32 nrows, __u64 vaddr)
{
	__u32 lo = first, hi = first + nrows;
	for (int k = 0; k < UNWIND_ROW_STEPS; k++) {
		if (lo >= hi)
			break;
		__u32 mid = lo + (hi - lo) / 2;
		const struct unwind_row *r = bpf_map_lookup_elem(&unwind_rows, &mid);
		if (!r)
			return NULL;
		if (r->pc <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == first)
		return NULL;
	lo--;
	return bpf_map_lookup_elem(&unwind_rows, &lo);
}

static __always_inline bool read_user_u64(__u64 addr, __u64 *out)
{
	return bpf_probe_read_user(out, sizeof(*out), (const void *)addr) == 0;
}

/* One frame-pointer step: [rbp] is the caller's rbp, [rbp + 8] the return address. */
static __always_inline long unwind_fp_step(struct unwind_state *s)
{
	__u64 ra, bp;
	stat_inc(STAT_UNWIND_FP_FRAMES);
	if (s->bp < s->sp || s->bp & 7) {
		stat_inc(STAT_UNWIND_BAD_FRAME);
		return UNWIND_STOP;
	}
	if (!read_user_u64(s->bp + 8, &ra) || !read_user_u64(s->bp, &bp)) {
		stat_inc(STAT_UNWIND_READ_ERR);
		return UNWIND_STOP;
	}
	s->sp = s->bp + 16;
	s->bp = bp;
	s->ip = ra;
	s->exact = 0;
	return ra ? UNWIND_CONTINUE : UNWIND_STOP;
}

/* Code without a table (JIT, anonymous memory): CPython 3.12's perf
 * trampolines (-X perf) are "sub $8,%rsp; call *%rcx; add $8,%rsp; ret"
 * and keep no frame pointer, so a return address into one, at the bytes
 * of "add $8,%rsp; ret", is stepped over exactly (the return address 8
 * above the stack pointer); anything else takes a frame-pointer step. */
#define UNWIND_TRAMPOLINE_CODE 0xc308c48348ull /* 48 83 c4 08 c3 */
static __always_inline long unwind_untabled_step(struct unwind_state *s)
{
	__u64 code, ra;
	if (!s->exact && read_user_u64(s->ip, &code) && (code & 0xffffffffffull) == UNWIND_TRAMPOLINE_CODE) {
		if (!read_user_u64(s->sp + 8, &ra)) {
			stat_inc(STAT_UNWIND_READ_ERR);
			return UNWIND_STOP;
		}
		s->sp += 16;
		s->ip = ra;
		return ra ? UNWIND_CONTINUE : UNWIND_STOP;
	}
	return unwind_fp_step(s);
}

/* A signal frame: the interrupted registers are in the ucontext at rsp. */
static __always_inline long unwind_signal_step(struct unwind_state *s, const struct unwind_row *r)
{
	__u64 sp, ip, bp;
	if (!read_user_u64(s->sp + r->cfa_offset, &sp) || !read_user_u64(s->sp + r->cfa_offset + 8, &ip) ||
	    !read_user_u64(s->sp + r->rbp_offset, &bp)) {
		stat_inc(STAT_UNWIND_READ_ERR);
		return UNWIND_STOP;
	}
	stat_inc(STAT_UNWIND_SIGNAL);
	s->sp = sp;
	s->ip = ip;
	s->bp = bp;
	s->exact = 1;
	return ip ? UNWIND_CONTINUE : UNWIND_STOP;
}

/* A pc outside every mapping the process's tables know: perhaps a library
 * mapped since they were set up.  Userspace is told on the 1st, 2nd, 4th ...
 * such pc of an exec generation (JIT code would otherwise ask each time). */
static __always_inline void unwind_miss(__u32 pid)
{
	struct proc_state *ps = bpf_map_lookup_elem(&procs, &pid);
	if (ps && power_of_two(++ps->misses))
		announce(pid, ps->gen);
}

/* One frame: records s->ip and steps to the caller.  A global function:
 * the verifier checks it once, whatever the state of its caller. */
__noinline int unwind_frame(void)
{
	__u32 zero = 0;
	struct unwind_state *s = bpf_map_lookup_elem(&unwind_cpu, &zero);
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || !st)
		return UNWIND_STOP;
	__u32 nr = s->nr;
	const struct unwind_proc *p = bpf_map_lookup_elem(&unwind_procs, &s->pid);
	if (!p)
		return UNWIND_STOP;
	__u64 pc = s->exact ? s->ip : s->ip - 1;
	const struct unwind_mapping *m = unwind_find_mapping(s, p, pc);
	if (!m) {
		unwind_miss(s->pid);
		/* A return address outside every mapping, with rbp zero: past the
		 * outermost frame of code whose CFI does not end the stack (the
		 * child side of a raw clone, which only clears rbp as the ABI asks
		 * of _start).  The end, not a frame: a frame-pointer step from
		 * rbp 0 would fail anyway. */
		if (nr && !s->bp)
			return UNWIND_STOP;
	}
	if (nr >= SCORCH_MAX_DEPTH) {
		s->truncated = 1;
		return UNWIND_STOP;
	}
	st->ips[nr] = s->ip;
	s->nr = nr + 1;
	if (s->java)
		java_frame(pc, s->bp);
	if (!m || !m->nrows)
		return unwind_untabled_step(s);
	const struct unwind_row *r = unwind_find_row(m->first_row, m->nrows, pc - m->bias);
	if (!r) {
		stat_inc(STAT_UNWIND_ROW_MISS);
		return unwind_fp_step(s);
	}
	__u64 cfa;
	switch (r->cfa_type) {
	case UNWIND_CFA_RSP:
		cfa = s->sp + r->cfa_offset;
		break;
	case UNWIND_CFA_RBP:
		cfa = s->bp + r->cfa_offset;
		break;
	case UNWIND_CFA_PLT:
		cfa = s->sp + r->cfa_offset + ((s->ip & 15) >= (__u64)r->rbp_offset ? 8 : 0);
		break;
	case UNWIND_CFA_END:
		return UNWIND_STOP;
	case UNWIND_CFA_SIGNAL:
		return unwind_signal_step(s, r);
	default: /* a gap, or a rule the table cannot hold */
		stat_inc(STAT_UNWIND_ROW_MISS);
		return unwind_fp_step(s);
	}
	if (cfa <= s->sp) {
		stat_inc(STAT_UNWIND_BAD_FRAME);
		return UNWIND_STOP;
	}
	__u64 ra, bp = s->bp;
	if (!read_user_u64(cfa - 8, &ra) ||
	    (r->rbp_type == UNWIND_RBP_CFA_OFFSET && !read_user_u64(cfa + r->rbp_offset, &bp))) {
		stat_inc(STAT_UNWIND_READ_ERR);
		return UNWIND_STOP;
	}
	s->sp = cfa;
	s->bp = bp;
	s->ip = ra;
	s->exact = 0;
	return ra ? UNWIND_CONTINUE : UNWIND_STOP;
}

static long unwind_step(__u32 i, void *data)
{
	(void)i;
	(void)data;
	return unwind_frame() == UNWIND_CONTINUE ? UNWIND_CONTINUE : UNWIND_STOP;
}

/* Room to copy a process's tables (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_proc);
	__uint(max_entries, 1);
} unwind_copy SEC(".maps");

/* A forked child has its parent's mappings: it gets a copy of the parent's
 * tables under an exec generation of its own.  Userspace takes it over when
 * its first sample announces it (most children exec first, and need no
 * work); the rows stay valid meanwhile: the parent holds them, and a file's
 * rows are released only a sweep (a second) after its last process is
 * gone.  Without this, a child's samples before userspace read its maps
 * were walked with frame pointers: a shell's forks, make's. */
static __always_inline void unwind_fork(__u32 ppid, __u32 cpid)
{
	__u32 zero = 0;
	const struct unwind_proc *pp = bpf_map_lookup_elem(&unwind_procs, &ppid);
	const struct proc_state *ps = pp ? bpf_map_lookup_elem(&procs, &ppid) : NULL;
	struct unwind_proc *copy = bpf_map_lookup_elem(&unwind_copy, &zero);
	if (!ps || !copy || pp->gen != ps->gen)
		return;
	/* Its cgroup is not known: it may be moved before it execs (a
	 * container runtime's child). */
	struct proc_state fresh = { .gen = __sync_fetch_and_add(&next_gen, 1) };
	if (bpf_map_update_elem(&procs, &cpid, &fresh, BPF_NOEXIST))
		return;
	if (bpf_probe_read_kernel(copy, sizeof(*copy), pp))
		return;
	copy->gen = fresh.gen;
	bpf_map_update_elem(&unwind_procs, &cpid, copy, BPF_ANY);
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct unwind_exec_key);
	__type(value, struct unwind_exec);
	__uint(max_entries, UNWIND_EXEC_FILES);
} unwind_exec_files SEC(".maps");

/* The kernel fields unwind_exec reads (CO-RE flavours of the kernel's). */
struct super_block___exec {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode___exec {
	unsigned long i_ino;
	struct super_block___exec *i_sb;
} __attribute__((preserve_access_index));

struct file___exec {
	struct inode___exec *f_inode;
} __attribute__((preserve_access_index));

struct mm_struct___exec {
	unsigned long start_code;
	unsigned long saved_auxv[2]; /* AT_VECTOR_SIZE of them: sized by CO-RE */
	struct file___exec *exe_file;
} __attribute__((preserve_access_index));

struct task_struct___exec {
	struct mm_struct___exec *mm;
} __attribute__((preserve_access_index));

#define AT_BASE_ 7 /* the program interpreter's load address (elf.h's AT_BASE) */

/* The dynamic loader's load address from the auxiliary vector the kernel
 * saved at exec; 0 when there is none (a static program). */
static __always_inline __u64 auxv_base(struct mm_struct___exec *mm)
{
	const char *auxv = (const char *)mm + bpf_core_field_offset(struct mm_struct___exec, saved_auxv);
	__u32 pairs = bpf_core_field_size(struct mm_struct___exec, saved_auxv) / 16;
	for (__u32 i = 0; i < 32 && i < pairs; i++) {
		__u64 kv[2];
		if (bpf_probe_read_kernel(kv, sizeof(kv), auxv + i * 16) || !kv[0])
			return 0;
		if (kv[0] == AT_BASE_)
			return kv[1];
	}
	return 0;
}

/* Before userspace reads the process p just exec'd (gen): its program's and
 * loader's mappings, where the program's tables were compiled ahead. */
static __always_inline void unwind_exec(struct task_struct *p, __u32 pid, __u32 gen)
{
	struct mm_struct___exec *mm = BPF_CORE_READ((struct task_struct___exec *)p, mm);
	struct unwind_exec_key k = {
		.dev = BPF_CORE_READ(mm, exe_file, f_inode, i_sb, s_dev),
		.ino = BPF_CORE_READ(mm, exe_file, f_inode, i_ino),
	};
	const struct unwind_exec *e = bpf_map_lookup_elem(&unwind_exec_files, &k);
	__u32 zero = 0;
	struct unwind_proc *up = bpf_map_lookup_elem(&unwind_copy, &zero);
	if (!e || !up || !e->prog.nrows)
		return;
	__u64 start = BPF_CORE_READ(mm, start_code), bias = start - e->prog.lo;
	struct unwind_mapping prog = { start, bias + e->prog.hi, bias, e->prog.first_row, e->prog.nrows };
	__u64 base = e->loader.nrows ? auxv_base(mm) : 0;
	struct unwind_mapping ld = { base + e->loader.lo, base + e->loader.hi, base, e->loader.first_row,
				     e->loader.nrows };
	up->gen = gen;
	up->n = base ? 2 : 1;
	bool ld_first = base && ld.start < prog.start; /* sorted by start */
	up->maps[0] = ld_first ? ld : prog;
	up->maps[1] = ld_first ? prog : ld;
	bpf_map_update_elem(&unwind_procs, &pid, up, BPF_ANY);
}

/* A process whose libraries changed (the dynamic loader mapping them at
 * start, dlopen): announced at once, so that a library's tables come
 * before its first samples rather than after one missed them, if it has
 * tables for its present image or is followed (its first tables may still
 * be on the way).  A child's copy of its parent's tables (unwind_fork) is
 * of the image before its exec: counting it announced every program a
 * sampled shell or spawner started, at its loader's start, sampled or not
 * (the agent read 140 processes a second under churn, /bin/true included:
 * 7 % of a core). */
static __always_inline void unwind_libraries_changed(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct proc_state *ps = bpf_map_lookup_elem(&procs, &pid);
	if (!ps)
		return;
	const struct unwind_proc *up = bpf_map_lookup_elem(&unwind_procs, &pid);
	if ((up && up->gen == ps->gen) || (filter_pid && pid_followed(pid)))
		announce(pid, ps->gen);
}

/* A uprobe on the dynamic loader's _dl_debug_state, the breakpoint
 * debuggers set (r_debug.r_brk): glibc's and musl's loaders call it before
 * and after they map or unmap libraries.  It costs nothing elsewhere: a
 * hook on system calls made every system call of the machine take the
 * kernel's slow exit path while recording (+121 ns per getppid with
 * tp_btf/sys_exit, +34 ns with the mmap syscall tracepoint, on a 6.18 VM
 * where a getppid takes ~980 ns), and put its frames in the profile. */
SEC("uprobe")
int on_loader(void *ctx)
{
	unwind_libraries_changed();
	return 0;
}

/* Where the loader cannot be probed (no uprobes, a loader without the
 * symbol), followed processes only: the mmap system call's exit
 * tracepoint after an executable file mapping.  Its arguments are in the
 * registers saved at entry, which the system call leaves as they were. */
struct pt_regs___sys {
	unsigned long dx, r10; /* mmap's prot, flags */
} __attribute__((preserve_access_index));

struct syscall_exit_ctx {
	__u64 common;
	int nr;
	int pad;
	long ret;
};

SEC("tracepoint/syscalls/sys_exit_mmap")
int on_mmap(struct syscall_exit_ctx *ctx)
{
	if (ctx->ret <= 0) /* an error (user addresses are below 2^47) */
		return 0;
	struct pt_regs___sys *regs = (struct pt_regs___sys *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs || !(BPF_CORE_READ(regs, dx) & 4 /* PROT_EXEC */) || (BPF_CORE_READ(regs, r10) & 0x20 /* MAP_ANONYMOUS */))
		return 0;
	unwind_libraries_changed();
	return 0;
}

/* The user registers at the sample: the event's if it interrupted user
 * mode, else (or without an event: a context switch) those the task saved
 * entering the kernel. */
static __always_inline bool unwind_user_regs(struct bpf_perf_event_data *ctx, struct unwind_state *s)
{
	if (ctx && (ctx->regs.cs & 3) == 3) {
		s->ip = ctx->regs.rip;
		s->sp = ctx->regs.rsp;
		s->bp = ctx->regs.rbp;
		return true;
	}
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs___scorch *regs = (struct pt_regs___scorch *)bpf_task_pt_regs(task);
	if (!regs)
		return false;
	s->ip = BPF_CORE_READ(regs, ip);
	s->sp = BPF_CORE_READ(regs, sp);
	s->bp = BPF_CORE_READ(regs, bp);
	return s->ip != 0;
}

/* The user stack of pid unwound with its tables, stored like any other, its
 * id in *id.  False (the caller walks frame pointers instead) when pid has
 * no tables for its current exec generation. */
static __always_inline bool collect_user_dwarf(struct bpf_perf_event_data *ctx, __u32 pid, __u32 gen, __u64 *id,
					       const bool boot)
{
	const struct unwind_proc *p = bpf_map_lookup_elem(&unwind_procs, &pid);
	if (!p || p->gen != gen) {
		stat_inc(STAT_UNWIND_NO_TABLE);
		return false;
	}
	__u32 zero = 0;
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	*id = STACK_NONE;
	if (!st)
		return true;
	struct unwind_state *s = bpf_map_lookup_elem(&unwind_cpu, &zero);
	if (!s)
		return true;
	__builtin_memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->exact = 1;
	s->java = !boot && java_walk && java_begin(pid, gen); /* boot: see on_sample_boot */
	if (!unwind_user_regs(ctx, s))
		return true;
	bpf_loop(SCORCH_MAX_DEPTH + 1, unwind_step, NULL, 0);
	if (s->nr == 0)
		return true;
	stat_inc(STAT_UNWIND_DWARF);
	st->nr = s->nr;
	st->flags = 0;
	if (s->truncated) {
		st->flags = STACK_F_TRUNCATED;
		stat_inc(STAT_TRUNCATED);
	}
	*id = store_stack(BPF_F_USER_STACK);
	return true;
}

#endif
