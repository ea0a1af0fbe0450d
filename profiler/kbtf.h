/* SPDX-License-Identifier: MIT */
/*
 * kbtf: the running kernel's BTF cut down to what a BPF object's CO-RE
 * relocations read, cached for the boot.
 *
 * libbpf relocates CO-RE field accesses against the kernel's BTF; without
 * help it parses all of /sys/kernel/btf/vmlinux (5.4 MB, 125k types on 6.18)
 * at every load.  kbtf_min_path builds, once per boot, a BTF holding for
 * each struct or union the object names (flavours "name___x" merged by name)
 * only the members the object's own types name, at the kernel's offsets and
 * sizes, with the kernel's integer and enum kinds (pointers become void
 * pointers: CO-RE never compares what they point to).  libbpf is then given
 * that file (btf_custom_path) and relocates exactly as against the full BTF.
 *
 * The cache file is raw BTF followed by a trailer: a key (the object's ELF
 * image and the boot id) and a checksum of the BTF bytes.  It is only read from a
 * directory owned by us and writable by nobody else; a file whose trailer,
 * key, checksum or BTF does not check is rebuilt.
 */
#ifndef SCORCH_PROFILER_KBTF_H
#define SCORCH_PROFILER_KBTF_H

#include <stddef.h>
#include <stdint.h>

struct btf;

/*
 * Builds into *data (malloc'd, *size bytes, caller frees) the raw BTF of
 * vmlinux's types that local (a BPF object's BTF) reads.  0 or -errno.
 */
int kbtf_build(const struct btf *local, const struct btf *vmlinux, void **data, size_t *size);

/*
 * The path of the minimal BTF for local (the BTF of the BPF object whose
 * ELF image is object, size bytes) and the running kernel under dir
 * ("<dir>/btf-<boot id>-<kbtf_key in hex>": one file per object), built
 * from /sys/kernel/btf/vmlinux and written there if no valid one is.  With
 * local NULL only looked for (-ENOENT or -EINVAL when there is none): the
 * object need not be opened to find its file.  *out is malloc'd (caller
 * frees).  0, or -errno when dir is unsafe (not ours, or writable by
 * others), the kernel has no BTF, or the file cannot be written: the
 * caller then loads as before.
 */
int kbtf_min_path(const struct btf *local, const void *object, size_t size, const char *dir, char **out);

/* Writes data (raw BTF) and its trailer for key to path (atomically). 0 or -errno. */
int kbtf_save(const char *path, const void *data, size_t size, uint64_t key);

/* Whether the file at path is a cache image for key (trailer, checksum and
 * BTF all check).  0, -EINVAL when it does not, or -errno. */
int kbtf_check(const char *path, uint64_t key);

/* The cache key of a BPF object's ELF image under the given boot id. */
uint64_t kbtf_key(const void *object, size_t size, const char *boot_id);

#endif
