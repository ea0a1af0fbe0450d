/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/push.h"
#include "base/array.h"
#include "base/errmsg.h"
#include "base/utf8.h"

void agent_opts_init(struct agent_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->frequency = 19;
	o->interval_ms = 10000;
	o->output_dir = strdup("/var/lib/scorch");
	o->spool_max = 256ull << 20;
	o->push_max_age_s = 55 * 60; /* under Pyroscope's reject-older-than, 1h by default */
	o->push_series_max = 16;
	o->push_max_samples = AGENT_PUSH_SAMPLES_MAX;
	o->unwind_cfi = true;
	o->offcpu_min_us = 1;
}

void agent_opts_release(struct agent_opts *o)
{
	free(o->output_dir);
	free(o->push_url);
	free(o->debuginfod);
	free(o->config);
	for (size_t i = 0; i < o->nheaders; i++)
		free(o->headers[i]);
	free(o->headers);
	for (size_t i = 0; i < o->nlabels; i++) {
		free(o->labels[i].key);
		free(o->labels[i].value);
	}
	free(o->labels);
	memset(o, 0, sizeof(*o));
}

/* Parses an unsigned number with a unit suffix from a table (case-insensitive). */
static int parse_unit(const char *s, const char *const *units, const uint64_t *mult, uint64_t *out)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (size_t i = 0; units[i]; i++) {
		if (strcasecmp(end, units[i]))
			continue;
		double r = v * (double)mult[i];
		if (r >= 1.8e19)
			return -EINVAL;
		*out = (uint64_t)r;
		return 0;
	}
	return -EINVAL;
}

int agent_parse_duration_ms(const char *s, uint64_t *ms)
{
	static const char *const u[] = { "", "ms", "s", "m", "min", "h", "d", NULL };
	static const uint64_t m[] = { 1000, 1, 1000, 60000, 60000, 3600000, 86400000 };
	return parse_unit(s, u, m, ms);
}

int agent_parse_size(const char *s, uint64_t *bytes)
{
	static const char *const u[] = { "", "b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib", "t", "tb", "tib", NULL };
	static const uint64_t m[] = { 1, 1, 1ull << 10, 1ull << 10, 1ull << 10, 1ull << 20, 1ull << 20, 1ull << 20,
				      1ull << 30, 1ull << 30, 1ull << 30, 1ull << 40, 1ull << 40, 1ull << 40 };
	return parse_unit(s, u, m, bytes);
}

