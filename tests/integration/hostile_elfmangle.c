/* SPDX-License-Identifier: MIT */
/*
 * Breaks what a profiler reads of an ELF executable and leaves what the
 * loader needs (the ELF header's program header fields, the program headers
 * and the loaded bytes), for hostile_elf.sh:
 *
 *   hostile_elfmangle IN OUT MODE
 *
 * MODE:
 *   shoff     section headers past the end of the file, 65535 of them
 *   xnum      e_shnum 0 (count in section 0) and e_shstrndx SHN_XINDEX, both absurd
 *   sizes     every section larger than the file, starting near its end
 *   links     .symtab's string table and e_shstrndx out of range, entsize 0
 *   truncate  the file cut after the last loaded byte: no section headers,
 *             no symbols, no DWARF
 *   symtab    symbol names, values and sizes scrambled
 *   cfi       .eh_frame and .eh_frame_hdr scrambled (the unwinder's input)
 *   dwarf     every .debug_* section scrambled
 *   note      the build ID note's sizes absurd
 * Every mode but note first gives the copy a build ID of its own (derived
 * from MODE): a profiler that shares data between files with one build ID
 * would otherwise test one mangling for all.  Only 64-bit little-endian
 * files.  Exit 1 when IN is not one, or has no section MODE needs.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *img;
static size_t len;

static Elf64_Ehdr *eh(void)
{
	return (Elf64_Ehdr *)img;
}

static Elf64_Shdr *sh(size_t i)
{
	return (Elf64_Shdr *)(img + eh()->e_shoff) + i;
}

static const char *sec_name(size_t i)
{
	return (const char *)img + sh(eh()->e_shstrndx)->sh_offset + sh(i)->sh_name;
}

/* Deterministic junk over [off, off + n). */
static void scramble(uint64_t off, uint64_t n, uint32_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	for (uint64_t i = 0; i < n && off + i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		img[off + i] = (unsigned char)x;
	}
}

/* Scrambles the sections whose name starts with prefix; how many. */
static int scramble_sections(const char *prefix)
{
	int n = 0;
	for (size_t i = 1; i < eh()->e_shnum; i++) {
		if (strncmp(sec_name(i), prefix, strlen(prefix)) || sh(i)->sh_type == SHT_NOBITS)
			continue;
		scramble(sh(i)->sh_offset, sh(i)->sh_size, (uint32_t)i);
		n++;
	}
	return n;
}

static Elf64_Shdr *find(const char *name)
{
	for (size_t i = 1; i < eh()->e_shnum; i++)
		if (!strcmp(sec_name(i), name))
			return sh(i);
	return NULL;
}

/* Rewrites the build ID's bytes from a hash of mode. */
static int own_build_id(const char *mode)
{
	Elf64_Shdr *s = find(".note.gnu.build-id");
	if (!s || s->sh_size < sizeof(Elf64_Nhdr))
		return -1;
	const Elf64_Nhdr *n = (const Elf64_Nhdr *)(img + s->sh_offset);
	uint64_t desc = s->sh_offset + sizeof(*n) + ((n->n_namesz + 3) & ~3u);
	uint32_t seed = 2166136261u;
	for (const char *c = mode; *c; c++)
		seed = (seed ^ (unsigned char)*c) * 16777619u;
	if (desc + n->n_descsz > len)
		return -1;
	scramble(desc, n->n_descsz, seed);
	return 0;
}

static int mangle(const char *mode)
{
	Elf64_Ehdr *e = eh();
	if (strcmp(mode, "note") && own_build_id(mode))
		return -1;
	if (!strcmp(mode, "shoff")) {
		e->e_shoff = len - 8;
		e->e_shnum = 0xffff;
	} else if (!strcmp(mode, "xnum")) {
		sh(0)->sh_size = 0xfffffff0;
		sh(0)->sh_link = 0xfffffff0;
		e->e_shnum = 0;
		e->e_shstrndx = SHN_XINDEX;
	} else if (!strcmp(mode, "sizes")) {
		for (size_t i = 1; i < e->e_shnum; i++) {
			sh(i)->sh_offset = len - 16 * i % len;
			sh(i)->sh_size = (UINT64_MAX >> 1) - i;
		}
	} else if (!strcmp(mode, "links")) {
		Elf64_Shdr *s = find(".symtab");
		if (!s)
			return -1;
		s->sh_link = 0xfff0;
		s->sh_info = 0xffffffff;
		s->sh_entsize = 0;
		e->e_shstrndx = (uint16_t)(e->e_shnum + 100);
	} else if (!strcmp(mode, "truncate")) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + e->e_phoff);
		size_t keep = 0;
		for (size_t i = 0; i < e->e_phnum; i++)
			if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > keep)
				keep = ph[i].p_offset + ph[i].p_filesz;
		if (!keep || keep >= e->e_shoff)
			return -1;
		len = keep;
	} else if (!strcmp(mode, "symtab")) {
		Elf64_Shdr *s = find(".symtab");
		if (!s)
			return -1;
		Elf64_Sym *sym = (Elf64_Sym *)(img + s->sh_offset);
		for (size_t i = 1; i < s->sh_size / sizeof(*sym); i += 2) {
			sym[i].st_name = (uint32_t)(i * 2654435761u);
			sym[i].st_value = i & 4 ? sym[i].st_value + 1 : UINT64_MAX - i;
			sym[i].st_size = UINT64_MAX / (i + 1);
			sym[i].st_shndx = (uint16_t)(i * 7919);
		}
	} else if (!strcmp(mode, "cfi")) {
		if (scramble_sections(".eh_frame") != 2)
			return -1;
	} else if (!strcmp(mode, "dwarf")) {
		if (scramble_sections(".debug_") < 3)
			return -1;
	} else if (!strcmp(mode, "note")) {
		Elf64_Shdr *s = find(".note.gnu.build-id");
		if (!s)
			return -1;
		Elf64_Nhdr *n = (Elf64_Nhdr *)(img + s->sh_offset);
		n->n_namesz = 0xfffffff0;
		n->n_descsz = 0xfffffff0;
	} else {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: hostile_elfmangle IN OUT MODE\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "rb");
	if (!in || fseek(in, 0, SEEK_END) || (long)(len = (size_t)ftell(in)) <= 0 || fseek(in, 0, SEEK_SET))
		return 1;
	img = malloc(len);
	if (!img || fread(img, 1, len, in) != len)
		return 1;
	fclose(in);
	if (len < sizeof(Elf64_Ehdr) || memcmp(img, ELFMAG, SELFMAG) || img[EI_CLASS] != ELFCLASS64 ||
	    eh()->e_shoff + (uint64_t)eh()->e_shnum * sizeof(Elf64_Shdr) > len) {
		fprintf(stderr, "%s: not a 64-bit ELF file with section headers\n", argv[1]);
		return 1;
	}
	if (mangle(argv[3])) {
		fprintf(stderr, "%s: cannot apply %s\n", argv[1], argv[3]);
		return 1;
	}
	FILE *out = fopen(argv[2], "wb");
	if (!out || fwrite(img, 1, len, out) != len || fclose(out))
		return 1;
	return 0;
}
