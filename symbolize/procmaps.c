/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "procmaps.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/array.h"
#include "base/openroot.h"
#include "base/parse.h"
#include "base/readfile.h"

static const char *parse_hex(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = p;
	for (; p < end; p++) {
		char c = *p;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			break;
		if (v >> 60)
			return NULL;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return p > start ? p : NULL;
}

static const char *parse_dec(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = p;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > UINT64_MAX / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return p > start ? p : NULL;
}

static const char *expect(const char *p, const char *end, char c)
{
	return p && p < end && *p == c ? p + 1 : NULL;
}

/* "start-end perms offset maj:min inode   path" */
static int parse_line(const char *p, const char *end, struct procmap *m, int *exec)
{
	uint64_t maj, min;
	p = parse_hex(p, end, &m->start);
	p = expect(p, end, '-');
	p = p ? parse_hex(p, end, &m->end) : NULL;
	p = expect(p, end, ' ');
	if (!p || end - p < 5 || m->end < m->start)
		return -EINVAL;
	*exec = p[2] == 'x';
	p = expect(p + 4, end, ' ');
	p = p ? parse_hex(p, end, &m->offset) : NULL;
	p = expect(p, end, ' ');
	p = p ? parse_hex(p, end, &maj) : NULL;
	p = expect(p, end, ':');
	p = p ? parse_hex(p, end, &min) : NULL;
	p = expect(p, end, ' ');
	p = p ? parse_dec(p, end, &m->inode) : NULL;
	if (!p)
		return -EINVAL;
	m->dev = makedev((unsigned)maj, (unsigned)min);
	while (p < end && *p == ' ')
		p++;
	size_t len = (size_t)(end - p);
	static const char del[] = " (deleted)";
	m->deleted = len >= sizeof(del) - 1 && !memcmp(end - (sizeof(del) - 1), del, sizeof(del) - 1);
	if (m->deleted)
		len -= sizeof(del) - 1;
	m->path = strndup(p, len);
	return m->path ? 0 : -ENOMEM;
}

static int procmap_cmp(const void *a, const void *b)
{
	const struct procmap *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int procmaps_parse(const char *text, size_t len, struct procmaps *out)
{
	int err = 0;
	size_t cap = 0;
	const char *p = text, *end = text + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		struct procmap m = { 0 };
		int exec = 0;
		if (line_end > p) {
			err = parse_line(p, line_end, &m, &exec);
			if (err)
				goto fail;
			if (!exec) {
				free(m.path);
			} else {
				if (array_grow(&out->maps, &cap, out->n + 1, sizeof(*out->maps))) {
					free(m.path);
					err = -ENOMEM;
					goto fail;
				}
				out->maps[out->n++] = m;
			}
		}
		p = line_end + 1;
	}
	if (out->n) /* qsort(NULL, 0) is undefined */
		qsort(out->maps, out->n, sizeof(*out->maps), procmap_cmp);
	return 0;
fail:
	procmaps_release(out);
	return err;
}

/* PROCMAP_QUERY (Linux 6.11; include/uapi/linux/fs.h): an ioctl on an open
 * maps file answering with one mapping, in binary, chosen by the kernel. */
struct procmap_query_ {
	uint64_t size, query_flags, query_addr;
	uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY_ _IOWR('f', 17, struct procmap_query_)
#define QUERY_VMA_EXECUTABLE 0x04
#define QUERY_COVERING_OR_NEXT_VMA 0x10

/* Whether this kernel answers PROCMAP_QUERY: 0 not known yet, 1 yes, -1 no. */
static int query_works;

/* The executable mappings of the maps file open at fd, asked of the kernel
 * one at a time: only those are looked at, and none is printed as text.
 * Under process churn the agent reads the maps of a dozen new processes a
 * second, ~25 mappings each of which 4 or 5 executable, and the text had
 * every one printed by the kernel (its path resolved) and parsed again
 * here.  0, or -errno (-ENOTTY: the kernel has no such ioctl); a process
 * without memory any more (an exited leader's) has none, as its text. */
static int query_maps(int fd, struct procmaps *out)
{
	char name[PATH_MAX];
	size_t cap = 0;
	memset(out, 0, sizeof(*out));
	for (uint64_t addr = 0;;) {
		struct procmap_query_ q = {
			.size = sizeof(q),
			.query_flags = QUERY_VMA_EXECUTABLE | QUERY_COVERING_OR_NEXT_VMA,
			.query_addr = addr,
			.vma_name_size = sizeof(name),
			.vma_name_addr = (uint64_t)(uintptr_t)name,
		};
		if (ioctl(fd, PROCMAP_QUERY_, &q)) {
			int err = errno;
			if (err == ENOENT || err == ESRCH) /* past the last one; no memory */
				return 0;
			procmaps_release(out);
			return -err;
		}
		size_t len = q.vma_name_size ? strnlen(name, q.vma_name_size) : 0;
		struct procmap m = {
			.start = q.vma_start,
			.end = q.vma_end,
			.offset = q.vma_offset,
			.dev = makedev(q.dev_major, q.dev_minor),
			.inode = q.inode,
		};
		static const char del[] = " (deleted)";
		m.deleted = len >= sizeof(del) - 1 && !memcmp(name + len - (sizeof(del) - 1), del, sizeof(del) - 1);
		if (m.deleted)
			len -= sizeof(del) - 1;
		if (!(m.path = strndup(name, len)) || array_grow(&out->maps, &cap, out->n + 1, sizeof(*out->maps))) {
			free(m.path);
			procmaps_release(out);
			return -ENOMEM;
		}
		out->maps[out->n++] = m;
		if (q.vma_end <= addr)
			break; /* never seen: an answer must move on */
		addr = q.vma_end;
	}
	return 0;
}

/* Reads /proc/PID/maps (or a thread's, tid != 0): asked with PROCMAP_QUERY
 * where the kernel has it, else read as text and parsed. */
static int read_maps(uint32_t pid, uint32_t tid, struct procmaps *out)
{
	char path[96], *buf = NULL;
	size_t len = 0, n = procmaps_dir("/proc", pid, tid, path, sizeof(path));
	int err, fd;

	snprintf(path + n, sizeof(path) - n, "/maps");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (__atomic_load_n(&query_works, __ATOMIC_RELAXED) >= 0) {
		err = query_maps(fd, out);
		if (!err) {
			__atomic_store_n(&query_works, 1, __ATOMIC_RELAXED);
			close(fd);
			return 0;
		}
		/* Not this kernel's; otherwise (a path past PATH_MAX) the text, this once. */
		if (err == -ENOTTY || err == -EINVAL)
			__atomic_store_n(&query_works, -1, __ATOMIC_RELAXED);
	}
	err = read_fd_all(fd, SIZE_MAX, &buf, &len);
	close(fd);
	if (err == -ENOENT)
		err = -ESRCH; /* the process went away while we read */
	if (!err)
		err = procmaps_parse(buf, len, out);
	free(buf);
	return err;
}

int procmaps_read(uint32_t pid, struct procmaps *out)
{
	return read_maps(pid, 0, out);
}

int procmaps_read_live(uint32_t pid, uint32_t *tid, struct procmaps *out)
{
	char path[64];
	*tid = 0;
	int err = read_maps(pid, 0, out);
	if (err || out->n)
		return err;
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		uint64_t v;
		if (parse_u64(e->d_name, 1, UINT32_MAX, &v) || v == pid)
			continue;
		uint32_t t = (uint32_t)v;
		struct procmaps m;
		if (read_maps(pid, t, &m))
			continue;
		if (m.n) {
			procmaps_release(out);
			*out = m;
			*tid = t;
			break;
		}
		procmaps_release(&m);
	}
	closedir(d);
	return 0;
}

void procmaps_release(struct procmaps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->maps[i].path);
	free(m->maps);
	memset(m, 0, sizeof(*m));
}

