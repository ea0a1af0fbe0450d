/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "java.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/hashtab.h"
#include "base/openroot.h"
#include "base/parse.h"
#include "base/readfile.h"
#include "bpf/scorch.h"
#include "capture.h"
#include "log.h"
#include "symbolize/cfi.h"
#include "symbolize/hotspot.h"
#include "symbolize/perfmap.h"
#include "symbolize/procmaps.h"
#include "symbolize/strpool.h"
#include "unwind.h"
#include "symbolize/symbolizer.h"

#define NS_PER_S 1000000000ull
#define ASK_FIRST_NS (NS_PER_S / 4)        /* wait after a changed map */
#define ASK_CHILD_MAX_NS (10 * NS_PER_S)   /* a child asking longer is killed */
#define SOCKET_WAIT_MS 5000                /* for the attach listener to start */
#define IO_TIMEOUT_S 5                     /* for the command's answer */
#define LAYOUT_RETRY_NS (200 * 1000 * 1000ull) /* a JVM's interpreter not set up yet: looked at again */

/* The child's exit codes. */
enum ask_result {
	ASK_OK = 0,
	ASK_NO_TMP = 10,   /* the process's /tmp cannot be opened */
	ASK_NO_SOCKET,     /* no attach socket appeared in time */
	ASK_UNTRUSTED,     /* the socket is not the JVM user's */
	ASK_IO,            /* connecting, sending or reading failed */
	ASK_REFUSED,       /* the JVM answered with an error */
	ASK_UNKNOWN,       /* the JVM does not know the command */
	ASK_NOT_READY,     /* not asked: the process does not catch SIGQUIT (parent side) */
	ASK_CODELIST,      /* the codelist answer could not be read or turned into a map (parent side) */
};

static const char *ask_why(int r)
{
	switch (r) {
	case ASK_NO_TMP: return "cannot open its /tmp";
	case ASK_NO_SOCKET: return "its attach listener did not start";
	case ASK_UNTRUSTED: return "its attach socket belongs to another user";
	case ASK_IO: return "the attach socket failed";
	case ASK_REFUSED: return "it refused to tell its compiled code";
	case ASK_UNKNOWN: return "it knows neither Compiler.perfmap nor Compiler.codelist (a JDK older than 9?)";
	case ASK_CODELIST: return "its Compiler.codelist answer could not be read";
	default: return "the asking process failed";
	}
}

struct jvm {
	uint32_t pid, gen;
	pid_t child;         /* asking now, else 0 */
	uint64_t asked_ns;   /* when the running ask started */
	uint64_t next_ns;    /* when the next ask is due */
	uint64_t wait_ns;    /* between asks, doubling while the map stays the same */
	uint64_t answers;
	uint64_t map_version; /* symbolizer_jit_version after the last answer */
	uint32_t nspid;      /* its pid in its own namespace: its map's name */
	bool codelist;       /* asked for Compiler.codelist: it does not know Compiler.perfmap (JDK 9-16) */
	int answer_fd;       /* the running codelist ask's answer (a memfd), else -1 */
	struct hotspot *hs;  /* its layout, for frame sizes; NULL before or without */
	int hs_err;          /* why hs is NULL after trying (0: not tried) */
	struct u64map frames; /* code start -> code end << 16 | frame size / 8, of the last map */
	struct u64map methods; /* Method* -> struct jmethod *: names of interpreted methods */
	uint64_t layout_next_ns; /* when to look for the interpreter again, until walked */
	bool walked;         /* its interpreter range is in java_procs */
	bool gone;           /* forgotten: dropped once its child is reaped */
	bool warned;
};

/* A method's name, and the ConstMethod* it had: a Method keeps its
 * ConstMethod for life, so another one at that address means the memory
 * now holds another method. */
struct jmethod {
	uint64_t const_method;
	const char *name;   /* in java.names */
	const char *source; /* its class's source file, in java.names; NULL when none */
};

/* What a Java stack's frames ran, innermost first (name NULL: not read). */
struct jstack {
	uint32_t pid, gen, n;
	struct java_frame_info f[];
};

struct java {
	struct capture *c;  /* NULL in tests: nothing to hurry */
	struct unwind *unw; /* NULL: no rows for compiled frames */
	int map_fd;         /* java_procs, or -1: interpreted frames not walked */
	struct u64map jvms; /* pid << 32 | gen -> struct jvm * */
	struct u64map stacks; /* Java stack id -> struct jstack * (kept past their JVMs, for the build) */
	struct strpool names;
	struct java_stats st;
};

