/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "pusher.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/ratelimit.h"

struct agent_pusher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* kicked, or stopping */
	struct agent_spool *spool;
	struct agent_push *push;
	char *url;
	uint64_t max_age_s;
	/* Under lock. */
	bool kicked, stopping;
	uint64_t flush_until_ms; /* when stopping: send until then; 0 for no flush */
	struct agent_pusher_stats st;
	/* The thread's own. */
	unsigned streak; /* failures in a row */
	uint64_t at_ms;  /* no attempt before this (backoff) */
	struct agent_ratelimit rl_push, rl_drop, rl_refused;
};

/* Counts one outcome under the lock; refusal: its text, or NULL. */
static void count(struct agent_pusher *pp, uint64_t *counter, const char *refusal)
{
	pthread_mutex_lock(&pp->lock);
	(*counter)++;
	if (refusal) {
		pp->st.refusal_time = (int64_t)time(NULL);
		size_t n = strnlen(refusal, sizeof(pp->st.refusal) - 1);
		memcpy(pp->st.refusal, refusal, n);
		pp->st.refusal[n] = '\0';
	}
	pthread_mutex_unlock(&pp->lock);
}

/* One attempt at the oldest entry: 0 when it is done with (sent, refused,
 * too old or unreadable: popped), -ENOENT when there is none, -EIO when
 * it is to be retried. */
static int send_oldest(struct agent_pusher *pp)
{
	char *meta = NULL, msg[320] = "", what[384];
	void *body = NULL;
	size_t len = 0;
	uint64_t id = 0;
	long status;
	enum agent_push_outcome outcome = AGENT_PUSH_RETRY;
	int err = agent_spool_peek(pp->spool, &meta, &body, &len, &id);
	if (err == -ENOENT)
		return err;
	if (err) {
		agent_warn_limited(&pp->rl_drop, "push: spooled window unreadable (%s): dropped",
				   err == -EBADMSG ? "not of this version's format" : strerror(-err));
		agent_spool_pop(pp->spool, id);
		return 0;
	}
	/* meta: "FROM NAME SERVICE" (window.c). */
	char *end;
	uint64_t from = strtoull(meta, &end, 10);
	snprintf(what, sizeof(what), "%s", *end ? end + 1 : meta);
	uint64_t now = (uint64_t)time(NULL);
	if (pp->max_age_s && now > from && now - from > pp->max_age_s) {
		count(pp, &pp->st.expired, NULL);
		agent_warn_limited(&pp->rl_drop, "push: window of %s from %" PRIu64 " s ago is older than the server takes "
				   "(--push-max-age %" PRIu64 " s): dropped", what, now - from, pp->max_age_s);
		err = 0;
		goto pop;
	}
	err = agent_push_send(pp->push, body, len, &outcome, &status, msg, sizeof(msg));
	if (err) { /* out of memory: try again later */
		snprintf(msg, sizeof(msg), "%s", strerror(-err));
		outcome = AGENT_PUSH_RETRY;
	}
	if (outcome == AGENT_PUSH_SENT) {
		count(pp, &pp->st.pushed, NULL);
		pp->streak = 0;
		err = 0;
		goto pop;
	}
	if (outcome == AGENT_PUSH_REFUSED) {
		char refusal[sizeof(what) + sizeof(msg) + 4];
		snprintf(refusal, sizeof(refusal), "%s: %s", what, msg);
		count(pp, &pp->st.refused, refusal);
		agent_warn_limited(&pp->rl_refused, "push: %s refused the window of %s, dropped: %s", pp->url, what, msg);
		pp->streak = 0;
		err = 0;
		goto pop;
	}
	count(pp, &pp->st.failures, NULL);
	pp->streak++;
	uint64_t wait = agent_backoff_ms(pp->streak, 1000, 60000);
	pp->at_ms = agent_now_ms() + wait;
	struct agent_spool_stats ss;
	agent_spool_stats(pp->spool, &ss);
	agent_warn_limited(&pp->rl_push, "push: %s: %s; %zu windows spooled, retrying in %.1f s", pp->url, msg,
			   ss.entries, wait / 1000.0);
	err = -EIO;
	goto out;
pop:
	agent_spool_pop(pp->spool, id); /* false: a full spool dropped it meanwhile, but it was dealt with */
out:
	free(meta);
	free(body);
	return err;
}