const struct procmap *procmaps_find(const struct procmaps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->maps[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= m->maps[lo - 1].end)
		return NULL;
	return &m->maps[lo - 1];
}

void procmap_files_path(const char *proc_root, uint32_t pid, const struct procmap *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64, proc_root, pid, m->start, m->end);
}

size_t procmaps_dir(const char *proc_root, uint32_t pid, uint32_t tid, char *buf, size_t len)
{
	int n = tid ? snprintf(buf, len, "%s/%" PRIu32 "/task/%" PRIu32, proc_root, pid, tid)
		    : snprintf(buf, len, "%s/%" PRIu32, proc_root, pid);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* The process's executable through dir/exe (a magic link: opened without
 * walking the path, so no directory on the way needs to let us in), if it is
 * m's file (device and inode); else -1. */
static int open_exe(char *path, size_t len, size_t dir, const struct procmap *m)
{
	struct stat st;
	snprintf(path + dir, len - dir, "/exe");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &st) && st.st_dev == m->dev && st.st_ino == m->inode)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

int procmap_open(const char *proc_root, uint32_t pid, uint32_t tid, const struct procmap *m)
{
	char path[PATH_MAX + 64];
	struct stat st;
	procmap_files_path(proc_root, pid, m, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	size_t dir = procmaps_dir(proc_root, pid, tid, path, sizeof(path));
	int err = ENOENT; /* a deleted file is not looked for by path */
	if (!m->deleted) {
		snprintf(path + dir, sizeof(path) - dir, "/root");
		fd = open_file_in_root(path, m->path);
		/* The path may name another file by now (a bind mount, a file
		 * written in place of a renamed one).  The inode only: the device
		 * differs between maps and stat on overlayfs before Linux 6.x. */
		if (fd >= 0 && m->inode && (fstat(fd, &st) || (uint64_t)st.st_ino != m->inode)) {
			close(fd);
			fd = -ESTALE;
		}
		if (fd >= 0)
			return fd;
		err = -fd;
	}
	/* Deleted, or its path closed to us (a directory we may not search:
	 * CAP_SYS_PTRACE lets exe be opened, not the walk to the file). */
	if ((fd = open_exe(path, sizeof(path), dir, m)) >= 0)
		return fd;
	errno = err;
	return -1;
}
