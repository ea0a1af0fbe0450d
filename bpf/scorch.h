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
	char comm[SCORCH_COMM_LEN];
};

/* Sent for a process's 1st, 2nd, 4th, 8th ... sample after start or exec
 * (up to SCORCH_ANNOUNCE_MAX): userspace reads /proc/PID/maps for (pid, gen)
 * each time and merges, so mappings made after the first sample (the dynamic
 * loader's, dlopen's) are known even if the process exits before the end. */
struct proc_event {
	__u32 pid;
	__u32 gen;
};

#define SCORCH_ANNOUNCE_MAX 4096

struct proc_state {
	__u32 gen;
	__u32 samples; /* since start or exec */
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
	STAT_NR,
};

#endif
