/* SPDX-License-Identifier: MIT */
/*
 * procmem: reading another process's memory (process_vm_readv), for the
 * readers of a runtime's own structures (symbolize/python.h,
 * symbolize/hotspot.h).
 */
#ifndef SCORCH_SYMBOLIZE_PROCMEM_H
#define SCORCH_SYMBOLIZE_PROCMEM_H

#include <stddef.h>
#include <stdint.h>

/* Reads len bytes at addr of pid's memory, all or nothing: 0, -ESRCH (gone),
 * -EPERM (not ours to read) or -EFAULT (not all of it mapped). */
int procmem_read(uint32_t pid, uint64_t addr, void *buf, size_t len);

#endif
