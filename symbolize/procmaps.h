/* SPDX-License-Identifier: MIT */
/*
 * procmaps: the executable mappings of a process, parsed from the text of
 * /proc/PID/maps.  Only mappings with 'x' permission are kept, sorted by
 * start address (the kernel already lists them in order).
 */
#ifndef SCORCH_SYMBOLIZE_PROCMAPS_H
#define SCORCH_SYMBOLIZE_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>

struct procmap {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset of start */
	uint64_t dev;        /* makedev(major, minor) */
	uint64_t inode;
	char *path;          /* "/usr/lib/libc.so.6", "[vdso]", "" for anonymous; owned by the list */
	int deleted;         /* the path ended in " (deleted)" (suffix removed) */
	int kept;            /* not in the latest reading: kept from an earlier one (symbolizer) */
};

struct procmaps {
	struct procmap *maps;
	size_t n;
};

/* Parses maps text (e.g. the contents of /proc/PID/maps). 0 or -errno
 * (-EINVAL for a malformed line). Release with procmaps_release. */
int procmaps_parse(const char *text, size_t len, struct procmaps *out);
/* Reads and parses /proc/PID/maps; -ESRCH when the process is gone. */
int procmaps_read(uint32_t pid, struct procmaps *out);
/* procmaps_read, but when the leader has exited (pthread_exit) while other
 * threads run, its maps read empty: then a live thread's, and *tid names it
 * (0 when the process's own were read).  That thread's /proc directory has
 * the process's root and exe too. */
int procmaps_read_live(uint32_t pid, uint32_t *tid, struct procmaps *out);
void procmaps_release(struct procmaps *m);

/* "<proc_root>/PID", or ".../PID/task/TID" for a process whose leader
 * exited (tid from procmaps_read_live), into buf; its length. */
size_t procmaps_dir(const char *proc_root, uint32_t pid, uint32_t tid, char *buf, size_t len);
/* "<proc_root>/PID/map_files/START-END" of mapping m into buf. */
void procmap_files_path(const char *proc_root, uint32_t pid, const struct procmap *m, char *buf, size_t len);
/* Opens the file behind mapping m of pid: through map_files (the file even
 * when deleted or in another mount namespace), else (map_files is closed
 * without CAP_CHECKPOINT_RESTORE, and gone with an exited leader's memory)
 * by its path inside the root of pid (or of its live thread tid), confined
 * to that root: a container's symlinks must not lead to our files, and
 * it must be the mapped inode (ESTALE when the path names another file by
 * now).  A deleted file's path names another file or none, and a path
 * may run through a directory closed to us (a 0700 one, to a non-root
 * user with README's four capabilities): then the executable is still
 * reached, through exe, if it is the same file (device and inode).  The
 * descriptor, or -1 with errno set (the path's error). */
int procmap_open(const char *proc_root, uint32_t pid, uint32_t tid, const struct procmap *m);

/* The mapping containing addr, or NULL. */
const struct procmap *procmaps_find(const struct procmaps *m, uint64_t addr);

#endif
