/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "dwarfcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/atomicfile.h"
#include "base/cachedir.h"
#include "base/hashtab.h"
#include "symbolize/dwarfidx.h"
#include "symbolize/elfnote.h"

#define SUM_SECTION ".scorch.dwarfcache"
#define CHUNK ((size_t)64 << 10)

static const char SUM_MAGIC[8] = "SCDWC001";

/* The checksum section: every other section's bytes, in order, hashed in
 * CHUNK pieces (the checker reads them with pread, not through a mapping:
 * checking does not grow our resident set). */
struct sum {
	char magic[8];
	uint64_t nsec; /* sections hashed */
	uint64_t hash;
};

static uint64_t hash_data(const char *p, size_t len, uint64_t h)
{
	for (size_t off = 0; off < len; off += CHUNK)
		h = hash_bytes(p + off, len - off < CHUNK ? len - off : CHUNK, h);
	return h;
}

/* Sections a cache file keeps: the DWARF the index reads, the build ID
 * note, and the link to a dwz file (its strings are found through it). */
static bool kept(const char *name, const GElf_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS)
		return false;
	if (!strcmp(name, ".note.gnu.build-id") || !strcmp(name, ".gnu_debugaltlink"))
		return true;
	return !strncmp(name, ".debug_", 7) && !dwarfidx_unread_section(name);
}

/* Build ID of e and whether it has compressed DWARF worth inflating once. */
static int probe(Elf *e, char *bid)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	bool compressed = false;
	int err = -ENODATA;
	if (!gelf_getehdr(e, &eh) || eh.e_type == ET_REL || elf_getshdrstrndx(e, &shstrndx))
		return -ENODATA;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)))
			continue;
		if (sh.sh_type == SHT_NOTE && !strcmp(name, ".note.gnu.build-id") && err)
			err = elfnote_build_id(elf_getdata(scn, NULL), bid) ? -ENODATA : 0;
		else if ((sh.sh_flags & SHF_COMPRESSED) && kept(name, &sh))
			compressed = true;
	}
	return !err && compressed && bid[0] ? 0 : -ENODATA;
}

/* Appends name to the string table; its offset. */
static int add_name(char **tab, size_t *len, size_t *cap, const char *name, size_t *off)
{
	size_t n = strlen(name) + 1;
	if (array_grow(tab, cap, *len + n, 1))
		return -ENOMEM;
	memcpy(*tab + *len, name, n);
	*off = *len;
	*len += n;
	return 0;
}

static int add_section(Elf *out, const GElf_Shdr *from, size_t name, void *buf, size_t len, size_t align,
		       size_t *index)
{
	Elf_Scn *scn = elf_newscn(out);
	Elf_Data *d = scn ? elf_newdata(scn) : NULL;
	GElf_Shdr sh = *from;
	if (!d)
		return -ENOMEM;
	d->d_buf = buf;
	d->d_size = len;
	d->d_type = ELF_T_BYTE;
	d->d_align = align ? align : 1;
	d->d_version = EV_CURRENT;
	sh.sh_name = (GElf_Word)name;
	sh.sh_offset = 0;
	sh.sh_size = len;
	sh.sh_link = sh.sh_info = 0;
	sh.sh_addralign = d->d_align;
	sh.sh_flags &= ~(GElf_Xword)SHF_COMPRESSED;
	*index = elf_ndxscn(scn);
	return gelf_update_shdr(scn, &sh) ? 0 : -EINVAL;
}

/* Writes the kept sections of in to fd, compressed ones inflated (by
 * libelf, into in's memory until elf_end), then the string table and the
 * checksum. */
