/* SPDX-License-Identifier: MIT */
/*
 * pprof_labels OUT.pb.gz: writes a small profile with what `scorch convert`
 * cannot make from folded text: pid/tid/comm sample labels (comm and pid as
 * root labels), a mapping with file, line and inline information, a kernel
 * frame, a period, duration, start time and a comment.  pprof_go.sh checks
 * that go tool pprof shows all of it.  Stacks (with the root labels first):
 *   app;1234;main;work;helper_[i] 5
 *   app;1234;main;work;do_sys_open_[k] 2
 *   other tool;99;main 3
 */
#include <stdio.h>
#include <stdlib.h>

#include "formats/format.h"
#include "formats/profile.h"

static uint32_t sid(struct profile *p, const char *s)
{
	int64_t id = profile_intern_cstr(p, s);
	if (id < 0)
		abort();
	return (uint32_t)id;
}

static uint32_t frame(struct profile *p, const struct frame *f)
{
	int64_t id = profile_frame(p, f);
	if (id < 0)
		abort();
	return (uint32_t)id;
}

static uint32_t labelset(struct profile *p, const struct label *l, size_t n)
{
	int64_t id = profile_labelset(p, l, n);
	if (id < 0)
		abort();
	return (uint32_t)id;
}

static void build(struct profile *p)
{
	struct mapping m = {0x400000,
			    0x500000,
			    0,
			    sid(p, "/usr/bin/app"),
			    sid(p, "0badc0de"),
			    MAPPING_HAS_FUNCTIONS | MAPPING_HAS_FILENAMES | MAPPING_HAS_LINE_NUMBERS,
			    0};
	uint32_t map = (uint32_t)profile_mapping(p, &m);
	uint32_t main_f =
	    frame(p, &(struct frame){sid(p, "main"), 0, sid(p, "app.c"), 3, map, FRAME_USER, 0x401000});
	uint32_t work =
	    frame(p, &(struct frame){sid(p, "work"), 0, sid(p, "app.c"), 9, map, FRAME_USER, 0x401100});
	uint32_t helper =
	    frame(p, &(struct frame){sid(p, "helper"), 0, sid(p, "app.h"), 2, map, FRAME_INLINED, 0x401100});
	uint32_t kern =
	    frame(p, &(struct frame){
			 .name = sid(p, "do_sys_open"), .kind = FRAME_KERNEL, .address = 0xffffffff81200000});
	uint32_t pid = sid(p, "pid"), tid = sid(p, "tid"), comm = sid(p, "comm");
	struct label a[] = {{comm, sid(p, "app"), 0}, {pid, 0, 1234}, {tid, 0, 1235}};
	struct label b[] = {{comm, sid(p, "other tool"), 0}, {pid, 0, 99}, {tid, 0, 99}};
	uint32_t s1[] = {main_f, work, helper}, s2[] = {main_f, work, kern}, s3[] = {main_f};
	struct profile_meta *meta = profile_meta(p);

	if (profile_add(p, s1, 3, labelset(p, a, 3), 5) || profile_add(p, s2, 3, labelset(p, a, 3), 2) ||
	    profile_add(p, s3, 1, labelset(p, b, 3), 3))
		abort();
	meta->period_ns = 10000000;
	meta->frequency = 100;
	meta->duration_ns = 1000000000;
	meta->time_ns = 1700000000000000000;
	meta->root_labels[0] = comm;
	meta->root_labels[1] = pid;
	meta->nroot_labels = 2;
	meta->comments[meta->ncomments++] = sid(p, "made by pprof_labels");
}

int main(int argc, char **argv)
{
	struct format_error e = {{0}};
	struct profile *p = profile_new();
	int err;

	if (argc != 2 || !p) {
		fprintf(stderr, "usage: pprof_labels OUT.pb.gz\n");
		return 2;
	}
	build(p);
	err = profile_write_path(p, argv[1], FORMAT_PPROF, NULL, &e);
	if (err)
		fprintf(stderr, "pprof_labels: %s\n", e.msg);
	profile_free(p);
	return err ? 1 : 0;
}
