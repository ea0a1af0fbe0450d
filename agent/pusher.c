/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "pusher.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ratelimit.h"

struct agent_pusher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* kicked, or stopping */
	struct agent_spool *spool;
	struct agent_push *push;
	char *url;
	/* Under lock. */
	bool kicked, stopping;
	uint64_t flush_until_ms; /* when stopping: send until then; 0 for no flush */
	struct agent_pusher_stats st;
	/* The thread's own. */
	unsigned streak; /* failures in a row */
	uint64_t at_ms;  /* no attempt before this (backoff) */
	struct agent_ratelimit rl_push, rl_drop;
};

/* One attempt at the oldest entry: 0 when it was sent (or was unreadable
 * and dropped), -ENOENT when there is none, -EIO when the send failed. */
static int send_oldest(struct agent_pusher *pp)
{
	char *query = NULL, msg[256] = "";
	void *body = NULL;
	size_t len = 0;
	uint64_t id = 0;
	long status;
	int err = agent_spool_peek(pp->spool, &query, &body, &len, &id);
	if (err == -ENOENT)
		return err;
	if (err) {
		agent_warn_limited(&pp->rl_drop, "push: spooled window unreadable (%s): dropped", strerror(-err));
		agent_spool_pop(pp->spool, id);
		return 0;
	}
	err = agent_push_send(pp->push, query, body, len, &status, msg, sizeof(msg));
	free(query);
	free(body);
	pthread_mutex_lock(&pp->lock);
	if (err)
		pp->st.failures++;
	else
		pp->st.pushed++;
	pthread_mutex_unlock(&pp->lock);
	if (!err) {
		agent_spool_pop(pp->spool, id); /* false: a full spool dropped it meanwhile, but it was sent */
		pp->streak = 0;
		return 0;
	}
	pp->streak++;
	uint64_t wait = agent_backoff_ms(pp->streak, 1000, 60000);
	pp->at_ms = agent_now_ms() + wait;
	struct agent_spool_stats ss;
	agent_spool_stats(pp->spool, &ss);
	agent_warn_limited(&pp->rl_push, "push: %s: %s; %zu windows spooled, retrying in %.1f s", pp->url, msg,
			   ss.entries, wait / 1000.0);
	return -EIO;
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

int agent_pusher_start(struct agent_spool *spool, struct agent_push *push, const char *url,
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
	if (total) {
		total->pushed += pp->st.pushed;
		total->failures += pp->st.failures;
	}
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
