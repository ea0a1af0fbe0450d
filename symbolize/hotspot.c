/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "hotspot.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
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

/* The fields read, each found by (type, field) in gHotSpotVMStructs. */
enum hs_field {
	F_CODE_BEGIN, F_CODE_END, F_FRAME_SIZE,    /* CodeBlob (pointers: JDK < 23) */
	F_CODE_OFFSET, F_DATA_OFFSET,              /* CodeBlob (ints from the blob: JDK 23+) */
	F_CONST_METHOD,                            /* Method::_constMethod */
	F_CM_CONSTANTS, F_CM_NAME, F_CM_SIGNATURE, /* ConstMethod: ConstantPool*, u2 indices */
	F_CP_HOLDER, F_CP_LENGTH,                  /* ConstantPool: InstanceKlass*, int */
	F_KLASS_NAME,                              /* Klass::_name: Symbol* */
	F_SYM_LENGTH, F_SYM_BODY,                  /* Symbol: u2, bytes */
	F_INTERP_CODE,                             /* AbstractInterpreter::_code (static): StubQueue* */
	F_SQ_BUFFER, F_SQ_LIMIT,                   /* StubQueue: address, int */
	F_CM_CODE_SIZE,                            /* ConstMethod::_code_size: u2 */
	F_CM_FLAGS, F_CM_FLAGS21,                  /* ConstMethod::_flags: u2 (< 21), u4 (21+, a struct) */
	F_CP_SOURCE,                               /* ConstantPool::_source_file_name_index: u2 */
	F_NR
};
static const char *const field_names[F_NR][2] = {
	{ "CodeBlob", "_code_begin" },       { "CodeBlob", "_code_end" },
	{ "CodeBlob", "_frame_size" },       { "CodeBlob", "_code_offset" },
	{ "CodeBlob", "_data_offset" },      { "Method", "_constMethod" },
	{ "ConstMethod", "_constants" },     { "ConstMethod", "_name_index" },
	{ "ConstMethod", "_signature_index" }, { "ConstantPool", "_pool_holder" },
	{ "ConstantPool", "_length" },       { "Klass", "_name" },
	{ "Symbol", "_length" },             { "Symbol", "_body" },
	{ "AbstractInterpreter", "_code" },  { "StubQueue", "_stub_buffer" },
	{ "StubQueue", "_buffer_limit" },    { "ConstMethod", "_code_size" },
	{ "ConstMethod", "_flags" },         { "ConstMethod", "_flags._flags" },
	{ "ConstantPool", "_source_file_name_index" },
};
#define FIELD_NAMING_FIRST F_CONST_METHOD /* the fields naming methods need */
#define FIELD_NAMING_LAST F_SYM_BODY

/* Sizes of types, from gHotSpotVMTypes. */
enum hs_type { T_CONSTANT_POOL, T_CONST_METHOD, T_NR };
static const char *const type_names[T_NR] = { "ConstantPool", "ConstMethod" };

struct hotspot {
	uint32_t pid;
	uint64_t off[F_NR];   /* offsets; F_INTERP_CODE: the static's address */
	bool have[F_NR];
	uint64_t size[T_NR];
	bool have_size[T_NR];
	bool frames;          /* frame sizes known: CodeBlob has pointers (< 23) or offsets (23+) */
	bool relative;        /* offsets: code begins _code_offset, ends _data_offset past the blob */
	uint32_t line_flag;   /* ConstMethod's flag bit for a line number table, 0 when not known */
};

/* The exported variables describing gHotSpotVMStructs' and gHotSpotVMTypes' entries. */
enum {
	VS_TABLE, VS_TYPE, VS_FIELD, VS_OFFSET, VS_STRIDE, VS_STATIC, VS_ADDRESS,
	VT_TABLE, VT_TYPE, VT_SIZE, VT_STRIDE,
	VC_TABLE, VC_NAME, VC_VALUE, VC_STRIDE, VS_NR
};
static const char *const vs_names[VS_NR] = {
	"gHotSpotVMStructs",
	"gHotSpotVMStructEntryTypeNameOffset",
	"gHotSpotVMStructEntryFieldNameOffset",
	"gHotSpotVMStructEntryOffsetOffset",
	"gHotSpotVMStructEntryArrayStride",
	"gHotSpotVMStructEntryIsStaticOffset",
	"gHotSpotVMStructEntryAddressOffset",
	"gHotSpotVMTypes",
	"gHotSpotVMTypeEntryTypeNameOffset",
	"gHotSpotVMTypeEntrySizeOffset",
	"gHotSpotVMTypeEntryArrayStride",
	"gHotSpotVMIntConstants",
	"gHotSpotVMIntConstantEntryNameOffset",
	"gHotSpotVMIntConstantEntryValueOffset",
	"gHotSpotVMIntConstantEntryArrayStride",
};

