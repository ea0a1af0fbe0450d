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

	for (;;) {
		size_t want = n + 65536 < max ? n + 65536 : max;
		if ((err = array_grow(&b, &cap, want + 1, 1)))
			break;
		if (n >= max)
			break;
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
