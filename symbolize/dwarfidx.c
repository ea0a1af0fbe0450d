/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "base/array.h"
#include "dwarfidx.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A function or inlined call with code. */
struct dw_node {
	const char *name;      /* pooled */
	const char *call_file; /* pooled; inlined calls only */
	uint32_t call_line;
	int32_t parent;        /* node index, -1 at the top */
	uint16_t depth;
	bool mangled;
};

/* One address range of a node; up is the enclosing range (of the parent
 * node) containing lo, -1 for a top-level function. */
struct dw_range {
	uint64_t lo, hi;
	uint32_t node;
	int32_t up;
};

/* One row of a unit's line table: from addr up to the next row's address,
 * the code is line `line` of file index `file`; line 0 ends a sequence. */
struct dw_row {
	uint64_t addr;
	uint32_t line, file;
};

struct dw_cu {
	Dwarf_Die die;
	Dwarf_Off off; /* of its DIE, read on first use (from a stored unit table) */
	bool has_die;
	bool c;        /* written in C: its types hold no functions */
	bool indexed;
	struct dw_row *rows; /* sorted by address */
	size_t nrows;
	struct dw_node *nodes;
	size_t nnodes, cap_nodes;
	struct dw_range *ranges;
	size_t nranges, cap_ranges;
	const char **files; /* pooled file names by line-table index, filled lazily */
	size_t nfiles;
	Dwarf_Files *dfiles;
};

struct cu_range {
	uint64_t lo, hi;
	uint64_t hi_max; /* the highest hi of this range and every one sorted before it */
	uint32_t cu;
};

struct dwarfidx {
	int fd;
	Elf *elf;
	Dwarf *dbg;
	struct strpool *pool;
	struct dw_cu *cus;
	size_t ncus;
	struct cu_range *cur;
	size_t ncur;
	size_t bytes, dwarf_size;
	bool compressed; /* some .debug_* section was compressed: libelf holds it inflated */
	Elf_Scn *units;  /* a stored unit table (DWARFIDX_UNITS_SECTION), or NULL */
	size_t reached;  /* with one: libdw has read the headers of units before this one */
};

/* A stored unit table: the header, nranges struct unit_range sorted by lo,
 * then ncus DIE offsets (u64).  What read_units finds, so that opening the
 * index of a file that has one reads no DIE at all. */
struct units_header {
	char magic[8];
	uint64_t ncus, nranges;
};

struct unit_range {
	uint64_t lo, hi;
	uint64_t cu;
};

static const char UNITS_MAGIC[8] = "SCUNITS1";

/* Sizes the .debug_* sections before dwarf_begin_elf inflates the
 * compressed ones into libelf's memory, where they are charged to bytes. */
/* Sections the index never reads (variable locations, macros, name
 * tables): marked SHT_NOBITS in libelf's copy of the section headers, which
 * libdw skips, so that dwarf_begin_elf does not inflate them (libc6-dbg's
 * libc: 1.4 MB of location lists). */
bool dwarfidx_unread_section(const char *name)
{
	static const char *const names[] = { ".debug_loclists", ".debug_loc", ".debug_macro", ".debug_macinfo",
					     ".debug_pubnames", ".debug_pubtypes", ".debug_gnu_pubnames",
					     ".debug_gnu_pubtypes" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* Hides the sections never read, and sizes the rest. */
static void scan_sections(struct dwarfidx *d)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	if (elf_getshdrstrndx(d->elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(d->elf, scn))) {
		GElf_Shdr sh;
		GElf_Chdr ch;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(d->elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, DWARFIDX_UNITS_SECTION) && sh.sh_type == SHT_PROGBITS)
			d->units = scn;
		if (strncmp(name, ".debug_", 7) || sh.sh_type == SHT_NOBITS)
			continue;
		if (dwarfidx_unread_section(name)) {
			sh.sh_type = SHT_NOBITS;
			gelf_update_shdr(scn, &sh);
		} else if ((sh.sh_flags & SHF_COMPRESSED) && gelf_getchdr(scn, &ch)) {
			d->compressed = true;
			d->bytes += ch.ch_size;
			d->dwarf_size += ch.ch_size;
		} else {
			d->dwarf_size += sh.sh_size;
		}
	}
}

