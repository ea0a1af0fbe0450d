/* SPDX-License-Identifier: MIT */
/* Tests for agent/push.h and agent/series.h: the push request's bytes,
 * how answers are sorted, one exchange with a server on loopback, and the
 * budget of label sets. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/push.h"
#include "agent/series.h"
#include "push.pb-c.h"

static void test_request(void **state)
{
	(void)state;
	struct build_label l[] = { { "__name__", "process_cpu" }, { "service_name", "api" }, { "host", "web-1" } };
	static const unsigned char prof[] = { 0x1f, 0x8b, 8, 0, 0, 0 };
	void *body = NULL;
	size_t len = 0;
	assert_int_equal(agent_push_request(l, 3, prof, sizeof(prof), "734fd599-6865-419e-9475-932762d8f469", &body, &len),
			 0);
	Push__V1__PushRequest *r = push__v1__push_request__unpack(NULL, len, body);
	assert_non_null(r);
	assert_int_equal(r->n_series, 1);
	Push__V1__RawProfileSeries *s = r->series[0];
	assert_int_equal(s->n_labels, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(s->labels[i]->name, l[i].key);
		assert_string_equal(s->labels[i]->value, l[i].value);
	}
	assert_int_equal(s->n_samples, 1);
	assert_int_equal(s->samples[0]->raw_profile.len, sizeof(prof));
	assert_memory_equal(s->samples[0]->raw_profile.data, prof, sizeof(prof));
	assert_string_equal(s->samples[0]->id, "734fd599-6865-419e-9475-932762d8f469");
	/* The wire bytes Pyroscope reads: series is field 1 (length-delimited),
	 * its labels field 1, a label's name field 1. */
	const unsigned char *b = body;
	assert_int_equal(b[0], 0x0a);
	push__v1__push_request__free_unpacked(r, NULL);
	free(body);
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(agent_push_classify(200), AGENT_PUSH_SENT);
	assert_int_equal(agent_push_classify(204), AGENT_PUSH_SENT);
	for (long s = 400; s <= 422; s++) {
		bool refused = s == 400 || s == 413 || s == 415 || s == 422;
		assert_int_equal(agent_push_classify(s), refused ? AGENT_PUSH_REFUSED : AGENT_PUSH_RETRY);
	}
	long retry[] = { 0, 301, 401, 403, 404, 408, 429, 500, 502, 503, 504 };
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		assert_int_equal(agent_push_classify(retry[i]), AGENT_PUSH_RETRY);
}

static void test_uuid(void **state)
{
	(void)state;
	char a[37], b[37];
	agent_push_uuid(a);
	agent_push_uuid(b);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
}

/* A one-request HTTP server on loopback: keeps what it was sent, answers
 * with the status and body it was given. */
struct server {
	int fd, port;
	const char *answer;
	char got[8192];
	size_t len;
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	for (;;) {
		ssize_t n = read(c, s->got + s->len, sizeof(s->got) - 1 - s->len);
		if (n <= 0)
			break;
		s->len += (size_t)n;
		s->got[s->len] = '\0';
		char *end = strstr(s->got, "\r\n\r\n"), *cl = strcasestr(s->got, "Content-Length:");
		if (end && cl && s->len >= (size_t)(end + 4 - s->got) + strtoul(cl + 15, NULL, 10))
			break;
	}
	ssize_t w = write(c, s->answer, strlen(s->answer));
	(void)w;
	close(c);
	return NULL;
}

static void server_start(struct server *s, const char *answer)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	memset(s, 0, sizeof(*s));
	s->answer = answer;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static void exchange(const char *answer, enum agent_push_outcome want, long want_status, const char *want_msg,
		     struct server *s)
{
	char url[64], msg[256];
	char *h[] = { "X-Scope-OrgID: t1" };
	struct agent_push *p = NULL;
	enum agent_push_outcome o;
	long status;
	server_start(s, answer);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->port);
	int err = agent_push_new(url, h, 1, &p);
	if (err == -ELIBACC)
		fail_msg("libcurl: %s", agent_push_load_error());
	assert_int_equal(err, 0);
	assert_int_equal(agent_push_send(p, "\x0a\x00", 2, &o, &status, msg, sizeof(msg)), 0);
	agent_push_free(p);
	server_stop(s);
	assert_int_equal(o, want);
	assert_int_equal(status, want_status);
	assert_string_equal(msg, want_msg);
}

