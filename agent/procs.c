/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "procs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/push.h"
#include "base/hashtab.h"
#include "base/utf8.h"

int agent_cgroup_path(const char *text, char *out, size_t outlen, bool *v2)
{
	const char *first = NULL, *firstend = NULL;
	if (v2)
		*v2 = false;
	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		if (!end)
			end = l + strlen(l);
		/* hierarchy-id:controllers:path */
		const char *c1 = memchr(l, ':', (size_t)(end - l));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c2) {
			const char *path = c2 + 1;
			if (c1 - l == 1 && l[0] == '0' && c2 == c1 + 1) {
				first = path;
				firstend = end;
				if (v2)
					*v2 = true;
				break;
			}
			if (!first) {
				first = path;
				firstend = end;
			}
		}
		l = *end ? end + 1 : end;
	}
	if (!first || firstend == first || !outlen)
		return -ENOENT;
	size_t n = (size_t)(firstend - first);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, first, n);
	out[n] = '\0';
	return 0;
}

static bool hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

bool agent_container_id(const char *path, char out[65])
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "crio-", "libpod-", "containerd-", NULL };
	bool found = false;
	for (const char *seg = path; seg && *seg;) {
		while (*seg == '/')
			seg++;
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		const char *s = seg;
		if (n > 6 && !memcmp(s + n - 6, ".scope", 6))
			n -= 6;
		for (size_t i = 0; prefixes[i]; i++) {
			size_t pl = strlen(prefixes[i]);
			if (n > pl && !strncmp(s, prefixes[i], pl)) {
				s += pl;
				n -= pl;
				break;
			}
		}
		if (hex64(s, n)) {
			memcpy(out, s, 64);
			out[64] = '\0';
			found = true;
		}
		seg = end;
	}
	return found;
}