/* What the child needs, read by the parent before the fork. */
struct ask_req {
	uint32_t pid, nspid;
	int tmp;                       /* its /tmp (O_PATH), opened before the fork: the
	                                  child allocates nothing (another thread may
	                                  have held malloc's lock at the fork) */
	uid_t euid;                    /* the process's effective user */
	const char *req;               /* the request (protocol 1, NUL-separated) */
	size_t req_len;
	int out;                       /* the answer's whole text goes here (a memfd), or -1 */
	bool quit_caught;              /* it catches SIGQUIT and does not ignore it */
	char root[64];                 /* /proc/PID/root */
	char attach[32], socket[32];   /* .attach_pidNSPID, .java_pidNSPID */
};

static uint64_t key_of(uint32_t pid, uint32_t gen)
{
	return (uint64_t)pid << 32 | gen;
}

static void on_stack(void *ctx, uint32_t pid, uint32_t gen, uint64_t id, const struct stack_trace *st)
{
	java_learn(ctx, pid, gen, id, (const uint64_t *)st->ips, st->nr);
}

int java_new(struct capture *c, struct unwind *unw, struct java **out)
{
	struct java *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->unw = unw;
	j->c = c;
	j->map_fd = c ? capture_java_map(c) : -1;
	if (j->map_fd < 0)
		j->map_fd = -1;
	else
		capture_on_java(c, on_stack, j);
	u64map_init(&j->jvms);
	u64map_init(&j->stacks);
	strpool_init(&j->names);
	*out = j;
	return 0;
}

static void jvm_free(struct jvm *m)
{
	uint64_t k, v;
	for (size_t i = 0; u64map_next(&m->methods, &i, &k, &v);)
		free((struct jmethod *)(uintptr_t)v);
	u64map_release(&m->methods);
	hotspot_free(m->hs);
	u64map_release(&m->frames);
	if (m->answer_fd >= 0)
		close(m->answer_fd);
	free(m);
}

void java_free(struct java *j)
{
	uint64_t k, v;
	if (!j)
		return;
	for (size_t i = 0; u64map_next(&j->jvms, &i, &k, &v);) {
		struct jvm *m = (struct jvm *)(uintptr_t)v;
		if (m->child > 0) {
			kill(m->child, SIGKILL);
			waitpid(m->child, NULL, 0);
		}
		jvm_free(m);
	}
	u64map_release(&j->jvms);
	for (size_t i = 0; u64map_next(&j->stacks, &i, &k, &v);)
		free((struct jstack *)(uintptr_t)v);
	u64map_release(&j->stacks);
	strpool_release(&j->names);
	free(j);
}

static bool maps_libjvm(const struct procmaps *maps)
{
	for (size_t i = 0; maps && i < maps->n; i++) {
		const char *p = maps->maps[i].path, *slash = strrchr(p, '/');
		if (slash && !strcmp(slash + 1, "libjvm.so"))
			return true;
	}
	return false;
}

void java_announce(struct java *j, const struct symbolizer *sym, uint32_t pid, uint32_t gen)
{
	uint64_t key = key_of(pid, gen);
	if (u64map_get(&j->jvms, key) || !maps_libjvm(symbolizer_maps(sym, pid, gen)))
		return;
	struct jvm *m = calloc(1, sizeof(*m));
	if (!m)
		return;
	m->pid = pid;
	m->gen = gen;
	m->wait_ns = ASK_FIRST_NS;
	m->answer_fd = -1;
	u64map_init(&m->frames);
	u64map_init(&m->methods);
	m->next_ns = clock_ns(CLOCK_MONOTONIC);
	if (u64map_put(&j->jvms, key, (uint64_t)(uintptr_t)m)) {
		free(m);
		return;
	}
	j->st.jvms++;
	log_debug("pid %" PRIu32 ": a JVM", pid);
}

/* Field `field` (from 0; -1: the last) of the "Name:\t..." line of status
 * text, copied into tok[64]; false when there is none. */
