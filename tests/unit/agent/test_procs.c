/* SPDX-License-Identifier: MIT */
/* Tests for agent/procs.h: cgroup paths, container ids, service names, the process table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/procs.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_cgroup_path(void **state)
{
	(void)state;
	char out[256];
	bool v2 = false;
	assert_int_equal(agent_cgroup_path("0::/system.slice/nginx.service\n", out, sizeof(out), &v2), 0);
	assert_string_equal(out, "/system.slice/nginx.service");
	assert_true(v2);
	/* v1 hierarchies first, the v2 line wins. */
	assert_int_equal(agent_cgroup_path("12:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n0::/unified\n", out,
					   sizeof(out), &v2), 0);
	assert_string_equal(out, "/unified");
	assert_true(v2);
	/* v1 only: the first line. */
	assert_int_equal(agent_cgroup_path("12:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n", out, sizeof(out), &v2), 0);
	assert_string_equal(out, "/docker/abc");
	assert_false(v2);
	assert_int_equal(agent_cgroup_path("", out, sizeof(out), NULL), -ENOENT);
	assert_int_equal(agent_cgroup_path("garbage\n", out, sizeof(out), NULL), -ENOENT);
	/* Truncated, still terminated. */
	assert_int_equal(agent_cgroup_path("0::/abcdefgh", out, 4, NULL), 0);
	assert_string_equal(out, "/ab");
}

static void test_container_id(void **state)
{
	(void)state;
	char id[65];
	static const char *const yes[] = {
		"/docker/" ID,
		"/system.slice/docker-" ID ".scope",
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-" ID ".scope",
		"/kubepods/besteffort/pod12/" ID,
		"/machine.slice/libpod-" ID ".scope/container",
		"/system.slice/crio-" ID ".scope",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		memset(id, 0, sizeof(id));
		assert_true(agent_container_id(yes[i], id));
		assert_string_equal(id, ID);
	}
	assert_false(agent_container_id("/", id));
	assert_false(agent_container_id("/user.slice/user-1000.slice/session-2.scope", id));
	assert_false(agent_container_id("/docker/" "0123456789abcdef", id));          /* too short */
	assert_false(agent_container_id("/docker/" ID "0", id));                      /* too long */
	assert_false(agent_container_id("/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", id));
}

static void test_service_name(void **state)
{
	(void)state;
	char out[64];
	agent_service_name("api", "/usr/bin/nginx", "nginx", out, sizeof(out));
	assert_string_equal(out, "api");
	agent_service_name(NULL, "/usr/sbin/nginx", "nginx: worker", out, sizeof(out));
	assert_string_equal(out, "nginx");
	agent_service_name("", "/opt/app/server (deleted)", NULL, out, sizeof(out));
	assert_string_equal(out, "server");
	/* Letters, digits and _ . - / only (Pyroscope's service name runes). */
	agent_service_name(NULL, NULL, "kworker/0:1", out, sizeof(out));
	assert_string_equal(out, "kworker/0_1");
	agent_service_name(NULL, "/memfd:sealed-app (deleted)", "app", out, sizeof(out));
	assert_string_equal(out, "memfd_sealed-app");
	agent_service_name("my api", NULL, NULL, out, sizeof(out));
	assert_string_equal(out, "my_api");
	agent_service_name(NULL, "/opt/caf\xc3\xa9", NULL, out, sizeof(out));
	assert_string_equal(out, "caf__");
	agent_service_name(NULL, NULL, NULL, out, sizeof(out));
	assert_string_equal(out, "unknown");
}

static size_t count_forgets;
static void on_forget(void *ctx, uint32_t pid, uint32_t gen)
{
	(void)ctx;
	(void)pid;
	(void)gen;
	count_forgets++;
}

static const char *label(const struct build_label *l, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i].key, key))
			return l[i].value;
	return NULL;
}

