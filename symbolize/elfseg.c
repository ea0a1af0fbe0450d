/* SPDX-License-Identifier: MIT */
#include "elfseg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MASK (~(uint64_t)0xfff)

int elfseg_read(Elf *elf, bool exec_only, struct elf_segment **out, size_t *n)
{
	size_t phnum;
	*out = NULL;
	*n = 0;
	if (elf_getphdrnum(elf, &phnum))
		return -EINVAL;
	struct elf_segment *segs = calloc(phnum ? phnum : 1, sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    (!exec_only || (ph.p_flags & PF_X)))
			segs[(*n)++] = (struct elf_segment){ph.p_offset, ph.p_vaddr, ph.p_filesz};
	}
	*out = segs;
	return 0;
}

const struct elf_segment *elfseg_find(const struct elf_segment *segs, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (off >= segs[i].offset && off - segs[i].offset < segs[i].filesz)
			return &segs[i];
	/* Between a segment's page boundary and its first byte: the mapping's
	 * start, not an address anything is at. */
	for (size_t i = 0; i < n; i++)
		if (off >= (segs[i].offset & PAGE_MASK) && off < segs[i].offset && segs[i].filesz)
			return &segs[i];
	return NULL;
}

int elfseg_vaddr(const struct elf_segment *segs, size_t n, uint64_t off, uint64_t *vaddr)
{
	const struct elf_segment *s = elfseg_find(segs, n, off);
	if (!s)
		return -ERANGE;
	*vaddr = off - s->offset + s->vaddr;
	return 0;
}

int elfseg_bias(const struct elf_segment *segs, size_t n, uint64_t map_start, uint64_t map_offset,
		uint64_t *bias)
{
	uint64_t vaddr;
	int err = elfseg_vaddr(segs, n, map_offset, &vaddr);
	if (!err)
		*bias = map_start - vaddr;
	return err;
}

int elfseg_map_bias(Elf *elf, uint64_t map_start, uint64_t map_offset, uint64_t *bias)
{
	struct elf_segment *segs = NULL;
	size_t n = 0;
	int err = elfseg_read(elf, false, &segs, &n);
	if (!err)
		err = elfseg_bias(segs, n, map_start, map_offset, bias);
	free(segs);
	return err;
}

Elf_Scn *elfseg_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
		const char *n;
		if (gelf_getshdr(s, sh) && (n = elf_strptr(elf, shstrndx, sh->sh_name)) && !strcmp(n, name))
			return sh->sh_type == SHT_NOBITS ? NULL : s;
	}
	return NULL;
}
