// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* asprintf */
#include "kbtf.h"

#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/atomicfile.h"
#include "base/cachedir.h"
#include "base/readfile.h"

#define MAX_DEPTH 32
#define MAX_FILE ((size_t)16 << 20)

static const char MAGIC[8] = "SCKBTF01";

struct trailer {
	char magic[8];
	uint64_t key; /* kbtf_key */
	uint64_t sum; /* fnv1a of the BTF bytes before the trailer */
};

/* One build: members needed per vmlinux type, and the output ids. */
struct gen {
	const struct btf *local, *vm;
	struct btf *out;
	uint32_t nvm;
	uint64_t **need; /* per vmlinux composite reached: a bit per member, NULL if none */
	bool *reached;
	uint32_t *ids; /* vmlinux id -> output id, 0 when not emitted yet */
	int void_ptr;
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ULL;
	return h;
}

static uint32_t skip_mods(const struct btf *btf, uint32_t id)
{
	for (int i = 0; i < MAX_DEPTH && id; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t || !(btf_is_mod(t) || btf_is_typedef(t)))
			return id;
		id = t->type;
	}
	return id;
}

static size_t essential_len(const char *name)
{
	const char *f = strstr(name, "___");
	return f ? (size_t)(f - name) : strlen(name);
}

static int touch(struct gen *g, uint32_t vt)
{
	const struct btf_type *t = btf__type_by_id(g->vm, vt);
	g->reached[vt] = true;
	if (!g->need[vt] && btf_vlen(t) && !(g->need[vt] = calloc((btf_vlen(t) + 63) / 64, sizeof(uint64_t))))
		return -ENOMEM;
	return 0;
}

/* Marks the member of composite vt called name (looked for inside its
 * anonymous members too, as libbpf does) and the anonymous members on the
 * way.  Its type (modifiers skipped), or 0 when vt has no such member. */
static int find_member(struct gen *g, uint32_t vt, const char *name, int depth, uint32_t *type)
{
	const struct btf_type *t = btf__type_by_id(g->vm, vt);
	const struct btf_member *m = btf_members(t);
	int err;

	*type = 0;
	if (depth > MAX_DEPTH)
		return -ELOOP;
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(g->vm, m->name_off);
		uint32_t mt = skip_mods(g->vm, m->type);
		if (mname && *mname) {
			if (strcmp(mname, name))
				continue;
			*type = mt;
		} else if (btf_is_composite(btf__type_by_id(g->vm, mt))) {
			if ((err = find_member(g, mt, name, depth + 1, type)))
				return err;
			if (!*type)
				continue;
		} else {
			continue;
		}
		if ((err = touch(g, vt)))
			return err;
		g->need[vt][i / 64] |= 1ULL << (i % 64);
		return 0;
	}
	return 0;
}

static int mark(struct gen *g, uint32_t lt, uint32_t vt, int depth);

/* A local member's type against the kernel member's it was matched to. */
static int mark_types(struct gen *g, uint32_t lt, uint32_t vt, int depth)
{
	const struct btf_type *l = btf__type_by_id(g->local, lt = skip_mods(g->local, lt));
	const struct btf_type *v = btf__type_by_id(g->vm, vt = skip_mods(g->vm, vt));
	if (!l || !v)
		return 0;
	if (btf_is_array(l) && btf_is_array(v))
		return mark_types(g, btf_array(l)->type, btf_array(v)->type, depth + 1);
	return btf_is_composite(l) && btf_is_composite(v) ? mark(g, lt, vt, depth + 1) : 0;
}

/* Marks in kernel composite vt every member local composite lt names. */
static int mark(struct gen *g, uint32_t lt, uint32_t vt, int depth)
{
	const struct btf_type *l = btf__type_by_id(g->local, lt);
	const struct btf_member *m = btf_members(l);
	int err;

	if (depth > MAX_DEPTH)
		return -ELOOP;
	if ((err = touch(g, vt)))
		return err;
	for (uint16_t i = 0; i < btf_vlen(l); i++, m++) {
		const char *name = btf__name_by_offset(g->local, m->name_off);
		uint32_t mt;
		if (!name || !*name) { /* a local anonymous member: its members are vt's */
			const struct btf_type *a = btf__type_by_id(g->local, skip_mods(g->local, m->type));
			if (a && btf_is_composite(a) && (err = mark(g, skip_mods(g->local, m->type), vt, depth + 1)))
				return err;
			continue;
		}
		if ((err = find_member(g, vt, name, depth, &mt)))
			return err;
		if (mt && (err = mark_types(g, m->type, mt, depth)))
			return err;
	}
	return 0;
}