static int write_cache(Elf *in, int fd)
{
	char *tab = NULL;
	size_t len = 0, cap = 0, shstrndx, off, index, units_len = 0;
	void *units = NULL;
	struct sum sum = { .nsec = 0 };
	Elf_Scn *scn = NULL;
	GElf_Ehdr ieh, eh;
	int err = 0;
	Elf *out = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!out)
		return -ENOMEM;
	if (!gelf_getehdr(in, &ieh) || elf_getshdrstrndx(in, &shstrndx) || !gelf_newehdr(out, gelf_getclass(in)) ||
	    !gelf_getehdr(out, &eh)) {
		err = -EINVAL;
		goto out;
	}
	memcpy(eh.e_ident, ieh.e_ident, EI_NIDENT);
	eh.e_type = ieh.e_type;
	eh.e_machine = ieh.e_machine;
	eh.e_flags = ieh.e_flags;
	eh.e_version = EV_CURRENT;
	if ((err = add_name(&tab, &len, &cap, "", &off)))
		goto out;
	while (!err && (scn = elf_nextscn(in, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(in, shstrndx, sh.sh_name)) || !kept(name, &sh))
			continue;
		if ((sh.sh_flags & SHF_COMPRESSED) && (elf_compress(scn, 0, 0) < 0 || !gelf_getshdr(scn, &sh))) {
			err = -EINVAL;
			break;
		}
		d = elf_getdata(scn, NULL);
		if (!d || (d->d_size && !d->d_buf) || (sh.sh_flags & SHF_COMPRESSED)) {
			err = -EINVAL;
			break;
		}
		if (!(err = add_name(&tab, &len, &cap, name, &off)))
			err = add_section(out, &sh, off, d->d_buf, d->d_size, d->d_align, &index);
		sum.hash = hash_data(d->d_buf, d->d_size, sum.hash);
		sum.nsec++;
	}
	/* The compressed bytes are not read again. */
	dwarfidx_drop_mapped(in);
	/* The unit table, from the sections inflated above (libdw does not
	 * inflate them again): opening the copy reads no DIE. */
	if (!err && !dwarfidx_units_image(in, &units, &units_len)) {
		GElf_Shdr ush = { .sh_type = SHT_PROGBITS };
		if (!(err = add_name(&tab, &len, &cap, DWARFIDX_UNITS_SECTION, &off)))
			err = add_section(out, &ush, off, units, units_len, 8, &index);
		sum.hash = hash_data(units, units_len, sum.hash);
		sum.nsec++;
	}
	/* Names first: the table is hashed as it is written. */
	size_t strtab_name = 0, sum_name = 0;
	err = err ?: add_name(&tab, &len, &cap, ".shstrtab", &strtab_name);
	err = err ?: add_name(&tab, &len, &cap, SUM_SECTION, &sum_name);
	if (err)
		goto out;
	GElf_Shdr strsh = { .sh_type = SHT_STRTAB }, sumsh = { .sh_type = SHT_PROGBITS };
	if ((err = add_section(out, &strsh, strtab_name, tab, len, 1, &index)))
		goto out;
	eh.e_shstrndx = (GElf_Half)index;
	sum.hash = hash_data(tab, len, sum.hash);
	sum.nsec++;
	memcpy(sum.magic, SUM_MAGIC, sizeof(sum.magic));
	if ((err = add_section(out, &sumsh, sum_name, &sum, sizeof(sum), 8, &index)))
		goto out;
	if (!gelf_update_ehdr(out, &eh) || elf_update(out, ELF_C_WRITE) < 0)
		err = -EIO;
out:
	elf_end(out);
	free(tab);
	free(units);
	return err;
}

/* Hashes len bytes of fd at off as write_cache did from memory. */
static int hash_file(int fd, char *buf, uint64_t off, uint64_t len, uint64_t *h)
{
	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK, got = 0;
		while (got < n) {
			ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
			if (r <= 0)
				return -EINVAL;
			got += (size_t)r;
		}
		*h = hash_bytes(buf, n, *h);
		off += n;
		len -= n;
	}
	return 0;
}

