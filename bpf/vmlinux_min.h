/* SPDX-License-Identifier: MIT */
/*
 * The few kernel types the BPF programs read, pinned here instead of a
 * vmlinux.h dumped from the build host: preserve_access_index makes libbpf
 * relocate every field access against the running kernel's BTF (CO-RE), so
 * the object is correct on any kernel that has these fields, whatever kernel
 * built it.
 */
#ifndef SCORCH_VMLINUX_MIN_H
#define SCORCH_VMLINUX_MIN_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <stdbool.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct task_struct {
	int pid;
	int tgid;
};

/* The kernel's struct pt_regs (the uapi one, with other field names, comes
 * with linux/bpf_perf_event.h): the "___scorch" flavour is matched to
 * pt_regs by libbpf.  The user registers bpf_task_pt_regs() returns. */
struct pt_regs___scorch {
	unsigned long bp;
	unsigned long sp;
	unsigned long ip;
};
#pragma clang attribute pop

#endif
