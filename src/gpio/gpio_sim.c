/* gpio_sim.c - emulated GPIO (fx/gpio.h "sim backend"): outputs drive the
 * pins of emulated boards, inputs are scripted in clock time, every level
 * change is logged. Waits advance the injected clock to the next scripted
 * change, so tests and demos run in virtual time (libsigrok's demo driver
 * idea, without its wall-clock pacing).
 * Threads: one mutex guards the whole simulator (lines, schedule, logs),
 * so the slots of a gang station may use their lines from their own
 * threads; it is never held while the clock sleeps or a hook (fxemu's pin
 * socket) runs.
 * Trace: with $FX_GPIO_SIM_TRACE = FILE in the environment when the
 * instance is opened, every level change of every line is also appended
 * to FILE as it happens, one line "T_US NAME LEVEL" (clock time, e.g.
 * "1500000 sim:TOWER_GREEN 1"; a requested output's first line is its
 * initial level), so a test outside the process can read back what a
 * station did with its LEDs and tower (tests/cli/tgang_tower.sh). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx/emu.h"
#include "fx/gpio.h"

struct sim_line_state {
	char name[FX_GPIO_NAME_MAX];
	int level;
	struct fx_gpio_line *req;         /* requested handle, NULL if free */
	struct fx_emu *board;             /* attached board, borrowed */
	enum fx_gpio_sim_pin pin;
	fx_gpio_sim_hook_fn hook;         /* fx_gpio_sim_hook(), user owned */
	void *hook_user;
	void (*hook_free)(void *user);
	struct fx_gpio_sim_change *hist;  /* every level change */
	size_t n_hist, cap_hist;
	struct fx_gpio_event *queue;      /* raw edges not yet waited for */
	size_t q_head, q_n, q_cap;
};

struct sim_sched {
	uint64_t at_us;
	size_t line;  /* index into lines */
	int value;
};

struct sim {
	struct fx_gpio base;
	struct sim_line_state *lines;
	size_t n_lines, cap_lines;
	struct sim_sched *sched;          /* sorted by at_us, FIFO for ties */
	size_t n_sched, cap_sched;
	FILE *trace;                      /* $FX_GPIO_SIM_TRACE, or NULL */
	pthread_mutex_t lock;             /* everything above */
};

#define SIM_TRACE_ENV "FX_GPIO_SIM_TRACE"


struct sim_line {
	struct fx_gpio_line base;
	size_t idx;
};

static struct sim *to_sim(struct fx_gpio *g)
{
	return (struct sim *)g;
}

static bool is_sim(const struct fx_gpio *g, struct fx_err *err)
{
	if (g && g->ops == &fx_gpio_sim_ops)
		return true;
	fx_err_set(err, FX_E_NOTSUP, "not an emulated (sim) gpio instance");
	return false;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *np;

	if (need <= *cap)
		return true;
	n = *cap ? *cap * 2 : 8;
	while (n < need)
		n *= 2;
	np = realloc(*p, n * size);
	if (!np)
		return false;
	*p = np;
	*cap = n;
	return true;
}

/* Index of the state for name, created on demand (level 0). */
static int line_state(struct sim *s, const char *name, bool create,
		      size_t *idx, struct fx_err *err)
{
	size_t i;
	struct sim_line_state *st;
	void *p;

	for (i = 0; i < s->n_lines; i++) {
		if (!strcmp(s->lines[i].name, name)) {
			*idx = i;
			return 0;
		}
	}
	if (!create)
		return fx_err_set(err, FX_E_NOTFOUND, "line '%s': unknown to the simulator",
				  name);
	if (fx_gpio_name_check(name, err))
		return FX_E_CONFIG;
	if (strncmp(name, FX_GPIO_SIM_PREFIX, strlen(FX_GPIO_SIM_PREFIX)))
		return fx_err_set(err, FX_E_CONFIG, "line '%s': sim lines start with '%s'",
				  name, FX_GPIO_SIM_PREFIX);
	p = s->lines;
	if (!grow(&p, &s->cap_lines, s->n_lines + 1, sizeof(*s->lines)))
		return fx_err_set(err, FX_E_NOMEM, "line '%s': out of memory", name);
	s->lines = p;
	st = &s->lines[s->n_lines];
	memset(st, 0, sizeof(*st));
	memcpy(st->name, name, strlen(name) + 1);
	*idx = s->n_lines++;
	return 0;
}