static int set_str(char **dst, const char *v)
{
	char *d = strdup(v);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static bool valid_label_key(const char *k, size_t n)
{
	if (!n || !(isalpha((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '.')
			return false;
	return true;
}

static int add_label(struct agent_opts *o, const char *kv, char *msg, size_t msglen)
{
	const char *eq = strchr(kv, '=');
	size_t cap = o->nlabels;
	if (!eq || !valid_label_key(kv, (size_t)(eq - kv)) || !eq[1] || strpbrk(eq + 1, ",{}\"\n"))
		return errmsg_set(msg, msglen, -EINVAL, "label '%s': want key=value (key: letters, digits, _ and .; value without , { } or quotes)", kv);
	if (!strncmp(kv, "__", 2))
		return errmsg_set(msg, msglen, -EINVAL, "label '%s': names starting with __ are Pyroscope's own", kv);
	if (strlen(eq + 1) > AGENT_PUSH_VALUE_MAX || !utf8_valid(eq + 1, strlen(eq + 1)))
		return errmsg_set(msg, msglen, -EINVAL, "label '%s': want a value of at most %d bytes of UTF-8", kv,
				  AGENT_PUSH_VALUE_MAX);
	char *k = strndup(kv, (size_t)(eq - kv)), *v = strdup(eq + 1);
	if (!k || !v)
		goto nomem;
	if (!strcmp(k, "service")) { /* the short form names the service_name label */
		free(k);
		if (!(k = strdup("service_name")))
			goto nomem;
	}
	for (size_t i = 0; i < o->nlabels; i++) {
		if (strcmp(o->labels[i].key, k))
			continue;
		free(o->labels[i].value);
		o->labels[i].value = v;
		free(k);
		return 0;
	}
	if (o->nlabels == AGENT_LABELS_MAX) {
		free(k);
		free(v);
		return errmsg_set(msg, msglen, -E2BIG, "label '%s': at most %d labels (a Pyroscope series has at most 30)",
				  kv, AGENT_LABELS_MAX);
	}
	if (array_grow(&o->labels, &cap, o->nlabels + 1, sizeof(*o->labels)))
		goto nomem;
	o->labels[o->nlabels++] = (struct agent_label){ k, v };
	return 0;
nomem:
	free(k);
	free(v);
	return errmsg_set(msg, msglen, -ENOMEM, "out of memory");
}

static int add_header(struct agent_opts *o, const char *h, char *msg, size_t msglen)
{
	const char *colon = strchr(h, ':');
	size_t cap = o->nheaders;
	if (!colon || colon == h || strpbrk(h, "\r\n"))
		return errmsg_set(msg, msglen, -EINVAL, "push-header '%s': want 'Name: value'", h);
	for (size_t i = 0; i < o->nheaders; i++)
		if (!strcmp(o->headers[i], h))
			return 0;
	char *d = strdup(h);
	if (!d || array_grow(&o->headers, &cap, o->nheaders + 1, sizeof(*o->headers))) {
		free(d);
		return errmsg_set(msg, msglen, -ENOMEM, "out of memory");
	}
	o->headers[o->nheaders++] = d;
	return 0;
}

static bool truthy(const char *v)
{
	return !*v || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on");
}

int agent_opts_set(struct agent_opts *o, const char *key, const char *v, char *msg, size_t msglen)
{
	uint64_t n;
	if (!strcmp(key, "frequency") || !strcmp(key, "F")) {
		if (agent_parse_size(v, &n) || !n || n > 100000)
			return errmsg_set(msg, msglen, -EINVAL, "frequency '%s': want 1 to 100000 Hz", v);
		o->frequency = (uint32_t)n;
	} else if (!strcmp(key, "interval")) {
		/* Window files are named by the second they start in. */
		if (agent_parse_duration_ms(v, &n) || n < 1000 || n > 86400000)
			return errmsg_set(msg, msglen, -EINVAL, "interval '%s': want 1s to 24h, e.g. 10s", v);
		o->interval_ms = n;
	} else if (!strcmp(key, "output-dir")) {
		if (!*v)
			return errmsg_set(msg, msglen, -EINVAL, "output-dir: empty");
		return set_str(&o->output_dir, v);
	} else if (!strcmp(key, "retention")) {
		if (agent_parse_duration_ms(v, &n))
			return errmsg_set(msg, msglen, -EINVAL, "retention '%s': want a duration, e.g. 24h", v);
		o->retention_s = n / 1000;
	} else if (!strcmp(key, "max-disk") || !strcmp(key, "spool-max")) {
		if (agent_parse_size(v, &n))
			return errmsg_set(msg, msglen, -EINVAL, "%s '%s': want a size, e.g. 1G", key, v);
		*(key[0] == 'm' ? &o->max_disk : &o->spool_max) = n;
	} else if (!strcmp(key, "push")) {
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			return errmsg_set(msg, msglen, -EINVAL, "push '%s': want an http:// or https:// URL", v);
		return set_str(&o->push_url, v);
	} else if (!strcmp(key, "push-max-age")) {
		if (agent_parse_duration_ms(v, &n) || n < 1000)
			return errmsg_set(msg, msglen, -EINVAL, "push-max-age '%s': want a duration of at least 1s, e.g. 55m", v);
		o->push_max_age_s = n / 1000;
	} else if (!strcmp(key, "push-series-max") || !strcmp(key, "push-max-samples")) {
		bool series = key[5] == 's';
		char *end;
		errno = 0;
		n = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno || n > 1000000 || (!series && !n))
			return errmsg_set(msg, msglen, -EINVAL, "%s '%s': want %s to 1000000", key, v,
					  series ? "0 (no bound)" : "1");
		*(series ? &o->push_series_max : &o->push_max_samples) = (uint32_t)n;
	} else if (!strcmp(key, "push-header")) {
		return add_header(o, v, msg, msglen);
	} else if (!strcmp(key, "label")) {
		return add_label(o, v, msg, msglen);
	} else if (!strcmp(key, "per-process")) {
		o->per_process = truthy(v);
	} else if (!strcmp(key, "off-cpu")) {
		o->offcpu = truthy(v);
	} else if (!strcmp(key, "no-python")) {
		o->no_python = truthy(v);
	} else if (!strcmp(key, "no-java")) {
		o->no_java = truthy(v);
	} else if (!strcmp(key, "off-cpu-min-us")) {
		char *end;
		errno = 0;
		n = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno || n > 60000000)
			return errmsg_set(msg, msglen, -EINVAL, "off-cpu-min-us '%s': want 0 to 60000000 microseconds", v);
		o->offcpu_min_us = n;
	} else if (!strcmp(key, "unwind")) {
		if (strcmp(v, "fp") && strcmp(v, "dwarf") && strcmp(v, "auto"))
			return errmsg_set(msg, msglen, -EINVAL, "unwind '%s': want fp, dwarf or auto", v);
		o->unwind_cfi = strcmp(v, "fp") != 0;
	} else if (!strcmp(key, "debuginfod")) {
		if (!v[strspn(v, ", ")])
			return errmsg_set(msg, msglen, -EINVAL, "debuginfod '%s': want server URLs", v);
		return set_str(&o->debuginfod, v);
	} else if (!strcmp(key, "no-debuginfod")) {
		o->no_debuginfod = truthy(v);
	} else if (!strcmp(key, "verbose")) {
		o->verbose = truthy(v);
	} else if (!strcmp(key, "config")) {
		return set_str(&o->config, v);
	} else {
		return errmsg_set(msg, msglen, -ENOENT, "unknown option '%s'", key);
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int agent_opts_parse_text(struct agent_opts *o, const char *text, const char *name, char *msg, size_t msglen)
{
	char *copy = strdup(text), *save = NULL;
	int err = 0, lineno = 0;
	if (!copy)
		return errmsg_set(msg, msglen, -ENOMEM, "out of memory");
	/* strsep keeps empty lines, so line numbers stay right. */
	for (char *rest = copy, *line; !err && (line = strsep(&rest, "\n"));) {
		lineno++;
		char *l = trim(line);
		if (!*l || *l == '#')
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			err = errmsg_set(msg, msglen, -EINVAL, "%s:%d: want 'key = value'", name, lineno);
			break;
		}
		*eq = '\0';
		char *k = trim(l), *v = trim(eq + 1);
		if (!strcmp(k, "config")) {
			err = errmsg_set(msg, msglen, -EINVAL, "%s:%d: 'config' only on the command line", name, lineno);
			break;
		}
		char sub[256];
		if ((err = agent_opts_set(o, k, v, sub, sizeof(sub))))
			errmsg_set(msg, msglen, err, "%s:%d: %s", name, lineno, sub);
	}
	(void)save;
	free(copy);
	return err;
}

int agent_opts_load_file(struct agent_opts *o, const char *path, char *msg, size_t msglen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	int err;
	if (!f)
		return errmsg_set(msg, msglen, -errno, "%s: cannot read: %s", path, strerror(errno));
	buf = malloc(1 << 16);
	if (!buf) {
		fclose(f);
		return errmsg_set(msg, msglen, -ENOMEM, "out of memory");
	}
	len = fread(buf, 1, (1 << 16) - 1, f);
	err = ferror(f) ? -EIO : !feof(f) ? -EFBIG : 0;
	fclose(f);
	buf[len] = '\0';
	if (err)
		errmsg_set(msg, msglen, err, "%s: cannot read (over 64 KiB?)", path);
	else
		err = agent_opts_parse_text(o, buf, path, msg, msglen);
	free(buf);
	return err;
}

/* Applies argv; with find_config only --config is taken. */
static int apply_args(struct agent_opts *o, int argc, char **argv, bool find_config, char *msg, size_t msglen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		char key[64];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		}
		if (!strcmp(a, "-F"))
			a = "--frequency";
		if (strncmp(a, "--", 2) || strlen(a) >= sizeof(key) + 2)
			return errmsg_set(msg, msglen, -EINVAL, "unexpected argument '%s' (try --help)", argv[i]);
		const char *eq = strchr(a, '=');
		size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		memcpy(key, a + 2, klen);
		key[klen] = '\0';
		if (!strcmp(key, "per-process") || !strcmp(key, "no-debuginfod") || !strcmp(key, "off-cpu") ||
		    !strcmp(key, "no-python") || !strcmp(key, "no-java")) {
			v = "true";
		} else if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			return errmsg_set(msg, msglen, -EINVAL, "option '--%s' needs a value", key);
		}
		if (find_config != !strcmp(key, "config"))
			continue;
		int err = agent_opts_set(o, key, v, msg, msglen);
		if (err)
			return err;
	}
	return 0;
}

int agent_opts_load(struct agent_opts *o, int argc, char **argv, char *msg, size_t msglen)
{
	int err;
	agent_opts_init(o);
	if (!o->output_dir)
		return errmsg_set(msg, msglen, -ENOMEM, "out of memory");
	if ((err = apply_args(o, argc, argv, true, msg, msglen)))
		return err;
	if (o->config && (err = agent_opts_load_file(o, o->config, msg, msglen)))
		return err;
	return apply_args(o, argc, argv, false, msg, msglen);
}

const char *agent_opts_label(const struct agent_opts *o, const char *key)
{
	for (size_t i = 0; i < o->nlabels; i++)
		if (!strcmp(o->labels[i].key, key))
			return o->labels[i].value;
	return NULL;
}
