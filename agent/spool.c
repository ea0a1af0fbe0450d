/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/atomicfile.h"

#define SPOOL_MAGIC "scorch-spool-2" /* 1: a /ingest meta and a bare pprof (before the push API) */

struct spool_entry {
	char name[48];   /* file name; sorts oldest first */
	uint64_t id;     /* unique in this run, for agent_spool_pop */
	uint64_t size;   /* bytes on disk or in memory */
	char *meta;     /* in-memory entries only */
	void *mem;
	size_t memlen;
};

struct agent_spool {
	pthread_mutex_t lock; /* the agent adds, its push thread peeks and pops */
	char *dir;
	struct spool_entry *e; /* e[head .. n) are waiting, oldest first */
	size_t head, n, cap;
	uint64_t max_bytes, mem_max, bytes, mem_bytes;
	uint64_t dropped, write_errors;
	uint32_t seq;
	uint64_t next_id;
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct spool_entry *)a)->name, ((const struct spool_entry *)b)->name);
}

static bool spool_name(const char *n)
{
	size_t len = strlen(n);
	return len == 20 + 1 + 6 + 5 && n[20] == '-' && !strcmp(n + len - 5, ".push") &&
	       strspn(n, "0123456789") == 20 && strspn(n + 21, "0123456789") == 6;
}

static int scan(struct agent_spool *sp)
{
	DIR *d = opendir(sp->dir);
	struct dirent *de;
	int err = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		if (!spool_name(de->d_name) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if ((err = array_grow(&sp->e, &sp->cap, sp->n + 1, sizeof(*sp->e))))
			break;
		struct spool_entry *en = &sp->e[sp->n++];
		memset(en, 0, sizeof(*en));
		snprintf(en->name, sizeof(en->name), "%s", de->d_name);
		en->id = ++sp->next_id;
		en->size = (uint64_t)st.st_size;
		sp->bytes += en->size;
		unsigned s = (unsigned)strtoul(de->d_name + 21, NULL, 10);
		if (s >= sp->seq)
			sp->seq = s + 1;
	}
	closedir(d);
	if (sp->n)
		qsort(sp->e, sp->n, sizeof(*sp->e), entry_cmp);
	return err;
}

int agent_spool_open(const char *dir, uint64_t max_bytes, uint64_t mem_max, struct agent_spool **out, int *dir_err)
{
	struct agent_spool *sp = calloc(1, sizeof(*sp));
	*dir_err = 0;
	if (!sp || !(sp->dir = strdup(dir))) {
		free(sp);
		return -ENOMEM;
	}
	pthread_mutex_init(&sp->lock, NULL);
	sp->max_bytes = max_bytes;
	sp->mem_max = mem_max;
	if (mkdir(dir, 0750) && errno != EEXIST)
		*dir_err = -errno;
	else if ((*dir_err = scan(sp)) == -ENOMEM) {
		agent_spool_free(sp);
		return -ENOMEM;
	}
	*out = sp;
	return 0;
}

static void entry_release(struct spool_entry *en)
{
	free(en->meta);
	free(en->mem);
	en->meta = en->mem = NULL;
}

