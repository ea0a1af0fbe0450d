/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "push.h"

#include <ctype.h>
/* Calls go through pointers: no type-checking macros around them. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	X(curl_slist_free_all, void, (struct curl_slist *))                            \
	X(curl_mime_init, curl_mime *, (CURL *))                                       \
	X(curl_mime_free, void, (curl_mime *))                                         \
	X(curl_mime_addpart, curl_mimepart *, (curl_mime *))                           \
	X(curl_mime_name, CURLcode, (curl_mimepart *, const char *))                   \
	X(curl_mime_filename, CURLcode, (curl_mimepart *, const char *))               \
	X(curl_mime_type, CURLcode, (curl_mimepart *, const char *))                   \
	X(curl_mime_data, CURLcode, (curl_mimepart *, const char *, size_t))

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
	char *url; /* base, without a trailing '/' */
};

int agent_push_new(const char *url, char *const *headers, size_t nheaders, struct agent_push **out)
{
	int err = curl_load();
	if (err)
		return err;
	struct agent_push *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->curl = cu.curl_easy_init();
	p->url = strdup(url);
	if (!p->curl || !p->url)
		goto nomem;
	size_t n = strlen(p->url);
	while (n && p->url[n - 1] == '/')
		p->url[--n] = '\0';
	for (size_t i = 0; i < nheaders; i++) {
		struct curl_slist *l = cu.curl_slist_append(p->headers, headers[i]);
		if (!l)
			goto nomem;
		p->headers = l;
	}
	/* The response body is not needed; an empty Expect avoids a 1 s wait
	 * for "100 Continue" from servers that do not send it. */
	struct curl_slist *l = cu.curl_slist_append(p->headers, "Expect:");
	if (!l)
		goto nomem;
	p->headers = l;
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

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * n;
}

int agent_push_send(struct agent_push *p, const char *query, const void *body, size_t len, long *status, char *msg,
		    size_t msglen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	size_t ulen = strlen(p->url) + strlen(query) + 16;
	char *url = malloc(ulen);
	curl_mime *mime = NULL;
	int err = 0;

	*status = 0;
	if (!url || !(mime = cu.curl_mime_init(p->curl))) {
		err = -ENOMEM;
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	snprintf(url, ulen, "%s/ingest?%s", p->url, query);
	curl_mimepart *part = cu.curl_mime_addpart(mime);
	if (!part || cu.curl_mime_name(part, "profile") || cu.curl_mime_filename(part, "profile.pprof") ||
	    cu.curl_mime_type(part, "application/octet-stream") || cu.curl_mime_data(part, body, len)) {
		err = -ENOMEM;
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	cu.curl_easy_reset(p->curl);
	cu.curl_easy_setopt(p->curl, CURLOPT_URL, url);
	cu.curl_easy_setopt(p->curl, CURLOPT_MIMEPOST, mime);
	cu.curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers);
	cu.curl_easy_setopt(p->curl, CURLOPT_USERAGENT, "scorch-agent");
	cu.curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, discard);
	cu.curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, errbuf);
	cu.curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	cu.curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	cu.curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, 10000L);
	cu.curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = cu.curl_easy_perform(p->curl);
	if (rc != CURLE_OK) {
		err = -EIO;
		snprintf(msg, msglen, "%s", errbuf[0] ? errbuf : cu.curl_easy_strerror(rc));
		goto out;
	}
	cu.curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, status);
	if (*status < 200 || *status > 299) {
		err = -EIO;
		snprintf(msg, msglen, "HTTP %ld", *status);
	}
out:
	cu.curl_mime_free(mime);
	free(url);
	return err;
}

/* Appends s percent-encoded (RFC 3986 unreserved kept); label syntax
 * characters in a value are replaced with '_' when sanitize is set. */
static bool put_enc(char *out, size_t outlen, size_t *pos, const char *s, bool sanitize)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (sanitize && (c == ',' || c == '{' || c == '}' || c == '=' || c == '"'))
			c = '_';
		bool plain = isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
		if (*pos + (plain ? 1 : 3) >= outlen)
			return false;
		if (plain) {
			out[(*pos)++] = (char)c;
		} else {
			out[(*pos)++] = '%';
			out[(*pos)++] = hex[c >> 4];
			out[(*pos)++] = hex[c & 15];
		}
	}
	return true;
}

static bool put_raw(char *out, size_t outlen, size_t *pos, const char *s)
{
	size_t n = strlen(s);
	if (*pos + n >= outlen)
		return false;
	memcpy(out + *pos, s, n);
	*pos += n;
	return true;
}

int agent_push_query(const char *service, const struct build_label *labels, size_t n, uint64_t from, uint64_t until,
		     uint32_t hz, char *out, size_t outlen)
{
	size_t pos = 0;
	char tail[128];
	bool ok = outlen > 0 && put_raw(out, outlen, &pos, "name=") && put_enc(out, outlen, &pos, service, true) &&
		  put_raw(out, outlen, &pos, "%7B");
	for (size_t i = 0; ok && i < n; i++)
		ok = (!i || put_raw(out, outlen, &pos, "%2C")) && put_enc(out, outlen, &pos, labels[i].key, true) &&
		     put_raw(out, outlen, &pos, "%3D") && put_enc(out, outlen, &pos, labels[i].value, true);
	snprintf(tail, sizeof(tail), "%%7D&from=%" PRIu64 "&until=%" PRIu64 "&format=pprof&sampleRate=%" PRIu32
		 "&spyName=scorch", from, until, hz);
	ok = ok && put_raw(out, outlen, &pos, tail);
	if (!ok)
		return -ENAMETOOLONG;
	out[pos] = '\0';
	return (int)pos;
}
