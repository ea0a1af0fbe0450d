/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "debuginfod.h"

#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/array.h"
#include "base/clock.h"
#include "base/hashtab.h"
#include "debuginfo.h"

#define MAX_THREADS 16

/* The library's entry points, from dlopen. */
struct lib {
	__typeof__(debuginfod_begin) *begin;
	__typeof__(debuginfod_find_debuginfo) *find_debuginfo;
	__typeof__(debuginfod_set_progressfn) *set_progressfn;
	__typeof__(debuginfod_set_user_data) *set_user_data;
	__typeof__(debuginfod_get_user_data) *get_user_data;
	__typeof__(debuginfod_end) *end;
};

enum { ENTRY_QUEUED, ENTRY_FETCHING, ENTRY_DONE };

struct entry {
	char bid[129];
	int state;
	int err; /* when done: 0 (fd is the file) or -errno */
	int fd;
};

struct dbgd {
	struct lib lib;
	void *handle; /* never closed */
	pthread_mutex_t lock;
	pthread_cond_t work; /* a build ID was queued, or stop */
	pthread_cond_t done; /* an answer came */
	struct entry *entries;
	size_t nentries, cap;
	struct u64map index; /* hash of the build ID -> entry index + 1 */
	size_t *queue;       /* ring of entry indices */
	size_t qhead, qlen, qcap;
	size_t pending; /* queued or being fetched */
	atomic_bool cancel; /* abandon transfers: dbgd_wait's deadline, or dbgd_free */
	bool stop;
	pthread_t threads[MAX_THREADS];
	unsigned nthreads;
	struct dbgd_stats stats;
};

/* The library's client handles know their dbgd through their user data,
 * which the progress callback reads through the loaded library: one
 * loaded library serves every dbgd, so it is kept in a static. */
static __typeof__(debuginfod_get_user_data) *get_user_data_fn;

static struct dbgd *progress_owner(debuginfod_client *c)
{
	return get_user_data_fn ? get_user_data_fn(c) : NULL;
}

static int load_lib(struct dbgd *d)
{
	d->handle = dlopen(DEBUGINFOD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!d->handle)
		return -ENOSYS;
	struct lib *l = &d->lib;
	*(void **)&l->begin = dlsym(d->handle, "debuginfod_begin");
	*(void **)&l->find_debuginfo = dlsym(d->handle, "debuginfod_find_debuginfo");
	*(void **)&l->set_progressfn = dlsym(d->handle, "debuginfod_set_progressfn");
	*(void **)&l->set_user_data = dlsym(d->handle, "debuginfod_set_user_data");
	*(void **)&l->get_user_data = dlsym(d->handle, "debuginfod_get_user_data");
	*(void **)&l->end = dlsym(d->handle, "debuginfod_end");
	if (!l->begin || !l->find_debuginfo || !l->set_progressfn || !l->set_user_data || !l->get_user_data ||
	    !l->end)
		return -ENOSYS;
	get_user_data_fn = l->get_user_data;
	return 0;
}

/* The URLs the library will read, from o->urls (commas allowed) or the
 * environment.  -ENOENT when there are none. */
static int set_urls(const char *urls)
{
	if (urls) {
		char *s = strdup(urls);
		if (!s)
			return -ENOMEM;
		for (char *p = s; *p; p++)
			if (*p == ',')
				*p = ' ';
		int err = setenv(DEBUGINFOD_URLS_ENV_VAR, s, 1) ? -errno : 0;
		free(s);
		if (err)
			return err;
	}
	const char *env = getenv(DEBUGINFOD_URLS_ENV_VAR);
	return env && env[strspn(env, " \t")] ? 0 : -ENOENT;
}

/* A directory only root can write: downloaded files are trusted only as
 * far as their build ID, but a cache others could fill would let them
 * answer for any build ID's lookup (the misses it remembers, too). */
static int check_root_dir(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st))
		return errno == ENOENT ? 0 : -errno; /* the library creates it */
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return -EPERM;
	return 0;
}

/* As root, the cache is root's: the one named, if it is safe, else
 * /var/cache/scorch/debuginfod (the library's default follows $HOME, which
 * sudo may leave pointing at a user's). */