static bool status_field(const char *text, const char *name, int field, char *tok)
{
	const char *line = strstr(text, name);
	if (!line)
		return false;
	line += strlen(name);
	const char *end = strchrnul(line, '\n');
	char buf[128], *save = NULL, *last = NULL;
	size_t len = (size_t)(end - line) < sizeof(buf) - 1 ? (size_t)(end - line) : sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	int i = 0;
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save), i++) {
		last = t;
		if (i == field)
			break;
	}
	if (!last || (field >= 0 && i != field) || strlen(last) >= 64)
		return false;
	strcpy(tok, last);
	return true;
}

/* Whether signal 3 (SIGQUIT: bit 2, in the last hex digit) is in the mask
 * of the status line name. */
static bool sigquit_in(const char *text, const char *name)
{
	char tok[64];
	if (!status_field(text, name, -1, tok) || !tok[0])
		return false;
	char c = tok[strlen(tok) - 1];
	int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0;
	return digit & 4;
}

/* Fills q from /proc/PID/status: -ESRCH when the process is gone. */
static int ask_prepare(uint32_t pid, struct ask_req *q)
{
	char path[64], text[4096], tok[64];
	uint64_t ns = pid, uid;
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/status", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	text[n] = '\0';
	memset(q, 0, sizeof(*q));
	q->pid = pid;
	if (status_field(text, "\nNSpid:", -1, tok))
		parse_u64(tok, 1, UINT32_MAX, &ns);
	if (!status_field(text, "\nUid:", 1, tok) || parse_u64(tok, 0, UINT32_MAX, &uid))
		return -ESRCH;
	q->euid = (uid_t)uid;
	q->quit_caught = !sigquit_in(text, "\nSigIgn:") && sigquit_in(text, "\nSigCgt:");
	q->nspid = (uint32_t)ns;
	snprintf(q->root, sizeof(q->root), "/proc/%" PRIu32 "/root", pid);
	snprintf(q->attach, sizeof(q->attach), ".attach_pid%" PRIu64, ns);
	snprintf(q->socket, sizeof(q->socket), ".java_pid%" PRIu64, ns);
	return 0;
}

/* The attach socket in the directory tmp, trusted and not the inode stale:
 * an fd (O_PATH), or -1. */
static int open_socket(int tmp, const struct ask_req *q, ino_t stale, bool *untrusted)
{
	struct stat st;
	int fd = openat(tmp, q->socket, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode) || (st.st_uid != q->euid && st.st_uid != 0)) {
		*untrusted = true;
		close(fd);
		return -1;
	}
	if (st.st_ino == stale) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Starts the attach listener and waits for its socket (one other than
 * inode stale): the handshake file, then SIGQUIT (again halfway), polled
 * every 20 ms. */
static int start_listener(int tmp, const struct ask_req *q, ino_t stale, bool *untrusted)
{
	int fd = -1, created = openat(tmp, q->attach, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	/* Without the file a JVM takes SIGQUIT as a request for a thread dump,
	 * printed on its output. */
	if (created < 0 && errno != EEXIST)
		return -1;
	kill((pid_t)q->pid, SIGQUIT);
	struct timespec step = { 0, 20 * 1000 * 1000 };
	for (int ms = 0; fd < 0 && !*untrusted && ms < SOCKET_WAIT_MS; ms += 20) {
		nanosleep(&step, NULL);
		if (ms == SOCKET_WAIT_MS / 2)
			kill((pid_t)q->pid, SIGQUIT);
		fd = open_socket(tmp, q, stale, untrusted);
	}
	if (created >= 0) {
		close(created);
		unlinkat(tmp, q->attach, 0);
	}
	return fd;
}

/* Sends the jcmd request (protocol 1: version, command, three arguments,
 * each NUL-terminated) and reads the answer: a result code line, then the
 * command's output.  -ECONNREFUSED when nobody listens (a socket file left
 * by an earlier process with this pid). */
static int talk(int sock_path_fd, const struct ask_req *q)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	char reply[4096];
	size_t got = 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", sock_path_fd);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return ASK_IO;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		return errno == ECONNREFUSED ? -ECONNREFUSED : ASK_IO;
	if (write(s, q->req, q->req_len) != (ssize_t)q->req_len)
		return ASK_IO;
	/* The first 4 KiB kept for the checks; the whole answer to q->out. */
	char chunk[16384];
	for (ssize_t n; (n = read(s, chunk, sizeof(chunk))) > 0;) {
		size_t keep = got + (size_t)n < sizeof(reply) - 1 ? (size_t)n : sizeof(reply) - 1 - got;
		memcpy(reply + got, chunk, keep);
		got += keep;
		if (q->out >= 0 && write(q->out, chunk, (size_t)n) != n)
			return ASK_IO;
		if (q->out < 0 && got == sizeof(reply) - 1)
			break;
	}
	close(s);
	reply[got] = '\0';
	if (!got)
		return ASK_IO;
	/* "0" is the command run; an unknown one (Compiler.perfmap before JDK
	 * 17) is an IllegalArgumentException, "Unknown diagnostic command"
	 * (DCmdFactory::create_local_DCmd), printed as the output. */
	if (strstr(reply, "Unknown diagnostic command"))
		return ASK_UNKNOWN;
	if (reply[0] != '0' || reply[1] != '\n')
		return ASK_REFUSED;
	/* (A codelist's method names may hold "Exception".) */
	return q->out >= 0 || !strstr(reply, "Exception") ? ASK_OK : ASK_REFUSED;
}

