/* SPDX-License-Identifier: MIT */
/*
 * Types shared by the BPF programs and userspace.  Fixed-width types and
 * explicit padding only: keys are hashed byte for byte, so BPF zeroes them
 * before use and userspace _Static_asserts their sizes.
 */
#ifndef SCORCH_BPF_SCORCH_H
#define SCORCH_BPF_SCORCH_H

#ifndef __KERNEL__
#ifndef __bpf__
#include <linux/types.h>
#endif
#endif

/* Frames per stack; the kernel's perf_event_max_stack sysctl defaults to 127. */
#define SCORCH_MAX_DEPTH 127
#define SCORCH_COMM_LEN 16

/* Stack ids with a meaning of their own; a real stack's id is its content hash (>= 16). */
#define STACK_NONE 0     /* not collected (-U / -K, or no frames in that mode) */
#define STACK_LOST 1     /* collection failed (bpf_get_stack error): counted in stats */
#define STACK_DROPPED 2  /* stacks map full: counted in stats */
#define STACK_ID_MIN 16

#define STACK_F_TRUNCATED 1u /* the stack filled SCORCH_MAX_DEPTH frames */

struct stack_trace {
	__u32 nr;    /* frames in ips */
	__u32 flags; /* STACK_F_* */
	__u64 ips[SCORCH_MAX_DEPTH];
};

struct sample_key {
	__u32 pid; /* tgid, 0 for idle */
	__u32 tid; /* 0 unless per-thread */
	__u32 gen; /* exec generation of pid: which /proc/PID/maps snapshot applies */
	__u32 cpu_pad;
	__u64 kstack; /* stack id */
	__u64 ustack; /* stack id */
	__u64 pystack; /* stack id of the Python frames (PY_FRAME_*), STACK_NONE without */
	char comm[SCORCH_COMM_LEN];
};

/* A thread off the CPU now (offcpu_starts, by tid): its key, stacks
 * included, and when it left. */
struct offcpu_start {
	struct sample_key key;
	__u64 ts;
};

/* Sent for a process's 1st, 2nd, 4th, 8th ... sample after start or exec
 * (up to SCORCH_ANNOUNCE_MAX): userspace reads /proc/PID/maps for (pid, gen)
 * each time and merges, so mappings made after the first sample (the dynamic
 * loader's, dlopen's) are known even if the process exits before the end.
 * With unwind tables also at the exec of a followed process, and when the
 * unwinder meets a pc outside every mapping it has for the process (its 1st,
 * 2nd, 4th ... such pc): a library mapped since its tables were set up. */
struct proc_event {
	__u32 pid;
	__u32 gen;
};

#define SCORCH_ANNOUNCE_MAX 4096

/* Values in the pid filter (pids): a process followed, or one followed from
 * its next exec on.  The command scorch forks is the latter, as perf's
 * enable_on_exec: until it execs, it is scorch waiting to run the command,
 * and reading that image's maps and compiling its libraries' unwind tables
 * (13-19 ms here) held up the command's own, and its start. */
#define PID_FOLLOWED 1
#define PID_FROM_EXEC 2

struct proc_state {
	__u32 gen;
	__u32 samples; /* since start or exec */
	__u32 misses;  /* unwinder pcs outside every mapping of the process's tables */
	__u32 pad;
	__u64 cgroup;  /* its cgroup v2 id at its first sample and each exec (0: unknown) */
};

/* A process the sampler announced, as it was when it exited: an agent's
 * announcements are often read after a short process is gone. */
struct proc_exit {
	__u32 gen;
	__u32 pad;
	__u64 cgroup; /* as proc_state's */
	char comm[16];
};