/* Waits on cond (lock held) until woken or, with until_ms, until then. */
static void wait_locked(struct agent_pusher *pp, uint64_t until_ms)
{
	if (!until_ms) {
		pthread_cond_wait(&pp->cond, &pp->lock);
		return;
	}
	struct timespec ts = { .tv_sec = (time_t)(until_ms / 1000), .tv_nsec = (long)(until_ms % 1000) * 1000000 };
	pthread_cond_timedwait(&pp->cond, &pp->lock, &ts);
}

static void *pusher_main(void *arg)
{
	struct agent_pusher *pp = arg;
	bool empty = false; /* the spool was empty at the last look: wait for a kick */
	pthread_mutex_lock(&pp->lock);
	while (!pp->stopping) {
		if (agent_now_ms() < pp->at_ms) {
			wait_locked(pp, pp->at_ms);
			continue;
		}
		if (empty && !pp->kicked) {
			wait_locked(pp, 0);
			continue;
		}
		pp->kicked = false;
		pthread_mutex_unlock(&pp->lock);
		empty = send_oldest(pp) == -ENOENT;
		pthread_mutex_lock(&pp->lock);
	}
	uint64_t until = pp->flush_until_ms;
	pthread_mutex_unlock(&pp->lock);
	while (until && agent_now_ms() < until && !send_oldest(pp))
		;
	return NULL;
}

int agent_pusher_start(struct agent_spool *spool, struct agent_push *push, const char *url, uint64_t max_age_s,
		       struct agent_pusher **out)
{
	struct agent_pusher *pp = calloc(1, sizeof(*pp));
	pthread_condattr_t ca;
	int err;
	if (!pp || !(pp->url = strdup(url))) {
		free(pp);
		agent_push_free(push);
		return -ENOMEM;
	}
	pp->spool = spool;
	pp->push = push;
	pp->max_age_s = max_age_s;
	pthread_mutex_init(&pp->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* agent_now_ms's clock */
	pthread_cond_init(&pp->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals are the sampling loop's: the thread starts with all blocked. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&pp->thread, NULL, pusher_main, pp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&pp->cond);
		pthread_mutex_destroy(&pp->lock);
		agent_push_free(push);
		free(pp->url);
		free(pp);
		return -err;
	}
	*out = pp;
	return 0;
}

void agent_pusher_kick(struct agent_pusher *pp)
{
	pthread_mutex_lock(&pp->lock);
	pp->kicked = true;
	pthread_cond_signal(&pp->cond);
	pthread_mutex_unlock(&pp->lock);
}

void agent_pusher_stop(struct agent_pusher *pp, uint64_t flush_ms, struct agent_pusher_stats *total)
{
	if (!pp)
		return;
	pthread_mutex_lock(&pp->lock);
	pp->stopping = true;
	pp->flush_until_ms = flush_ms ? agent_now_ms() + flush_ms : 0;
	pthread_cond_signal(&pp->cond);
	pthread_mutex_unlock(&pp->lock);
	pthread_join(pp->thread, NULL);
	if (total)
		agent_pusher_stats_add(total, &pp->st);
	pthread_cond_destroy(&pp->cond);
	pthread_mutex_destroy(&pp->lock);
	agent_push_free(pp->push);
	free(pp->url);
	free(pp);
}

void agent_pusher_stats(struct agent_pusher *pp, struct agent_pusher_stats *out)
{
	pthread_mutex_lock(&pp->lock);
	*out = pp->st;
	pthread_mutex_unlock(&pp->lock);
}

void agent_pusher_stats_add(struct agent_pusher_stats *total, const struct agent_pusher_stats *add)
{
	total->pushed += add->pushed;
	total->failures += add->failures;
	total->refused += add->refused;
	total->expired += add->expired;
	if (add->refusal[0] && add->refusal_time >= total->refusal_time) {
		total->refusal_time = add->refusal_time;
		memcpy(total->refusal, add->refusal, sizeof(total->refusal));
	}
}
