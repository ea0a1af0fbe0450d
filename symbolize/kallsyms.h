/* SPDX-License-Identifier: MIT */
/*
 * kallsyms: kernel text symbols from /proc/kallsyms (or any file of that
 * format), sorted for lookup by address.  Module symbols keep their module
 * name ("nf_tables"), BPF programs and trampolines appear as kallsyms lists
 * them ("bpf_prog_..._on_sample" in module "bpf").
 */
#ifndef SCORCH_SYMBOLIZE_KALLSYMS_H
#define SCORCH_SYMBOLIZE_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kallsyms;

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module; /* NULL for the core kernel */
};

/* Parses path. -ENOENT/-EACCES from open; -EPERM when every address reads
 * as zero (kptr_restrict hides them). Free with kallsyms_free. */
int kallsyms_load(const char *path, struct kallsyms **out);
/* Only the symbols with a module (modules, BPF programs), read a line at a
 * time: with the core kernel's from kallsyms_load_core, all of them without
 * holding the whole text. Free with kallsyms_free. */
int kallsyms_load_modules(const char *path, struct kallsyms **out);
/* Parses a buffer of kallsyms text (for tests). */
int kallsyms_parse(const char *buf, size_t len, struct kallsyms **out);
void kallsyms_free(struct kallsyms *k);

/* Fills out with the symbol containing addr (the last one at or below it);
 * false when addr is below the first symbol or beyond the last one's end of
 * text.  The strings are owned by k. */
bool kallsyms_lookup(const struct kallsyms *k, uint64_t addr, struct ksym *out);
size_t kallsyms_count(const struct kallsyms *k);

/*
 * A cache of the core kernel's text symbols (those without a module), which
 * cannot change until the next boot: saving writes them in a compact binary
 * form under a temporary name and renames it; loading maps the file and
 * validates every size, offset and the order, so a damaged or hostile file
 * is refused (-EINVAL), not trusted; lookups then read it in place.
 */
int kallsyms_save_core(const struct kallsyms *k, const char *path);
int kallsyms_load_core(const char *path, struct kallsyms **out);
/* True when addr lies in the core kernel's text as k knows it; a table from
 * kallsyms_load_core can only answer for such addresses. */
bool kallsyms_in_core(const struct kallsyms *k, uint64_t addr);

#endif
