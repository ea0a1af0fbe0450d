/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize/procmaps.h"

static const char maps[] =
	"55d0c3a00000-55d0c3a01000 r--p 00000000 fd:01 1234                       /usr/bin/app\n"
	"55d0c3a01000-55d0c3a05000 r-xp 00001000 fd:01 1234                       /usr/bin/app\n"
	"55d0c4000000-55d0c4021000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f0000000000-7f0000100000 r-xp 00000000 00:00 0 \n"
	"7f1000028000-7f100019d000 r-xp 00028000 08:02 99                         /lib/x86_64-linux-gnu/libc.so.6\n"
	"7f2000001000-7f2000002000 r-xp 00001000 08:02 77                         /tmp/gone with space (deleted)\n"
	"7ffc0d3f0000-7ffc0d3f2000 r-xp 00000000 00:00 0                          [vdso]\n";

static void test_parse(void **state)
{
	(void)state;
	struct procmaps m;
	assert_int_equal(procmaps_parse(maps, strlen(maps), &m), 0);
	assert_int_equal(m.n, 5); /* executable mappings only */

	const struct procmap *p = procmaps_find(&m, 0x55d0c3a01234);
	assert_non_null(p);
	assert_string_equal(p->path, "/usr/bin/app");
	assert_int_equal(p->offset, 0x1000);
	assert_int_equal(p->dev, makedev(0xfd, 1));
	assert_int_equal(p->inode, 1234);
	assert_false(p->deleted);

	p = procmaps_find(&m, 0x7f0000000010);
	assert_string_equal(p->path, ""); /* anonymous */

	p = procmaps_find(&m, 0x7f2000001800);
	assert_string_equal(p->path, "/tmp/gone with space");
	assert_true(p->deleted);

	p = procmaps_find(&m, 0x7ffc0d3f0100);
	assert_string_equal(p->path, "[vdso]");

	/* Non-executable (heap), between mappings, and the exclusive end. */
	assert_null(procmaps_find(&m, 0x55d0c4000010));
	assert_null(procmaps_find(&m, 0x1000));
	assert_null(procmaps_find(&m, 0x55d0c3a05000));
	procmaps_release(&m);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *bad[] = {
		"zzzz-1000 r-xp 0 00:00 0 x\n",
		"1000 r-xp 00000000 00:00 0 /x\n",
		"2000-1000 r-xp 00000000 00:00 0 /x\n", /* end before start */
		"1000-2000 r-xp 00000000 0000 0 /x\n",
		"1000-2000 r-\n",
		"10000000000000000000-2000 r-xp 00000000 00:00 0 /x\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct procmaps m;
		assert_int_equal(procmaps_parse(bad[i], strlen(bad[i]), &m), -EINVAL);
		assert_int_equal(m.n, 0);
	}
}

static void test_self(void **state)
{
	(void)state;
	struct procmaps m;
	assert_int_equal(procmaps_read((uint32_t)getpid(), &m), 0);
	const struct procmap *p = procmaps_find(&m, (uint64_t)(uintptr_t)test_self);
	assert_non_null(p);
	assert_non_null(strstr(p->path, "test_procmaps"));
	procmaps_release(&m);
	assert_int_equal(procmaps_read(0x7fffffff, &m), -ESRCH);
}

/* procmaps_read (the kernel asked mapping by mapping where it can be) gives
 * what the text of /proc/self/maps says, read at the same moment: an
 * anonymous executable mapping and a deleted file's among them.  The
 * text's [vsyscall] is no mapping of the process's own (the kernel's gate
 * page), which only the text shows. */
