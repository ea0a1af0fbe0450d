/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/atomicfile.h"
#include "base/utf8.h"

#define OFFCPU_SUFFIX ".offcpu.pb.gz"

void agent_window_name(time_t t, uint32_t pid, bool offcpu, char *out, size_t outlen)
{
	struct tm tm;
	char ts[32];
	const char *suffix = offcpu ? OFFCPU_SUFFIX : ".pb.gz";
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H-%M-%SZ", &tm);
	if (pid)
		snprintf(out, outlen, "%s-%" PRIu32 "%s", ts, pid, suffix);
	else
		snprintf(out, outlen, "%s%s", ts, suffix);
}

time_t agent_window_time(const char *name)
{
	struct tm tm = { 0 };
	size_t n = strlen(name);
	if (n < 26 || strcmp(name + n - 6, ".pb.gz"))
		return -1;
	size_t tail = n >= strlen(OFFCPU_SUFFIX) && !strcmp(name + n - strlen(OFFCPU_SUFFIX), OFFCPU_SUFFIX)
			      ? strlen(OFFCPU_SUFFIX)
			      : 6;
	const char *end = strptime(name, "%Y-%m-%dT%H-%M-%SZ", &tm);
	if (!end || end > name + n - tail || (*end != '.' && *end != '-'))
		return -1;
	if (*end == '.' && end != name + n - tail)
		return -1;
	size_t digits = (size_t)(name + n - tail - end - 1);
	if (*end == '-' && (!digits || strspn(end + 1, "0123456789") != digits))
		return -1;
	return timegm(&tm);
}

struct wfile {
	char name[64];
	time_t t;
	uint64_t size;
};

static int wfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wfile *)a)->name, ((const struct wfile *)b)->name);
}

