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

/* Creates "<dir>/.<name>.XXXXXX" (mode 0644 less umask). 0 or -errno. */
int atomic_file_open(struct atomic_file *af, const char *path);
/* Flushes, fsyncs, closes and renames over path. 0 or -errno; on error the
 * temporary file is removed and the destination left untouched. */
int atomic_file_commit(struct atomic_file *af);
/* Closes and removes the temporary file. Safe after commit and on a zeroed struct. */
void atomic_file_abort(struct atomic_file *af);

#endif