/* The ConstMethod flag saying a method has a line number table: its name
 * before JDK 21, and in 21+ (a bit of ConstMethodFlags). */
static const char *const line_flag_names[] = { "ConstMethod::_has_linenumber_table",
					       "ConstMethodFlags::_misc_has_linenumber_table" };

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

static bool stride_ok(uint64_t stride, const uint64_t *offs, size_t n)
{
	if (stride < 16 || stride > 256)
		return false;
	for (size_t i = 0; i < n; i++)
		if (offs[i] + 8 > stride)
			return false;
	return true;
}

/* Walks gHotSpotVMStructs for the fields of field_names. */
static int read_offsets(struct hotspot *h, const uint64_t v[VS_NR])
{
	uint64_t stride = v[VS_STRIDE], offs[] = { v[VS_TYPE], v[VS_FIELD], v[VS_OFFSET], v[VS_ADDRESS] };
	if (!v[VS_TABLE] || !stride_ok(stride, offs, 4) || v[VS_STATIC] + 4 > stride)
		return -ENOENT;
	unsigned char *e = malloc(stride);
	int err = 0;
	if (!e)
		return -ENOMEM;
	for (uint64_t i = 0; i < VMSTRUCTS_MAX; i++) {
		uint64_t type, field, off, addr;
		int32_t is_static;
		char tname[24], fname[24];
		if ((err = procmem_read(h->pid, v[VS_TABLE] + i * stride, e, stride)))
			break;
		memcpy(&type, e + v[VS_TYPE], 8);
		memcpy(&field, e + v[VS_FIELD], 8);
		memcpy(&off, e + v[VS_OFFSET], 8);
		memcpy(&addr, e + v[VS_ADDRESS], 8);
		memcpy(&is_static, e + v[VS_STATIC], 4);
		if (!type)
			break; /* the end */
		if (!peek_str(h->pid, type, tname, sizeof(tname)) || !peek_str(h->pid, field, fname, sizeof(fname)))
			continue;
		for (int k = 0; k < F_NR; k++) {
			if (h->have[k] || strcmp(tname, field_names[k][0]) || strcmp(fname, field_names[k][1]))
				continue;
			if (is_static ? !addr : off > 4096)
				continue;
			h->off[k] = is_static ? addr : off;
			h->have[k] = true;
		}
	}
	free(e);
	return err;
}

/* Walks gHotSpotVMTypes for the sizes of type_names. */
static int read_sizes(struct hotspot *h, const uint64_t v[VS_NR])
{
	uint64_t stride = v[VT_STRIDE], offs[] = { v[VT_TYPE], v[VT_SIZE] };
	if (!v[VT_TABLE] || !stride_ok(stride, offs, 2))
		return -ENOENT;
	unsigned char e[256];
	int err = 0;
	for (uint64_t i = 0; i < VMSTRUCTS_MAX; i++) {
		uint64_t type, size;
		char tname[24];
		if ((err = procmem_read(h->pid, v[VT_TABLE] + i * stride, e, stride)))
			break;
		memcpy(&type, e + v[VT_TYPE], 8);
		memcpy(&size, e + v[VT_SIZE], 8);
		if (!type)
			break;
		if (!peek_str(h->pid, type, tname, sizeof(tname)))
			continue;
		for (int k = 0; k < T_NR; k++) {
			if (!h->have_size[k] && !strcmp(tname, type_names[k]) && size > 0 && size < 4096) {
				h->size[k] = size;
				h->have_size[k] = true;
			}
		}
	}
	return err;
}