static void test_send(void **state)
{
	(void)state;
	struct server s;
	exchange("HTTP/1.1 200 OK\r\nContent-Type: application/proto\r\nContent-Length: 0\r\n\r\n", AGENT_PUSH_SENT, 200,
		 "", &s);
	/* What went out: the RPC's path under the base URL (its slash not
	 * doubled), Connect's headers, the user's, the body as given. */
	assert_non_null(strstr(s.got, "POST /push.v1.PusherService/Push HTTP/1.1\r\n"));
	assert_non_null(strstr(s.got, "\r\nContent-Type: application/proto\r\n"));
	assert_non_null(strstr(s.got, "\r\nConnect-Protocol-Version: 1\r\n"));
	assert_non_null(strstr(s.got, "\r\nX-Scope-OrgID: t1\r\n"));
	assert_non_null(strstr(s.got, "\r\nContent-Length: 2\r\n"));
	assert_memory_equal(s.got + s.len - 2, "\x0a\x00", 2);
	/* A Connect error: its message is what the log and status.json show. */
	static const char refused[] =
		"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 96\r\n\r\n"
		"{\"code\":\"invalid_argument\",\"message\":\"profile with labels \\\"x\\\" is outside of ingestion window\"}";
	exchange(refused, AGENT_PUSH_REFUSED, 400,
		 "HTTP 400: profile with labels \"x\" is outside of ingestion window", &s);
	exchange("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\n\r\nbusy\nlater", AGENT_PUSH_RETRY, 503,
		 "HTTP 503: busy", &s);
}

static void test_unreachable(void **state)
{
	(void)state;
	struct agent_push *p = NULL;
	enum agent_push_outcome o = AGENT_PUSH_SENT;
	long status = -1;
	char msg[256] = "";
	assert_int_equal(agent_push_new("http://127.0.0.1:1", NULL, 0, &p), 0);
	assert_int_equal(agent_push_send(p, "", 0, &o, &status, msg, sizeof(msg)), 0);
	assert_int_equal(o, AGENT_PUSH_RETRY);
	assert_int_equal(status, 0);
	assert_true(msg[0] != '\0');
	agent_push_free(p);
}

static void test_series(void **state)
{
	(void)state;
	struct agent_series *s = NULL;
	struct agent_series_stats st;
	char cg[32];
	assert_int_equal(agent_series_new(3, &s), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(cg, sizeof(cg), "/c%d", i);
		struct build_label l[] = { { "exe", "/bin/app" }, { "cgroup", cg } };
		assert_int_equal(agent_series_admit(s, "app", l, 2, 1000), i < 3);
		/* Once admitted, always (within the period); once refused, too. */
		assert_int_equal(agent_series_admit(s, "app", l, 2, 1001), i < 3);
	}
	/* Another service has a budget of its own; labels apart from values too. */
	struct build_label o[] = { { "exe", "/bin/app" }, { "cgroup", "/c4" } };
	assert_true(agent_series_admit(s, "other", o, 2, 1002));
	struct build_label k[] = { { "exe/bin/app", "" }, { "cgroup", "/c4" } };
	assert_true(agent_series_admit(s, "other", k, 2, 1002));
	agent_series_stats(s, &st);
	assert_int_equal(st.services, 2);
	assert_int_equal(st.label_sets, 5);
	assert_int_equal(st.most, 3);
	assert_int_equal(st.folded, 4);
	/* A new period: a fresh budget. */
	assert_true(agent_series_admit(s, "app", o, 2, 1000 + AGENT_SERIES_PERIOD_S));
	agent_series_stats(s, &st);
	assert_int_equal(st.label_sets, 1);
	/* 0: no bound. */
	agent_series_set_max(s, 0);
	for (int i = 0; i < 100; i++) {
		snprintf(cg, sizeof(cg), "/n%d", i);
		struct build_label l[] = { { "cgroup", cg } };
		assert_true(agent_series_admit(s, "app", l, 1, 5000));
	}
	agent_series_free(s);
	agent_series_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request), cmocka_unit_test(test_classify), cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_send),	cmocka_unit_test(test_unreachable), cmocka_unit_test(test_series),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
