/* gang.c - gang programming (fx/seq.h "gang"): every slot of the jig at
 * once, one thread per slot, each a member of the station's clock while
 * it runs, so a shared virtual clock (fx_dclock) advances only when every
 * slot waits and N slots take the model time of the slowest. */
#include <pthread.h>
#include <stdlib.h>

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
	for (i = 0; i < n; i++) {
		t[i].clk = clk;
		t[i].fn = fn;
		t[i].user = users[i];
		fx_clock_join(clk);
		t[i].started = pthread_create(&t[i].tid, NULL, gang_main, &t[i]) == 0;
		if (!t[i].started) {
			fx_clock_leave(clk);
			fx_log(FX_LOG_WARN, LOG_PREFIX,
			       "cannot start a thread: call %zu runs after the others", i + 1);
		}
	}
	for (i = 0; i < n; i++)
		if (t[i].started)
			pthread_join(t[i].tid, NULL);
	for (i = 0; i < n; i++)
		if (!t[i].started)
			fn(users[i]);
	free(t);
	return 0;
}

struct gang_run {
	struct fx_store *store;
	struct fx_seq_gang_slot *gs;
};

static void gang_one(void *user)
{
	struct gang_run *g = user;

	fx_err_clear(&g->gs->err);
	g->gs->rc = fx_seq_run(g->gs->slot, g->store, g->gs->job, &g->gs->out,
			       &g->gs->err);
}

int fx_seq_gang_run(struct fx_seq_station *s, struct fx_store *st,
		    struct fx_seq_gang_slot *slots, size_t n, struct fx_err *err)
{
	struct gang_run runs[FX_STATION_MAX_SLOTS];
	void *users[FX_STATION_MAX_SLOTS];
	size_t i;

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
		runs[i].store = st;
		runs[i].gs = &slots[i];
		users[i] = &runs[i];
	}
	return fx_seq_gang_each(s->clock, gang_one, users, n, err);
}