static void drive_board(struct sim_line_state *st)
{
	if (!st->board)
		return;
	switch (st->pin) {
	case FX_GPIO_SIM_PIN_BOOT0:
		fx_emu_set_boot0(st->board, st->level);
		break;
	case FX_GPIO_SIM_PIN_NRST:
		fx_emu_set_nrst(st->board, st->level);
		break;
	case FX_GPIO_SIM_PIN_POWER:
		fx_emu_set_power(st->board, st->level);
		break;
	}
}

/* Set a level at time t: log it, queue a raw edge for a waiting input. */
static int change(struct sim *s, size_t idx, int value, uint64_t t,
		  bool force_log, struct fx_err *err)
{
	struct sim_line_state *st = &s->lines[idx];
	void *p;

	value = !!value;
	if (value == st->level && !(force_log && !st->n_hist))
		return 0;
	st->level = value;
	p = st->hist;
	if (!grow(&p, &st->cap_hist, st->n_hist + 1, sizeof(*st->hist)))
		return fx_err_set(err, FX_E_NOMEM, "line '%s': out of memory", st->name);
	st->hist = p;
	st->hist[st->n_hist].t_us = t;
	st->hist[st->n_hist].value = value;
	st->n_hist++;
	if (s->trace) {
		fprintf(s->trace, "%llu %s %d\n", (unsigned long long)t, st->name, value);
		fflush(s->trace);
	}
	if (st->req && st->req->cfg.dir == FX_GPIO_INPUT) {
		if (st->q_head && st->q_head == st->q_n) {
			st->q_head = st->q_n = 0;
		}
		p = st->queue;
		if (!grow(&p, &st->q_cap, st->q_n + 1, sizeof(*st->queue)))
			return fx_err_set(err, FX_E_NOMEM, "line '%s': out of memory",
					  st->name);
		st->queue = p;
		st->queue[st->q_n].t_us = t;
		st->queue[st->q_n].value = value;
		st->q_n++;
	}
	return 0;
}

/* Fire every scheduled change due at the clock's now, in time order. */
static int fire_due(struct sim *s, struct fx_err *err)
{
	uint64_t now = fx_clock_now(s->base.clock);
	size_t k = 0;
	int rc = 0;

	while (k < s->n_sched && s->sched[k].at_us <= now && !rc) {
		rc = change(s, s->sched[k].line, s->sched[k].value,
			    s->sched[k].at_us, false, err);
		k++;
	}
	if (k) {
		memmove(s->sched, s->sched + k, (s->n_sched - k) * sizeof(*s->sched));
		s->n_sched -= k;
	}
	return rc;
}

static int sim_open(const struct fx_clock *clk, struct fx_gpio **out,
		    struct fx_err *err)
{
	struct sim *s = calloc(1, sizeof(*s));
	const char *trace = getenv(SIM_TRACE_ENV);

	(void)clk;
	if (!s)
		return fx_err_set(err, FX_E_NOMEM, "gpio sim: out of memory");
	if (trace && *trace) {
		s->trace = fopen(trace, "ae");
		if (!s->trace) {
			int e = errno;

			free(s);
			fx_err_set(err, FX_E_IO, "gpio sim: %s '%s': cannot open: %s",
				   SIM_TRACE_ENV, trace, strerror(e));
			if (err)
				err->sys_errno = e;
			return FX_E_IO;
		}
	}
	if (pthread_mutex_init(&s->lock, NULL)) {
		if (s->trace)
			fclose(s->trace);
		free(s);
		return fx_err_set(err, FX_E_NOMEM, "gpio sim: cannot create its mutex");
	}
	*out = &s->base;
	return 0;
}

static int sim_request(struct fx_gpio *g, const struct fx_gpio_line_cfg *cfg,
		       struct fx_gpio_line **out, struct fx_err *err)
{
	struct sim *s = to_sim(g);
	struct sim_line *l;
	struct sim_line_state *st;
	fx_gpio_sim_hook_fn hook = NULL;
	void *hook_user = NULL;
	size_t idx;
	int rc, level = 0;