/* The child's work: an exit code. */
static int ask(const struct ask_req *q)
{
	bool untrusted = false;
	struct stat st;
	int tmp = q->tmp, fd = open_socket(tmp, q, 0, &untrusted);
	if (fd >= 0) {
		int r = talk(fd, q);
		if (r != -ECONNREFUSED || fstat(fd, &st))
			return r < 0 ? ASK_IO : r;
		/* Stale: the listener, once started, replaces it. */
		close(fd);
		fd = start_listener(tmp, q, st.st_ino, &untrusted);
	} else if (!untrusted) {
		fd = start_listener(tmp, q, 0, &untrusted);
	}
	if (fd < 0)
		return untrusted ? ASK_UNTRUSTED : ASK_NO_SOCKET;
	int r = talk(fd, q);
	return r < 0 ? ASK_IO : r;
}

/* An ask of m failed with r (enum ask_result): said once, retried rarely. */
static void ask_failed(struct java *j, struct jvm *m, int r, uint64_t now)
{
	j->st.failed++;
	if (!m->warned)
		log_warn("java: pid %" PRIu32 ": compiled methods unnamed: %s", m->pid, ask_why(r));
	m->warned = true;
	m->wait_ns = JAVA_ASK_MAX_S * NS_PER_S;
	m->next_ns = now + m->wait_ns;
}

/* The requests: protocol 1, "jcmd", the command and two empty arguments.
 * The test hook SCORCH_JAVA_CODELIST=1 asks first for a command no JDK
 * has, which the JVM refuses as JDK 9-16 refuse Compiler.perfmap. */
static const char REQ_PERFMAP[] = "1\0jcmd\0Compiler.perfmap\0\0";
static const char REQ_UNKNOWN[] = "1\0jcmd\0Compiler.scorch-test-unknown\0\0";
static const char REQ_CODELIST[] = "1\0jcmd\0Compiler.codelist\0\0";

static void start_ask(struct java *j, struct jvm *m, uint64_t now)
{
	struct ask_req q;
	const char *hook = getenv("SCORCH_JAVA_CODELIST");
	m->next_ns = now + m->wait_ns;
	if (ask_prepare(m->pid, &q))
		return; /* gone: the sweep forgets it */
	q.out = -1;
	if (m->codelist) {
		q.req = REQ_CODELIST, q.req_len = sizeof(REQ_CODELIST);
	} else if (hook && !strcmp(hook, "1")) {
		q.req = REQ_UNKNOWN, q.req_len = sizeof(REQ_UNKNOWN);
	} else {
		q.req = REQ_PERFMAP, q.req_len = sizeof(REQ_PERFMAP);
	}
	if (!q.quit_caught) {
		/* Not set up yet (or -Xrs): SIGQUIT would kill it. */
		j->st.not_ready++;
		return;
	}
	if ((q.tmp = open_in_root(q.root, "/tmp", O_PATH | O_DIRECTORY)) < 0) {
		ask_failed(j, m, ASK_NO_TMP, now);
		return;
	}
	if (m->codelist && (q.out = memfd_create("scorch-codelist", MFD_CLOEXEC)) < 0) {
		log_debug("pid %" PRIu32 ": cannot start asking the JVM: %s", m->pid, strerror(errno));
		close(q.tmp);
		return;
	}
	fflush(NULL);
	pid_t c = fork();
	if (c == 0)
		_exit(ask(&q));
	if (c < 0)
		log_debug("pid %" PRIu32 ": cannot start asking the JVM: %s", m->pid, strerror(errno));
	close(q.tmp);
	if (c < 0) {
		if (q.out >= 0)
			close(q.out);
		return;
	}
	m->answer_fd = q.out;
	m->child = c;
	m->nspid = q.nspid;
	m->asked_ns = now;
}

