/* SPDX-License-Identifier: MIT */
/*
 * push: sends windows to Grafana Pyroscope with libcurl, through its push
 * API, the Connect unary RPC that Grafana Alloy's pyroscope.write uses
 * (DESIGN "Push" says why not /ingest):
 *
 *   POST URL/push.v1.PusherService/Push
 *   Content-Type: application/proto, Connect-Protocol-Version: 1
 *   body: PushRequest{series: [{labels: [__name__, service_name, ...],
 *                              samples: [{raw_profile: gzip pprof, ID: uuid}]}]}
 *
 * One series with one profile a request.  Extra headers (--push-header) go
 * with every request.  The answer is sorted (agent_push_classify): sent,
 * refused for good (the window is dropped), or worth retrying.
 */
#ifndef SCORCH_AGENT_PUSH_H
#define SCORCH_AGENT_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "profiler/build.h"

/* Pyroscope's default limits (pkg/validation/limits.go) that the agent
 * keeps to rather than be refused: a label value's bytes, a profile's
 * samples (--push-max-samples for a server set otherwise), and the size
 * before compression that a profile is split under:
 * half the per-tenant rate limiter's 2 MB burst, since a profile larger than
 * the burst is answered 429 however long one waits. */
#define AGENT_PUSH_VALUE_MAX 2048
#define AGENT_PUSH_SAMPLES_MAX 16000
#define AGENT_PUSH_RAW_MAX (1u << 20)
/* Series label names are Pyroscope's (pkg/model/labels.go). */
#define AGENT_PUSH_NAME_CPU "process_cpu"
#define AGENT_PUSH_NAME_OFFCPU "off_cpu"

struct agent_push;

/* url: the server's base URL (the RPC's path is appended); headers
 * "Name: value".  0 or -errno. */
int agent_push_new(const char *url, char *const *headers, size_t nheaders, struct agent_push **out);
/* Why agent_push_new returned -ELIBACC: libcurl (loaded on first use) is
 * missing or unusable. */
const char *agent_push_load_error(void);
void agent_push_free(struct agent_push *p);

enum agent_push_outcome {
	AGENT_PUSH_SENT,    /* 2xx */
	AGENT_PUSH_REFUSED, /* 400, 413, 415, 422: the same request would be refused again */
	AGENT_PUSH_RETRY,   /* no answer, 408, 429, 5xx, or anything else */
};
/* How an HTTP status (0: no answer) is taken. */
enum agent_push_outcome agent_push_classify(long status);

/* POSTs one encoded PushRequest.  *status is the HTTP status (0 when there
 * was no answer) and msg says what went wrong: the transport's error, or
 * "HTTP 400: " and the server's own message (a Connect error's "message").
 * 0, or -ENOMEM. */
int agent_push_send(struct agent_push *p, const void *body, size_t len, enum agent_push_outcome *outcome,
		    long *status, char *msg, size_t msglen);

/* Encodes a PushRequest of one series (labels in the order given) with one
 * profile (pprof_gz) whose ID is id.  *out is the caller's to free.
 * 0 or -ENOMEM. */
int agent_push_request(const struct build_label *labels, size_t n, const void *pprof_gz, size_t len, const char *id,
		       void **out, size_t *outlen);
/* A random (version 4) UUID, 36 characters and a NUL. */
void agent_push_uuid(char out[37]);

#endif
