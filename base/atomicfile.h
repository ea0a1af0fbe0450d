/* SPDX-License-Identifier: MIT */
/*
 * atomicfile: write a file under a temporary name in the same directory and
 * rename it into place on commit, so an interrupted writer never leaves a
 * truncated file and a symlink planted at the destination is replaced, not
 * followed.  Embedded by value: atomic_file_open / _commit or _abort.
 */
#ifndef SCORCH_BASE_ATOMICFILE_H
#define SCORCH_BASE_ATOMICFILE_H

#include <stdio.h>

struct atomic_file {
	FILE *fp;   /* write here between open and commit/abort */
	char *path; /* destination */
	char *tmp;  /* temporary name, NULL once renamed or removed */
};

/* Creates "<dir>/.<name>.XXXXXX" exclusively (mode 0666 less the umask, as
 * for any new file; never through a symlink).  0 or -errno (-EISDIR for a
 * path ending in '/'); on error af is zeroed and nothing is left behind. */
int atomic_file_open(struct atomic_file *af, const char *path);
/* Flushes, fsyncs, closes and renames over path (a symlink there is replaced).
 * 0 or -errno; on error the temporary file is removed and the destination
 * left untouched.  Either way af is released (zeroed). */
int atomic_file_commit(struct atomic_file *af);
/* Closes and removes the temporary file. Safe after commit and on a zeroed struct. */
void atomic_file_abort(struct atomic_file *af);

#endif
