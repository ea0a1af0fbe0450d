/* SPDX-License-Identifier: MIT */
/*
 * cachedir: where scorch keeps what it derives once and reuses (the kernel
 * symbol table and minimal BTF per boot, inflated debug files by build
 * ID).  A cache is trusted only in a directory of ours that nobody else can
 * write: a planted file would name frames or patch BPF programs.
 */
#ifndef SCORCH_BASE_CACHEDIR_H
#define SCORCH_BASE_CACHEDIR_H

#include <stdbool.h>
#include <stddef.h>

/* Creates dir (mode 0700) if it is missing; true when it is a directory
 * (not a symlink) owned by our euid and not writable by group or others. */
bool cachedir_ready(const char *dir);

/* The running kernel's boot id (/proc/sys/kernel/random/boot_id) into buf,
 * newline stripped.  0, -EINVAL when empty or holding a '/', or -errno. */
int cachedir_boot_id(char *buf, size_t size);

#endif
