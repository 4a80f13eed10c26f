/* gpio_gpiod.c - real GPIO lines through libgpiod 1.6 (Debian 12). The
 * only file that includes <gpiod.h>.
 *
 * - Chips are opened on first use (gpiod_chip_open_lookup: name, path,
 *   label or number) and kept open until the instance is closed; lines
 *   found by bare name (gpiod_line_find) carry their own chip, closed when
 *   the line is released.
 * - Every line is requested once with consumer "fixturectl" and held: the
 *   ctxless API is never used (it gives the line back when its callback
 *   returns, STYLE 4).
 * - Inputs are requested for both-edge events; wait_event sleeps in
 *   gpiod_line_event_wait (poll on the line's event fd), in slices of at
 *   most 50 ms so a scaled clock's deadline is honoured; events carry the
 *   time they happened (kernel timestamp), not the time they were read.
 * - active-low, open-drain/open-source and bias go to libgpiod as request
 *   flags; libgpiod does the inversion, so values here are logical.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gpiod.h>

#include "fx/gpio.h"

#define MAX_CHIPS 8
#define WAIT_SLICE_US 50000u

struct gd_chip {
	char name[FX_GPIO_NAME_MAX];
	struct gpiod_chip *chip;
};

struct gd {
	struct fx_gpio base;
	struct gd_chip chips[MAX_CHIPS];
	size_t n_chips;
};

struct gd_line {
	struct fx_gpio_line base;
	struct gpiod_line *line;
	bool own_chip; /* found by bare name: close its chip on release */
};

static int sys_err(struct fx_err *err, int code, int e, const char *fmt,
		   const char *a, const char *b)
{
	char head[160];

	snprintf(head, sizeof(head), fmt, a, b);
	fx_err_set(err, code, "%s: %s", head, strerror(e));
	if (err)
		err->sys_errno = e;
	return code;
}

static int chip_get(struct gd *g, const char *name, struct gpiod_chip **out,
		    struct fx_err *err)
{
	struct gpiod_chip *c;
	size_t i;

	for (i = 0; i < g->n_chips; i++) {
		if (!strcmp(g->chips[i].name, name)) {
			*out = g->chips[i].chip;
			return 0;
		}
	}
	if (g->n_chips == MAX_CHIPS)
		return fx_err_set(err, FX_E_CONFIG, "gpio chip '%s': more than %d chips",
				  name, MAX_CHIPS);
	errno = 0;
	c = gpiod_chip_open_lookup(name);
	if (!c) {
		int e = errno ? errno : ENOENT;

		if (e == ENOENT || e == ENODEV || e == ENOTTY)
			return fx_err_set(err, FX_E_NOTFOUND, "gpio chip '%s': not found",
					  name);
		return sys_err(err, FX_E_GPIO, e, "gpio chip '%s'%s", name, "");
	}
	snprintf(g->chips[g->n_chips].name, sizeof(g->chips[0].name), "%s", name);
	g->chips[g->n_chips++].chip = c;
	*out = c;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Find the gpiod_line for a name (see fx/gpio.h). */
static int find_line(struct gd *g, const char *name, struct gpiod_line **out,
		     bool *own_chip, struct fx_err *err)
{
	const char *colon = strchr(name, ':');
	struct gpiod_chip *chip = NULL;
	struct gpiod_line *line = NULL;
	char chipname[FX_GPIO_NAME_MAX];
	int rc;

	*own_chip = false;
	if (!colon) {
		errno = 0;
		line = gpiod_line_find(name);
		if (!line) {
			if (errno && errno != ENOENT)
				return sys_err(err, FX_E_GPIO, errno,
					       "line '%s'%s: lookup failed", name, "");
			return fx_err_set(err, FX_E_NOTFOUND,
					  "line '%s': no gpio line has this name", name);
		}
		*own_chip = true;
		*out = line;
		return 0;
	}
	snprintf(chipname, sizeof(chipname), "%.*s", (int)(colon - name), name);
	rc = chip_get(g, chipname, &chip, err);
	if (rc)
		return fx_err_prefix(err, "line '%s'", name);
	if (all_digits(colon + 1)) {
		unsigned long off = strtoul(colon + 1, NULL, 10);

		if (off >= gpiod_chip_num_lines(chip))
			return fx_err_set(err, FX_E_NOTFOUND,
					  "line '%s': offset %lu out of range (chip has %u lines)",
					  name, off, gpiod_chip_num_lines(chip));
		line = gpiod_chip_get_line(chip, (unsigned)off);
	} else {
		errno = 0;
		line = gpiod_chip_find_line(chip, colon + 1);
		if (!line && (!errno || errno == ENOENT))
			return fx_err_set(err, FX_E_NOTFOUND,
					  "line '%s': no line of this name on '%s'",
					  name, chipname);
	}
	if (!line)
		return sys_err(err, FX_E_GPIO, errno ? errno : EIO,
			       "line '%s'%s", name, "");
	*out = line;
	return 0;
}

static int gd_open(const struct fx_clock *clk, struct fx_gpio **out,
		   struct fx_err *err)
{
	struct gd *g = calloc(1, sizeof(*g));

