/* SPDX-License-Identifier: MIT */
/*
 * elfsym: the function symbols of one ELF file (.symtab and .dynsym, read with
 * libelf, and names for its PLT stubs), its loadable segments for turning file
 * offsets into the addresses symbols use, and its GNU build ID.  Loaded once
 * per file and shared by every process that maps it.
 */
#ifndef SCORCH_SYMBOLIZE_ELFSYM_H
#define SCORCH_SYMBOLIZE_ELFSYM_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elfsym_file;

struct elfsym {
	uint64_t addr; /* st_value: the symbol's virtual address in the file */
	uint64_t size; /* st_size, or when 0 the distance to the next symbol, within its section */
	const char *name;
	uint32_t rank; /* among symbols at one address, lower is the name a user knows */
	bool stretch;  /* st_size was 0: size reaches the next symbol, within its section */
};

/* Reads symbols, segments and build ID from an open ELF file; fd stays the
 * caller's. -ENOEXEC when fd is not ELF. Free with elfsym_free.  On x86-64,
 * each PLT stub gets a symbol named after the function it jumps to
 * ("malloc@plt"), as objdump and perf name it. */
int elfsym_load_fd(int fd, struct elfsym_file **out);
/* The same from an image in memory (the vdso); the bytes are copied. */
int elfsym_load_mem(const void *image, size_t len, struct elfsym_file **out);
void elfsym_free(struct elfsym_file *f);

/* Maps an offset in the file to the virtual address symbols use, by
 * elfseg.h's rule. -ERANGE when no segment has it. */
int elfsym_offset_to_vaddr(const struct elfsym_file *f, uint64_t offset, uint64_t *vaddr);
/* The function containing vaddr, or NULL. Owned by f.  Where several
 * symbols share an address, the one a user knows: global before weak before
 * local, no alias names (`_alias_N`, `.localalias`, `__GI_`), and no symbol
 * version (`foo@@GLIBC_2.34` is `foo`).  An address in the padding just
 * before a function is that function: a signal handler returns to the
 * first byte of the trampoline (__restore_rt), and a return address is
 * looked up one byte back. */
const struct elfsym *elfsym_lookup(const struct elfsym_file *f, uint64_t vaddr);
/* The build ID in lowercase hex, or NULL. Owned by f. */
const char *elfsym_build_id(const struct elfsym_file *f);
size_t elfsym_count(const struct elfsym_file *f);
/* A hash of the section layout, loadable segments and symbols: two files
 * with the same build ID answer alike only if this agrees too. */
uint64_t elfsym_digest(const struct elfsym_file *f);
/* True when the file had a full .symtab (not only exported .dynsym symbols). */
bool elfsym_has_symtab(const struct elfsym_file *f);

/* The program interpreter (PT_INTERP: the dynamic loader) the ELF file at fd
 * names, into buf (len bytes).  0, -ENOENT when it has none (static, a
 * library), -EINVAL when fd is not ELF or the name does not fit. */
int elfsym_interpreter(int fd, char *buf, size_t len);

/* Calls fn with each library the ELF file at fd needs (DT_NEEDED: a name
 * such as "libc.so.6", for the dynamic loader to look for), in order.  0,
 * -EINVAL when fd is not ELF; a file without a dynamic section needs none. */
int elfsym_needed(int fd, void (*fn)(void *ctx, const char *name), void *ctx);

/* Calls fn for each named symbol with a value in elf's .symtab and .dynsym
 * (a process's layout is found by name: _PyRuntime, gHotSpotVMStructs). */
void elfsym_each(Elf *elf, void (*fn)(void *ctx, const char *name, const GElf_Sym *sym), void *ctx);

#endif
