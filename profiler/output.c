/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <signal.h>

#include "log.h"

int output_write(const struct profile *p, const char *path, enum profile_format f, const struct write_opts *o)
{
	struct format_error fe = {""};
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &old);
	int err = profile_write_path(p, path, f, o, &fe);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (err)
		log_error("%s", fe.msg);
	return err;
}