static bool needed(const struct gen *g, uint32_t vt, uint16_t i)
{
	return g->need[vt] && (g->need[vt][i / 64] >> (i % 64) & 1);
}

/* Adds kernel type vt (modifiers skipped) to the output: its output id,
 * 0 for void, or -errno. */
static int emit(struct gen *g, uint32_t vt, int depth)
{
	vt = skip_mods(g->vm, vt);
	if (!vt)
		return 0;
	if (g->ids[vt])
		return (int)g->ids[vt];
	if (depth > MAX_DEPTH)
		return -ELOOP;
	const struct btf_type *t = btf__type_by_id(g->vm, vt);
	const char *name = btf__name_by_offset(g->vm, t->name_off);
	int id = -EINVAL, elem, index;

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		id = btf__add_int(g->out, name, (size_t)t->size, btf_int_encoding(t));
		break;
	case BTF_KIND_FLOAT:
		id = btf__add_float(g->out, name, (size_t)t->size);
		break;
	case BTF_KIND_PTR: /* CO-RE compares pointers as pointers, whatever they point to */
		if (!g->void_ptr)
			g->void_ptr = btf__add_ptr(g->out, 0);
		id = g->void_ptr;
		break;
	case BTF_KIND_FWD:
		id = btf__add_fwd(g->out, name, btf_kflag(t) ? BTF_FWD_UNION : BTF_FWD_STRUCT);
		break;
	case BTF_KIND_ENUM: {
		const struct btf_enum *e = btf_enum(t);
		id = btf__add_enum(g->out, name, t->size);
		for (uint16_t i = 0; id > 0 && i < btf_vlen(t); i++, e++) {
			int err = btf__add_enum_value(g->out, btf__name_by_offset(g->vm, e->name_off), e->val);
			if (err)
				id = err;
		}
		break;
	}
	case BTF_KIND_ENUM64: {
		const struct btf_enum64 *e = btf_enum64(t);
		id = btf__add_enum64(g->out, name, t->size, btf_kflag(t));
		for (uint16_t i = 0; id > 0 && i < btf_vlen(t); i++, e++) {
			int err = btf__add_enum64_value(g->out, btf__name_by_offset(g->vm, e->name_off), btf_enum64_value(e));
			if (err)
				id = err;
		}
		break;
	}
	case BTF_KIND_ARRAY:
		if ((elem = emit(g, btf_array(t)->type, depth + 1)) < 0)
			return elem;
		if ((index = emit(g, btf_array(t)->index_type, depth + 1)) < 0)
			return index;
		id = btf__add_array(g->out, index, elem, btf_array(t)->nelems);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);
		int *types = calloc(btf_vlen(t) + 1, sizeof(*types));
		if (!types)
			return -ENOMEM;
		/* Member types first: a struct's fields follow it directly. */
		for (uint16_t i = 0; i < btf_vlen(t); i++)
			if (needed(g, vt, i) && (types[i] = emit(g, m[i].type, depth + 1)) < 0) {
				id = types[i];
				free(types);
				return id;
			}
		id = btf_is_struct(t) ? btf__add_struct(g->out, name, t->size) : btf__add_union(g->out, name, t->size);
		for (uint16_t i = 0; id > 0 && i < btf_vlen(t); i++) {
			if (!needed(g, vt, i))
				continue;
			int err = btf__add_field(g->out, btf__name_by_offset(g->vm, m[i].name_off), types[i],
						 btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i));
			if (err)
				id = err;
		}
		free(types);
		break;
	}
	default: /* a function or variable as a member's type: not a layout */
		return -EINVAL;
	}
	if (id > 0)
		g->ids[vt] = (uint32_t)id;
	return id;
}

/* Whether kernel type t (named name) is a candidate for a local composite:
 * the same kind and essential name (libbpf's rule). */
static bool candidate(const struct btf_type *l, const char *lname, const struct btf_type *t, const char *name)
{
	size_t n = essential_len(lname);
	return btf_kind(l) == btf_kind(t) && name && essential_len(name) == n && !strncmp(lname, name, n);
}