	pthread_mutex_lock(&s->lock);
	rc = fire_due(s, err);
	if (!rc)
		rc = line_state(s, cfg->name, true, &idx, err);
	if (rc)
		goto out;
	st = &s->lines[idx];
	if (st->req) {
		rc = fx_err_set(err, FX_E_BUSY, "line '%s': already requested", cfg->name);
		goto out;
	}
	if (cfg->dir == FX_GPIO_INPUT && (st->board || st->hook)) {
		rc = fx_err_set(err, FX_E_INVAL,
				"line '%s': drives a board pin, cannot be an input",
				cfg->name);
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		rc = fx_err_set(err, FX_E_NOMEM, "line '%s': out of memory", cfg->name);
		goto out;
	}
	l->idx = idx;
	l->base.cfg = *cfg;
	st->req = &l->base;
	st->q_head = st->q_n = 0;
	if (cfg->dir == FX_GPIO_OUTPUT) {
		rc = change(s, idx, cfg->initial, fx_clock_now(g->clock), true, err);
		if (rc) {
			st->req = NULL;
			free(l);
			goto out;
		}
		drive_board(st);
		hook = st->hook;
		hook_user = st->hook_user;
		level = st->level;
	}
	*out = &l->base;
out:
	pthread_mutex_unlock(&s->lock);
	if (!rc && hook)
		rc = hook(hook_user, level, err);
	return rc;
}

static int sim_set(struct fx_gpio_line *line, int value, struct fx_err *err)
{
	struct sim *s = to_sim(line->gpio);
	struct sim_line *l = (struct sim_line *)line;
	fx_gpio_sim_hook_fn hook = NULL;
	void *hook_user = NULL;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = fire_due(s, err);
	if (!rc)
		rc = change(s, l->idx, value, fx_clock_now(s->base.clock), false, err);
	if (!rc) {
		drive_board(&s->lines[l->idx]);
		hook = s->lines[l->idx].hook;
		hook_user = s->lines[l->idx].hook_user;
	}
	pthread_mutex_unlock(&s->lock);
	if (!rc && hook)
		rc = hook(hook_user, value, err);
	return rc;
}

