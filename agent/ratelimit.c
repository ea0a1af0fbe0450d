/* SPDX-License-Identifier: MIT */
#include "ratelimit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "base/clock.h"
#include "profiler/log.h"

uint64_t agent_now_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

void agent_warn_limited(struct agent_ratelimit *rl, const char *fmt, ...)
{
	uint64_t now = agent_now_ms();
	char buf[768];
	va_list ap;
	if (rl->last_ms && now - rl->last_ms < 60000) {
		rl->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (rl->suppressed)
		log_warn("%s (%" PRIu64 " more like it in the last minute)", buf, rl->suppressed);
	else
		log_warn("%s", buf);
	rl->last_ms = now;
	rl->suppressed = 0;
}