static int set_cache(const char *dir)
{
	if (dir && setenv(DEBUGINFOD_CACHE_PATH_ENV_VAR, dir, 1))
		return -errno;
	if (geteuid() != 0)
		return 0;
	const char *env = getenv(DEBUGINFOD_CACHE_PATH_ENV_VAR);
	if (env && *env)
		return check_root_dir(env);
	static const char *const dirs[] = { "/var/cache/scorch", "/var/cache/scorch/debuginfod" };
	for (size_t i = 0; i < 2; i++) {
		if (mkdir(dirs[i], 0700) && errno != EEXIST)
			return -errno;
		int err = check_root_dir(dirs[i]);
		if (err)
			return err;
	}
	return setenv(DEBUGINFOD_CACHE_PATH_ENV_VAR, dirs[1], 1) ? -errno : 0;
}

/* Called by the library while a transfer runs: non-zero abandons it. */
static int on_progress(debuginfod_client *c, long a, long b)
{
	(void)a;
	(void)b;
	struct dbgd *d = progress_owner(c);
	return d && atomic_load(&d->cancel);
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Fetches one build ID with client c; the answer's fd or -errno. */
static int fetch(struct dbgd *d, debuginfod_client *c, const char *bid)
{
	unsigned char raw[64];
	size_t len = strlen(bid) / 2;
	if (len == 0 || len > sizeof(raw))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_value(bid[2 * i]), lo = hex_value(bid[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	if (atomic_load(&d->cancel))
		return -ECANCELED;
	int fd = d->lib.find_debuginfo(c, raw, (int)len, NULL);
	if (fd < 0)
		return atomic_load(&d->cancel) ? -ECANCELED : fd;
	char got[129];
	if (debuginfo_build_id(fd, got) || strcmp(got, bid)) {
		close(fd);
		return -EBADMSG;
	}
	return fd;
}

static void count(struct dbgd *d, int err)
{
	if (!err)
		d->stats.found++;
	else if (err == -ENOENT)
		d->stats.missing++;
	else if (err == -EBADMSG)
		d->stats.refused++;
	else
		d->stats.failed++;
}

static void *worker(void *arg)
{
	struct dbgd *d = arg;
	debuginfod_client *c = d->lib.begin();
	if (c) {
		d->lib.set_user_data(c, d);
		d->lib.set_progressfn(c, on_progress);
	}
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->stop && !d->qlen)
			pthread_cond_wait(&d->work, &d->lock);
		if (d->stop)
			break;
		size_t idx = d->queue[d->qhead];
		d->qhead = (d->qhead + 1) % d->qcap;
		d->qlen--;
		struct entry *e = &d->entries[idx];
		e->state = ENTRY_FETCHING;
		char bid[sizeof(e->bid)];
		memcpy(bid, e->bid, sizeof(bid));
		pthread_mutex_unlock(&d->lock);
		int r = c ? fetch(d, c, bid) : -ENOMEM;
		pthread_mutex_lock(&d->lock);
		e = &d->entries[idx]; /* the array may have moved */
		e->state = ENTRY_DONE;
		e->fd = r >= 0 ? r : -1;
		e->err = r >= 0 ? 0 : r;
		count(d, e->err);
		d->pending--;
		pthread_cond_broadcast(&d->done);
	}
	pthread_mutex_unlock(&d->lock);
	if (c)
		d->lib.end(c);
	return NULL;
}

int dbgd_new(const struct dbgd_opts *o, struct dbgd **out)
{
	int err = set_urls(o->urls);
	if (err)
		return err;
	if ((err = set_cache(o->cache_dir)))
		return err;
	struct dbgd *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->done, NULL);
	u64map_init(&d->index);
	d->qcap = o->max_queue ? o->max_queue : 256;
	d->queue = calloc(d->qcap, sizeof(*d->queue));
	if (!d->queue) {
		dbgd_free(d);
		return -ENOMEM;
	}
	if ((err = load_lib(d))) {
		dbgd_free(d);
		return err;
	}
	unsigned n = o->threads ? o->threads : 4;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	for (unsigned i = 0; i < n; i++) {
		if ((err = -pthread_create(&d->threads[i], NULL, worker, d)))
			break;
		d->nthreads++;
	}
	if (!d->nthreads) {
		dbgd_free(d);
		return err;
	}
	*out = d;
	return 0;
}

void dbgd_free(struct dbgd *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	atomic_store(&d->cancel, true);
	pthread_cond_broadcast(&d->work);
	pthread_mutex_unlock(&d->lock);
	for (unsigned i = 0; i < d->nthreads; i++)
		pthread_join(d->threads[i], NULL);
	for (size_t i = 0; i < d->nentries; i++)
		if (d->entries[i].fd >= 0)
			close(d->entries[i].fd);
	free(d->entries);
	free(d->queue);
	u64map_release(&d->index);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->done);
	pthread_mutex_destroy(&d->lock);
	/* The library stays loaded: libcurl, which it brings, keeps global
	 * state that unloading would orphan. */
	free(d);
}