/* Compressed sections are inflated into memory by dwarf_begin_elf, and
 * their bytes in the file's (read-only) mapping are not read again: the
 * pages go back to the page cache instead of staying in our resident set
 * (3.9 MB of libc's debug file).  A page read again later comes back from
 * the file, unchanged. */
void dwarfidx_drop_mapped(struct Elf *elf)
{
	size_t len = 0, page = (size_t)sysconf(_SC_PAGESIZE);
	char *raw = elf_rawfile(elf, &len);
	if (!raw || !page)
		return;
	uintptr_t lo = ((uintptr_t)raw + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t hi = ((uintptr_t)raw + len) & ~(uintptr_t)(page - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static void drop_mapped(struct dwarfidx *d)
{
	dwarfidx_drop_mapped(d->elf);
}

static void drop_compressed(struct dwarfidx *d)
{
	if (d->compressed)
		drop_mapped(d);
}

/* Units between two drops of the mapping while libdw reads their headers. */
#define UNITS_PER_DROP 128

/* The DIE of cu (index k), from a stored table.  libdw reads the header of
 * every unit before it the first time (a page or so each, all of libc's
 * .debug_info): in steps, each followed by giving the mapped pages back,
 * so they are never resident all at once. */
static bool cu_die(struct dwarfidx *d, size_t k)
{
	struct dw_cu *cu = &d->cus[k];
	for (; d->reached + UNITS_PER_DROP < k; d->reached += UNITS_PER_DROP) {
		Dwarf_Die die;
		if (!dwarf_offdie(d->dbg, d->cus[d->reached + UNITS_PER_DROP].off, &die))
			break;
		drop_mapped(d);
	}
	if (k > d->reached)
		d->reached = k;
	return dwarf_offdie(d->dbg, cu->off, &cu->die) && dwarf_tag(&cu->die) == DW_TAG_compile_unit;
}

/* hi_max of every CU range, sorted by lo. */
static void set_hi_max(struct dwarfidx *d)
{
	for (size_t i = 0; i < d->ncur; i++)
		d->cur[i].hi_max = i && d->cur[i - 1].hi_max > d->cur[i].hi ? d->cur[i - 1].hi_max : d->cur[i].hi;
}

/* Takes the units from a stored table: -EINVAL when it does not hold
 * together (any count, index or order wrong), and read_units runs. */
static int adopt_units(struct dwarfidx *d)
{
	struct units_header h;
	Elf_Data *data = elf_rawdata(d->units, NULL);
	if (!data || !data->d_buf || data->d_size < sizeof(h))
		return -EINVAL;
	memcpy(&h, data->d_buf, sizeof(h));
	size_t avail = data->d_size - sizeof(h);
	if (memcmp(h.magic, UNITS_MAGIC, sizeof(h.magic)) || !h.nranges || h.nranges > avail / sizeof(struct unit_range) ||
	    h.ncus > (avail - h.nranges * sizeof(struct unit_range)) / sizeof(uint64_t) ||
	    avail != h.nranges * sizeof(struct unit_range) + h.ncus * sizeof(uint64_t))
		return -EINVAL;
	const char *p = (const char *)data->d_buf + sizeof(h);
	d->cus = calloc(h.ncus ? h.ncus : 1, sizeof(*d->cus));
	d->cur = calloc(h.nranges, sizeof(*d->cur));
	if (!d->cus || !d->cur)
		return -ENOMEM;
	for (size_t i = 0; i < h.nranges; i++) {
		struct unit_range r;
		memcpy(&r, p + i * sizeof(r), sizeof(r));
		if (r.lo >= r.hi || r.cu >= h.ncus || (i && r.lo < d->cur[i - 1].lo))
			return -EINVAL;
		d->cur[i] = (struct cu_range){ .lo = r.lo, .hi = r.hi, .cu = (uint32_t)r.cu };
	}
	p += h.nranges * sizeof(struct unit_range);
	for (size_t i = 0; i < h.ncus; i++)
		memcpy(&d->cus[i].off, p + i * sizeof(uint64_t), sizeof(uint64_t));
	d->ncus = h.ncus;
	d->ncur = h.nranges;
	set_hi_max(d);
	d->bytes += h.ncus * sizeof(*d->cus) + h.nranges * sizeof(*d->cur);
	return 0;
}

static int cur_cmp(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Adds the address ranges of every compilation unit. */
static int read_units(struct dwarfidx *d)
{
	size_t cap_cus = 0, cap_cur = 0, hsize;
	Dwarf_Off off = 0, next;
	while (dwarf_nextcu(d->dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die die;
		Dwarf_Addr base, lo, hi;
		if (dwarf_offdie(d->dbg, off + hsize, &die) && dwarf_tag(&die) == DW_TAG_compile_unit) {
			if (array_grow(&d->cus, &cap_cus, d->ncus + 1, sizeof(*d->cus)))
				return -ENOMEM;
			memset(&d->cus[d->ncus], 0, sizeof(*d->cus));
			d->cus[d->ncus].die = die;
			d->cus[d->ncus].off = off + hsize;
			d->cus[d->ncus].has_die = true;
			for (ptrdiff_t r = 0; (r = dwarf_ranges(&die, r, &base, &lo, &hi)) > 0;) {
				if (lo >= hi)
					continue;
				if (array_grow(&d->cur, &cap_cur, d->ncur + 1, sizeof(*d->cur)))
					return -ENOMEM;
				d->cur[d->ncur++] = (struct cu_range){ .lo = lo, .hi = hi, .cu = (uint32_t)d->ncus };
			}
			d->ncus++;
		}
		off = next;
	}
	if (d->ncur) /* qsort(NULL, 0) is undefined */
		qsort(d->cur, d->ncur, sizeof(*d->cur), cur_cmp);
	set_hi_max(d);
	d->bytes += cap_cus * sizeof(*d->cus) + cap_cur * sizeof(*d->cur);
	return 0;
}

int dwarfidx_open(int fd, struct strpool *pool, struct dwarfidx **out)
{
	int err;
	struct dwarfidx *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->pool = pool;
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d->fd < 0) {
		err = -errno;
		goto fail;
	}
	elf_version(EV_CURRENT);
	d->elf = elf_begin(d->fd, ELF_C_READ_MMAP, NULL);
	if (!d->elf) {
		err = -ENOEXEC;
		goto fail;
	}
	scan_sections(d);
	d->dbg = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	if (!d->dbg) {
		err = -ENODATA;
		goto fail;
	}
	drop_compressed(d);
	if (d->units && adopt_units(d)) {
		free(d->cus);
		free(d->cur);
		d->cus = NULL;
		d->cur = NULL;
		d->ncus = d->ncur = 0;
		d->units = NULL;
	}
	if (!d->units && (err = read_units(d)))
		goto fail;
	if (!d->ncur) {
		err = -ENODATA;
		goto fail;
	}
	*out = d;
	return 0;
fail:
	dwarfidx_free(d);
	return err;
}

static void cu_release(struct dw_cu *cu)
{
	free(cu->rows);
	free(cu->nodes);
	free(cu->ranges);
	free(cu->files);
}

void dwarfidx_free(struct dwarfidx *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ncus; i++)
		cu_release(&d->cus[i]);
	free(d->cus);
	free(d->cur);
	if (d->dbg)
		dwarf_end(d->dbg);
	if (d->elf)
		elf_end(d->elf);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

/* The pooled name of a function DIE (following abstract origins and
 * specifications): its linkage name when it has one, else its name. */
static const char *die_name(struct dwarfidx *d, Dwarf_Die *die, bool *mangled)
{
	Dwarf_Attribute a;
	const char *s = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!s)
		s = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	*mangled = s != NULL;
	if (!s)
		s = dwarf_diename(die);
	return s ? strpool_cstr(d->pool, s) : NULL;
}

/* The pooled name of file idx of the unit's line table, or NULL. */
static const char *cu_file(struct dwarfidx *d, struct dw_cu *cu, size_t idx)
{
	if (!cu->files) {
		size_t n = 0;
		if (dwarf_getsrcfiles(&cu->die, &cu->dfiles, &n) || !n)
			return NULL;
		cu->files = calloc(n, sizeof(*cu->files));
		if (!cu->files)
			return NULL;
		cu->nfiles = n;
		d->bytes += n * sizeof(*cu->files);
	}
	if (idx >= cu->nfiles)
		return NULL;
	if (!cu->files[idx])
		cu->files[idx] = strpool_cstr(d->pool, dwarf_filesrc(cu->dfiles, idx, NULL, NULL));
	return cu->files[idx];
}

static int add_node(struct dwarfidx *d, struct dw_cu *cu, Dwarf_Die *die, int32_t parent)
{
	struct dw_node n = { .parent = parent };
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (array_grow(&cu->nodes, &cu->cap_nodes, cu->nnodes + 1, sizeof(*cu->nodes)))
		return -ENOMEM;
	n.name = die_name(d, die, &n.mangled);
	n.depth = parent >= 0 ? (uint16_t)(cu->nodes[parent].depth + 1) : 0;
	if (dwarf_tag(die) == DW_TAG_inlined_subroutine) {
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &w) == 0)
			n.call_file = cu_file(d, cu, w);
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &a), &w) == 0)
			n.call_line = (uint32_t)w;
	}
	cu->nodes[cu->nnodes] = n;
	return (int)cu->nnodes++;
}

