/* SPDX-License-Identifier: MIT */
/*
 * debuginfo: finds the debug information of an ELF file kept apart from it.
 * Looked for in this order, the way gdb does:
 *   1. <debug_root>/.build-id/xx/rest.debug (the build ID's first byte, then the rest);
 *   2. the .gnu_debuglink name next to the file, in its .debug/ directory,
 *      and under <debug_root>/<its directory>, accepted only when the CRC-32
 *      the link records matches;
 *   3. <debug_root>/<path>.
 * A candidate whose build ID differs from the file's is refused.  Separately,
 * the mini debuginfo of .gnu_debugdata (an xz-compressed ELF holding a
 * .symtab, as Fedora ships) can be unpacked.
 */
#ifndef SCORCH_SYMBOLIZE_DEBUGINFO_H
#define SCORCH_SYMBOLIZE_DEBUGINFO_H

#include <stddef.h>

/* Opens the debug file for the ELF open on fd.  path is the file's path in
 * its process; root (e.g. "/proc/PID/root", or "" for ours) is where that
 * path is resolved, confined to it (base/openroot.h), NULL when it is gone
 * (no lookup next to the file); build_id is its hex build ID or NULL.  *out
 * is an fd the caller closes; -ENOENT when there is none. */
int debuginfo_open(int fd, const char *debug_root, const char *root, const char *path, const char *build_id,
		   int *out);
/* Unpacks the .gnu_debugdata section of the ELF open on fd into a malloc'ed
 * image (*image, *len; the caller frees). -ENOENT when there is none,
 * -EBADMSG when it does not decompress, -ENOMEM. */
int debuginfo_minidebug(int fd, void **image, size_t *len);
/* The build ID of the ELF file open on fd in lowercase hex (out has room for
 * 129 bytes); -ENOENT when it has none. */
int debuginfo_build_id(int fd, char *out);

#endif