	(void)clk;
	if (!g)
		return fx_err_set(err, FX_E_NOMEM, "gpio: out of memory");
	*out = &g->base;
	return 0;
}

/* FX_GPIO_* line flags and their libgpiod v1.6 request flags */
static const struct {
	unsigned fx;
	int gd;
} flag_map[] = {
	{ FX_GPIO_ACTIVE_LOW, GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW },
	{ FX_GPIO_OPEN_DRAIN, GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN },
	{ FX_GPIO_OPEN_SOURCE, GPIOD_LINE_REQUEST_FLAG_OPEN_SOURCE },
	{ FX_GPIO_PULL_UP, GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP },
	{ FX_GPIO_PULL_DOWN, GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN },
	{ FX_GPIO_BIAS_DISABLE, GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE },
};

static int gd_request(struct fx_gpio *gpio, const struct fx_gpio_line_cfg *cfg,
		      struct fx_gpio_line **out, struct fx_err *err)
{
	struct gd *g = (struct gd *)gpio;
	struct gpiod_line_request_config rc_cfg;
	struct gpiod_line *line = NULL;
	struct gd_line *l;
	bool own_chip;
	size_t i;
	int rc;

	rc = find_line(g, cfg->name, &line, &own_chip, err);
	if (rc)
		return rc;
	memset(&rc_cfg, 0, sizeof(rc_cfg));
	rc_cfg.consumer = FX_GPIO_CONSUMER;
	rc_cfg.request_type = cfg->dir == FX_GPIO_OUTPUT
				      ? GPIOD_LINE_REQUEST_DIRECTION_OUTPUT
				      : GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
	for (i = 0; i < sizeof(flag_map) / sizeof(flag_map[0]); i++)
		if (cfg->flags & flag_map[i].fx)
			rc_cfg.flags |= flag_map[i].gd;