/* This process and a child that exits: labels, exec generations, two-step forgetting. */
static void test_table(void **state)
{
	(void)state;
	struct agent_procs *ap = NULL;
	const struct build_label *l;
	assert_int_equal(agent_procs_new(NULL, &ap), 0);
	uint32_t me = (uint32_t)getpid();
	assert_int_equal(agent_procs_track(ap, me, 7, 0), 0);
	size_t n = agent_procs_labels(ap, me, 7, &l);
	assert_true(n >= 2);
	assert_string_equal(label(l, n, "service_name"), "test_agent_procs");
	assert_non_null(strstr(label(l, n, "exe"), "test_agent_procs"));
	assert_int_equal(agent_procs_labels(ap, me, 8, &l), 0); /* another generation: unknown */
	assert_null(agent_procs_service(ap, me, 8));

	pid_t child = fork();
	if (!child) {
		pause();
		_exit(0);
	}
	assert_int_equal(agent_procs_track(ap, (uint32_t)child, 9, 0), 0);
	assert_int_equal(agent_procs_count(ap), 2);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	count_forgets = 0;
	assert_int_equal(agent_procs_sweep(ap, on_forget, NULL), 0); /* marked gone */
	assert_non_null(agent_procs_service(ap, (uint32_t)child, 9)); /* still labelled for one more window */
	assert_int_equal(agent_procs_sweep(ap, on_forget, NULL), 1);
	assert_int_equal(count_forgets, 1);
	assert_int_equal(agent_procs_count(ap), 1);

	/* An exec (new generation) retires the old one the same way. */
	assert_int_equal(agent_procs_track(ap, me, 10, 0), 0);
	assert_int_equal(agent_procs_count(ap), 2);
	agent_procs_sweep(ap, on_forget, NULL);
	assert_int_equal(agent_procs_sweep(ap, on_forget, NULL), 1);
	assert_non_null(agent_procs_service(ap, me, 10));
	assert_null(agent_procs_service(ap, me, 7));

	/* A static service name applies to processes tracked after it is set. */
	assert_int_equal(agent_procs_set_service(ap, "fleet"), 0);
	assert_int_equal(agent_procs_track(ap, me, 11, 0), 0);
	assert_string_equal(agent_procs_service(ap, me, 11), "fleet");
	assert_int_equal(agent_procs_track(ap, 0x7ffffff0, 1, 0), -ESRCH);
	agent_procs_free(ap);
}

/* A process without an executable (a kernel thread: kthreadd, pid 2 where
 * the agent runs on the host) is named by its comm, read only then. */
static void test_kernel_thread(void **state)
{
	(void)state;
	char comm[32] = "", exe[64];
	FILE *f = fopen("/proc/2/comm", "re");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	if (strcmp(comm, "kthreadd\n") || readlink("/proc/2/exe", exe, sizeof(exe)) >= 0)
		skip(); /* in a pid namespace: pid 2 is not the kernel's */
	struct agent_procs *ap = NULL;
	const struct build_label *l;
	assert_int_equal(agent_procs_new(NULL, &ap), 0);
	assert_int_equal(agent_procs_track(ap, 2, 1, 0), 0);
	assert_string_equal(agent_procs_service(ap, 2, 1), "kthreadd");
	size_t n = agent_procs_labels(ap, 2, 1, &l);
	assert_null(label(l, n, "exe"));
	agent_procs_free(ap);
}

/* A process read only after it exited: named by the comm it exited with,
 * without an executable, its cgroup's labels taken by id when a process
 * seen alive in it gave them (nothing read: the pid is gone). */
