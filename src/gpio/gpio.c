/* gpio.c - the wrappers of the GPIO seam (fx/gpio.h): backend table,
 * argument checks, the held-line list and the software debounce shared
 * by every backend. */
#include <stdio.h>
#include <string.h>

#include "fx/gpio.h"
#include "fx/log.h"

#define LOG_PREFIX "gpio"

static const struct fx_gpio_ops *const backends[] = {
	&fx_gpio_gpiod_ops,
	&fx_gpio_sim_ops,
};

int fx_gpio_open(const char *backend, const struct fx_clock *clk,
		 struct fx_gpio **out, struct fx_err *err)
{
	size_t i;
	struct fx_gpio *g = NULL;
	int rc;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(backends[i]->name, backend))
			continue;
		if (!backends[i]->open)
			return fx_err_set(err, FX_E_NOTSUP, "gpio backend '%s': not available",
					  backend);
		rc = backends[i]->open(clk, &g, err);
		if (rc)
			return rc;
		g->ops = backends[i];
		g->clock = clk;
		g->lines = NULL;
		*out = g;
		return 0;
	}
	return fx_err_set(err, FX_E_CONFIG, "gpio backend '%s': unknown (expected gpiod or sim)",
			  backend);
}

void fx_gpio_close(struct fx_gpio *g)
{
	if (!g)
		return;
	while (g->lines)
		fx_gpio_release(g->lines);
	g->ops->close(g);
}

const char *fx_gpio_backend_of(const char *line_name)
{
	return strncmp(line_name, FX_GPIO_SIM_PREFIX, strlen(FX_GPIO_SIM_PREFIX))
		       ? "gpiod" : "sim";
}

static bool name_char(char c, bool path)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       (path && c == '/');
}

static bool word_ok(const char *s, size_t n, bool path)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++)
		if (!name_char(s[i], path))
			return false;
	return true;
}

int fx_gpio_name_check(const char *name, struct fx_err *err)
{
	size_t n = strlen(name);
	size_t plen = strlen(FX_GPIO_SIM_PREFIX);
	const char *colon = strchr(name, ':');
	bool ok;

	if (n >= FX_GPIO_NAME_MAX)
		return fx_err_set(err, FX_E_CONFIG,
				  "line '%s': name too long (%zu characters, limit %d)",
				  name, n, FX_GPIO_NAME_MAX - 1);
	if (!strncmp(name, FX_GPIO_SIM_PREFIX, plen))
		ok = word_ok(name + plen, n - plen, false);
	else if (colon)
		ok = word_ok(name, (size_t)(colon - name), true) &&
		     word_ok(colon + 1, strlen(colon + 1), false);
	else
		ok = word_ok(name, n, false);
	if (!ok)
		return fx_err_set(err, FX_E_CONFIG,
				  "line '%s': expected CHIP:OFFSET, CHIP:NAME, NAME or sim:NAME",
				  name);
	return 0;
}

static const struct {
	const char *word;
	unsigned flag;
} flag_words[] = {
	{ "active-low", FX_GPIO_ACTIVE_LOW },
	{ "open-drain", FX_GPIO_OPEN_DRAIN },
	{ "open-source", FX_GPIO_OPEN_SOURCE },
	{ "pull-up", FX_GPIO_PULL_UP },
	{ "pull-down", FX_GPIO_PULL_DOWN },
	{ "bias-disable", FX_GPIO_BIAS_DISABLE },
};

bool fx_gpio_flag_parse(const char *word, unsigned *flag)
{
	size_t i;

	for (i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++) {
		if (!strcmp(word, flag_words[i].word)) {
			*flag = flag_words[i].flag;
			return true;
		}
	}
	return false;
}

int fx_gpio_flags_check(enum fx_gpio_dir dir, unsigned flags,
			struct fx_err *err)
{
	unsigned drive = flags & (FX_GPIO_OPEN_DRAIN | FX_GPIO_OPEN_SOURCE);
	unsigned bias = flags & (FX_GPIO_PULL_UP | FX_GPIO_PULL_DOWN |
				 FX_GPIO_BIAS_DISABLE);

