/* SPDX-License-Identifier: MIT */
#include "strpool.h"

#include <string.h>

void strpool_init(struct strpool *p)
{
	intern_init(&p->in);
}

void strpool_release(struct strpool *p)
{
	intern_release(&p->in);
}

const char *strpool_intern(struct strpool *p, const char *s, size_t len)
{
	int64_t id = intern_add(&p->in, s, len);
	return id < 0 ? NULL : intern_str(&p->in, (uint32_t)id);
}

const char *strpool_cstr(struct strpool *p, const char *s)
{
	return s ? strpool_intern(p, s, strlen(s)) : NULL;
}
