/* SPDX-License-Identifier: MIT */
/*
 * procs: what the agent knows of each process it saw, for labels:
 * executable path, cgroup path, container id and service name, read from
 * /proc when the BPF side announces the process (it may be gone by the end
 * of the window).  Processes found gone after a window are forgotten one
 * window later (samples taken just before they exited may still be in the
 * next window), and the caller is told so it can release its own state.
 *
 * The parsers are pure and public for tests.
 */
#ifndef SCORCH_AGENT_PROCS_H
#define SCORCH_AGENT_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/build.h"

/* The cgroup path in /proc/PID/cgroup's text: the v2 line ("0::/path"),
 * else the first line's path.  *v2 (when not NULL): whether the text has
 * the v2 line.  0, or -ENOENT when there is none. */
int agent_cgroup_path(const char *text, char *out, size_t outlen, bool *v2);
/* The container id in a cgroup path: the last 64-hex-digit segment, bare or
 * as docker-ID.scope, cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope
 * (docker, containerd, CRI-O, podman).  True with out (65 bytes) set. */
bool agent_container_id(const char *cgroup_path, char out[65]);
/* The service name of a process: the static label service_name when set,
 * else the executable's basename, else comm, else "unknown".  Writes out. */
void agent_service_name(const char *static_service, const char *exe, const char *comm, char *out, size_t outlen);

struct agent_procs;

/* static_service: the --label service=... value or NULL (copied). */
int agent_procs_new(const char *static_service, struct agent_procs **out);
void agent_procs_free(struct agent_procs *ap);
/* Changes the static service name (config reload). 0 or -ENOMEM. */
int agent_procs_set_service(struct agent_procs *ap, const char *static_service);
/* Reads /proc/PID for (pid, gen) unless known: its executable and cgroup,
 * and its comm only when it has no executable (a kernel thread).  With
 * cgroup_id (its cgroup v2 id, 0 when unknown), a cgroup's labels are read
 * once, from the first process seen in it.  0, -ESRCH (gone), -ENOMEM. */
int agent_procs_track(struct agent_procs *ap, uint32_t pid, uint32_t gen, uint64_t cgroup_id);
/* The same for a process that has exited (a zombie or gone), known by the
 * name it had then: no executable label, and /proc/PID is not looked at
 * unless its cgroup's labels are not known by cgroup_id (a zombie's
 * cgroup can still be read).  0 or -ENOMEM. */
int agent_procs_track_exited(struct agent_procs *ap, uint32_t pid, uint32_t gen, uint64_t cgroup_id,
			     const char *comm);
/* A process of a window's samples that was never read (gone before its
 * announcement was, or a fork's image replaced by its exec), named by the
 * comm of its samples, as agent_procs_track_exited; a later
 * agent_procs_track or agent_procs_track_exited of it (its announcement
 * read after all) replaces that.  0 or -ENOMEM. */
int agent_procs_name_unread(struct agent_procs *ap, uint32_t pid, uint32_t gen, const char *comm);
/* True when (pid, gen) was read (tracked), not only named from a sample. */
bool agent_procs_read(const struct agent_procs *ap, uint32_t pid, uint32_t gen);
/* build_proc_labels_fn for build_opts (ctx is the agent_procs):
 * service_name first, then those it has of exe, cgroup, container_id
 * (values valid UTF-8 of at most AGENT_PUSH_VALUE_MAX bytes). */
size_t agent_procs_labels(void *ctx, uint32_t pid, uint32_t gen, const struct build_label **out);
/* The service name of (pid, gen), or NULL when unknown. */
const char *agent_procs_service(const struct agent_procs *ap, uint32_t pid, uint32_t gen);
/* After a window: processes gone since the last sweep are marked, those
 * marked last time are removed and passed to forget.  Returns how many
 * were removed. */
typedef void (*agent_forget_fn)(void *ctx, uint32_t pid, uint32_t gen);
size_t agent_procs_sweep(struct agent_procs *ap, agent_forget_fn forget, void *ctx);
size_t agent_procs_count(const struct agent_procs *ap);

#endif
