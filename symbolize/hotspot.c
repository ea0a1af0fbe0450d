/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "hotspot.h"

#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/elfseg.h"
#include "symbolize/elfsym.h"
#include "symbolize/procmem.h"

#define VMSTRUCTS_MAX 8192     /* entries read at most */
#define HEADER_SEARCH 8192     /* bytes before code_begin searched for its CodeBlob */
#define FRAME_MAX (64u << 10)  /* a larger frame is not believed */

struct hotspot {
	uint32_t pid;
	uint32_t off_code_begin, off_code_end, off_frame_size; /* in CodeBlob */
};

/* The exported variables describing gHotSpotVMStructs' entries. */
enum { VS_TABLE, VS_TYPE, VS_FIELD, VS_OFFSET, VS_STRIDE, VS_NR };
static const char *const vs_names[VS_NR] = {
	"gHotSpotVMStructs",
	"gHotSpotVMStructEntryTypeNameOffset",
	"gHotSpotVMStructEntryFieldNameOffset",
	"gHotSpotVMStructEntryOffsetOffset",
	"gHotSpotVMStructEntryArrayStride",
};

struct vs_found {
	uint64_t *addr;
	size_t n;
};

static void on_symbol(void *ctx, const char *name, const GElf_Sym *s)
{
	struct vs_found *f = ctx;
	for (int k = 0; k < VS_NR; k++) {
		if (!f->addr[k] && !strcmp(name, vs_names[k])) {
			f->addr[k] = s->st_value;
			f->n++;
		}
	}
}

/* File addresses of the vs_names symbols, and the load bias of the mapping. */
static int find_symbols(int fd, uint64_t map_start, uint64_t map_offset, uint64_t addr[VS_NR], uint64_t *bias)
{
	struct vs_found f = { addr, 0 };
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOENT;
	elfsym_each(elf, on_symbol, &f);
	int err = f.n == VS_NR ? elfseg_map_bias(elf, map_start, map_offset, bias) : -ENOENT;
	elf_end(elf);
	return err;
}

/* Reads a NUL-terminated string of at most len - 1 bytes at addr. */
static bool peek_str(uint32_t pid, uint64_t addr, char *buf, size_t len)
{
	if (!addr || procmem_read(pid, addr, buf, len - 1))
		return false;
	buf[len - 1] = '\0';
	return true;
}

/* Walks the entries for CodeBlob's three fields. */
static int read_offsets(struct hotspot *h, const uint64_t v[VS_NR])
{
	uint64_t stride = v[VS_STRIDE];
	if (!v[VS_TABLE] || stride < 16 || stride > 256 || v[VS_TYPE] + 8 > stride || v[VS_FIELD] + 8 > stride ||
	    v[VS_OFFSET] + 8 > stride)
		return -ENOENT;
	unsigned char *e = malloc(stride);
	int found = 0, err = -ENOENT;
	bool pointers = false;
	if (!e)
		return -ENOMEM;
	for (uint64_t i = 0; i < VMSTRUCTS_MAX && found < 3; i++) {
		uint64_t type, field, off;
		char tname[16], fname[16];
		if ((err = procmem_read(h->pid, v[VS_TABLE] + i * stride, e, stride)))
			break;
		memcpy(&type, e + v[VS_TYPE], 8);
		memcpy(&field, e + v[VS_FIELD], 8);
		memcpy(&off, e + v[VS_OFFSET], 8);
		err = -ENOENT;
		if (!type)
			break; /* the end */
		if (!peek_str(h->pid, type, tname, sizeof(tname)) || strcmp(tname, "CodeBlob") ||
		    !peek_str(h->pid, field, fname, sizeof(fname)) || off > 4096)
			continue;
		if (!strcmp(fname, "_code_begin")) {
			h->off_code_begin = (uint32_t)off;
			pointers = true;
			found++;
		} else if (!strcmp(fname, "_code_end")) {
			h->off_code_end = (uint32_t)off;
			found++;
		} else if (!strcmp(fname, "_frame_size")) {
			h->off_frame_size = (uint32_t)off;
			found++;
		}
	}
	free(e);
	if (found == 3)
		return 0;
	return err == -ENOENT && !pointers && found ? -ENOTSUP : err;
}

int hotspot_open(uint32_t pid, int libjvm_fd, uint64_t map_start, uint64_t map_offset, struct hotspot **out)
{
	uint64_t addr[VS_NR] = { 0 }, v[VS_NR], bias = 0;
	int err = find_symbols(libjvm_fd, map_start, map_offset, addr, &bias);
	if (err)
		return err == -ERANGE ? -ENOENT : err;
	for (int k = 0; k < VS_NR; k++)
		if ((err = procmem_read(pid, addr[k] + bias, &v[k], sizeof(v[k]))))
			return err == -EFAULT ? -ENOENT : err;
	struct hotspot *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->pid = pid;
	if ((err = read_offsets(h, v))) {
		free(h);
		return err;
	}
	*out = h;
	return 0;
}

void hotspot_free(struct hotspot *h)
{
	free(h);
}

int hotspot_frame_size(const struct hotspot *h, uint64_t code_begin, uint64_t code_end, uint32_t *out)
{
	uint64_t buf[HEADER_SEARCH / 8];
	size_t back = HEADER_SEARCH;
	if (code_begin < HEADER_SEARCH || code_end <= code_begin || (code_begin & 7))
		return -EINVAL;
	/* Code near the start of its heap: less before it is mapped. */
	while (back >= 256 && procmem_read(h->pid, code_begin - back, buf, back))
		back /= 2;
	if (back < 256)
		return -ENOENT;
	/* The nearest word holding code_begin whose blob also ends the code there. */
	for (size_t i = back / 8; i-- > 0;) {
		if (buf[i] != code_begin || i * 8 < h->off_code_begin)
			continue;
		size_t blob = i * 8 - h->off_code_begin;
		uint64_t end;
		int32_t words;
		if (blob + h->off_code_end + 8 > back || blob + h->off_frame_size + 4 > back)
			continue;
		memcpy(&end, (char *)buf + blob + h->off_code_end, 8);
		memcpy(&words, (char *)buf + blob + h->off_frame_size, 4);
		if (end != code_end)
			continue;
		if (words < 1 || (uint32_t)words * 8 > FRAME_MAX)
			return -EINVAL;
		*out = (uint32_t)words * 8;
		return 0;
	}
	return -ENOENT;
}