/* Opens m's layout from the libjvm.so the symbolizer has open for it. */
static int open_hotspot(struct jvm *m, const struct symbolizer *sym)
{
	const struct procmaps *maps = symbolizer_maps(sym, m->pid, m->gen);
	for (size_t i = 0; maps && i < maps->n; i++) {
		struct sym_mapping sm;
		const char *slash;
		if (symbolizer_mapping(sym, m->pid, m->gen, i, &sm) || !sm.current || sm.fd < 0 ||
		    !(slash = strrchr(sm.map->path, '/')) || strcmp(slash + 1, "libjvm.so"))
			continue;
		return hotspot_open(m->pid, sm.fd, sm.map->start, sm.map->offset, &m->hs);
	}
	return -ENOENT;
}

/* m's layout, read once (its cost logged). */
static void open_layout(struct java *j, struct jvm *m, const struct symbolizer *sym)
{
	if (m->hs || m->hs_err)
		return;
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	m->hs_err = open_hotspot(m, sym);
	log_debug("pid %" PRIu32 ": JVM layout read in %.1f ms: %s", m->pid, (clock_ns(CLOCK_MONOTONIC) - t0) / 1e6,
		  m->hs_err ? strerror(-m->hs_err) : "ok");
	if (m->hs && !hotspot_has_frames(m->hs))
		log_debug("pid %" PRIu32 ": a code cache layout not known (JDK 23+?): callers of compiled methods unknown",
			  m->pid);
	j->st.no_layout += !m->hs || !hotspot_has_frames(m->hs);
}

/* Once m's interpreter is set up: its range in java_procs, so that the
 * unwinder reads the methods its frames run. */
static void start_walking(struct java *j, struct jvm *m, const struct symbolizer *sym, uint64_t now)
{
	if (j->map_fd < 0 || m->walked || m->gone || now < m->layout_next_ns)
		return;
	m->layout_next_ns = now + LAYOUT_RETRY_NS;
	open_layout(j, m, sym);
	struct java_proc p = { .gen = m->gen };
	uint64_t start, end;
	if (!m->hs || hotspot_interpreter(m->hs, &start, &end)) {
		m->walked = m->hs_err != 0; /* no layout: not again */
		return;
	}
	m->walked = true;
	p.interp_start = start;
	p.interp_end = end;
	if (bpf_map_update_elem(j->map_fd, &m->pid, &p, BPF_ANY)) {
		log_debug("pid %" PRIu32 ": cannot walk its interpreted frames: %s", m->pid, strerror(errno));
		return;
	}
	j->st.walked++;
	if (j->c)
		capture_walkers_hurry(j->c);
	log_debug("pid %" PRIu32 ": interpreter at %#" PRIx64 "-%#" PRIx64 ": interpreted frames named", m->pid,
		  start, end);
}

/* Method* method of m: cached, checked to be the same method. */
static const struct jmethod *method_of(struct java *j, struct jvm *m, uint64_t method)
{
	uint64_t *v = u64map_get(&m->methods, method), cm;
	struct jmethod *jm = v ? (struct jmethod *)(uintptr_t)*v : NULL;
	if (hotspot_method_raw(m->hs, method, &cm, NULL))
		return NULL;
	if (jm && jm->const_method == cm)
		return jm;
	struct hotspot_raw raw;
	char name[512];
	if (hotspot_method_raw(m->hs, method, &cm, &raw) || hotspot_format(&raw, name, sizeof(name))) {
		j->st.methods_unread++;
		return NULL;
	}
	if (!jm) {
		if (!(jm = calloc(1, sizeof(*jm))))
			return NULL;
		if (u64map_put(&m->methods, method, (uint64_t)(uintptr_t)jm)) {
			free(jm);
			return NULL;
		}
	}
	jm->const_method = cm;
	jm->name = strpool_cstr(&j->names, name);
	jm->source = raw.source[0] ? strpool_cstr(&j->names, raw.source) : NULL;
	j->st.methods_named++;
	return jm->name ? jm : NULL;
}