int dwarfcache_check(int fd, const char *build_id)
{
	struct stat st;
	struct sum sum, want = { .nsec = 0 };
	bool have_sum = false, have_bid = false;
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	char bid[129];
	int err = 0;
	char *buf = malloc(CHUNK);
	elf_version(EV_CURRENT);
	Elf *e = buf && !fstat(fd, &st) ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx)) {
		err = -EINVAL;
		goto out;
	}
	while (!err && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)) ||
		    sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED) || sh.sh_offset > (uint64_t)st.st_size ||
		    sh.sh_size > (uint64_t)st.st_size - sh.sh_offset) {
			err = -EINVAL;
		} else if (!strcmp(name, SUM_SECTION)) {
			/* The last section: what follows it is not covered. */
			have_sum = sh.sh_size == sizeof(sum) && !elf_nextscn(e, scn) &&
				   pread(fd, &sum, sizeof(sum), (off_t)sh.sh_offset) == (ssize_t)sizeof(sum);
		} else {
			err = hash_file(fd, buf, sh.sh_offset, sh.sh_size, &want.hash);
			want.nsec++;
			if (!err && !strcmp(name, ".note.gnu.build-id"))
				have_bid = !elfnote_build_id(elf_getdata(scn, NULL), bid) && !strcmp(bid, build_id);
		}
	}
	if (err || !have_sum || !have_bid || memcmp(sum.magic, SUM_MAGIC, sizeof(sum.magic)) ||
	    sum.nsec != want.nsec || sum.hash != want.hash)
		err = -EINVAL;
out:
	elf_end(e);
	free(buf);
	return err;
}

struct entry {
	char name[160];
	uint64_t size;
	int64_t mtime;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Removes the least recently used cache files (never keep) until the
 * directory holds at most max bytes of them. */
static void evict(const char *dir, size_t max, const char *keep)
{
	struct entry *es = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	struct dirent *de;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, "dwarf-", 6) || l < 7 || l >= sizeof(es->name) ||
		    strcmp(de->d_name + l - 6, ".debug") || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || array_grow(&es, &cap, n + 1, sizeof(*es)))
			continue;
		memcpy(es[n].name, de->d_name, l + 1);
		es[n].size = (uint64_t)st.st_size;
		es[n].mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		total += es[n++].size;
	}
	if (n)
		qsort(es, n, sizeof(*es), entry_cmp);
	for (size_t i = 0; i < n && total > max; i++) {
		if (!strcmp(es[i].name, keep) || unlinkat(dfd, es[i].name, 0))
			continue;
		total -= es[i].size;
	}
	closedir(d);
	free(es);
}

/* Opens the cache file at path if it is ours, private and checks out. */
static int open_checked(const char *path, const char *bid)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    dwarfcache_check(fd, bid)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int dwarfcache_open(const char *dir, int fd, size_t max_bytes, int *out)
{
	char bid[129] = "", *path = NULL, *name;
	struct atomic_file af;
	int err, cfd;
	elf_version(EV_CURRENT);
	Elf *in = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!in)
		return -ENODATA;
	if ((err = probe(in, bid)))
		goto out;
	if (!cachedir_ready(dir)) {
		err = -EPERM;
		goto out;
	}
	if (asprintf(&path, "%s/dwarf-%s.debug", dir, bid) < 0) {
		path = NULL;
		err = -ENOMEM;
		goto out;
	}
	name = strrchr(path, '/') + 1;
	if ((cfd = open_checked(path, bid)) >= 0) {
		futimens(cfd, NULL); /* recently used: evicted last */
		*out = cfd;
		goto out;
	}
	if (cfd != -ENOENT)
		unlink(path); /* damaged, or not ours: written again */
	if ((err = atomic_file_open(&af, path)))
		goto out;
	if ((err = write_cache(in, fileno(af.fp))) || fchmod(fileno(af.fp), 0644)) {
		atomic_file_abort(&af);
		err = err ?: -errno;
		goto out;
	}
	if ((err = atomic_file_commit(&af)))
		goto out;
	evict(dir, max_bytes ? max_bytes : DWARFCACHE_DEFAULT_BYTES, name);
	cfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (cfd < 0)
		err = -errno;
	else
		*out = cfd;
out:
	elf_end(in);
	free(path);
	return err;
}
