/* SPDX-License-Identifier: MIT */
/* debugpkg: a file's Debian package and the package of its debug symbols. */
#define _GNU_SOURCE
#include "profiler/debugpkg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hashtab.h"
#include "base/readfile.h"

#define LIST_MAX (64u << 20) /* a .list file bigger than this is not dpkg's */

static const char *const merged_dirs[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

/* Whether root has merged /usr: its /bin is a symlink to usr/bin. */
static bool usr_merged(int rootfd)
{
	char target[32];
	ssize_t n = readlinkat(rootfd, "bin", target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "usr/bin") || !strcmp(target, "/usr/bin");
}

/* The bytes of path[0..len) that name a file, dropping a leading /usr of a
 * merged directory: /usr/lib/x and /lib/x hash alike. */
static const char *canonical(const char *path, size_t *len, bool merged)
{
	if (!merged || *len < 5 || memcmp(path, "/usr/", 5))
		return path;
	for (size_t i = 0; i < sizeof(merged_dirs) / sizeof(merged_dirs[0]); i++) {
		size_t d = strlen(merged_dirs[i]);
		if (*len >= 5 + d && !memcmp(path + 5, merged_dirs[i], d) &&
		    (*len == 5 + d || path[5 + d] == '/')) {
			*len -= 4;
			return path + 4;
		}
	}
	return path;
}

/* Whether a and b (a of alen bytes) name one file. */
static bool same_path(const char *a, size_t alen, const char *b, bool merged)
{
	size_t blen = strlen(b);
	const char *cb = canonical(b, &blen, merged);
	const char *ca = canonical(a, &alen, merged);
	return alen == blen && !memcmp(ca, cb, alen);
}

/* Looks each line of one .list file up among the wanted paths (hash of the
 * canonical path -> index + 1 of its first query); returns how many it
 * answered. */
static size_t scan_list(const char *buf, size_t len, const char *pkg, size_t pkglen,
			const struct u64map *want, struct debugpkg_query *q, bool merged)
{
	size_t found = 0;
	for (const char *line = buf, *end = buf + len; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line), cn = n;
		const char *c = canonical(line, &cn, merged);
		uint64_t *v = u64map_get(want, hash_bytes(c, cn, 0));
		if (v && !q[*v - 1].pkg[0] && same_path(line, n, q[*v - 1].path, merged)) {
			snprintf(q[*v - 1].pkg, sizeof(q[*v - 1].pkg), "%.*s", (int)pkglen, pkg);
			found++;
		}
		line += n + 1;
	}
	return found;
}

int debugpkg_owners(const char *root, struct debugpkg_query *q, size_t n)
{
	struct u64map want;
	DIR *dir = NULL;
	int rootfd = -1, infofd = -1, err = 0;
	size_t left = 0;
	u64map_init(&want);
	for (size_t i = 0; i < n; i++)
		q[i].pkg[0] = '\0';
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		err = -errno;
		goto out;
	}
	bool merged = usr_merged(rootfd);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(q[i].path);
		const char *c = canonical(q[i].path, &len, merged);
		uint64_t h = hash_bytes(c, len, 0);
		if (u64map_get(&want, h))
			continue; /* the same file asked twice (or a collision): answered once */
		err = u64map_put(&want, h, i + 1);
		if (err)
			goto out;
		left++;
	}
	infofd = openat(rootfd, "var/lib/dpkg/info", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (infofd < 0 || !(dir = fdopendir(infofd))) {
		err = -errno;
		goto out;
	}
	infofd = -1; /* dir owns it */
	struct dirent *de;
	while (left && (de = readdir(dir))) {
		size_t nl = strlen(de->d_name);
		if (nl <= 5 || strcmp(de->d_name + nl - 5, ".list"))
			continue;
		int fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		char *buf = NULL;
		size_t len = 0;
		if (fd < 0)
			continue;
		size_t pkglen = strcspn(de->d_name, ":"); /* PKG:ARCH.list */
		if (pkglen > nl - 5)
			pkglen = nl - 5;
		if (!read_fd_all(fd, LIST_MAX, &buf, &len))
			left -= scan_list(buf, len, de->d_name, pkglen, &want, q, merged);
		free(buf);
		close(fd);
	}
	/* Answers may have been found for a duplicate's first query only. */
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(q[i].path);
		const char *c = canonical(q[i].path, &len, merged);
		uint64_t *v = u64map_get(&want, hash_bytes(c, len, 0));
		if (!q[i].pkg[0] && v && *v - 1 != i &&
		    same_path(q[i].path, strlen(q[i].path), q[*v - 1].path, merged))
			memcpy(q[i].pkg, q[*v - 1].pkg, sizeof(q[i].pkg));
	}
out:
	if (dir)
		closedir(dir);
	if (infofd >= 0)
		close(infofd);
	if (rootfd >= 0)
		close(rootfd);
	u64map_release(&want);
	if (err)
		for (size_t i = 0; i < n; i++)
			q[i].pkg[0] = '\0';
	return err;
}

/* "3.11" when pkg is name, then X.Y, then suffix exactly (suffix may be
 * one of several): the Python version of one of python3.X's packages. */
static bool python_version(const char *pkg, const char *prefix, char *ver, size_t len)
{
	static const char *const suffixes[] = {"", "-minimal", "-stdlib"};
	size_t pl = strlen(prefix);
	if (strncmp(pkg, prefix, pl))
		return false;
	const char *v = pkg + pl, *p = v;
	while ((*p >= '0' && *p <= '9') || *p == '.')
		p++;
	if (p == v || p[-1] == '.' || !strchr(v, '.') || strchr(v, '.') >= p)
		return false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (!strcmp(p, suffixes[i]) && (strcmp(prefix, "python") || strcmp(p, "-stdlib"))) {
			snprintf(ver, len, "%.*s", (int)(p - v), v);
			return true;
		}
	}
	return false;
}

bool debugpkg_debug_name(const char *pkg, char *out, size_t len)
{
	char ver[32];
	if (!strcmp(pkg, "libc6")) {
		snprintf(out, len, "libc6-dbg");
		return false;
	}
	if (python_version(pkg, "python", ver, sizeof(ver)) ||
	    python_version(pkg, "libpython", ver, sizeof(ver))) {
		snprintf(out, len, "python%s-dbg", ver);
		return false;
	}
	snprintf(out, len, "%s-dbgsym", pkg);
	return true;
}