void java_learn(struct java *j, uint32_t pid, uint32_t gen, uint64_t stack, const uint64_t *frames, size_t n)
{
	uint64_t *v = u64map_get(&j->jvms, key_of(pid, gen)), *old = u64map_get(&j->stacks, stack);
	struct jvm *m = v ? (struct jvm *)(uintptr_t)*v : NULL;
	struct jstack *js = old ? (struct jstack *)(uintptr_t)*old : NULL;
	if (!m || !m->hs || (js && js->pid == pid && js->gen == gen))
		return;
	if (!(js = calloc(1, sizeof(*js) + n * sizeof(js->f[0]))))
		return;
	js->pid = pid;
	js->gen = gen;
	js->n = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct jmethod *jm = JAVA_FRAME_METHOD(frames[i]) ? method_of(j, m, JAVA_FRAME_METHOD(frames[i])) : NULL;
		if (!jm)
			continue;
		js->f[i].name = jm->name;
		js->f[i].file = jm->source;
		js->f[i].line = (uint32_t)hotspot_line(m->hs, jm->const_method, JAVA_FRAME_BCP(frames[i]), JAVA_FRAME_BCP_MASK);
	}
	if (old) {
		free((struct jstack *)(uintptr_t)*old);
		*old = (uint64_t)(uintptr_t)js;
	} else if (u64map_put(&j->stacks, stack, (uint64_t)(uintptr_t)js)) {
		free(js);
	}
}

bool java_frame(const struct java *j, uint32_t pid, uint32_t gen, uint64_t stack, size_t pos,
		struct java_frame_info *out)
{
	const uint64_t *v = u64map_get(&j->stacks, stack);
	const struct jstack *js = v ? (const struct jstack *)(uintptr_t)*v : NULL;
	if (!js || js->pid != pid || js->gen != gen || pos >= js->n || !js->f[pos].name)
		return false;
	*out = js->f[pos];
	return true;
}

bool java_stack_known(const struct java *j, uint32_t pid, uint32_t gen, uint64_t stack)
{
	const uint64_t *v = u64map_get(&j->stacks, stack);
	const struct jstack *js = v ? (const struct jstack *)(uintptr_t)*v : NULL;
	return js && js->pid == pid && js->gen == gen;
}

bool java_is_jvm(const struct java *j, uint32_t pid, uint32_t gen)
{
	const uint64_t *v = u64map_get(&j->jvms, key_of(pid, gen));
	return v && ((const struct jvm *)(uintptr_t)*v)->walked;
}

/* A compiled method's name in a JVM's map ("long Shape.work(long, int)"),
 * not a stub's ("StubRoutines (1)", "Interpreter"). */
static bool method_name(const char *name)
{
	const char *paren = strchr(name, '(');
	return paren && paren > name && memchr(name, '.', (size_t)(paren - name));
}

/* Frame size of [start, end) of m, from the last map's cache or the JVM. */
static int frame_size(struct jvm *m, struct u64map *next, uint64_t start, uint64_t end, uint32_t *fs)
{
	uint64_t *v = u64map_get(&m->frames, start);
	if (v && *v >> 16 == end) {
		*fs = (uint32_t)(*v & 0xffff) * 8;
	} else {
		int err = hotspot_frame_size(m->hs, start, end, fs);
		if (err)
			return err;
	}
	return u64map_put(next, start, end << 16 | *fs / 8);
}

/* Unwind rows for m's compiled methods from its newest map: in each, the
 * caller's frame is frame size above rsp, its rbp saved below the return
 * address (HotSpot's x86-64 frame, with or without frame pointers); the
 * rest of the code cache (interpreter, stubs) one frame-pointer step. */
