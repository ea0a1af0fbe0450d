/* SPDX-License-Identifier: MIT */
/*
 * config: the options of `scorch agent`, from the command line and a
 * `key = value` file with the same names (--config; reloaded on SIGHUP).
 * Later settings win: defaults, then the file, then the command line; a
 * label given twice keeps the last value, headers accumulate.
 * Pure parsing: no I/O but reading the config file.
 */
#ifndef SCORCH_AGENT_CONFIG_H
#define SCORCH_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many --label: with __name__, service_name, host, exe,
 * cgroup and container_id a series stays within Pyroscope's 30 label
 * names (validation.max-label-names-per-series). */
#define AGENT_LABELS_MAX 24

struct agent_label {
	char *key, *value; /* owned by the opts */
};

struct agent_opts {
	uint32_t frequency;      /* Hz per CPU (19) */
	uint64_t interval_ms;    /* window length (10 s) */
	char *output_dir;        /* /var/lib/scorch */
	uint64_t retention_s;    /* delete window files older than this; 0 keeps them */
	uint64_t max_disk;       /* bytes of window files kept; 0 no bound */
	char *push_url;          /* Pyroscope base URL, NULL: no push */
	char **headers;          /* "Key: value" for each push */
	size_t nheaders;
	struct agent_label *labels; /* static labels (service=... names the service) */
	size_t nlabels;
	bool per_process;        /* one file per process per window */
	bool offcpu;             /* --off-cpu: time off the CPU by stack too, files and pushes of their own */
	bool no_python;          /* --no-python: CPython's eval loop as native frames */
	bool no_java;            /* --no-java: JVMs not asked for their compiled methods' names */
	uint64_t offcpu_min_us;  /* --off-cpu-min-us: shorter waits are dropped (counted); 1 */
	bool unwind_cfi;         /* --unwind auto|dwarf (default): CFI tables where a
	                            process has them; false: --unwind fp */
	char *debuginfod;        /* --debuginfod URL[,URL], NULL: $DEBUGINFOD_URLS */
	bool no_debuginfod;      /* --no-debuginfod */
	char *config;            /* --config FILE */
	uint64_t spool_max;      /* bytes of unsent windows kept on disk (256 MiB) */
	uint64_t push_max_age_s; /* --push-max-age: windows older than this are dropped unsent (55m) */
	uint32_t push_series_max;/* --push-series-max: process label sets a service shows a period (16; 0 no bound) */
	uint32_t push_max_samples; /* --push-max-samples: a pushed profile's samples at most; larger are split (16000) */
	bool verbose;
};

void agent_opts_init(struct agent_opts *o);
void agent_opts_release(struct agent_opts *o);

/* Sets one option by its long name without dashes ("interval", "label", ...).
 * 0, or -EINVAL / -ENOENT (unknown key) with msg set. */
int agent_opts_set(struct agent_opts *o, const char *key, const char *value, char *msg, size_t msglen);
/* Parses "key = value" lines ('#' comments, blank lines) into o.  0, or
 * -errno with msg naming the file and line. */
int agent_opts_parse_text(struct agent_opts *o, const char *text, const char *name, char *msg, size_t msglen);
/* Reads and parses a config file. */
int agent_opts_load_file(struct agent_opts *o, const char *path, char *msg, size_t msglen);
/* Defaults, then --config's file, then argv (argv[0] is "agent").  1 when
 * --help was printed to stdout, 0, or -errno with msg set. */
int agent_opts_load(struct agent_opts *o, int argc, char **argv, char *msg, size_t msglen);
/* The value of a static label, or NULL. */
const char *agent_opts_label(const struct agent_opts *o, const char *key);

/* "500ms", "10s", "5m", "24h", "7d" (a bare number is seconds). 0 or -EINVAL. */
int agent_parse_duration_ms(const char *s, uint64_t *ms);
/* "4096", "512K", "100M", "1G", "2T" (powers of 1024; "KiB"/"MB" style suffixes too). 0 or -EINVAL. */
int agent_parse_size(const char *s, uint64_t *bytes);

#endif
