/* SPDX-License-Identifier: MIT */
/* fixsym: a fixture's symbol by name. */
#include "fixsym.h"

#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

uint64_t fixsym(int fd, const char *name, uint64_t *size)
{
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym s;
	bool found = false;
	assert_non_null(elf);
	while (!found && (scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize && !found; i++)
			found = gelf_getsym(d, (int)i, &s) &&
				!strcmp(elf_strptr(elf, sh.sh_link, s.st_name), name);
	}
	elf_end(elf);
	assert_true(found);
	if (size)
		*size = s.st_size;
	return s.st_value;
}