static void set_rows(struct java *j, struct jvm *m, const struct symbolizer *sym, const char *text, size_t len)
{
	size_t n = 0, methods = 0;
	struct perfmap *pm = NULL;
	struct cfi_row *rows = NULL;
	struct u64map next;
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	u64map_init(&next);
	open_layout(j, m, sym);
	if (!text || !m->hs || !hotspot_has_frames(m->hs) || perfmap_parse(text, len, &pm) ||
	    !(rows = calloc(2 * perfmap_ranges(pm) + 1, sizeof(*rows))))
		goto out;
	uint64_t start, end, last_end = 0;
	const char *name;
	for (size_t i = 0; perfmap_range(pm, i, &start, &end, &name); i++) {
		uint32_t fs;
		if (!method_name(name) || frame_size(m, &next, start, end, &fs))
			continue;
		if (n && last_end != start)
			rows[n++] = (struct cfi_row){ .pc = last_end, .cfa_type = CFI_CFA_GAP };
		rows[n++] = (struct cfi_row){ .pc = start, .cfa_offset = (int32_t)fs, .rbp_offset = -16,
					      .cfa_type = CFI_CFA_RSP, .rbp_type = CFI_RBP_CFA_OFFSET };
		methods++;
		last_end = end;
	}
	if (n)
		rows[n++] = (struct cfi_row){ .pc = last_end, .cfa_type = CFI_CFA_GAP };
	int err = unwind_set_jit(j->unw, sym, m->pid, m->gen, rows, n);
	log_debug("pid %" PRIu32 ": %zu of %zu ranges of its map unwound by frame size", m->pid, methods,
		  perfmap_ranges(pm));
	if (err)
		log_debug("pid %" PRIu32 ": cannot install rows for compiled methods: %s", m->pid, strerror(-err));
	else
		j->st.methods_unwound = methods;
	u64map_release(&m->frames);
	m->frames = next;
	u64map_init(&next);
	j->st.rows_ns += clock_ns(CLOCK_MONOTONIC) - t0;
out:
	u64map_release(&next);
	free(rows);
	perfmap_free(pm);
}

/* The JVM's perf map, as it wrote it in its /tmp: its text (the caller's), or NULL. */
static char *read_perfmap(const struct jvm *m, size_t *len)
{
	char root[64], path[64], *text = NULL;
	snprintf(root, sizeof(root), "/proc/%" PRIu32 "/root", m->pid);
	snprintf(path, sizeof(path), "/tmp/perf-%" PRIu32 ".map", m->nspid);
	int fd = open_file_in_root(root, path);
	if (fd >= 0 && read_fd_all(fd, 256u << 20, &text, len))
		text = NULL;
	if (fd >= 0)
		close(fd);
	return text;
}

/* A codelist answer in fd (the result code line first) as a perf map's
 * text (the caller's), with the interpreter's code named "Interpreter" as
 * Compiler.perfmap names it (codelist lists compiled methods only), which
 * the build replaces with the interpreted methods.  NULL when unreadable. */
static char *codelist_map(struct java *j, struct jvm *m, const struct symbolizer *sym, int fd, size_t *len)
{
	char *answer = NULL, *map = NULL;
	size_t n = 0, skipped = 0;
	uint64_t start, end;
	if (lseek(fd, 0, SEEK_SET) || read_fd_all(fd, 256u << 20, &answer, &n))
		return NULL;
	const char *body = memchr(answer, '\n', n);
	body = body ? body + 1 : answer + n;
	int err = hotspot_codelist(body, n - (size_t)(body - answer), &map, len, &skipped);
	free(answer);
	if (err)
		return NULL;
	j->st.codelist_skipped += skipped;
	open_layout(j, m, sym);
	if (m->hs && !hotspot_interpreter(m->hs, &start, &end)) {
		char line[64];
		int ll = snprintf(line, sizeof(line), "%" PRIx64 " %" PRIx64 " Interpreter\n", start, end - start);
		char *grown = realloc(map, *len + (size_t)ll + 1);
		if (grown) {
			map = grown;
			memcpy(map + *len, line, (size_t)ll + 1);
			*len += (size_t)ll;
		}
	}
	return map;
}

/* The child of m has exited with status: the map is read when written
 * (perfmap), or made from the answer (codelist). */