enum scorch_stat {
	STAT_SAMPLES = 0,     /* samples taken that passed the filters */
	STAT_KSTACK_LOST,     /* bpf_get_stack failed for the kernel stack */
	STAT_USTACK_LOST,     /* bpf_get_stack failed for the user stack */
	STAT_STACKS_FULL,     /* a stack could not be stored: stacks map full */
	STAT_COUNTS_FULL,     /* a sample could not be counted: counts map full */
	STAT_TRUNCATED,       /* samples with a stack cut at SCORCH_MAX_DEPTH */
	STAT_PROC_EVENTS_LOST,/* process ring buffer full */
	STAT_PROCS_FULL,      /* process table full */
	STAT_FOLLOW_FULL,     /* pid filter full: a child could not be followed */
	STAT_UNWIND_DWARF,    /* user stacks unwound with CFI tables (--unwind dwarf|auto) */
	STAT_UNWIND_NO_TABLE, /* user stacks of processes without tables yet: frame pointers */
	STAT_UNWIND_FP_FRAMES,/* frames stepped with frame pointers: code without a table (JIT, [vdso]) */
	STAT_UNWIND_ROW_MISS, /* frames at a pc the table has no rule for (gap, unsupported rule) */
	STAT_UNWIND_READ_ERR, /* stacks ended early: user stack unreadable at the computed address */
	STAT_UNWIND_BAD_FRAME,/* stacks ended early: the stack pointer did not move up */
	STAT_UNWIND_SIGNAL,   /* signal frames unwound through */
	STAT_USTACK_EXITED,   /* samples in exit after the address space was torn down: kernel stack only */
	STAT_OFFCPU_FULL,     /* off-CPU waits lost: the table of waiting threads or of their counts full */
	STAT_OFFCPU_SHORT,    /* off-CPU waits shorter than the threshold, dropped */
	STAT_PY_STACKS,       /* samples with Python frames */
	STAT_PY_NO_THREAD,    /* samples in the eval loop whose thread state was not found */
	STAT_PY_READ_ERR,     /* Python frame walks ended early: a frame unreadable */
	STAT_PY_TRUNCATED,    /* Python stacks cut at SCORCH_MAX_DEPTH frames */
	STAT_PY_EVENTS_LOST,  /* new Python stacks not announced: ring buffer full */
	STAT_OFFCPU_NO_STACK, /* windowed off-CPU waits whose stack was in neither window's map at wake-up: STACK_DROPPED */
	STAT_OFFCPU_STACKS_FULL, /* windowed off-CPU stacks not stored: the window's off-CPU stacks map full */
	STAT_JAVA_STACKS,     /* samples with interpreted Java frames */
	STAT_JAVA_READ_ERR,   /* interpreted Java frames whose Method* could not be read (recorded as 0) */
	STAT_BOOT,            /* samples taken by the boot sampler, before the Python and Java walkers were in place */
	STAT_NR,
};

/* Windowed: entries each window's maps gained since userspace last cleared
 * them (window_fill[window][FILL_*] in .bss), so that userspace can drain a
 * window before its maps fill. */
enum scorch_fill {
	FILL_STACKS = 0,     /* stacks, stacks1 */
	FILL_COUNTS,         /* counts, counts1 */
	FILL_OFFCPU_STACKS,  /* offcpu_stacks, offcpu_stacks1 */
	FILL_OFFCPU_COUNTS,  /* offcpu_counts, offcpu_counts1 */
	FILL_NR,
};

/*
 * DWARF unwinding.  Userspace compiles each mapped file's CFI into rows (the
 * layout of symbolize/cfi.h's struct cfi_row) stored in one array map; each
 * process gets its executable mappings, sorted by start, with the slice of
 * rows of its file.  A row holds from its pc to the next row's pc.
 */
#define UNWIND_MAX_MAPPINGS 64 /* per process; a power of two */
#define UNWIND_MAPPING_STEPS 7 /* binary search steps over mappings: log2(64) + 1 */
#define UNWIND_ROW_STEPS 25    /* binary search steps over one file's rows: 2^24 rows */
#define UNWIND_MAX_FILE_ROWS (1u << 24)

