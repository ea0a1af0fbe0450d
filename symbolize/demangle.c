/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "demangle.h"

#include <libiberty/demangle.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void demangler_init(struct demangler *d, struct strpool *pool)
{
	memset(d, 0, sizeof(*d));
	d->pool = pool;
	u64map_init(&d->cache);
}

void demangler_release(struct demangler *d)
{
	u64map_release(&d->cache);
}

bool demangle_is_mangled(const char *name)
{
	return name && ((name[0] == '_' && name[1] == 'Z') || (name[0] == '_' && name[1] == 'R'));
}

const char *demangler_get(struct demangler *d, const char *name)
{
	if (d->off || !demangle_is_mangled(name))
		return name;
	uint64_t *v = u64map_get(&d->cache, (uint64_t)(uintptr_t)name);
	if (v)
		return (const char *)(uintptr_t)*v;
	/* DMGL_AUTO tries the GNU v3 (Itanium) scheme, then Rust's two.  A
	 * PLT stub's name (elfsym.h) is the function's demangled, then @plt. */
	static const char plt[] = "@plt";
	size_t len = strlen(name), base = len - (len > 4 && !strcmp(name + len - 4, plt) ? 4 : 0);
	char *m = strndup(name, base), *dm = m ? cplus_demangle(m, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO) : NULL, *full = dm;
	if (dm && base < len && asprintf(&full, "%s%s", dm, plt) < 0)
		full = NULL;
	const char *r = full ? strpool_cstr(d->pool, full) : NULL;
	if (full != dm)
		free(full);
	free(dm);
	free(m);
	if (!r)
		r = name;
	u64map_put(&d->cache, (uint64_t)(uintptr_t)name, (uint64_t)(uintptr_t)r); /* a cache: failure is harmless */
	return r;
}
