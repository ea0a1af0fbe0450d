/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "push.h"

/* Calls go through pointers: no type-checking macros around them. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "push.pb-c.h"

/* libcurl is loaded when the first push target is set up, not linked: it
 * brings 30 libraries (TLS, Kerberos, LDAP...) that every `record` would
 * otherwise map at start, ~5 MiB of RSS and milliseconds of relocation, for
 * a feature only `agent --push` uses.  The header still gives the types and
 * constants; these are the functions used. */
#define CURL_FUNCS(X)                                                                  \
	X(curl_global_init, CURLcode, (long))                                          \
	X(curl_easy_init, CURL *, (void))                                              \
	X(curl_easy_cleanup, void, (CURL *))                                           \
	X(curl_easy_reset, void, (CURL *))                                             \
	X(curl_easy_setopt, CURLcode, (CURL *, CURLoption, ...))                       \
	X(curl_easy_perform, CURLcode, (CURL *))                                       \
	X(curl_easy_getinfo, CURLcode, (CURL *, CURLINFO, ...))                        \
	X(curl_easy_strerror, const char *, (CURLcode))                                \
	X(curl_slist_append, struct curl_slist *, (struct curl_slist *, const char *)) \
	X(curl_slist_free_all, void, (struct curl_slist *))

#define CURL_FIELD(name, ret, args) ret(*name) args;
static struct {
	CURL_FUNCS(CURL_FIELD)
} cu;
#undef CURL_FIELD

static char load_error[256];

/* Loads libcurl once. 0, or -ELIBACC with the reason in load_error. */
static int curl_load(void)
{
	static int state; /* 0 not tried, 1 loaded, else the error */
	if (state)
		return state == 1 ? 0 : state;
	state = -ELIBACC;
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return state;
	}
#define CURL_LOAD(name, ret, args)                                                              \
	if (!(*(void **)&cu.name = dlsym(h, #name))) {                                          \
		snprintf(load_error, sizeof(load_error), "libcurl.so.4 has no %s", #name);      \
		dlclose(h);                                                                     \
		return state;                                                                   \
	}
	CURL_FUNCS(CURL_LOAD)
#undef CURL_LOAD
	if (cu.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "libcurl did not initialize");
		dlclose(h);
		return state;
	}
	return state = 1, 0;
}

const char *agent_push_load_error(void)
{
	return load_error;
}

struct agent_push {
	CURL *curl;
	struct curl_slist *headers;
	char *url; /* the RPC's whole URL */
};

#define PUSH_PATH "/push.v1.PusherService/Push"

int agent_push_new(const char *url, char *const *headers, size_t nheaders, struct agent_push **out)
{
	int err = curl_load();
	if (err)
		return err;
	struct agent_push *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	p->curl = cu.curl_easy_init();
	if (!p->curl || asprintf(&p->url, "%.*s%s", (int)n, url, PUSH_PATH) < 0) {
		p->url = NULL;
		goto nomem;
	}
	for (size_t i = 0; i < nheaders; i++) {
		struct curl_slist *l = cu.curl_slist_append(p->headers, headers[i]);
		if (!l)
			goto nomem;
		p->headers = l;
	}
	/* Connect's unary protocol (connectrpc.com/docs/protocol): the codec in
	 * the content type, the protocol version header.  An empty Expect
	 * avoids a 1 s wait for "100 Continue" from servers that do not send it. */
	static const char *const fixed[] = { "Content-Type: application/proto", "Connect-Protocol-Version: 1",
					     "Expect:" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct curl_slist *l = cu.curl_slist_append(p->headers, fixed[i]);
		if (!l)
			goto nomem;
		p->headers = l;
	}
	*out = p;
	return 0;
nomem:
	agent_push_free(p);
	return -ENOMEM;
}

void agent_push_free(struct agent_push *p)
{
	if (!p)
		return;
	cu.curl_slist_free_all(p->headers);
	if (p->curl)
		cu.curl_easy_cleanup(p->curl);
	free(p->url);
	free(p);
}

enum agent_push_outcome agent_push_classify(long status)
{
	if (status >= 200 && status <= 299)
		return AGENT_PUSH_SENT;
	/* What the server found wrong with the request itself: Connect's
	 * invalid_argument and failed_precondition (400), Pyroscope's body size
	 * limit (413), an unsupported codec (415), /ingest's conversion errors
	 * (422).  Sending it again gives the same answer. */
	if (status == 400 || status == 413 || status == 415 || status == 422)
		return AGENT_PUSH_REFUSED;
	/* No answer, a timeout (408), rate limits (429), a server in trouble
	 * (5xx), and what a user can mend without the window changing: the URL
	 * (404), credentials (401, 403). */
	return AGENT_PUSH_RETRY;
}

/* The start of the answer's body, for the message of a refusal. */
struct answer {
	char text[1024];
	size_t len;
};

static size_t keep_answer(char *ptr, size_t size, size_t n, void *ud)
{
	struct answer *a = ud;
	size_t room = sizeof(a->text) - 1 - a->len, take = size * n < room ? size * n : room;
	memcpy(a->text + a->len, ptr, take);
	a->len += take;
	a->text[a->len] = '\0';
	return size * n;
}

/* The "message" string of a Connect error's JSON body, unescaped just
 * enough for a log line; else the body's first line. */
static void answer_message(const char *body, char *out, size_t outlen)
{
	const char *m = strstr(body, "\"message\"");
	size_t o = 0;
	if (m && (m = strchr(m + 9, ':')) && (m = strchr(m, '"'))) {
		for (m++; *m && *m != '"' && o + 1 < outlen; m++) {
			if (*m == '\\' && m[1])
				m++;
			out[o++] = *m == '\n' ? ' ' : *m;
		}
	} else {
		size_t n = strcspn(body, "\r\n");
		o = n < outlen ? n : outlen - 1;
		memcpy(out, body, o);
	}
	out[o] = '\0';
}

int agent_push_send(struct agent_push *p, const void *body, size_t len, enum agent_push_outcome *outcome,
		    long *status, char *msg, size_t msglen)
{
	char errbuf[CURL_ERROR_SIZE] = "", said[512];
	struct answer ans = { "", 0 };

	*status = 0;
	cu.curl_easy_reset(p->curl);
	cu.curl_easy_setopt(p->curl, CURLOPT_URL, p->url);
	cu.curl_easy_setopt(p->curl, CURLOPT_POST, 1L);
	cu.curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
	cu.curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	cu.curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers);
	cu.curl_easy_setopt(p->curl, CURLOPT_USERAGENT, "scorch-agent");
	cu.curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, keep_answer);
	cu.curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, &ans);
	cu.curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, errbuf);
	cu.curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	cu.curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	cu.curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, 10000L);
	cu.curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = cu.curl_easy_perform(p->curl);
	if (rc != CURLE_OK) {
		snprintf(msg, msglen, "%s", errbuf[0] ? errbuf : cu.curl_easy_strerror(rc));
		*outcome = AGENT_PUSH_RETRY;
		return 0;
	}
	cu.curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, status);
	*outcome = agent_push_classify(*status);
	if (*outcome == AGENT_PUSH_SENT) {
		msg[0] = '\0';
		return 0;
	}
	answer_message(ans.text, said, sizeof(said));
	snprintf(msg, msglen, "HTTP %ld%s%s", *status, said[0] ? ": " : "", said);
	return 0;
}