enum unwind_cfa {
	UNWIND_CFA_GAP = 0,     /* no CFI here: one frame-pointer step */
	UNWIND_CFA_RSP = 1,     /* CFA = rsp + cfa_offset */
	UNWIND_CFA_RBP = 2,     /* CFA = rbp + cfa_offset */
	UNWIND_CFA_PLT = 3,     /* CFA = rsp + cfa_offset + ((ip & 15) >= rbp_offset ? 8 : 0) */
	UNWIND_CFA_END = 4,     /* outermost frame: the stack is complete */
	UNWIND_CFA_UNSUPPORTED = 5, /* as GAP */
	UNWIND_CFA_SIGNAL = 6,  /* signal trampoline: rsp at rsp + cfa_offset, rip 8 above, rbp at rsp + rbp_offset */
};

enum unwind_rbp {
	UNWIND_RBP_UNCHANGED = 0,
	UNWIND_RBP_CFA_OFFSET = 1, /* saved at CFA + rbp_offset */
};

struct unwind_row {
	__u64 pc; /* file virtual address */
	__s32 cfa_offset;
	__s16 rbp_offset;
	__u8 cfa_type;
	__u8 rbp_type;
};

struct unwind_mapping {
	__u64 start, end; /* [start, end) in the process */
	__u64 bias;       /* file address = address - bias */
	__u32 first_row;  /* the file's rows in unwind_rows */
	__u32 nrows;      /* 0: no table (frame pointers) */
};

struct unwind_proc {
	__u32 gen; /* exec generation the mappings were read for */
	__u32 n;   /* mappings used */
	struct unwind_mapping maps[UNWIND_MAX_MAPPINGS];
};

/*
 * A program's tables compiled before the command ran (userspace's preload),
 * by the program file's device (the kernel's encoding: major << 20 | minor)
 * and inode.  At the exec of a followed process running it, the BPF side
 * sets the process's first mappings itself, the program's at the address
 * the kernel loaded it (mm->start_code) and its dynamic loader's (AT_BASE),
 * before userspace has read the process: its first samples are unwound
 * with tables however late userspace reads it.
 */
#define UNWIND_EXEC_FILES 8

struct unwind_exec_key {
	__u64 dev, ino;
};

struct unwind_exec_file {
	__u64 lo, hi; /* file addresses of the executable segments: [lo, hi) */
	__u32 first_row, nrows;
};

struct unwind_exec {
	struct unwind_exec_file prog;
	struct unwind_exec_file loader; /* nrows 0: none, or no table */
};

/*
 * Python frames (CPython 3.10+).  For a process userspace found to be
 * CPython, the sampler walks the sampled thread's chain of interpreter
 * frames when its native stack is in the eval loop, and stores one u64 per
 * frame, innermost first, like a stack: the code object's address, the
 * index of the instruction being executed, and whether the frame is the
 * first one a C call of the eval loop ran (PY_FRAME_ENTRY): the frames
 * up to and including an entry frame belong to the innermost native
 * _PyEval_EvalFrameDefault frame still unclaimed.  Offsets come from
 * userspace (tables per minor version, or the interpreter's own
 * _Py_DebugOffsets).
 */
#define PY_FRAME_ENTRY (1ull << 63)
#define PY_FRAME_INSTR_SHIFT 44
#define PY_FRAME_INSTR_MAX ((1u << 19) - 1)
#define PY_FRAME_CODE(f) (((f) & ((1ull << PY_FRAME_INSTR_SHIFT) - 1)) << 3)
#define PY_FRAME_INSTR(f) ((__u32)((f) >> PY_FRAME_INSTR_SHIFT) & PY_FRAME_INSTR_MAX)
#define PY_STACK_SEED (1ull << 40) /* store_stack flags of a Python stack: its ids differ from native ones */
#define PY_OWNER_NONE 0xff
#define PY_FRAME_MAX_BYTES 128 /* the most of a frame the walk reads (py_proc.frame_bytes) */
#define PY_WALK_LASTI 1        /* frame_instr is an int: the instruction's index (3.10's f_lasti) */
#define PY_WALK_ALL_ENTRY 2    /* every frame is an entry frame: each ran in its own eval loop call (3.10) */