/* Walks gHotSpotVMIntConstants for the line number table's flag bit. */
static int read_constants(struct hotspot *h, const uint64_t v[VS_NR])
{
	uint64_t stride = v[VC_STRIDE], offs[] = { v[VC_NAME], v[VC_VALUE] };
	if (!v[VC_TABLE] || !stride_ok(stride, offs, 2))
		return 0; /* lines are optional */
	unsigned char e[256];
	for (uint64_t i = 0; i < VMSTRUCTS_MAX && !h->line_flag; i++) {
		uint64_t name;
		int32_t value;
		char cname[64];
		if (procmem_read(h->pid, v[VC_TABLE] + i * stride, e, stride))
			break;
		memcpy(&name, e + v[VC_NAME], 8);
		memcpy(&value, e + v[VC_VALUE], 4);
		if (!name)
			break;
		if (!peek_str(h->pid, name, cname, sizeof(cname)))
			continue;
		for (size_t k = 0; k < sizeof(line_flag_names) / sizeof(line_flag_names[0]); k++)
			if (!strcmp(cname, line_flag_names[k]) && value > 0)
				h->line_flag = (uint32_t)value;
	}
	return 0;
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
	if ((err = read_offsets(h, v)) || (err = read_sizes(h, v)) || (err = read_constants(h, v))) {
		free(h);
		return err == -EFAULT ? -ENOENT : err;
	}
	h->frames = h->have[F_CODE_BEGIN] && h->have[F_CODE_END] && h->have[F_FRAME_SIZE];
	h->relative = !h->frames && h->have[F_CODE_OFFSET] && h->have[F_DATA_OFFSET] && h->have[F_FRAME_SIZE];
	h->frames |= h->relative;
	bool naming = h->have_size[T_CONSTANT_POOL];
	for (int k = FIELD_NAMING_FIRST; k <= FIELD_NAMING_LAST; k++)
		naming &= h->have[k];
	if (!h->frames && !naming) {
		/* CodeBlob with offsets (JDK 23+) and no method layout either. */
		err = h->have[F_FRAME_SIZE] ? -ENOTSUP : -ENOENT;
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

bool hotspot_has_frames(const struct hotspot *h)
{
	return h->frames;
}

int hotspot_interpreter(const struct hotspot *h, uint64_t *start, uint64_t *end)
{
	uint64_t queue, buf;
	int32_t limit;
	if (!h->have[F_INTERP_CODE] || !h->have[F_SQ_BUFFER] || !h->have[F_SQ_LIMIT])
		return -ENOTSUP;
	if (procmem_read(h->pid, h->off[F_INTERP_CODE], &queue, 8) || !queue ||
	    procmem_read(h->pid, queue + h->off[F_SQ_BUFFER], &buf, 8) ||
	    procmem_read(h->pid, queue + h->off[F_SQ_LIMIT], &limit, 4))
		return -ENOENT; /* not set up yet */
	if (!buf || limit <= 0 || limit > (64 << 20))
		return -ENOENT;
	*start = buf;
	*end = buf + (uint64_t)limit;
	return 0;
}

/* A pointer-sized field at addr + h->off[f]. */
static int read_ptr(const struct hotspot *h, uint64_t addr, enum hs_field f, uint64_t *out)
{
	int err = procmem_read(h->pid, addr + h->off[f], out, 8);
	return err ? err : *out ? 0 : -EINVAL;
}

static int read_u16(const struct hotspot *h, uint64_t addr, enum hs_field f, uint16_t *out)
{
	return procmem_read(h->pid, addr + h->off[f], out, 2);
}

/* A Symbol's bytes, NUL-terminated, into buf[len] (cut to fit). */
static int read_symbol(const struct hotspot *h, uint64_t sym, char *buf, size_t len)
{
	uint16_t n;
	int err = read_u16(h, sym, F_SYM_LENGTH, &n);
	if (err)
		return err;
	if (n == 0)
		return -EINVAL;
	if (n > len - 1)
		n = (uint16_t)(len - 1);
	if ((err = procmem_read(h->pid, sym + h->off[F_SYM_BODY], buf, n)))
		return err;
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20)
			return -EINVAL;
	return 0;
}

/* The Symbol* of constant pool entry idx. */
static int cp_symbol(const struct hotspot *h, uint64_t cp, uint16_t idx, int32_t cp_len, uint64_t *sym)
{
	if (idx == 0 || idx >= cp_len)
		return -EINVAL;
	int err = procmem_read(h->pid, cp + h->size[T_CONSTANT_POOL] + (uint64_t)idx * 8, sym, 8);
	return err ? err : (*sym & 7) || !*sym ? -EINVAL : 0;
}

int hotspot_method_raw(const struct hotspot *h, uint64_t method, uint64_t *const_method, struct hotspot_raw *out)
{
	uint64_t cm, cp, holder, sym;
	uint16_t ni, si;
	int32_t cp_len;
	int err;
	for (int k = FIELD_NAMING_FIRST; k <= FIELD_NAMING_LAST; k++)
		if (!h->have[k])
			return -ENOTSUP;
	if (!h->have_size[T_CONSTANT_POOL])
		return -ENOTSUP;
	if ((err = read_ptr(h, method, F_CONST_METHOD, &cm)))
		return err;
	*const_method = cm;
	if (!out)
		return 0;
	if ((err = read_ptr(h, cm, F_CM_CONSTANTS, &cp)) || (err = read_u16(h, cm, F_CM_NAME, &ni)) ||
	    (err = read_u16(h, cm, F_CM_SIGNATURE, &si)) || (err = read_ptr(h, cp, F_CP_HOLDER, &holder)) ||
	    (err = procmem_read(h->pid, cp + h->off[F_CP_LENGTH], &cp_len, 4)) ||
	    (err = read_ptr(h, holder, F_KLASS_NAME, &sym)) ||
	    (err = read_symbol(h, sym, out->klass, sizeof(out->klass))) ||
	    (err = cp_symbol(h, cp, ni, cp_len, &sym)) || (err = read_symbol(h, sym, out->name, sizeof(out->name))) ||
	    (err = cp_symbol(h, cp, si, cp_len, &sym)) ||
	    (err = read_symbol(h, sym, out->signature, sizeof(out->signature))))
		return err == -EFAULT ? -EINVAL : err;
	uint16_t fi;
	out->source[0] = '\0';
	if (h->have[F_CP_SOURCE] && !read_u16(h, cp, F_CP_SOURCE, &fi) && fi && !cp_symbol(h, cp, fi, cp_len, &sym))
		read_symbol(h, sym, out->source, sizeof(out->source));
	return 0;
}

/* One UNSIGNED5 number of a compressed stream (HotSpot's CompressedReadStream:
 * bytes below 192 end it, each byte, less x, weighs 64 times the one before;
 * x is 1 from JDK 20, where no byte of a number is 0, else 0). */
static bool read_u5(const uint8_t *t, size_t len, size_t *at, uint32_t x, uint32_t *out)
{
	uint32_t sum = 0;
	for (int i = 0, shift = 0; i < 5; i++, shift += 6) {
		if (*at >= len || t[*at] < x)
			return false;
		uint8_t b = t[(*at)++];
		sum += (uint32_t)(b - x) << shift;
		if (b < 192)
			break;
	}
	*out = sum;
	return true;
}

int hotspot_line_of(const uint8_t *t, size_t len, uint32_t bci, bool u5_excludes_zero)
{
	uint32_t x = u5_excludes_zero ? 1 : 0;
	/* Pairs are neither sorted nor one to one: an exact bci wins, else the
	 * line of the greatest bci below (Method::line_number_from_bci). */
	int32_t cur_bci = 0, line = 0, best = 0, best_bci = -1;
	size_t at = 0;
	while (at < len && t[at]) {
		uint8_t b = t[at++];
		int32_t db, dl;
		if (b != 0xff) {
			db = b >> 3;
			dl = b & 7;
		} else {
			uint32_t ub, ul;
			if (!read_u5(t, len, &at, x, &ub) || !read_u5(t, len, &at, x, &ul))
				break;
			db = (int32_t)(ub >> 1) ^ -(int32_t)(ub & 1);
			dl = (int32_t)(ul >> 1) ^ -(int32_t)(ul & 1);
		}
		cur_bci += db;
		line += dl;
		if (cur_bci == (int32_t)bci)
			return line > 0 ? line : 0;
		if (cur_bci >= 0 && cur_bci < (int32_t)bci && cur_bci >= best_bci) {
			best_bci = cur_bci;
			best = line;
		}
	}
	return best > 0 ? best : 0;
}

#define LINE_TABLE_MAX 4096 /* bytes of a line number table read at most */

int hotspot_line(const struct hotspot *h, uint64_t const_method, uint32_t bcp_low, uint32_t bcp_mask)
{
	uint16_t code_size;
	uint32_t flags = 0;
	enum hs_field ff = h->have[F_CM_FLAGS] ? F_CM_FLAGS : F_CM_FLAGS21;
	if (!h->have[F_CM_CODE_SIZE] || !h->have[ff] || !h->have_size[T_CONST_METHOD])
		return 0;
	if (!h->line_flag || read_u16(h, const_method, F_CM_CODE_SIZE, &code_size) ||
	    procmem_read(h->pid, const_method + h->off[ff], &flags, ff == F_CM_FLAGS ? 2 : 4) || !(flags & h->line_flag))
		return 0;
	uint64_t code = const_method + h->size[T_CONST_METHOD];
	uint32_t bci = (bcp_low - (uint32_t)code) & bcp_mask;
	if (bci >= code_size)
		return 0;
	uint8_t t[LINE_TABLE_MAX];
	size_t len = LINE_TABLE_MAX;
	/* The table follows the bytecodes; less of it when the mapping ends sooner. */
	while (len >= 64 && procmem_read(h->pid, code + code_size, t, len))
		len /= 2;
	return len >= 64 ? hotspot_line_of(t, len, bci, ff == F_CM_FLAGS21) : 0;
}

int hotspot_frame_size(const struct hotspot *h, uint64_t code_begin, uint64_t code_end, uint32_t *out)
{
	uint64_t buf[HEADER_SEARCH / 8];
	size_t back = HEADER_SEARCH;
	if (!h->frames)
		return -ENOTSUP;
	if (code_begin < HEADER_SEARCH || code_end <= code_begin || (code_begin & 7))
		return -EINVAL;
	/* Code near the start of its heap: less before it is mapped. */
	while (back >= 256 && procmem_read(h->pid, code_begin - back, buf, back))
		back /= 2;
	if (back < 256)
		return -ENOENT;
	/* The nearest blob that begins the code there and ends it at code_end:
	 * a word holding code_begin (pointers), or a blob start whose offsets
	 * are the code's distances from it (JDK 23+: one int alone matches
	 * stray words of the blob before, the two together did not). */
	uint64_t window = code_begin - back;
	for (size_t i = back / 8; i-- > 0;) {
		size_t blob;
		uint64_t end;
		int32_t words, off, data;
		if (h->relative) {
			blob = i * 8;
			if (blob + h->off[F_CODE_OFFSET] + 4 > back || blob + h->off[F_DATA_OFFSET] + 4 > back)
				continue;
			memcpy(&off, (char *)buf + blob + h->off[F_CODE_OFFSET], 4);
			memcpy(&data, (char *)buf + blob + h->off[F_DATA_OFFSET], 4);
			if (off <= 0 || data <= 0 || window + blob + (uint64_t)off != code_begin)
				continue;
			end = window + blob + (uint64_t)data;
		} else {
			if (buf[i] != code_begin || i * 8 < h->off[F_CODE_BEGIN])
				continue;
			blob = i * 8 - h->off[F_CODE_BEGIN];
			if (blob + h->off[F_CODE_END] + 8 > back)
				continue;
			memcpy(&end, (char *)buf + blob + h->off[F_CODE_END], 8);
		}
		if (blob + h->off[F_FRAME_SIZE] + 4 > back)
			continue;
		memcpy(&words, (char *)buf + blob + h->off[F_FRAME_SIZE], 4);
		if (end != code_end)
			continue;
		if (words < 1 || (uint32_t)words * 8 > FRAME_MAX)
			return -EINVAL;
		*out = (uint32_t)words * 8;
		return 0;
	}
	return -ENOENT;
}

/* Appends the Java type of the descriptor at *d ("I", "[Ljava/lang/String;")
 * to out; false at a malformed one. */
static bool put_type(const char **d, char *out, size_t len, size_t *at)
{
	static const char *const prims[] = { ['B'] = "byte", ['C'] = "char", ['D'] = "double", ['F'] = "float",
					     ['I'] = "int", ['J'] = "long", ['S'] = "short", ['Z'] = "boolean",
					     ['V'] = "void" };
	unsigned dims = 0;
	while (**d == '[')
		dims++, (*d)++;
	unsigned char c = (unsigned char)**d;
	if (c == 'L') {
		const char *end = strchr(*d, ';');
		if (!end)
			return false;
		for (const char *p = *d + 1; p < end; p++)
			if (*at + 1 < len)
				out[(*at)++] = *p == '/' ? '.' : *p;
		*d = end + 1;
	} else if (c < sizeof(prims) / sizeof(prims[0]) && prims[c]) {
		*at += (size_t)snprintf(out + *at, *at < len ? len - *at : 0, "%s", prims[c]);
		(*d)++;
	} else {
		return false;
	}
	while (dims--)
		*at += (size_t)snprintf(out + *at, *at < len ? len - *at : 0, "[]");
	return *at < len;
}

int hotspot_format(const struct hotspot_raw *r, char *out, size_t len)
{
	const char *sig = r->signature, *ret = strchr(sig, ')');
	size_t at = 0;
	if (sig[0] != '(' || !ret || len < 2)
		return -EINVAL;
	ret++;
	if (!put_type(&ret, out, len, &at) || *ret)
		return -EINVAL;
	at += (size_t)snprintf(out + at, len - at, " ");
	for (const char *k = r->klass; *k && at + 1 < len; k++)
		out[at++] = *k == '/' ? '.' : *k;
	at += (size_t)snprintf(out + at, at < len ? len - at : 0, ".%s(", r->name);
	for (const char *p = sig + 1; *p != ')';) {
		if (p != sig + 1)
			at += (size_t)snprintf(out + at, at < len ? len - at : 0, ", ");
		if (at >= len || !put_type(&p, out, len, &at))
			return -EINVAL;
	}
	at += (size_t)snprintf(out + at, at < len ? len - at : 0, ")");
	if (at >= len)
		return -ENAMETOOLONG;
	out[at] = '\0';
	return 0;
}

/* Reads lead then "0x" and hex digits (no sign, no space) at *p. */
static bool codelist_hex(const char **p, const char *lead, unsigned long long *v)
{
	size_t n = strlen(lead);
	const char *s = *p + n;
	char *end;
	if (strncmp(*p, lead, n) || strncmp(s, "0x", 2) || !isxdigit((unsigned char)s[2]))
		return false;
	errno = 0;
	*v = strtoull(s + 2, &end, 16);
	*p = end;
	return !errno;
}

/* One line of Compiler.codelist, "ID LEVEL STATE CLASS.NAME(SIG)RET [0xHEADER,
 * 0xBEGIN - 0xEND]", as a perf map's line, appended to *out: 1, 0 when it
 * is not one, -ENOMEM. */
static int codelist_line(const char *s, size_t n, char **out, size_t *len, size_t *cap)
{
	char line[1024], *p = line, *save = NULL;
	struct hotspot_raw r = { 0 };
	char name[1024];
	unsigned long long hdr, begin, end;
	if (n >= sizeof(line) || memchr(s, '\0', n))
		return 0;
	memcpy(line, s, n);
	line[n] = '\0';
	for (int field = 0; field < 3; field++) { /* id, tier, state: numbers */
		char *t = strtok_r(field ? NULL : p, " ", &save);
		if (!t || strspn(t, "-0123456789") != strlen(t))
			return 0;
	}
	char *method = strtok_r(NULL, " ", &save);
	const char *range = save;
	if (!method || !range || !codelist_hex(&range, "[", &hdr) || !codelist_hex(&range, ", ", &begin) ||
	    !codelist_hex(&range, " - ", &end) || strcmp(range, "]") || begin < hdr || end <= begin)
		return 0;
	char *paren = strchr(method, '('), *dot;
	if (!paren)
		return 0;
	*paren = '\0';
	if (!(dot = strrchr(method, '.')) || dot == method || !dot[1] || strlen(method) >= sizeof(r.klass) ||
	    strlen(dot + 1) >= sizeof(r.name) || strlen(paren + 1) + 1 >= sizeof(r.signature))
		return 0;
	*dot = '\0';
	strcpy(r.klass, method);
	strcpy(r.name, dot + 1);
	r.signature[0] = '(';
	strcpy(r.signature + 1, paren + 1);
	if (hotspot_format(&r, name, sizeof(name)))
		return 0;
	size_t need = *len + strlen(name) + 2 * 19 + 3;
	if (need > *cap) {
		size_t c = *cap ? *cap : 4096;
		while (c < need)
			c *= 2;
		char *grown = realloc(*out, c);
		if (!grown)
			return -ENOMEM;
		*out = grown;
		*cap = c;
	}
	*len += (size_t)snprintf(*out + *len, *cap - *len, "%llx %llx %s\n", begin, end - begin, name);
	return 1;
}

int hotspot_codelist(const char *text, size_t len, char **out, size_t *out_len, size_t *skipped)
{
	char *map = NULL;
	size_t n = 0, cap = 0, bad = 0;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		while (ll && (p[ll - 1] == '\r' || p[ll - 1] == ' '))
			ll--;
		int r = ll ? codelist_line(p, ll, &map, &n, &cap) : 1;
		if (r < 0) {
			free(map);
			return r;
		}
		bad += !r;
		p = le + 1;
	}
	if (!map && !(map = malloc(1)))
		return -ENOMEM;
	map[n] = '\0';
	*out = map;
	*out_len = n;
	if (skipped)
		*skipped = bad;
	return 0;
}