int agent_output_prune(const char *dir, uint64_t retention_s, uint64_t max_disk, time_t now, size_t *deleted,
		       uint64_t *kept_bytes)
{
	DIR *d = opendir(dir);
	struct wfile *f = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	int err = 0;
	struct dirent *de;

	*deleted = 0;
	*kept_bytes = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		time_t t = agent_window_time(de->d_name);
		if (t < 0 || strlen(de->d_name) >= sizeof(f->name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if ((err = array_grow(&f, &cap, n + 1, sizeof(*f))))
			goto out;
		snprintf(f[n].name, sizeof(f[n].name), "%s", de->d_name);
		f[n].t = t;
		f[n].size = (uint64_t)st.st_size;
		total += f[n++].size;
	}
	if (n)
		qsort(f, n, sizeof(*f), wfile_cmp);
	for (size_t i = 0; i < n; i++) {
		bool old = retention_s && f[i].t + (time_t)retention_s < now;
		bool over = max_disk && total > max_disk;
		if (!old && !over)
			break;
		if (unlinkat(dirfd(d), f[i].name, 0) == 0) {
			total -= f[i].size;
			(*deleted)++;
		}
	}
	*kept_bytes = total;
out:
	closedir(d);
	free(f);
	return err;
}

/* s as a JSON string: valid UTF-8, quotes, backslashes and control bytes
 * escaped (the server's message is anyone's text). */
static void put_json_string(FILE *f, const char *text)
{
	char *r = utf8_repaired(text);
	const char *s = r ? r : "";
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
	free(r);
}

int agent_status_write(const char *dir, const struct agent_status *s)
{
	struct atomic_file af;
	char path[4096];
	snprintf(path, sizeof(path), "%s/status.json", dir);
	int err = atomic_file_open(&af, path);
	if (err)
		return err;
	fprintf(af.fp,
		"{\n  \"time\": %" PRId64 ",\n  \"windows\": %" PRIu64 ",\n  \"windows_written\": %" PRIu64
		",\n  \"write_failures\": %" PRIu64 ",\n  \"windows_pending\": %" PRIu64
		",\n  \"cpu_user_seconds\": %.3f,\n  \"cpu_system_seconds\": %.3f,\n  \"rss_kib\": %" PRIu64
		",\n  \"samples_window\": %" PRIu64 ",\n  \"samples_total\": %" PRIu64 ",\n  \"lost_window\": %" PRIu64
		",\n  \"lost_total\": %" PRIu64 ",\n  \"map_fill\": %.4f,\n  \"processes\": %" PRIu64 ",\n  \"processes_exited_unread\": %" PRIu64
		",\n  \"processes_unread\": %" PRIu64 ",\n  \"symbolizer_files\": %" PRIu64
		",\n  \"dwarf_cache_kib\": %" PRIu64 ",\n  \"dwarf_memo_kib\": %" PRIu64 ",\n  \"symbolizer_files_released\": %" PRIu64 ",\n  \"unwind_files\": %" PRIu64 ",\n  \"unwind_files_reused\": %" PRIu64 ",\n  \"unwind_compile_ms\": %" PRIu64 ",\n  \"spool_entries\": %" PRIu64 ",\n  \"spool_bytes\": %" PRIu64 ",\n  \"spool_dropped\": %" PRIu64
		",\n  \"pushed\": %" PRIu64 ",\n  \"push_failures\": %" PRIu64 ",\n  \"files_deleted\": %" PRIu64
		",\n  \"disk_bytes\": %" PRIu64,
		(int64_t)s->time, s->windows, s->windows_written, s->write_failures, s->windows_pending, s->cpu_user_s,
		s->cpu_sys_s, s->rss_kib, s->samples_window, s->samples_total, s->lost_window, s->lost_total,
		s->map_fill, s->processes, s->processes_exited_unread, s->processes_unread, s->sym_files, s->dwarf_cache_kib, s->dwarf_memo_kib, s->sym_files_released,
		s->unwind_files, s->unwind_files_reused, s->unwind_compile_ms, s->spool_entries, s->spool_bytes, s->spool_dropped, s->pushed,
		s->push_failures, s->files_deleted, s->disk_bytes);
	fprintf(af.fp,
		",\n  \"push_refused\": %" PRIu64 ",\n  \"push_expired\": %" PRIu64 ",\n  \"push_splits\": %" PRIu64
		",\n  \"push_series_services\": %" PRIu64 ",\n  \"push_series_label_sets\": %" PRIu64
		",\n  \"push_series_most\": %" PRIu64 ",\n  \"push_series_folded\": %" PRIu64,
		s->push_refused, s->push_expired, s->push_splits, s->series_services, s->series_label_sets,
		s->series_most, s->series_folded);
	if (s->push_refusal[0]) {
		fprintf(af.fp, ",\n  \"push_last_refusal_time\": %" PRId64 ",\n  \"push_last_refusal\": ",
			s->push_refusal_time);
		put_json_string(af.fp, s->push_refusal);
	}
	if (s->offcpu)
		fprintf(af.fp,
			",\n  \"offcpu_us_window\": %" PRIu64 ",\n  \"offcpu_lost_window\": %" PRIu64
			",\n  \"offcpu_lost_total\": %" PRIu64 ",\n  \"offcpu_unknown_window\": %" PRIu64
			",\n  \"offcpu_unknown_total\": %" PRIu64 ",\n  \"offcpu_short_total\": %" PRIu64
			",\n  \"offcpu_carried_window\": %" PRIu64 ",\n  \"offcpu_map_fill\": %.4f",
			s->offcpu_us_window, s->offcpu_lost_window, s->offcpu_lost_total, s->offcpu_unknown_window,
			s->offcpu_unknown_total, s->offcpu_short_total, s->offcpu_carried_window, s->offcpu_map_fill);
	fputs("\n}\n", af.fp);
	if (ferror(af.fp)) {
		atomic_file_abort(&af);
		return -EIO;
	}
	return atomic_file_commit(&af);
}

uint64_t agent_self_rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long size = 0, rss = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}