	if (flags & ~(unsigned)(FX_GPIO_ACTIVE_LOW | FX_GPIO_OPEN_DRAIN |
				FX_GPIO_OPEN_SOURCE | FX_GPIO_PULL_UP |
				FX_GPIO_PULL_DOWN | FX_GPIO_BIAS_DISABLE))
		return fx_err_set(err, FX_E_CONFIG, "unknown flag bits 0x%x", flags);
	if (drive && dir == FX_GPIO_INPUT)
		return fx_err_set(err, FX_E_CONFIG, "%s is for outputs only",
				  (drive & FX_GPIO_OPEN_DRAIN) ? "open-drain" : "open-source");
	if (drive == (FX_GPIO_OPEN_DRAIN | FX_GPIO_OPEN_SOURCE))
		return fx_err_set(err, FX_E_CONFIG, "open-drain and open-source exclude each other");
	if (bias & (bias - 1))
		return fx_err_set(err, FX_E_CONFIG,
				  "pull-up, pull-down and bias-disable exclude each other");
	return 0;
}

int fx_gpio_request(struct fx_gpio *g, const struct fx_gpio_line_cfg *cfg,
		    struct fx_gpio_line **out, struct fx_err *err)
{
	struct fx_gpio_line *l, **tail;
	int rc, v;

	if (!g || !cfg || !out)
		return fx_err_set(err, FX_E_INVAL, "gpio request: missing argument");
	rc = fx_gpio_name_check(cfg->name, err);
	if (rc)
		return rc;
	if (strcmp(fx_gpio_backend_of(cfg->name), g->ops->name))
		return fx_err_set(err, FX_E_CONFIG, "line '%s': not a %s line",
				  cfg->name, g->ops->name);
	rc = fx_gpio_flags_check(cfg->dir, cfg->flags, err);
	if (rc)
		return fx_err_prefix(err, "line '%s'", cfg->name);
	for (l = g->lines; l; l = l->next)
		if (!strcmp(l->cfg.name, cfg->name))
			return fx_err_set(err, FX_E_BUSY, "line '%s': already requested",
					  cfg->name);
	if (!g->ops->request)
		return fx_err_set(err, FX_E_NOTSUP, "gpio backend '%s': no request",
				  g->ops->name);
	rc = g->ops->request(g, cfg, &l, err);
	if (rc)
		return rc;
	l->gpio = g;
	l->cfg = *cfg;
	l->cfg.initial = !!cfg->initial;
	l->stable = l->cfg.initial;
	l->has_pending = false;
	l->next = NULL;
	for (tail = &g->lines; *tail; tail = &(*tail)->next)
		;
	*tail = l;
	if (cfg->dir == FX_GPIO_INPUT) {
		rc = g->ops->get(l, &v, err);
		if (rc) {
			fx_gpio_release(l);
			return rc;
		}
		l->stable = v;
	}
	fx_log(FX_LOG_DEBUG, LOG_PREFIX, "line '%s' requested (%s)", cfg->name,
	       cfg->dir == FX_GPIO_OUTPUT ? "output" : "input");
	*out = l;
	return 0;
}

void fx_gpio_release(struct fx_gpio_line *l)
{
	struct fx_gpio_line **p;

	if (!l)
		return;
	for (p = &l->gpio->lines; *p; p = &(*p)->next) {
		if (*p == l) {
			*p = l->next;
			break;
		}
	}
	l->gpio->ops->release(l);
}

int fx_gpio_set(struct fx_gpio_line *l, int value, struct fx_err *err)
{
	if (l->cfg.dir != FX_GPIO_OUTPUT)
		return fx_err_set(err, FX_E_INVAL, "line '%s': is an input, cannot set it",
				  l->cfg.name);
	if (!l->gpio->ops->set)
		return fx_err_set(err, FX_E_NOTSUP, "gpio backend '%s': no set",
				  l->gpio->ops->name);
	return l->gpio->ops->set(l, !!value, err);
}

