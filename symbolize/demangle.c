/* SPDX-License-Identifier: MIT */
#include "demangle.h"

#include <libiberty/demangle.h>
#include <stdint.h>
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
	/* DMGL_AUTO tries the GNU v3 (Itanium) scheme, then Rust's two. */
	char *dm = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	const char *r = dm ? strpool_cstr(d->pool, dm) : NULL;
	free(dm);
	if (!r)
		r = name;
	u64map_put(&d->cache, (uint64_t)(uintptr_t)name, (uint64_t)(uintptr_t)r); /* a cache: failure is harmless */
	return r;
}
