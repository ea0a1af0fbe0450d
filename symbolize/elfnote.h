/* SPDX-License-Identifier: MIT */
/*
 * elfnote: the GNU build ID note, read from a note section's data by elfsym
 * (a file's own symbols) and debuginfo (candidate debug files) alike.
 * Internal to symbolize/; it exposes libelf's types, the public headers do not.
 */
#ifndef SCORCH_SYMBOLIZE_ELFNOTE_H
#define SCORCH_SYMBOLIZE_ELFNOTE_H

#include <libelf.h>

/* The first GNU build ID note of data (at most 64 bytes) in lowercase hex
 * into out (129 bytes).  0; -ENODATA when that note is empty (out is "");
 * -ENOENT when data has none. */
int elfnote_build_id(Elf_Data *data, char *out);

#endif