void agent_service_name(const char *static_service, const char *exe, const char *comm, char *out, size_t outlen)
{
	const char *name = "unknown";
	if (static_service && *static_service) {
		name = static_service;
	} else if (exe && *exe) {
		const char *slash = strrchr(exe, '/');
		name = slash && slash[1] ? slash + 1 : exe;
	} else if (comm && *comm) {
		name = comm;
	}
	snprintf(out, outlen, "%s", name);
	/* " (deleted)" from a replaced binary is not part of the name. */
	char *del = strstr(out, " (deleted)");
	if (del)
		*del = '\0';
	/* A service name is letters, digits and _ . - / (Pyroscope's
	 * api/model/labelset/validate.go, IsServiceNameRuneAllowed): a memfd's
	 * "memfd:sealed-x" or a kernel thread's "kworker/0:1H" would be refused
	 * by its /ingest and read badly in its UI.  Others become '_'. */
	for (char *c = out; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.-/", *c))
			*c = '_';
}

/* A label value as Pyroscope takes it: valid UTF-8 (each bad run one
 * U+FFFD) of at most AGENT_PUSH_VALUE_MAX bytes.  NULL on ENOMEM. */
static char *label_value(const char *s)
{
	char *r = utf8_repaired(s);
	if (r)
		r[utf8_cut(r, strlen(r), AGENT_PUSH_VALUE_MAX)] = '\0';
	return r;
}

enum { PROC_LIVE, PROC_GONE };

struct proc_info {
	uint32_t pid, gen, state;
	bool superseded; /* the pid exec'd: a newer gen replaces this one */
	bool unread;     /* named from a sample only (agent_procs_name_unread) */
	char *exe, *cgroup, *service;
	char container[65];
	struct build_label labels[4];
	size_t nlabels;
};

/* A cgroup's labels, as the first process seen in it gave them. */
struct cgroup_labels {
	char *path; /* NULL: none could be read */
	char container[65];
};

/* Cgroups remembered at once; all are let go when more come (a cache). */
#define CGROUPS_MAX 1024

struct agent_procs {
	struct u64map by_key; /* pid << 32 | gen -> struct proc_info * */
	struct u64map latest; /* pid -> its newest gen */
	struct u64map cgroups; /* cgroup v2 id -> struct cgroup_labels * */
	char *static_service;
};

static void cgroups_clear(struct agent_procs *ap)
{
	size_t pos = 0;
	uint64_t k, v;
	while (u64map_next(&ap->cgroups, &pos, &k, &v)) {
		struct cgroup_labels *cl = (struct cgroup_labels *)(uintptr_t)v;
		free(cl->path);
		free(cl);
	}
	u64map_release(&ap->cgroups);
	u64map_init(&ap->cgroups);
}

/* Keeps pi's cgroup labels under id (nothing on ENOMEM: it is a cache). */
static void cgroups_put(struct agent_procs *ap, uint64_t id, const struct proc_info *pi)
{
	if (u64map_len(&ap->cgroups) >= CGROUPS_MAX)
		cgroups_clear(ap);
	struct cgroup_labels *cl = calloc(1, sizeof(*cl));
	if (!cl || (pi->cgroup && !(cl->path = strdup(pi->cgroup))) ||
	    u64map_put(&ap->cgroups, id, (uint64_t)(uintptr_t)cl)) {
		if (cl)
			free(cl->path);
		free(cl);
		return;
	}
	memcpy(cl->container, pi->container, sizeof(cl->container));
}

int agent_procs_new(const char *static_service, struct agent_procs **out)
{
	struct agent_procs *ap = calloc(1, sizeof(*ap));
	if (!ap)
		return -ENOMEM;
	u64map_init(&ap->by_key);
	u64map_init(&ap->latest);
	u64map_init(&ap->cgroups);
	if (agent_procs_set_service(ap, static_service)) {
		agent_procs_free(ap);
		return -ENOMEM;
	}
	*out = ap;
	return 0;
}

static void info_free(struct proc_info *pi)
{
	if (!pi)
		return;
	free(pi->exe);
	free(pi->cgroup);
	free(pi->service);
	free(pi);
}

void agent_procs_free(struct agent_procs *ap)
{
	if (!ap)
		return;
	size_t pos = 0;
	uint64_t k, v;
	while (u64map_next(&ap->by_key, &pos, &k, &v))
		info_free((struct proc_info *)(uintptr_t)v);
	u64map_release(&ap->by_key);
	u64map_release(&ap->latest);
	cgroups_clear(ap);
	u64map_release(&ap->cgroups);
	free(ap->static_service);
	free(ap);
}

int agent_procs_set_service(struct agent_procs *ap, const char *static_service)
{
	char *s = static_service ? strdup(static_service) : NULL;
	if (static_service && !s)
		return -ENOMEM;
	free(ap->static_service);
	ap->static_service = s;
	return 0;
}

static char *read_small(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = malloc(max + 1);
	ssize_t n = buf ? read(fd, buf, max) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static void set_labels(struct proc_info *pi)
{
	pi->nlabels = 0;
	pi->labels[pi->nlabels++] = (struct build_label){ "service_name", pi->service };
	if (pi->exe)
		pi->labels[pi->nlabels++] = (struct build_label){ "exe", pi->exe };
	if (pi->cgroup)
		pi->labels[pi->nlabels++] = (struct build_label){ "cgroup", pi->cgroup };
	if (pi->container[0])
		pi->labels[pi->nlabels++] = (struct build_label){ "container_id", pi->container };
}

/* agent_procs_track, and with exit_comm (the name it exited with)
 * agent_procs_track_exited; unread: agent_procs_name_unread. */
static int track(struct agent_procs *ap, uint32_t pid, uint32_t gen, uint64_t cgroup_id, const char *exit_comm,
		 bool unread)
{
	uint64_t key = (uint64_t)pid << 32 | gen;
	char path[64], exe[4096], cg[4096], *comm = NULL;
	ssize_t n = 0;
	int err;

	uint64_t *had = u64map_get(&ap->by_key, key);
	struct proc_info *old = had ? (struct proc_info *)(uintptr_t)*had : NULL;
	if (old && (unread || !old->unread))
		return 0;
	/* Under churn most processes announced are new and many already gone:
	 * the executable first, and without it (a kernel thread, or gone)
	 * whether the process is still there, before anything else is read. */
	if (!exit_comm) {
		snprintf(path, sizeof(path), "/proc/%u/exe", pid);
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n <= 0 && kill((pid_t)pid, 0) && errno == ESRCH)
			return -ESRCH;
	}
	struct proc_info *pi = calloc(1, sizeof(*pi));
	if (!pi)
		return -ENOMEM;
	pi->pid = pid;
	pi->gen = gen;
	pi->unread = unread;
	if (n > 0) {
		exe[n] = '\0';
		pi->exe = label_value(exe);
	}
	/* Under churn, most are in a cgroup seen already: its labels are
	 * taken by id (reading /proc/PID/cgroup was 9 % of the agent's CPU). */
	uint64_t *known = cgroup_id ? u64map_get(&ap->cgroups, cgroup_id) : NULL;
	if (known) {
		const struct cgroup_labels *cl = (const struct cgroup_labels *)(uintptr_t)*known;
		if (cl->path && !(pi->cgroup = strdup(cl->path))) {
			info_free(pi);
			return -ENOMEM;
		}
		memcpy(pi->container, cl->container, sizeof(pi->container));
	} else {
		snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
		char *text = read_small(path, 16384);
		bool v2 = false;
		if (text && !agent_cgroup_path(text, cg, sizeof(cg), &v2)) {
			pi->cgroup = label_value(cg);
			agent_container_id(cg, pi->container);
		}
		/* Only a label from the v2 line is the id's: on a system with
		 * v1 hierarchies alone, every process has the v2 root's id. */
		if (v2 && cgroup_id)
			cgroups_put(ap, cgroup_id, pi);
		free(text);
	}
	if (!pi->exe && !exit_comm) { /* comm names the service only without an executable */
		snprintf(path, sizeof(path), "/proc/%u/comm", pid);
		if ((comm = read_small(path, 64)))
			comm[strcspn(comm, "\n")] = '\0';
	}
	char svc[256];
	agent_service_name(ap->static_service, pi->exe, exit_comm ? exit_comm : comm, svc, sizeof(svc));
	free(comm);
	pi->service = strdup(svc);
	if (!pi->service || (err = u64map_put(&ap->by_key, key, (uint64_t)(uintptr_t)pi))) {
		info_free(pi);
		return -ENOMEM;
	}
	info_free(old); /* a name from a sample only, replaced */
	set_labels(pi);
	/* An exec: the old image is swept like an exited process. */
	uint64_t *prev = u64map_get(&ap->latest, pid);
	uint64_t *image = prev && *prev != gen ? u64map_get(&ap->by_key, (uint64_t)pid << 32 | *prev) : NULL;
	if (image)
		((struct proc_info *)(uintptr_t)*image)->superseded = true;
	return u64map_put(&ap->latest, pid, gen);
}

int agent_procs_track(struct agent_procs *ap, uint32_t pid, uint32_t gen, uint64_t cgroup_id)
{
	return track(ap, pid, gen, cgroup_id, NULL, false);
}

int agent_procs_track_exited(struct agent_procs *ap, uint32_t pid, uint32_t gen, uint64_t cgroup_id,
			     const char *comm)
{
	return track(ap, pid, gen, cgroup_id, comm, false);
}

int agent_procs_name_unread(struct agent_procs *ap, uint32_t pid, uint32_t gen, const char *comm)
{
	return track(ap, pid, gen, 0, comm, true);
}

static const struct proc_info *find(const struct agent_procs *ap, uint32_t pid, uint32_t gen)
{
	uint64_t *slot = u64map_get(&ap->by_key, (uint64_t)pid << 32 | gen);
	return slot ? (const struct proc_info *)(uintptr_t)*slot : NULL;
}

bool agent_procs_read(const struct agent_procs *ap, uint32_t pid, uint32_t gen)
{
	const struct proc_info *pi = find(ap, pid, gen);
	return pi && !pi->unread;
}

size_t agent_procs_labels(void *ctx, uint32_t pid, uint32_t gen, const struct build_label **out)
{
	const struct proc_info *pi = find(ctx, pid, gen);
	*out = pi ? pi->labels : NULL;
	return pi ? pi->nlabels : 0;
}

const char *agent_procs_service(const struct agent_procs *ap, uint32_t pid, uint32_t gen)
{
	const struct proc_info *pi = find(ap, pid, gen);
	return pi ? pi->service : NULL;
}

size_t agent_procs_sweep(struct agent_procs *ap, agent_forget_fn forget, void *ctx)
{
	size_t pos = 0, removed = 0, nd = 0, cap = 0;
	uint64_t k, v;
	uint64_t *dead = NULL;
	while (u64map_next(&ap->by_key, &pos, &k, &v)) {
		struct proc_info *pi = (struct proc_info *)(uintptr_t)v;
		if (pi->state == PROC_GONE) {
			if (nd == cap) {
				uint64_t *nd2 = realloc(dead, (cap = cap ? cap * 2 : 64) * sizeof(*dead));
				if (!nd2)
					break;
				dead = nd2;
			}
			dead[nd++] = k;
		} else if (pi->superseded || (kill((pid_t)pi->pid, 0) && errno == ESRCH)) {
			pi->state = PROC_GONE;
		}
	}
	for (size_t i = 0; i < nd; i++) {
		uint64_t *slot = u64map_get(&ap->by_key, dead[i]);
		struct proc_info *pi = (struct proc_info *)(uintptr_t)*slot;
		if (forget)
			forget(ctx, pi->pid, pi->gen);
		uint64_t *lg = u64map_get(&ap->latest, pi->pid);
		if (lg && *lg == pi->gen)
			u64map_del(&ap->latest, pi->pid);
		u64map_del(&ap->by_key, dead[i]);
		info_free(pi);
		removed++;
	}
	free(dead);
	return removed;
}

size_t agent_procs_count(const struct agent_procs *ap)
{
	return u64map_len(&ap->by_key);
}
