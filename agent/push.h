/* SPDX-License-Identifier: MIT */
/*
 * push: sends windows to Grafana Pyroscope's HTTP ingest API with
 * libcurl:
 *
 *   POST URL/ingest?name=SERVICE{k=v,...}&from=UNIX&until=UNIX&format=pprof
 *        &sampleRate=HZ&spyName=scorch
 *
 * with a multipart/form-data body whose "profile" part is the gzip pprof
 * (Pyroscope's documented form for format=pprof).  A 2xx answer is success;
 * anything else (HTTP error, timeout, refused connection) is a failure the
 * caller retries.  Extra headers (--push-header) go with every request.
 */
#ifndef SCORCH_AGENT_PUSH_H
#define SCORCH_AGENT_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "profiler/build.h"

struct agent_push;

/* url: the server's base URL ("/ingest" is appended); headers "Name: value".
 * 0 or -errno. */
int agent_push_new(const char *url, char *const *headers, size_t nheaders, struct agent_push **out);
/* Why agent_push_new returned -ELIBACC: libcurl (loaded on first use) is
 * missing or unusable. */
const char *agent_push_load_error(void);
void agent_push_free(struct agent_push *p);
/* POSTs one window.  0, or -EIO (HTTP status in *status, 0 when none) /
 * -ENOMEM with msg set. */
int agent_push_send(struct agent_push *p, const char *query, const void *body, size_t len, long *status, char *msg,
		    size_t msglen);

/* The ingest query string (URL-encoded): name=SERVICE{labels, sorted as
 * given}&from&until&format=pprof&sampleRate&spyName=scorch.  Label values
 * with ',', '{', '}' or '=' are refused by the config parser; here they are
 * replaced with '_'.  Bytes written (without the NUL), or -ENAMETOOLONG. */
int agent_push_query(const char *service, const struct build_label *labels, size_t n, uint64_t from, uint64_t until,
		     uint32_t hz, char *out, size_t outlen);

#endif