/* The range of the parent node (among [pfirst, pfirst + pn)) containing lo. */
static int32_t enclosing(const struct dw_cu *cu, size_t pfirst, size_t pn, uint64_t lo)
{
	for (size_t i = pfirst; i < pfirst + pn; i++)
		if (cu->ranges[i].lo <= lo && lo < cu->ranges[i].hi)
			return (int32_t)i;
	return pn ? (int32_t)pfirst : -1;
}

static int walk(struct dwarfidx *d, struct dw_cu *cu, Dwarf_Die *parent_die, int32_t parent, size_t pfirst,
		size_t pn, int depth);

/* A function or inlined call: a node, its ranges, then its children. */
static int add_code(struct dwarfidx *d, struct dw_cu *cu, Dwarf_Die *die, int32_t parent, size_t pfirst, size_t pn,
		    int depth)
{
	Dwarf_Addr base, lo, hi;
	size_t first = cu->nranges;
	int node = -1;
	for (ptrdiff_t r = 0; (r = dwarf_ranges(die, r, &base, &lo, &hi)) > 0;) {
		if (lo >= hi)
			continue;
		if (node < 0 && (node = add_node(d, cu, die, parent)) < 0)
			return node;
		if (array_grow(&cu->ranges, &cu->cap_ranges, cu->nranges + 1, sizeof(*cu->ranges)))
			return -ENOMEM;
		cu->ranges[cu->nranges++] =
			(struct dw_range){ lo, hi, (uint32_t)node, parent >= 0 ? enclosing(cu, pfirst, pn, lo) : -1 };
	}
	if (node < 0) /* no code: a declaration or an abstract instance */
		return 0;
	return walk(d, cu, die, node, first, cu->nranges - first, depth + 1);
}