int fx_gpio_get(struct fx_gpio_line *l, int *value, struct fx_err *err)
{
	if (!l->gpio->ops->get)
		return fx_err_set(err, FX_E_NOTSUP, "gpio backend '%s': no get",
				  l->gpio->ops->name);
	return l->gpio->ops->get(l, value, err);
}

/* Next raw edge: the one read ahead while settling, else the backend's. */
static int next_event(struct fx_gpio_line *l, uint64_t deadline,
		      struct fx_gpio_event *ev, struct fx_err *err)
{
	if (l->has_pending) { /* it has happened already: no wait */
		*ev = l->pending;
		l->has_pending = false;
		return 0;
	}
	return l->gpio->ops->wait_event(l, deadline, ev, err);
}

/* Edges are for inputs, on backends that report them. */
static int check_edges(const struct fx_gpio_line *l, struct fx_err *err)
{
	if (l->cfg.dir != FX_GPIO_INPUT)
		return fx_err_set(err, FX_E_INVAL, "line '%s': is an output, no edges",
				  l->cfg.name);
	if (!l->gpio->ops->wait_event)
		return fx_err_set(err, FX_E_NOTSUP, "gpio backend '%s': no edge events",
				  l->gpio->ops->name);
	return 0;
}

int fx_gpio_wait_edge(struct fx_gpio_line *l, int want, unsigned timeout_ms,
		      struct fx_gpio_event *ev, struct fx_err *err)
{
	const struct fx_gpio_ops *ops = l->gpio->ops;
	const struct fx_clock *clk = l->gpio->clock;
	uint64_t deadline = fx_clock_now(clk) + (uint64_t)timeout_ms * 1000u;
	uint64_t deb = (uint64_t)l->cfg.debounce_ms * 1000u;
	struct fx_gpio_event raw, next;
	int rc, level;

	want = !!want;
	rc = check_edges(l, err);
	if (rc)
		return rc;
	for (;;) {
		rc = next_event(l, deadline, &raw, err);
		if (rc == FX_E_TIMEOUT)
			return fx_err_set(err, FX_E_TIMEOUT,
					  "line '%s': not %s within %u ms", l->cfg.name,
					  want ? "active" : "inactive", timeout_ms);
		if (rc)
			return rc;
		level = raw.value;
		if (deb) {
			/* settle: no further edge for deb after the last one */
			for (;;) {
				rc = next_event(l, raw.t_us + deb, &next, err);
				if (rc == FX_E_TIMEOUT) {
					/* the window ended now: trust the line */
					rc = ops->get(l, &level, err);
					if (rc)
						return rc;
					break;
				}
				if (rc)
					return rc;
				if (next.t_us > raw.t_us + deb) {
					/* a queued later edge: raw had settled */
					l->pending = next;
					l->has_pending = true;
					level = raw.value;
					break;
				}
				raw = next;
			}
		}
		if (level != l->stable) {
			l->stable = level;
			if (level == want) {
				if (ev) {
					ev->t_us = raw.t_us;
					ev->value = level;
				}
				return 0;
			}
		}
	}
}

int fx_gpio_flush(struct fx_gpio_line *l, struct fx_err *err)
{
	const struct fx_gpio_ops *ops = l->gpio->ops;
	uint64_t now = fx_clock_now(l->gpio->clock);
	struct fx_gpio_event raw;
	int rc, level;

	rc = check_edges(l, err);
	if (rc)
		return rc;
	/* deadline = now: takes what is queued, never blocks */
	while ((rc = ops->wait_event(l, now, &raw, err)) == 0)
		;
	if (rc != FX_E_TIMEOUT)
		return rc;
	l->has_pending = false;
	rc = ops->get(l, &level, err);
	if (rc)
		return rc;
	l->stable = level;
	return 0;
}

const char *fx_gpio_line_name(const struct fx_gpio_line *l)
{
	return l->cfg.name;
}
