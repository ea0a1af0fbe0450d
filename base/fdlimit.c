/* SPDX-License-Identifier: MIT */
#include "fdlimit.h"

#include <errno.h>

int fdlimit_raise(struct rlimit *saved)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r))
		return -errno;
	if (saved)
		*saved = r;
	if (r.rlim_cur == r.rlim_max)
		return 0;
	r.rlim_cur = r.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &r) ? -errno : 0;
}