static int walk(struct dwarfidx *d, struct dw_cu *cu, Dwarf_Die *parent_die, int32_t parent, size_t pfirst,
		size_t pn, int depth)
{
	Dwarf_Die c;
	int err = 0;
	if (depth > 64 || dwarf_child(parent_die, &c))
		return 0;
	do {
		switch (dwarf_tag(&c)) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
			err = add_code(d, cu, &c, parent, pfirst, pn, depth);
			break;
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
			if (!cu->c)
				err = walk(d, cu, &c, parent, pfirst, pn, depth + 1);
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_namespace:
		case DW_TAG_module:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
			err = walk(d, cu, &c, parent, pfirst, pn, depth + 1);
			break;
		default:
			break;
		}
	} while (!err && dwarf_siblingof(&c, &c) == 0);
	return err;
}

static int range_cmp(const void *a, const void *b, void *ctx)
{
	const struct dw_cu *cu = ctx;
	const struct dw_range *x = &cu->ranges[*(const uint32_t *)a], *y = &cu->ranges[*(const uint32_t *)b];
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return cu->nodes[x->node].depth - cu->nodes[y->node].depth;
}

/* Sorts ranges by start (outer before inner on a tie) and remaps up links. */
static int sort_ranges(struct dw_cu *cu)
{
	size_t n = cu->nranges;
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order));
	int32_t *inv = malloc((n ? n : 1) * sizeof(*inv));
	struct dw_range *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	int err = order && inv && sorted ? 0 : -ENOMEM;
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, n, sizeof(*order), range_cmp, cu);
	for (size_t i = 0; i < n; i++)
		inv[order[i]] = (int32_t)i;
	for (size_t i = 0; i < n; i++) {
		sorted[i] = cu->ranges[order[i]];
		if (sorted[i].up >= 0)
			sorted[i].up = inv[sorted[i].up];
	}
	free(cu->ranges);
	cu->ranges = sorted;
	cu->cap_ranges = n;
	sorted = NULL;