int agent_push_request(const struct build_label *labels, size_t n, const void *pprof_gz, size_t len, const char *id,
		       void **out, size_t *outlen)
{
	Push__V1__PushRequest req = PUSH__V1__PUSH_REQUEST__INIT;
	Push__V1__RawProfileSeries series = PUSH__V1__RAW_PROFILE_SERIES__INIT;
	Push__V1__RawSample sample = PUSH__V1__RAW_SAMPLE__INIT;
	Push__V1__RawProfileSeries *sp = &series;
	Push__V1__RawSample *smp = &sample;
	Push__V1__LabelPair *pairs = calloc(n ? n : 1, sizeof(*pairs));
	Push__V1__LabelPair **pp = calloc(n ? n : 1, sizeof(*pp));
	int err = -ENOMEM;

	*out = NULL;
	if (!pairs || !pp)
		goto out;
	for (size_t i = 0; i < n; i++) {
		push__v1__label_pair__init(&pairs[i]);
		pairs[i].name = (char *)labels[i].key; /* protobuf-c only reads them */
		pairs[i].value = (char *)labels[i].value;
		pp[i] = &pairs[i];
	}
	sample.raw_profile.data = (uint8_t *)pprof_gz;
	sample.raw_profile.len = len;
	sample.id = (char *)id;
	series.labels = pp;
	series.n_labels = n;
	series.samples = &smp;
	series.n_samples = 1;
	req.series = &sp;
	req.n_series = 1;
	*outlen = push__v1__push_request__get_packed_size(&req);
	if (!(*out = malloc(*outlen ? *outlen : 1)))
		goto out;
	push__v1__push_request__pack(&req, *out);
	err = 0;
out:
	free(pairs);
	free(pp);
	return err;
}

void agent_push_uuid(char out[37])
{
	uint8_t b[16];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	for (; got < sizeof(b); got++) /* no randomness: still unique enough per agent */
		b[got] = (uint8_t)(rand() ^ (int)got);
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}