void agent_spool_free(struct agent_spool *sp)
{
	if (!sp)
		return;
	for (size_t i = sp->head; i < sp->n; i++)
		entry_release(&sp->e[i]);
	free(sp->e);
	free(sp->dir);
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

void agent_spool_set_max(struct agent_spool *sp, uint64_t max_bytes)
{
	pthread_mutex_lock(&sp->lock);
	sp->max_bytes = max_bytes;
	pthread_mutex_unlock(&sp->lock);
}

/* Removes the oldest entry, under the lock. */
static void pop_oldest(struct agent_spool *sp)
{
	if (sp->head == sp->n)
		return;
	struct spool_entry *en = &sp->e[sp->head++];
	if (en->mem) {
		sp->mem_bytes -= en->size;
	} else {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", sp->dir, en->name);
		unlink(path);
	}
	sp->bytes -= en->size;
	entry_release(en);
	if (sp->head == sp->n)
		sp->head = sp->n = 0;
}

/* Compacts the array when half of it is popped entries. */
static void compact(struct agent_spool *sp)
{
	if (sp->head && sp->head * 2 >= sp->n) {
		memmove(sp->e, sp->e + sp->head, (sp->n - sp->head) * sizeof(*sp->e));
		sp->n -= sp->head;
		sp->head = 0;
	}
}

static int write_entry(const struct agent_spool *sp, const char *name, const char *meta, const void *data, size_t len)
{
	struct atomic_file af;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", sp->dir, name);
	int err = atomic_file_open(&af, path);
	if (err)
		return err;
	if (fprintf(af.fp, "%s\n%s\n", SPOOL_MAGIC, meta) < 0 || fwrite(data, 1, len, af.fp) != len) {
		err = -(errno ? errno : EIO);
		atomic_file_abort(&af);
		return err;
	}
	return atomic_file_commit(&af);
}

bool agent_spool_pop(struct agent_spool *sp, uint64_t id)
{
	pthread_mutex_lock(&sp->lock);
	bool there = sp->head < sp->n && sp->e[sp->head].id == id;
	if (there)
		pop_oldest(sp);
	pthread_mutex_unlock(&sp->lock);
	return there;
}

static int add_locked(struct agent_spool *sp, uint64_t from, const char *meta, const void *data, size_t len)
{
	struct spool_entry en = { .size = strlen(SPOOL_MAGIC) + strlen(meta) + 2 + len };
	int err;

	if (en.size > sp->max_bytes)
		return -ENOSPC;
	compact(sp);
	if ((err = array_grow(&sp->e, &sp->cap, sp->n + 1, sizeof(*sp->e))))
		return err;
	en.id = ++sp->next_id;
	snprintf(en.name, sizeof(en.name), "%020" PRIu64 "-%06u.push", from, sp->seq++ % 1000000);
	if (write_entry(sp, en.name, meta, data, len)) {
		sp->write_errors++;
		if (sp->mem_bytes + en.size > sp->mem_max)
			return -ENOSPC;
		en.meta = strdup(meta);
		en.mem = malloc(len ? len : 1);
		if (!en.meta || !en.mem) {
			entry_release(&en);
			return -ENOMEM;
		}
		memcpy(en.mem, data, len);
		en.memlen = len;
		sp->mem_bytes += en.size;
	}
	sp->e[sp->n++] = en;
	sp->bytes += en.size;
	while (sp->bytes > sp->max_bytes && sp->n - sp->head > 1) {
		pop_oldest(sp);
		sp->dropped++;
	}
	return 0;
}

int agent_spool_add(struct agent_spool *sp, uint64_t from, const char *meta, const void *data, size_t len)
{
	pthread_mutex_lock(&sp->lock);
	int err = add_locked(sp, from, meta, data, len);
	pthread_mutex_unlock(&sp->lock);
	return err;
}

static int read_entry(const struct agent_spool *sp, const struct spool_entry *en, char **meta, void **data, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", sp->dir, en->name);
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	int err = 0;
	if (!f)
		return -errno;
	buf = malloc(en->size + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	size_t n = fread(buf, 1, en->size, f);
	fclose(f);
	buf[n] = '\0';
	size_t ml = strlen(SPOOL_MAGIC);
	char *nl = n > ml + 1 && !memcmp(buf, SPOOL_MAGIC "\n", ml + 1) ? memchr(buf + ml + 1, '\n', n - ml - 1) : NULL;
	if (!nl) {
		err = -EBADMSG;
		goto out;
	}
	*nl = '\0';
	size_t body = n - (size_t)(nl + 1 - buf);
	if (!(*meta = strdup(buf + ml + 1)) || !(*data = malloc(body ? body : 1))) {
		free(*meta);
		err = -ENOMEM;
		goto out;
	}
	memcpy(*data, nl + 1, body);
	*len = body;
out:
	free(buf);
	return err;
}

static int peek_locked(struct agent_spool *sp, char **meta, void **data, size_t *len, uint64_t *id)
{
	if (sp->head == sp->n)
		return -ENOENT;
	const struct spool_entry *en = &sp->e[sp->head];
	*meta = NULL;
	*data = NULL;
	*id = en->id;
	if (!en->mem)
		return read_entry(sp, en, meta, data, len);
	*meta = strdup(en->meta);
	*data = malloc(en->memlen ? en->memlen : 1);
	if (!*meta || !*data) {
		free(*meta);
		free(*data);
		return -ENOMEM;
	}
	memcpy(*data, en->mem, en->memlen);
	*len = en->memlen;
	return 0;
}

int agent_spool_peek(struct agent_spool *sp, char **meta, void **data, size_t *len, uint64_t *id)
{
	pthread_mutex_lock(&sp->lock);
	int err = peek_locked(sp, meta, data, len, id);
	pthread_mutex_unlock(&sp->lock);
	return err;
}

void agent_spool_stats(struct agent_spool *sp, struct agent_spool_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&sp->lock);
	out->entries = sp->n - sp->head;
	for (size_t i = sp->head; i < sp->n; i++)
		out->in_memory += sp->e[i].mem != NULL;
	out->bytes = sp->bytes;
	out->dropped = sp->dropped;
	out->write_errors = sp->write_errors;
	pthread_mutex_unlock(&sp->lock);
}

uint64_t agent_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t cap_ms)
{
	if (!failures)
		return 0;
	uint64_t d = base_ms;
	for (unsigned i = 1; i < failures && d < cap_ms; i++)
		d *= 2;
	return d < cap_ms ? d : cap_ms;
}