static void answered(struct java *j, struct jvm *m, struct symbolizer *sym, int status, uint64_t now)
{
	int r = WIFEXITED(status) ? WEXITSTATUS(status) : -1, answer_fd = m->answer_fd;
	char *text = NULL;
	size_t len = 0;
	m->child = 0;
	m->answer_fd = -1;
	if (m->gone)
		goto out;
	if (r == ASK_UNKNOWN && !m->codelist) {
		/* JDK 9-16: no Compiler.perfmap; asked again, for its code list. */
		m->codelist = true;
		j->st.codelist_jvms++;
		log_debug("pid %" PRIu32 ": no Compiler.perfmap: asking for Compiler.codelist", m->pid);
		start_ask(j, m, now); /* now, also within java_finish's last round */
		goto out;
	}
	if (r == ASK_OK && m->codelist && !(text = codelist_map(j, m, sym, answer_fd, &len)))
		r = ASK_CODELIST;
	if (r != ASK_OK) {
		ask_failed(j, m, r, now);
		goto out;
	}
	uint64_t lat = now - m->asked_ns;
	j->st.asks++;
	j->st.latency_ns_sum += lat;
	if (lat > j->st.latency_ns_max)
		j->st.latency_ns_max = lat;
	if (!m->answers++ && lat > j->st.first_latency_ns_max)
		j->st.first_latency_ns_max = lat;
	symbolizer_track(sym, m->pid, m->gen); /* reads the new map (perfmap) */
	if (text)
		symbolizer_set_jit(sym, m->pid, m->gen, text, len);
	uint64_t version = symbolizer_jit_version(sym, m->pid, m->gen);
	if (version != m->map_version) {
		m->map_version = version;
		if (j->unw && !text)
			text = read_perfmap(m, &len);
		if (j->unw)
			set_rows(j, m, sym, text, len);
		j->st.maps_changed++;
		m->wait_ns = ASK_FIRST_NS;
	} else if (m->wait_ns < JAVA_ASK_MAX_S * NS_PER_S) {
		m->wait_ns *= 2;
	}
	m->next_ns = now + m->wait_ns;
	log_debug("pid %" PRIu32 ": JVM answered in %.1f ms", m->pid, lat / 1e6);
out:
	free(text);
	if (answer_fd >= 0)
		close(answer_fd);
}

void java_update(struct java *j, struct symbolizer *sym)
{
	uint64_t k, v, now = clock_ns(CLOCK_MONOTONIC);
	for (size_t i = 0; u64map_next(&j->jvms, &i, &k, &v);) {
		struct jvm *m = (struct jvm *)(uintptr_t)v;
		if (m->child > 0) {
			int status = 0;
			if (now - m->asked_ns > ASK_CHILD_MAX_NS)
				kill(m->child, SIGKILL);
			if (waitpid(m->child, &status, WNOHANG) == m->child)
				answered(j, m, sym, status, now);
		}
		if (!m->child && !m->gone && now >= m->next_ns)
			start_ask(j, m, now);
		start_walking(j, m, sym, now);
	}
	/* Forgotten ones, once their children are reaped. */
	for (size_t i = 0; u64map_next(&j->jvms, &i, &k, &v);) {
		struct jvm *m = (struct jvm *)(uintptr_t)v;
		if (m->gone && !m->child) {
			u64map_del(&j->jvms, k);
			jvm_free(m);
			i = 0;
		}
	}
}

void java_forget(struct java *j, uint32_t pid, uint32_t gen)
{
	uint64_t *v = u64map_get(&j->jvms, key_of(pid, gen));
	struct java_proc p;
	if (v)
		((struct jvm *)(uintptr_t)*v)->gone = true;
	/* Only a JVM found is given an entry (java_update): no lookup for the rest. */
	if (v && j->map_fd >= 0 && !bpf_map_lookup_elem(j->map_fd, &pid, &p) && p.gen == gen)
		bpf_map_delete_elem(j->map_fd, &pid);
}

void java_finish(struct java *j, struct symbolizer *sym, double timeout_s)
{
	uint64_t k, v, now = clock_ns(CLOCK_MONOTONIC);
	uint64_t deadline = now + (uint64_t)(timeout_s * 1e9);
	for (size_t i = 0; u64map_next(&j->jvms, &i, &k, &v);) {
		struct jvm *m = (struct jvm *)(uintptr_t)v;
		if (!m->gone && !kill((pid_t)m->pid, 0))
			m->next_ns = now; /* due; a running ask answers as well */
	}
	struct timespec step = { 0, 10 * 1000 * 1000 };
	for (;;) {
		java_update(j, sym);
		bool busy = false;
		for (size_t i = 0; u64map_next(&j->jvms, &i, &k, &v);) {
			struct jvm *m = (struct jvm *)(uintptr_t)v;
			busy |= m->child > 0;
			m->next_ns = UINT64_MAX; /* no ask after the last */
		}
		if (!busy || clock_ns(CLOCK_MONOTONIC) >= deadline)
			break;
		nanosleep(&step, NULL);
	}
}

void java_stats(const struct java *j, struct java_stats *out)
{
	*out = j->st;
}
