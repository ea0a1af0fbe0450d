/* SPDX-License-Identifier: MIT */
#include "readfile.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/array.h"

int read_fd_all(int fd, size_t max, char **buf, size_t *len)
{
	char *b = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	/* From 4 KiB, doubling: a small process's maps (the common read) fit in
	 * one page, and a sanitizer build serves each 128 KiB buffer with a
	 * fresh zeroed mapping. */
	for (;;) {
		if ((err = array_grow(&b, &cap, n + 4096 + 1, 1)))
			break;
		if (n >= max)
			break;
		size_t want = cap - 1 < max ? cap - 1 : max;
		ssize_t r = read(fd, b + n, want - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (err) {
		free(b);
		return err;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}
