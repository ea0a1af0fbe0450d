/* SPDX-License-Identifier: MIT */
/*
 * dwarfcache: debug files whose DWARF sections are compressed (Debian's
 * -dbg packages), kept by build ID in a directory with those sections
 * stored inflated.  libdw inflates every compressed .debug_* section into
 * the heap at dwarf_begin_elf (libc6-dbg's libc: 11 MB, most of a short
 * recording's instructions); from a cache file it reads them in place
 * through the file's mapping, so a later run neither inflates them nor
 * holds more of them than the pages it reads.  The lookups are libdw's
 * either way, on the same bytes.
 *
 * A cache file is an ELF file of the source's .debug_* sections (those the
 * index reads), its build ID note, the DWARF index's unit table (opening
 * the index then reads no DIE: dwarfidx.h) and a checksum section over
 * all of them;
 * one that fails any check (its ELF, its build ID, its checksum, its owner
 * and mode) is removed and written again.  The directory is bounded in
 * bytes: the least recently used files go first.
 */
#ifndef SCORCH_SYMBOLIZE_DWARFCACHE_H
#define SCORCH_SYMBOLIZE_DWARFCACHE_H

#include <stddef.h>

/* Bytes the directory may hold when the caller gives 0. */
#define DWARFCACHE_DEFAULT_BYTES ((size_t)256 << 20)

/* The cache file for the ELF file open on fd (a read-only descriptor, the
 * caller keeps it) in dir, checked, or written first: 0 and *out a new
 * descriptor.  -ENODATA when fd has no compressed DWARF or no build ID
 * (nothing to gain: read fd itself), -EPERM when dir is not a directory
 * owned by us and writable by nobody else, -errno otherwise.  max_bytes
 * bounds the directory (0: the default). */
int dwarfcache_open(const char *dir, int fd, size_t max_bytes, int *out);

/* Checks the cache file open on fd against the build ID (lowercase hex):
 * 0, or -EINVAL when it is damaged or another file's. */
int dwarfcache_check(int fd, const char *build_id);

#endif