static int sim_get(struct fx_gpio_line *line, int *value, struct fx_err *err)
{
	struct sim *s = to_sim(line->gpio);
	struct sim_line *l = (struct sim_line *)line;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = fire_due(s, err);
	if (!rc)
		*value = s->lines[l->idx].level;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static bool pop(struct sim_line_state *st, struct fx_gpio_event *ev)
{
	if (st->q_head == st->q_n)
		return false;
	*ev = st->queue[st->q_head++];
	return true;
}

static int sim_wait_event(struct fx_gpio_line *line, uint64_t deadline_us,
			  struct fx_gpio_event *ev, struct fx_err *err)
{
	struct sim *s = to_sim(line->gpio);
	struct sim_line *l = (struct sim_line *)line;
	const struct fx_clock *clk = s->base.clock;
	uint64_t until;
	int rc;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		rc = fire_due(s, err);
		if (!rc && pop(&s->lines[l->idx], ev)) {
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
		if (!rc && fx_clock_now(clk) >= deadline_us)
			rc = FX_E_TIMEOUT;
		/* sleep to the next scripted change (of any line: they fire
		 * in time order) or to the deadline */
		until = s->n_sched && s->sched[0].at_us < deadline_us ?
			s->sched[0].at_us : deadline_us;
		pthread_mutex_unlock(&s->lock);
		if (rc)
			return rc;
		fx_clock_sleep_until(clk, until);
	}
}

static void sim_release(struct fx_gpio_line *line)
{
	struct sim *s = to_sim(line->gpio);
	struct sim_line *l = (struct sim_line *)line;

	pthread_mutex_lock(&s->lock);
	s->lines[l->idx].req = NULL;
	s->lines[l->idx].q_head = s->lines[l->idx].q_n = 0;
	pthread_mutex_unlock(&s->lock);
	free(l);
}

static void sim_close(struct fx_gpio *g)
{
	struct sim *s = to_sim(g);
	size_t i;

	for (i = 0; i < s->n_lines; i++) {
		free(s->lines[i].hist);
		free(s->lines[i].queue);
		if (s->lines[i].hook_free)
			s->lines[i].hook_free(s->lines[i].hook_user);
	}
	free(s->lines);
	free(s->sched);
	if (s->trace)
		fclose(s->trace);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const struct fx_gpio_ops fx_gpio_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.request = sim_request,
	.set = sim_set,
	.get = sim_get,
	.wait_event = sim_wait_event,
	.release = sim_release,
	.close = sim_close,
};

/* ---- test/demo side ---------------------------------------------------- */

int fx_gpio_sim_attach(struct fx_gpio *g, const char *line,
		       struct fx_emu *board, enum fx_gpio_sim_pin pin,
		       struct fx_err *err)
{
	struct sim *s;
	struct sim_line_state *st;
	size_t idx;
	int rc;

	if (!is_sim(g, err))
		return FX_E_NOTSUP;
	s = to_sim(g);
	if (pin != FX_GPIO_SIM_PIN_BOOT0 && pin != FX_GPIO_SIM_PIN_NRST &&
	    pin != FX_GPIO_SIM_PIN_POWER)
		return fx_err_set(err, FX_E_INVAL, "line '%s': unknown board pin %d",
				  line, (int)pin);
	pthread_mutex_lock(&s->lock);
	rc = line_state(s, line, true, &idx, err);
	if (rc)
		goto out;
	st = &s->lines[idx];
	if (st->req && st->req->cfg.dir == FX_GPIO_INPUT) {
		rc = fx_err_set(err, FX_E_INVAL,
				"line '%s': is an input, cannot drive a board pin", line);
		goto out;
	}
	st->board = board;
	st->pin = pin;
	if (st->req)
		drive_board(st);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int fx_gpio_sim_hook(struct fx_gpio *g, const char *line,
		     fx_gpio_sim_hook_fn fn, void *user, void (*free_user)(void *),
		     struct fx_err *err)
{
	struct sim_line_state *st;
	void (*old_free)(void *) = NULL;
	void *old_user = NULL;
	size_t idx;
	bool call;
	int rc = FX_E_NOTSUP, level = 0;

	if (!is_sim(g, err)) {
		if (free_user)
			free_user(user);
		return rc;
	}
	pthread_mutex_lock(&to_sim(g)->lock);
	rc = line_state(to_sim(g), line, true, &idx, err);
	if (!rc && (st = &to_sim(g)->lines[idx])->req &&
	    st->req->cfg.dir == FX_GPIO_INPUT)
		rc = fx_err_set(err, FX_E_INVAL, "line '%s': is an input, cannot be hooked",
				line);
	if (rc) {
		pthread_mutex_unlock(&to_sim(g)->lock);
		if (free_user)
			free_user(user);
		return rc;
	}
	old_free = st->hook_free;
	old_user = st->hook_user;
	st->hook = fn;
	st->hook_user = user;
	st->hook_free = free_user;
	call = fn && st->req;
	level = st->level;
	pthread_mutex_unlock(&to_sim(g)->lock);
	if (old_free)
		old_free(old_user);
	return call ? fn(user, level, err) : 0;
}

static int input_state(struct sim *s, const char *line, size_t *idx,
		       struct fx_err *err)
{
	int rc = line_state(s, line, true, idx, err);

	if (rc)
		return rc;
	if (s->lines[*idx].req && s->lines[*idx].req->cfg.dir == FX_GPIO_OUTPUT)
		return fx_err_set(err, FX_E_INVAL, "line '%s': is an output, cannot drive it",
				  line);
	if (s->lines[*idx].board || s->lines[*idx].hook)
		return fx_err_set(err, FX_E_INVAL, "line '%s': drives a board pin", line);
	return 0;
}


int fx_gpio_sim_drive(struct fx_gpio *g, const char *line, int value,
		      struct fx_err *err)
{
	struct sim *s;
	size_t idx;
	int rc;

	if (!is_sim(g, err))
		return FX_E_NOTSUP;
	s = to_sim(g);
	pthread_mutex_lock(&s->lock);
	rc = fire_due(s, err);
	if (!rc)
		rc = input_state(s, line, &idx, err);
	if (!rc)
		rc = change(s, idx, value, fx_clock_now(g->clock), false, err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int fx_gpio_sim_schedule(struct fx_gpio *g, const char *line, uint64_t at_us,
			 int value, struct fx_err *err)
{
	struct sim *s;
	size_t idx, k;
	uint64_t now;
	void *p;
	int rc;

	if (!is_sim(g, err))
		return FX_E_NOTSUP;
	s = to_sim(g);
	now = fx_clock_now(g->clock);
	if (at_us < now)
		return fx_err_set(err, FX_E_INVAL,
				  "line '%s': change at %llu us is in the past (now %llu us)",
				  line, (unsigned long long)at_us, (unsigned long long)now);
	pthread_mutex_lock(&s->lock);
	rc = input_state(s, line, &idx, err);
	if (rc)
		goto out;
	p = s->sched;
	if (!grow(&p, &s->cap_sched, s->n_sched + 1, sizeof(*s->sched))) {
		rc = fx_err_set(err, FX_E_NOMEM, "line '%s': out of memory", line);
		goto out;
	}
	s->sched = p;
	for (k = s->n_sched; k > 0 && s->sched[k - 1].at_us > at_us; k--)
		;
	memmove(s->sched + k + 1, s->sched + k, (s->n_sched - k) * sizeof(*s->sched));
	s->sched[k].at_us = at_us;
	s->sched[k].line = idx;
	s->sched[k].value = !!value;
	s->n_sched++;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* level at t, then bounces of !level/level one ms apart */
static int schedule_bouncing(struct fx_gpio *g, const char *line, uint64_t t,
			     int level, unsigned bounces, struct fx_err *err)
{
	unsigned i;
	int rc = fx_gpio_sim_schedule(g, line, t, level, err);

	for (i = 0; !rc && i < bounces; i++) {
		t += 1000;
		rc = fx_gpio_sim_schedule(g, line, t, !level, err);
		t += 1000;
		if (!rc)
			rc = fx_gpio_sim_schedule(g, line, t, level, err);
	}
	return rc;
}

int fx_gpio_sim_press(struct fx_gpio *g, const char *line, uint64_t at_us,
		      unsigned hold_ms, unsigned bounces, struct fx_err *err)
{
	int rc;

	if (!is_sim(g, err))
		return FX_E_NOTSUP;
	if ((uint64_t)hold_ms <= 2ull * bounces)
		return fx_err_set(err, FX_E_INVAL,
				  "line '%s': hold %u ms too short for %u bounces",
				  line, hold_ms, bounces);
	/* press: 1, then bounces of 0/1 one ms apart; release the same */
	rc = schedule_bouncing(g, line, at_us, 1, bounces, err);
	if (!rc)
		rc = schedule_bouncing(g, line, at_us + (uint64_t)hold_ms * 1000u, 0,
				       bounces, err);
	return rc;
}

size_t fx_gpio_sim_pending(const struct fx_gpio *g)
{
	struct sim *s;
	size_t n;

	if (!g || g->ops != &fx_gpio_sim_ops)
		return 0;
	/* the count is behind the mutex: casting away const only to lock */
	s = (struct sim *)(void *)g;
	pthread_mutex_lock(&s->lock);
	n = s->n_sched;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The state of a line the simulator already knows, after firing what is
 * due (the level and history queries). Locks s on success: the caller
 * unlocks. */
static int known_line(struct fx_gpio *g, const char *line,
		      struct sim_line_state **out, struct fx_err *err)
{
	struct sim *s;
	size_t idx;
	int rc;

	if (!is_sim(g, err))
		return FX_E_NOTSUP;
	s = to_sim(g);
	pthread_mutex_lock(&s->lock);
	rc = fire_due(s, err);
	if (!rc)
		rc = line_state(s, line, false, &idx, err);
	if (rc) {
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	*out = &s->lines[idx];
	return 0;
}

int fx_gpio_sim_level(struct fx_gpio *g, const char *line, int *value)
{
	struct sim_line_state *st;
	int rc = known_line(g, line, &st, NULL);

	if (rc)
		return rc;
	*value = st->level;
	pthread_mutex_unlock(&to_sim(g)->lock);
	return 0;
}

int fx_gpio_sim_history(struct fx_gpio *g, const char *line,
			const struct fx_gpio_sim_change **changes, size_t *n,
			struct fx_err *err)
{
	struct sim_line_state *st;
	int rc = known_line(g, line, &st, err);

	if (rc)
		return rc;
	/* valid until the next call on g (fx/gpio.h): read it when the
	 * slots have stopped */
	*changes = st->hist;
	*n = st->n_hist;
	pthread_mutex_unlock(&to_sim(g)->lock);
	return 0;
}