struct py_proc {
	__u32 gen;                  /* exec generation this is for */
	__u32 version;              /* PY_VERSION_HEX, e.g. 0x030b02f0 */
	__u64 interp_head;          /* address of _PyRuntime.interpreters.head */
	__u64 eval_start, eval_end; /* _PyEval_EvalFrameDefault in the process */
	__u64 cold_start, cold_end; /* its .cold part when the symbol table says, else 0 */
	__u16 interp_threads_head;  /* PyInterpreterState.threads.head */
	__u16 tstate_next;          /* PyThreadState.next */
	__u16 tstate_thread_id;     /* PyThreadState.thread_id: pthread_self() of its thread */
	__s16 tstate_cframe;        /* PyThreadState.cframe, or -1 (3.13+: the frame is in the thread state) */
	__u16 current_frame;        /* _PyCFrame.current_frame, or PyThreadState.current_frame */
	__u16 frame_code;           /* _PyInterpreterFrame.f_code (f_executable), PyFrameObject.f_code (3.10) */
	__u16 frame_previous;       /* .previous, or .f_back (3.10) */
	__u16 frame_instr;          /* .prev_instr (instr_ptr), or 3.10's PyFrameObject.f_lasti */
	__s16 frame_is_entry;       /* .is_entry (3.11), or -1 */
	__u16 frame_owner;          /* .owner */
	__u16 code_first_instr;     /* PyCodeObject.co_code_adaptive: the first code unit */
	__u8 owner_cstack;          /* owner of the C-stack shim frame an eval loop pushes (3.12+), or PY_OWNER_NONE */
	__u8 frame_bytes;           /* bytes of each frame read: past every field above (<= PY_FRAME_MAX_BYTES) */
	__u8 walk_flags;            /* PY_WALK_* */
	__u8 pad[3];
};

/*
 * Interpreted Java frames (HotSpot's x86-64 template interpreter).  For a
 * JVM userspace described (struct java_proc), the native unwinder, at each
 * frame whose pc is in the interpreter's code, reads the Method* and the
 * bytecode pointer the interpreter keeps at fixed slots below that frame's
 * rbp, and stores one u64 per such frame, innermost first, as a stack of
 * its own (the sample key's pystack): the Method* and the low bits of the
 * bcp (the bytecode index once userspace knows where the method's code
 * starts).  Each interpreter frame of the native stack runs the Java frame
 * of the same rank.  Announced as Python stacks are (py_events), for
 * userspace to name the methods while the process lives.
 */
#define JAVA_FRAME_BCP_SHIFT 44
#define JAVA_FRAME_BCP_MASK ((1u << 19) - 1)
#define JAVA_FRAME_METHOD(f) (((f) & ((1ull << JAVA_FRAME_BCP_SHIFT) - 1)) << 3)
#define JAVA_FRAME_BCP(f) ((__u32)((f) >> JAVA_FRAME_BCP_SHIFT) & JAVA_FRAME_BCP_MASK)
#define JAVA_STACK_SEED (1ull << 41) /* store_stack flags of a Java stack */
#define JAVA_FP_METHOD (-3 * 8)       /* frame::interpreter_frame_method_offset (x86-64, JDK 9+) */
#define JAVA_FP_BCP (-8 * 8)          /* frame::interpreter_frame_bcp_offset */

struct java_proc {
	__u32 gen;                      /* exec generation this is for */
	__u32 pad;
	__u64 interp_start, interp_end; /* the interpreter's code (AbstractInterpreter::_code's buffer) */
};

/* A new Python stack (its id in stacks): userspace reads its code objects
 * while the process lives. */
struct py_event {
	__u32 pid;
	__u32 gen;
	__u64 stack;
};

#endif