/* The entry of bid, added (not queued) when new; NULL when out of memory. */
static struct entry *entry_for(struct dbgd *d, const char *bid, bool *fresh)
{
	uint64_t key = hash_bytes(bid, strlen(bid), 0x6462676400000000ull);
	*fresh = false;
	uint64_t *v = u64map_get(&d->index, key);
	if (v && !strcmp(d->entries[*v - 1].bid, bid))
		return &d->entries[*v - 1];
	if (array_grow(&d->entries, &d->cap, d->nentries + 1, sizeof(*d->entries)))
		return NULL;
	if (!v && u64map_put(&d->index, key, d->nentries + 1))
		return NULL;
	/* A hash collision (v names another build ID) stays out of the index. */
	struct entry *e = &d->entries[d->nentries++];
	snprintf(e->bid, sizeof(e->bid), "%s", bid);
	e->state = ENTRY_DONE;
	e->err = -EAGAIN;
	e->fd = -1;
	*fresh = true;
	d->stats.asked++;
	return e;
}

int dbgd_get(struct dbgd *d, const char *build_id, int *fd)
{
	int err;
	bool fresh;
	pthread_mutex_lock(&d->lock);
	struct entry *e = entry_for(d, build_id, &fresh);
	if (!e) {
		err = -ENOMEM;
	} else if (e->state != ENTRY_DONE) {
		err = -EINPROGRESS;
	} else if (!fresh && e->err != -EAGAIN) {
		err = e->err;
		if (!err && (*fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0)) < 0)
			err = -errno;
	} else if (atomic_load(&d->cancel)) {
		err = e->err = -ECANCELED;
	} else if (d->qlen == d->qcap) {
		d->stats.queue_full++;
		err = -EAGAIN; /* asked again next time */
	} else {
		e->state = ENTRY_QUEUED;
		d->queue[(d->qhead + d->qlen++) % d->qcap] = (size_t)(e - d->entries);
		d->pending++;
		pthread_cond_signal(&d->work);
		err = -EINPROGRESS;
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

int dbgd_wait(struct dbgd *d, double secs, dbgd_progress_fn progress, void *ctx)
{
	double t0 = clock_s(CLOCK_MONOTONIC), deadline = t0 + secs;
	int err = 0;
	pthread_mutex_lock(&d->lock);
	while (d->pending) {
		double now = clock_s(CLOCK_MONOTONIC);
		if (now >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		if (progress && now - t0 >= 1.0) {
			size_t done = d->nentries - d->pending, total = d->nentries;
			pthread_mutex_unlock(&d->lock);
			progress(ctx, done, total, now - t0);
			pthread_mutex_lock(&d->lock);
		}
		double until = now + 0.25 < deadline ? now + 0.25 : deadline;
		struct timespec ts = clock_after(CLOCK_REALTIME, until - now);
		pthread_cond_timedwait(&d->done, &d->lock, &ts);
	}
	if (err) {
		/* Transfers under way give up at their next progress call; the
		 * queue is answered now. */
		atomic_store(&d->cancel, true);
		while (d->qlen) {
			struct entry *e = &d->entries[d->queue[d->qhead]];
			d->qhead = (d->qhead + 1) % d->qcap;
			d->qlen--;
			e->state = ENTRY_DONE;
			e->err = -ECANCELED;
			count(d, e->err);
			d->pending--;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

void dbgd_stats(const struct dbgd *d, struct dbgd_stats *out)
{
	pthread_mutex_lock((pthread_mutex_t *)&d->lock);
	*out = d->stats;
	pthread_mutex_unlock((pthread_mutex_t *)&d->lock);
}

const char *dbgd_strerror(int err)
{
	switch (err) {
	case 0:
		return "fetched";
	case -ENOENT:
		return "not on the debuginfod servers";
	case -EBADMSG:
		return "the debuginfod server sent a file of another build ID";
	case -ECANCELED:
		return "debuginfod fetch abandoned at the deadline";
	case -EINPROGRESS:
		return "debuginfod fetch still under way";
	case -EAGAIN:
		return "debuginfod queue full";
	case -ETIMEDOUT:
	case -ETIME:
		return "debuginfod servers timed out";
	default:
		return "debuginfod servers unreachable";
	}
}