int kbtf_build(const struct btf *local, const struct btf *vmlinux, void **data, size_t *size)
{
	struct gen g = { .local = local, .vm = vmlinux, .nvm = btf__type_cnt(vmlinux) };
	uint32_t nlocal = btf__type_cnt(local);
	int err = 0;

	*data = NULL;
	*size = 0;
	g.out = btf__new_empty();
	g.need = calloc(g.nvm, sizeof(*g.need));
	g.reached = calloc(g.nvm, sizeof(*g.reached));
	g.ids = calloc(g.nvm, sizeof(*g.ids));
	if (!g.out || !g.need || !g.reached || !g.ids) {
		err = -ENOMEM;
		goto out;
	}
	/* Roots: every named local struct or union against each kernel one of
	 * its essential name (usually one).  One pass over the kernel's types. */
	for (uint32_t vt = 1; vt < g.nvm && !err; vt++) {
		const struct btf_type *t = btf__type_by_id(vmlinux, vt);
		if (!btf_is_composite(t) || !t->name_off)
			continue;
		const char *name = btf__name_by_offset(vmlinux, t->name_off);
		for (uint32_t lt = 1; lt < nlocal && !err; lt++) {
			const struct btf_type *l = btf__type_by_id(local, lt);
			if (btf_is_composite(l) && l->name_off &&
			    candidate(l, btf__name_by_offset(local, l->name_off), t, name))
				err = mark(&g, lt, vt, 0);
		}
	}
	for (uint32_t vt = 1; vt < g.nvm && !err; vt++)
		if (g.reached[vt]) {
			int id = emit(&g, vt, 0);
			if (id < 0)
				err = id;
		}
	if (err)
		goto out;
	uint32_t n = 0;
	const void *raw = btf__raw_data(g.out, &n);
	if (!raw || !(*data = malloc(n))) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(*data, raw, n);
	*size = n;
out:
	if (g.need)
		for (uint32_t i = 0; i < g.nvm; i++)
			free(g.need[i]);
	free(g.need);
	free(g.reached);
	free(g.ids);
	btf__free(g.out);
	return err;
}

uint64_t kbtf_key(const void *object, size_t size, const char *boot_id)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, MAGIC, sizeof(MAGIC));
	h = fnv1a(h, boot_id, strlen(boot_id) + 1);
	h = fnv1a(h, &size, sizeof(size));
	/* A word at a time: the object is ~200 KB, hashed at every start. */
	const unsigned char *p = object;
	for (size_t i = 0; i + 8 <= size; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return fnv1a(h, p + (size & ~(size_t)7), size & 7);
}

int kbtf_check(const char *path, uint64_t key)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	struct trailer tr;
	int err, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return -EINVAL;
	}
	err = read_fd_all(fd, MAX_FILE, &buf, &len);
	close(fd);
	if (err)
		return err;
	err = -EINVAL;
	if (len <= sizeof(tr))
		goto out;
	len -= sizeof(tr);
	memcpy(&tr, buf + len, sizeof(tr));
	if (memcmp(tr.magic, MAGIC, sizeof(MAGIC)) || tr.key != key ||
	    tr.sum != fnv1a(0xcbf29ce484222325ULL, buf, len) || len > UINT32_MAX)
		goto out;
	struct btf *b = btf__new(buf, (uint32_t)len);
	if (!b)
		goto out;
	btf__free(b);
	err = 0;
out:
	free(buf);
	return err;
}

int kbtf_save(const char *path, const void *data, size_t size, uint64_t key)
{
	struct atomic_file af;
	struct trailer tr = { .key = key, .sum = fnv1a(0xcbf29ce484222325ULL, data, size) };
	int err;

	memcpy(tr.magic, MAGIC, sizeof(MAGIC));
	if ((err = atomic_file_open(&af, path)))
		return err;
	if (fwrite(data, 1, size, af.fp) != size || fwrite(&tr, 1, sizeof(tr), af.fp) != sizeof(tr)) {
		atomic_file_abort(&af);
		return -EIO;
	}
	return atomic_file_commit(&af);
}

static int write_cache(const char *path, const struct btf *local, uint64_t key)
{
	struct btf *vm = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	void *data = NULL;
	size_t size = 0;
	int err;

	if (!vm)
		return errno ? -errno : -ENOENT;
	err = kbtf_build(local, vm, &data, &size);
	btf__free(vm);
	if (!err)
		err = kbtf_save(path, data, size, key);
	free(data);
	return err;
}

int kbtf_min_path(const struct btf *local, const void *object, size_t size, const char *dir, char **out)
{
	char boot[64];
	char *path = NULL;
	int err;

	*out = NULL;
	if (!cachedir_ready(dir))
		return -EPERM;
	if ((err = cachedir_boot_id(boot, sizeof(boot))))
		return err;
	/* Named by the key too: two builds of scorch used in turn (an upgrade,
	 * a benchmark against the last release) would otherwise replace each
	 * other's file at every run and each pay the full parse. */
	uint64_t key = kbtf_key(object, size, boot);
	if (asprintf(&path, "%s/btf-%s-%016" PRIx64, dir, boot, key) < 0)
		return -ENOMEM;
	if ((err = kbtf_check(path, key)) && (!local || (err = write_cache(path, local, key)) ||
					      (err = kbtf_check(path, key)))) {
		free(path);
		return err;
	}
	*out = path;
	return 0;
}
