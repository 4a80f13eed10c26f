/* gang.c - gang programming (fx/seq.h "gang"): every slot of the jig at
 * once, one thread per slot, each a member of the station's clock while
 * it runs, so a shared virtual clock (fx_dclock) advances only when every
 * slot waits and N slots take the model time of the slowest. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx/log.h"
#include "seq_priv.h"

#define LOG_PREFIX "gang"

struct gang_thread {
	const struct fx_clock *clk;
	fx_seq_gang_fn fn;
	void *user;
	pthread_t tid;
	bool started;
};

static void *gang_main(void *arg)
{
	struct gang_thread *t = arg;

	t->fn(t->user);
	fx_clock_leave(t->clk); /* joined for it by fx_seq_gang_each */
	return NULL;
}

int fx_seq_gang_each(const struct fx_clock *clk, fx_seq_gang_fn fn,
		     void *const users[], size_t n, struct fx_err *err)
{
	struct gang_thread *t;
	size_t i;

	if (!clk || !fn || (n && !users))
		return fx_err_set(err, FX_E_INVAL, "gang: bad arguments");
	if (!n)
		return 0;
	t = calloc(n, sizeof(*t));
	if (!t) {
		/* no memory for the bookkeeping: one after the other */
		fx_log(FX_LOG_WARN, LOG_PREFIX, "out of memory: slots run one after the other");
		for (i = 0; i < n; i++)
			fn(users[i]);
		return 0;
	}
	/* every thread is a member before any starts: one that starts early
	 * must not see time run ahead of those still starting */
	for (i = 0; i < n; i++)
		fx_clock_join(clk);
	for (i = 0; i < n; i++) {
		t[i].clk = clk;
		t[i].fn = fn;
		t[i].user = users[i];
		t[i].started = pthread_create(&t[i].tid, NULL, gang_main, &t[i]) == 0;
		if (!t[i].started)
			break;
	}
	if (i < n) {
		size_t k;

		/* no thread for call i: the caller runs it and the rest, one
		 * after the other, each a member while it runs (the members
		 * held for them now would stop time for the running ones) */
		fx_log(FX_LOG_WARN, LOG_PREFIX,
		       "cannot start a thread: calls %zu..%zu run in the caller", i + 1, n);
		for (k = i + 1; k < n; k++)
			fx_clock_leave(clk);
		gang_main(&t[i]);
		for (k = i + 1; k < n; k++) {
			t[k].clk = clk;
			t[k].fn = fn;
			t[k].user = users[k];
			fx_clock_join(clk);
			gang_main(&t[k]);
		}
	}
	for (i = 0; i < n; i++)
		if (t[i].started)
			pthread_join(t[i].tid, NULL);
	free(t);
	return 0;
}

/* The runs of a batch begin in slot order (their rows get ids in that
 * order, whatever the threads do), then go on at the same time: a
 * turnstile. No slot sleeps on the clock before its run row is written
 * (fx_seq_run), so waiting here never stops model time for a slot that
 * needs it. */
struct gang_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t begun;     /* entries whose run has begun (or ended) */
};

struct gang_run {
	struct fx_store *store;
	struct fx_seq_gang_slot *gs;
	struct gang_gate *gate;
	size_t pos;
	bool passed;      /* this entry went through the gate */
	struct fx_seq_job job; /* the caller's, with report wrapped */
};

static void gate_pass(struct gang_run *g)
{
	if (g->passed)
		return;
	g->passed = true;
	pthread_mutex_lock(&g->gate->lock);
	g->gate->begun++;
	pthread_cond_broadcast(&g->gate->cond);
	pthread_mutex_unlock(&g->gate->lock);
}

static void gang_report(void *user, const struct fx_seq_report *rep)
{
	struct gang_run *g = user;

	if (g->gs->job->report)
		g->gs->job->report(g->gs->job->report_user, rep);
	if (rep->kind == FX_SEQ_REP_RUN_BEGIN)
		gate_pass(g);
}

static void gang_one(void *user)
{
	struct gang_run *g = user;
	bool present;

	pthread_mutex_lock(&g->gate->lock);
	while (g->gate->begun < g->pos)
		pthread_cond_wait(&g->gate->cond, &g->gate->lock);
	pthread_mutex_unlock(&g->gate->lock);
	fx_err_clear(&g->gs->err);
	g->gs->empty = false;
	present = true;
	g->gs->rc = fx_seq_slot_present(g->gs->slot, &present, &g->gs->err);
	if (g->gs->rc) {
		memset(&g->gs->out, 0, sizeof(g->gs->out));
		g->gs->out.result = FX_STORE_ERROR;
		g->gs->out.error_code = g->gs->rc;
		snprintf(g->gs->out.message, sizeof(g->gs->out.message), "%s",
			 g->gs->err.msg);
	} else if (!present) {
		memset(&g->gs->out, 0, sizeof(g->gs->out));
		g->gs->empty = true;
	} else if (!g->gs->rc) {
		g->gs->rc = fx_seq_run(g->gs->slot, g->store, &g->job, &g->gs->out,
				       &g->gs->err);
	}
	gate_pass(g); /* a run that never began lets the next one go */
}

int fx_seq_gang_run(struct fx_seq_station *s, struct fx_store *st,
		    struct fx_seq_gang_slot *slots, size_t n, struct fx_err *err)
{
	struct gang_run runs[FX_STATION_MAX_SLOTS];
	void *users[FX_STATION_MAX_SLOTS];
	struct gang_gate gate;
	size_t i;
	int rc;

	if (!s || !st || (n && !slots) || n > FX_STATION_MAX_SLOTS)
		return fx_err_set(err, FX_E_INVAL, "gang: bad arguments");
	for (i = 0; i < n; i++) {
		size_t k;

		if (!slots[i].slot || slots[i].slot->station != s || !slots[i].job)
			return fx_err_set(err, FX_E_INVAL, "gang: entry %zu: no slot of "
					  "this station or no job", i + 1);
		for (k = 0; k < i; k++)
			if (slots[k].slot == slots[i].slot)
				return fx_err_set(err, FX_E_INVAL, "gang: slot %u twice",
						  slots[i].slot->cfg->index);
		memset(&runs[i], 0, sizeof(runs[i]));
		runs[i].store = st;
		runs[i].gs = &slots[i];
		runs[i].gate = &gate;
		runs[i].pos = i;
		runs[i].job = *slots[i].job;
		runs[i].job.report = gang_report;
		runs[i].job.report_user = &runs[i];
		users[i] = &runs[i];
	}
	memset(&gate, 0, sizeof(gate));
	if (pthread_mutex_init(&gate.lock, NULL))
		return fx_err_set(err, FX_E_NOMEM, "gang: cannot create a mutex");
	if (pthread_cond_init(&gate.cond, NULL)) {
		pthread_mutex_destroy(&gate.lock);
		return fx_err_set(err, FX_E_NOMEM, "gang: cannot create a condition");
	}
	rc = fx_seq_gang_each(s->clock, gang_one, users, n, err);
	pthread_cond_destroy(&gate.cond);
	pthread_mutex_destroy(&gate.lock);
	return rc;
}