out:
	free(order);
	free(inv);
	free(sorted);
	return err;
}

static int row_cmp(const void *a, const void *b)
{
	const struct dw_row *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Copies libdw's line table into compact rows (16 bytes, not ~40: lookups
 * touch fewer cache lines), then lets libdw's copy be the only other one. */
static void read_rows(struct dwarfidx *d, struct dw_cu *cu)
{
	Dwarf_Lines *lines;
	size_t n = 0, w = 0;
	if (dwarf_getsrclines(&cu->die, &lines, &n) || !n)
		return;
	cu->rows = malloc(n * sizeof(*cu->rows));
	if (!cu->rows)
		return;
	for (size_t i = 0; i < n; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		Dwarf_Addr a;
		int ln = 0;
		bool end = false;
		Dwarf_Files *files;
		size_t idx = 0;
		if (!l || dwarf_lineaddr(l, &a) || dwarf_lineno(l, &ln) || dwarf_lineendsequence(l, &end) ||
		    dwarf_line_file(l, &files, &idx))
			continue;
		cu->rows[w++] = (struct dw_row){ a, end ? 0 : (uint32_t)ln, (uint32_t)idx };
	}
	cu->nrows = w;
	/* libdw sorts by address already; sort only a table that is not. */
	for (size_t i = 1; i < w; i++) {
		if (cu->rows[i - 1].addr > cu->rows[i].addr) {
			qsort(cu->rows, w, sizeof(*cu->rows), row_cmp);
			break;
		}
	}
	/* libdw keeps about 40 bytes per row and its file table. */
	d->bytes += n * (sizeof(*cu->rows) + 40);
}

