/* SPDX-License-Identifier: MIT */
/*
 * debugpkg: which Debian package installed a file, from dpkg's database
 * (ROOT/var/lib/dpkg/info/PKG[:ARCH].list, one path a line), and which
 * package holds its debug symbols.  record's end-of-run hints use it, and
 * only when a hint is going to be printed: one pass over the lists answers
 * every file asked about at once.
 *
 * Merged /usr: when ROOT/bin is a symlink to usr/bin, /bin/x and /usr/bin/x
 * (likewise sbin, lib, lib32, lib64, libx32) are one file, and dpkg may list
 * it under either.
 */
#ifndef SCORCH_PROFILER_DEBUGPKG_H
#define SCORCH_PROFILER_DEBUGPKG_H

#include <stdbool.h>
#include <stddef.h>

struct debugpkg_query {
	const char *path; /* absolute, as mapped (in: the caller's) */
	char pkg[128];	  /* out: the owning package without ":ARCH", "" if none lists it */
};

/*
 * Fills q[i].pkg for each of the n paths from the dpkg database under root
 * ("/" for ours).  0, or -errno when the database cannot be read (then
 * every pkg is "").
 */
int debugpkg_owners(const char *root, struct debugpkg_query *q, size_t n);

/*
 * The package to install for pkg's debug symbols in Debian 12, into out:
 * PKG-dbgsym from Debian's debug archive (returns true), or, for the
 * sources that ship them in the main archive instead (returns false):
 * libc6 -> libc6-dbg; python3.X, python3.X-minimal, libpython3.X,
 * libpython3.X-minimal, libpython3.X-stdlib -> python3.X-dbg (whose
 * Build-Ids list the standard interpreter's and its extension modules').
 */
bool debugpkg_debug_name(const char *pkg, char *out, size_t len);

#endif