static void test_exited(void **state)
{
	(void)state;
	struct agent_procs *ap = NULL;
	const struct build_label *l;
	uint32_t me = (uint32_t)getpid(), gone = 0x7ffffff0;
	assert_int_equal(agent_procs_new(NULL, &ap), 0);
	assert_int_equal(agent_procs_track_exited(ap, gone, 3, 0, "worker/1"), 0);
	size_t n = agent_procs_labels(ap, gone, 3, &l);
	assert_string_equal(label(l, n, "service_name"), "worker/1");
	assert_null(label(l, n, "exe"));
	assert_null(label(l, n, "cgroup"));

	/* Named from a sample before its announcement was read: the reading,
	 * when it comes, replaces the name. */
	uint32_t me_ = (uint32_t)getpid();
	assert_int_equal(agent_procs_name_unread(ap, me_, 9, "sh"), 0);
	assert_false(agent_procs_read(ap, me_, 9));
	assert_string_equal(agent_procs_service(ap, me_, 9), "sh");
	assert_int_equal(agent_procs_name_unread(ap, me_, 9, "other"), 0); /* the first name stays */
	assert_string_equal(agent_procs_service(ap, me_, 9), "sh");
	assert_int_equal(agent_procs_track(ap, me_, 9, 0), 0);
	assert_true(agent_procs_read(ap, me_, 9));
	n = agent_procs_labels(ap, me_, 9, &l);
	assert_string_equal(label(l, n, "service_name"), "test_agent_procs");
	assert_non_null(label(l, n, "exe"));

	/* Ours, read alive under a made-up cgroup id, then a gone one in it. */
	const uint64_t id = 0x5c0a7c4;
	assert_int_equal(agent_procs_track(ap, me, 4, id), 0);
	n = agent_procs_labels(ap, me, 4, &l);
	const char *ours = label(l, n, "cgroup");
	char text[4096] = "";
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (f) {
		text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
		fclose(f);
	}
	if (ours && (!strncmp(text, "0::", 3) || strstr(text, "\n0::"))) { /* a v2 line: the id is remembered */
		assert_int_equal(agent_procs_track_exited(ap, gone, 5, id, "bash"), 0);
		n = agent_procs_labels(ap, gone, 5, &l);
		assert_string_equal(label(l, n, "cgroup"), ours);
		assert_string_equal(label(l, n, "service_name"), "bash");
	}
	agent_procs_free(ap);
}

/* Tracks (pid, gen) announced with cgroup id cg: its cgroup label. */
static const char *cgroup_label(struct agent_procs *ap, uint32_t pid, uint32_t gen, uint64_t cg)
{
	const struct build_label *l;
	assert_int_equal(agent_procs_track(ap, pid, gen, cg), 0);
	size_t n = agent_procs_labels(ap, pid, gen, &l);
	return label(l, n, "cgroup");
}

/* A cgroup's labels by its id: read from the first process seen in it, then
 * given to the next process announced with that id without reading its
 * /proc/PID/cgroup.  Shown with a child moved to a cgroup of its own (root
 * and a cgroup2 mount needed; skipped otherwise): announced with the
 * parent's cgroup id it gets the parent's labels (the cache), announced
 * without an id its own (read). */
static void test_cgroup_by_id(void **state)
{
	(void)state;
	char dir[4200], mnt[4096] = "", type[64], line[8192];
	FILE *m = fopen("/proc/mounts", "r");
	while (m && fgets(line, sizeof(line), m))
		if (sscanf(line, "%*s %4095s %63s", mnt, type) == 2 && !strcmp(type, "cgroup2"))
			break;
		else
			mnt[0] = '\0';
	if (m)
		fclose(m);
	snprintf(dir, sizeof(dir), "%s/scorch-test-procs-%d", mnt, (int)getpid());
	if (geteuid() != 0 || !mnt[0] || mkdir(dir, 0755)) {
		fprintf(stderr, "test_cgroup_by_id: skipped: cannot make a cgroup (%s)\n", dir);
		skip();
	}
	struct agent_procs *ap = NULL;
	assert_int_equal(agent_procs_new(NULL, &ap), 0);
	const char *mine = cgroup_label(ap, (uint32_t)getpid(), 20, 4242);
	assert_non_null(mine);

	pid_t child = fork();
	if (!child) {
		pause();
		_exit(0);
	}
	char procs[4300], pid[32];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", (int)child);
	int fd = open(procs, O_WRONLY);
	bool moved = fd >= 0 && write(fd, pid, strlen(pid)) == (ssize_t)strlen(pid);
	if (fd >= 0)
		close(fd);
	if (!moved) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		rmdir(dir);
	}
	assert_true(moved);
	assert_string_equal(cgroup_label(ap, (uint32_t)child, 21, 4242), mine);
	assert_non_null(strstr(cgroup_label(ap, (uint32_t)child, 22, 0), "scorch-test-procs-"));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	agent_procs_free(ap);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_path),
		cmocka_unit_test(test_container_id),
		cmocka_unit_test(test_service_name),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_kernel_thread),
		cmocka_unit_test(test_exited),
		cmocka_unit_test(test_cgroup_by_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