/* The line row applying to addr, or NULL. */
static const struct dw_row *find_row(const struct dw_cu *cu, uint64_t addr)
{
	size_t lo = 0, hi = cu->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cu->rows[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && cu->rows[lo - 1].line ? &cu->rows[lo - 1] : NULL;
}

static void index_cu(struct dwarfidx *d, struct dw_cu *cu)
{
	cu->indexed = true;
	if (!cu->has_die && !cu_die(d, (size_t)(cu - d->cus)))
		return; /* a stored table that does not match the DWARF: nothing for this unit */
	cu->has_die = true;
	switch (dwarf_srclang(&cu->die)) {
	case DW_LANG_C89:
	case DW_LANG_C:
	case DW_LANG_C99:
	case DW_LANG_C11:
		cu->c = true;
		break;
	default:
		break;
	}
	if (walk(d, cu, &cu->die, -1, 0, 0, 0) || sort_ranges(cu)) {
		cu->nnodes = cu->nranges = 0; /* out of memory: no DWARF for this unit */
		return;
	}
	d->bytes += cu->cap_nodes * sizeof(*cu->nodes) + cu->cap_ranges * sizeof(*cu->ranges);
	read_rows(d, cu);
	/* What the index needs is copied out: the DIEs, the line program and
	 * the headers read on the way come back from the file if needed. */
	if (d->units)
		drop_mapped(d);
}

static struct dw_cu *find_cu(struct dwarfidx *d, uint64_t addr)
{
	size_t lo = 0, hi = d->ncur;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->cur[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* CU ranges may nest or overlap in odd files: look back, the nearest
	 * start first, while some range that starts earlier still reaches addr. */
	for (size_t i = lo; i-- > 0 && addr < d->cur[i].hi_max;)
		if (addr < d->cur[i].hi)
			return &d->cus[d->cur[i].cu];
	return NULL;
}

/* The deepest range of cu containing addr, or -1. */
static int32_t deepest(const struct dw_cu *cu, uint64_t addr)
{
	size_t lo = 0, hi = cu->nranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cu->ranges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	int32_t r = (int32_t)lo - 1;
	while (r >= 0 && addr >= cu->ranges[r].hi)
		r = cu->ranges[r].up;
	return r;
}

size_t dwarfidx_lookup(struct dwarfidx *d, uint64_t vaddr, struct dw_frame *out, size_t cap)
{
	struct dw_cu *cu = find_cu(d, vaddr);
	if (!cu || !cap)
		return 0;
	if (!cu->indexed)
		index_cu(d, cu);
	int32_t r = deepest(cu, vaddr);
	if (r < 0)
		return 0;
	int32_t node = (int32_t)cu->ranges[r].node;
	size_t n = (size_t)cu->nodes[node].depth + 1;
	size_t keep = n < cap ? n : cap;
	/* Fill from the innermost: its line comes from the line table, each
	 * outer frame's from the call site of the frame inside it. */
	const char *file = NULL;
	uint32_t line = 0;
	const struct dw_row *row = find_row(cu, vaddr);
	if (row) {
		line = row->line;
		file = cu_file(d, cu, row->file);
	}
	for (size_t i = n; i-- > 0 && node >= 0;) {
		const struct dw_node *nd = &cu->nodes[node];
		if (i >= n - keep)
			out[i - (n - keep)] = (struct dw_frame){ nd->name, nd->mangled, file, line };
		file = nd->call_file;
		line = nd->call_line;
		node = nd->parent;
	}
	return keep;
}

int dwarfidx_units_image(struct Elf *elf, void **image, size_t *len)
{
	struct dwarfidx d = { .fd = -1, .elf = elf };
	int err;
	*image = NULL;
	*len = 0;
	scan_sections(&d);
	d.dbg = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!d.dbg)
		return -ENODATA;
	if (!(err = read_units(&d)) && !d.ncur)
		err = -ENODATA;
	struct units_header h = { .ncus = d.ncus, .nranges = d.ncur };
	size_t n = sizeof(h) + d.ncur * sizeof(struct unit_range) + d.ncus * sizeof(uint64_t);
	char *p = err ? NULL : malloc(n);
	if (!err && !p)
		err = -ENOMEM;
	if (!err) {
		memcpy(h.magic, UNITS_MAGIC, sizeof(h.magic));
		memcpy(p, &h, sizeof(h));
		for (size_t i = 0; i < d.ncur; i++) {
			struct unit_range r = { d.cur[i].lo, d.cur[i].hi, d.cur[i].cu };
			memcpy(p + sizeof(h) + i * sizeof(r), &r, sizeof(r));
		}
		for (size_t i = 0; i < d.ncus; i++)
			memcpy(p + sizeof(h) + d.ncur * sizeof(struct unit_range) + i * sizeof(uint64_t), &d.cus[i].off,
			       sizeof(uint64_t));
		*image = p;
		*len = n;
	}
	free(d.cus);
	free(d.cur);
	dwarf_end(d.dbg);
	return err;
}

size_t dwarfidx_bytes(const struct dwarfidx *d)
{
	return sizeof(*d) + d->bytes;
}

bool dwarfidx_compressed(const struct dwarfidx *d)
{
	return d->compressed;
}

size_t dwarfidx_dwarf_size(const struct dwarfidx *d)
{
	return d->dwarf_size;
}
