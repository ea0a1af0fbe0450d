// SPDX-License-Identifier: MIT
/*
 * kbtf_relocs TMPDIR: loads scorch's BPF object twice, against the
 * kernel's full BTF and against the minimal BTF kbtf builds from it (saved
 * as the cache file is), and prints what differs in the instructions
 * libbpf's CO-RE relocation patched.  Exit 0 when both loads succeed, at
 * least one instruction was patched, the patches are the same and the
 * second load never read the kernel's BTF; 1 otherwise.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.skel.h"
#include "profiler/kbtf.h"

static char log_buf[2][1 << 16];
static size_t log_len[2];
static int which;
static int vmlinux_reads[2];

/* Keeps libbpf's "patched insn" lines (which program, which instruction,
 * what it became) and counts mentions of the kernel's BTF being loaded. */
static int on_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	(void)level;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (strstr(line, "kernel BTF") || strstr(line, "/sys/kernel/btf/vmlinux"))
		vmlinux_reads[which]++;
	size_t n = strlen(line), *len = &log_len[which & 1];
	char *buf = log_buf[which & 1];
	if (strstr(line, "patched insn") && n < sizeof(log_buf[0]) - *len) {
		memcpy(buf + *len, line, n);
		*len += n;
	}
	return 0;
}

/* Loads the object (every program, every map at one entry) with custom
 * BTF, or the kernel's when NULL.  0 or a libbpf error. */
static int load(const char *custom)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = custom);
	struct profile_bpf *s = profile_bpf__open_opts(&opts);
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	if (!s)
		return -1;
	bpf_object__for_each_program(p, s->obj)
		bpf_program__set_autoload(p, true);
	bpf_object__for_each_map(m, s->obj)
		if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF && !bpf_map__is_internal(m))
			bpf_map__set_max_entries(m, 1);
	err = profile_bpf__load(s);
	profile_bpf__destroy(s);
	return err;
}

int main(int argc, char **argv)
{
	char path[4096];
	void *data = NULL;
	size_t size = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: kbtf_relocs TMPDIR\n");
		return 2;
	}
	libbpf_set_print(on_log);
	struct profile_bpf *s = profile_bpf__open();
	struct btf *vm = btf__load_vmlinux_btf();
	if (!s || !vm || kbtf_build(bpf_object__btf(s->obj), vm, &data, &size)) {
		fprintf(stderr, "kbtf_relocs: cannot build the minimal BTF\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/btf-test", argv[1]);
	if (kbtf_save(path, data, size, 0)) {
		fprintf(stderr, "kbtf_relocs: cannot write %s\n", path);
		return 1;
	}
	printf("minimal BTF: %zu bytes\n", size);
	free(data);
	btf__free(vm);
	profile_bpf__destroy(s);

	which = 0;
	vmlinux_reads[0] = 0;
	int full = load(NULL);
	which = 1;
	vmlinux_reads[1] = 0;
	int min = load(path);
	printf("full BTF: load %d, %d bytes of patches, kernel BTF read %d times; minimal: load %d, %d bytes, %d times\n",
	       full, (int)log_len[0], vmlinux_reads[0], min, (int)log_len[1], vmlinux_reads[1]);
	/* The first load's mentions show the kernel's BTF reads are seen. */
	if (full || min || !log_len[0] || !vmlinux_reads[0] || vmlinux_reads[1])
		return 1;
	if (log_len[0] != log_len[1] || memcmp(log_buf[0], log_buf[1], log_len[0])) {
		printf("--- full\n%.*s--- minimal\n%.*s", (int)log_len[0], log_buf[0], (int)log_len[1], log_buf[1]);
		return 1;
	}
	return 0;
}