	l = calloc(1, sizeof(*l));
	if (!l) {
		rc = fx_err_set(err, FX_E_NOMEM, "line '%s': out of memory", cfg->name);
		goto err_close_chip;
	}
	errno = 0;
	if (gpiod_line_request(line, &rc_cfg, cfg->initial ? 1 : 0)) {
		int e = errno ? errno : EIO;

		if (e == EBUSY) {
			const char *who = NULL;

			if (!gpiod_line_update(line))
				who = gpiod_line_consumer(line);
			rc = fx_err_set(err, FX_E_BUSY, "line '%s': busy (used by '%s')",
					cfg->name, who ? who : "?");
			if (err)
				err->sys_errno = e;
		} else if (e == EINVAL || e == EOPNOTSUPP) {
			rc = sys_err(err, FX_E_NOTSUP, e,
				     "line '%s': the kernel refused the flags%s", cfg->name, "");
		} else {
			rc = sys_err(err, FX_E_GPIO, e, "line '%s': request%s", cfg->name, "");
		}
		goto err_free_line;
	}
	l->line = line;
	l->own_chip = own_chip;
	*out = &l->base;
	return 0;

err_free_line:
	free(l);
err_close_chip:
	if (own_chip)
		gpiod_line_close_chip(line);
	return rc;
}

static int gd_set(struct fx_gpio_line *fl, int value, struct fx_err *err)
{
	struct gd_line *l = (struct gd_line *)fl;

	errno = 0;
	if (gpiod_line_set_value(l->line, value))
		return sys_err(err, FX_E_GPIO, errno ? errno : EIO,
			       "line '%s': set%s", fl->cfg.name, "");
	return 0;
}

static int gd_get(struct fx_gpio_line *fl, int *value, struct fx_err *err)
{
	struct gd_line *l = (struct gd_line *)fl;
	int v;

	errno = 0;
	v = gpiod_line_get_value(l->line);
	if (v < 0)
		return sys_err(err, FX_E_GPIO, errno ? errno : EIO,
			       "line '%s': get%s", fl->cfg.name, "");
	*value = v;
	return 0;
}

/* Clock time of a kernel event: now minus its age. The kernel stamps
 * events with CLOCK_MONOTONIC (Linux >= 5.7; older kernels use
 * CLOCK_REALTIME: an implausible age counts as 0), so an edge queued
 * while nobody waited keeps its place in time for the debounce. */
static uint64_t event_time(const struct fx_clock *clk, const struct timespec *ts)
{
	uint64_t now = fx_clock_now(clk);
	struct timespec mono;
	int64_t age_us = 0;

	if (!clock_gettime(CLOCK_MONOTONIC, &mono)) {
		age_us = ((int64_t)mono.tv_sec - (int64_t)ts->tv_sec) * 1000000 +
			 ((int64_t)mono.tv_nsec - (int64_t)ts->tv_nsec) / 1000;
		if (age_us < 0 || age_us > 3600ll * 1000000)
			age_us = 0;
		/* whole ms: debouncing counts ms, below that is read delay */
		age_us -= age_us % 1000;
	}
	return now > (uint64_t)age_us ? now - (uint64_t)age_us : 0;
}

static int gd_wait_event(struct fx_gpio_line *fl, uint64_t deadline_us,
			 struct fx_gpio_event *ev, struct fx_err *err)
{
	struct gd_line *l = (struct gd_line *)fl;
	const struct fx_clock *clk = fl->gpio->clock;
	struct gpiod_line_event e;
	struct timespec ts;
	uint64_t now, left;
	int rc;

	for (;;) {
		/* at or past the deadline: still take an event already queued */
		now = fx_clock_now(clk);
		left = now < deadline_us ? deadline_us - now : 0;
		if (left > WAIT_SLICE_US)
			left = WAIT_SLICE_US;
		ts.tv_sec = (time_t)(left / 1000000u);
		ts.tv_nsec = (long)(left % 1000000u) * 1000;
		errno = 0;
		rc = gpiod_line_event_wait(l->line, &ts);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return sys_err(err, FX_E_GPIO, errno ? errno : EIO,
				       "line '%s': event wait%s", fl->cfg.name, "");
		}
		if (rc == 0) {
			if (fx_clock_now(clk) >= deadline_us)
				return FX_E_TIMEOUT;
			continue;
		}
		if (gpiod_line_event_read(l->line, &e))
			return sys_err(err, FX_E_GPIO, errno ? errno : EIO,
				       "line '%s': event read%s", fl->cfg.name, "");
		ev->t_us = event_time(clk, &e.ts);
		ev->value = e.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
		return 0;
	}
}

static void gd_release(struct fx_gpio_line *fl)
{
	struct gd_line *l = (struct gd_line *)fl;

	gpiod_line_release(l->line);
	if (l->own_chip)
		gpiod_line_close_chip(l->line);
	free(l);
}

static void gd_close(struct fx_gpio *gpio)
{
	struct gd *g = (struct gd *)gpio;
	size_t i;

	for (i = 0; i < g->n_chips; i++)
		gpiod_chip_close(g->chips[i].chip);
	free(g);
}

const struct fx_gpio_ops fx_gpio_gpiod_ops = {
	.name = "gpiod",
	.open = gd_open,
	.request = gd_request,
	.set = gd_set,
	.get = gd_get,
	.wait_event = gd_wait_event,
	.release = gd_release,
	.close = gd_close,
};