static void test_read_as_text(void **state)
{
	(void)state;
	char file[] = "/tmp/scorch-procmaps-del-XXXXXX";
	int fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	void *del = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(del != MAP_FAILED && anon != MAP_FAILED);
	close(fd);
	unlink(file);

	struct procmaps got, want;
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(procmaps_read((uint32_t)getpid(), &got), 0);
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	char buf[4096];
	for (ssize_t r; (r = read(fd, buf, sizeof(buf))) > 0; len += (size_t)r) {
		text = realloc(text, len + (size_t)r);
		assert_non_null(text);
		memcpy(text + len, buf, (size_t)r);
	}
	close(fd);
	assert_int_equal(procmaps_parse(text, len, &want), 0);
	free(text);
	if (want.n && !strcmp(want.maps[want.n - 1].path, "[vsyscall]"))
		free(want.maps[--want.n].path);

	assert_int_equal(got.n, want.n);
	bool saw_del = false, saw_anon = false;
	for (size_t i = 0; i < got.n; i++) {
		const struct procmap *g = &got.maps[i], *w = &want.maps[i];
		assert_int_equal(g->start, w->start);
		assert_int_equal(g->end, w->end);
		assert_int_equal(g->offset, w->offset);
		assert_int_equal(g->dev, w->dev);
		assert_int_equal(g->inode, w->inode);
		assert_string_equal(g->path, w->path);
		assert_int_equal(g->deleted, w->deleted);
		saw_del |= g->start == (uint64_t)(uintptr_t)del && g->deleted && !strcmp(g->path, file);
		saw_anon |= g->start == (uint64_t)(uintptr_t)anon && !g->path[0];
	}
	assert_true(saw_del);
	assert_true(saw_anon);
	procmaps_release(&got);
	procmaps_release(&want);
	munmap(del, 4096);
	munmap(anon, 4096);
}

/* Without map_files (closed without CAP_CHECKPOINT_RESTORE; absent from
 * this fake /proc), a mapping is opened by its path inside the process's
 * root, or inside a live thread's root when the leader exited, and only if
 * the file there is the mapped inode. */
static void test_open_by_root(void **state)
{
	(void)state;
	char proc[] = "/tmp/scorch-procmaps-XXXXXX", dir[256], file[512];
	struct stat st;
	assert_non_null(mkdtemp(proc));
	snprintf(dir, sizeof(dir), "%s/42/task/43/root/lib", proc);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(file, sizeof(file), "%s/libx.so", dir);
	int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(file, &st), 0);
	struct procmap m = { .start = 0x1000, .end = 0x2000, .inode = st.st_ino, .path = "/lib/libx.so" };

	fd = procmap_open(proc, 42, 43, &m);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(procmap_open(proc, 42, 0, &m), -1); /* no /proc/42/root here */
	m.inode = st.st_ino + 1; /* the path names another file now */
	assert_int_equal(procmap_open(proc, 42, 43, &m), -1);
	assert_int_equal(errno, ESTALE);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", proc);
	assert_int_equal(system(cmd), 0);
}

/* A path we may not walk (a 0700 directory, to nobody with README's four
 * capabilities), or none in this fake root: the executable is still opened
 * through exe if it is the mapped file (device and inode); else the path's
 * error. */
static void test_open_exe_fallback(void **state)
{
	(void)state;
	char proc[] = "/tmp/scorch-procmaps-XXXXXX", path[512];
	struct stat st;
	assert_non_null(mkdtemp(proc));
	snprintf(path, sizeof(path), "%s/42", proc);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/42/root", proc);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/42/exe", proc);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	struct procmap m = { .start = 0x1000, .end = 0x2000, .dev = st.st_dev, .inode = st.st_ino, .path = "/closed/prog" };

	fd = procmap_open(proc, 42, 0, &m);
	assert_true(fd >= 0);
	close(fd);
	m.inode = st.st_ino + 1; /* another file: not the executable */
	assert_int_equal(procmap_open(proc, 42, 0, &m), -1);
	assert_int_equal(errno, ENOENT);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", proc);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_read_as_text),
		cmocka_unit_test(test_open_by_root),
		cmocka_unit_test(test_open_exe_fallback),
	};
	return cmocka_run_group_tests_name("procmaps", tests, NULL, NULL);
}
