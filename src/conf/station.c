/* station.c - station files (format in fx/conf.h): the jig wiring, written
 * once per jig. Checked without touching hardware: line names, flags,
 * one backend per station, no line or device used twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/gpio.h"
#include "conf_priv.h"
#include "ini_reader.h"

#define TIMING_MAX 10000u

/* Where each wired line was set, to refuse a line used twice and a mix of
 * backends. */
struct wired {
	const char *key;       /* static */
	unsigned slot;         /* 0 = [station] */
	unsigned line;
	const struct fx_gpio_line_cfg *cfg;
};

struct sparse {
	struct fx_station *st;
	struct fx_station_slot *slot; /* current [slot N], NULL in [station] */
	bool slot_seen[FX_STATION_MAX_SLOTS + 1];
	bool power_off_set[FX_STATION_MAX_SLOTS + 1];
	unsigned device_line[FX_STATION_MAX_SLOTS + 1];
	struct wired wired[8 + FX_STATION_MAX_SLOTS * 9];
	size_t n_wired;
};

static bool parse_slot_index(const char *section, unsigned *idx)
{
	const char *p = section + 4;
	unsigned v = 0;

	if (strncmp(section, "slot", 4) || (*p != ' ' && *p != '\t'))
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000)
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	*idx = v;
	return true;
}

static void slot_defaults(struct fx_station_slot *s, unsigned idx)
{
	memset(s, 0, sizeof(*s));
	s->index = idx;
	s->timing.power_on_ms = 50;
	s->timing.power_off_ms = 200;
	s->timing.nrst_pulse_ms = 20;
	s->timing.boot0_setup_ms = 5;
}

static bool on_section(struct fx_ini *ini, const char *section, void *user)
{
	struct sparse *sp = user;
	unsigned idx;

	sp->slot = NULL;
	if (!strcmp(section, "station"))
		return true;
	if (!strncmp(section, "slot", 4)) {
		if (!parse_slot_index(section, &idx) || idx < 1 ||
		    idx > FX_STATION_MAX_SLOTS) {
			fx_ini_error(ini, NULL,
				     "section '%s': expected [slot N] with N from 1 to %d",
				     section, FX_STATION_MAX_SLOTS);
			return false;
		}
		if (sp->slot_seen[idx]) {
			/* "[slot 1]" and "[slot  1]": same slot */
			fx_ini_error(ini, NULL, "section '%s': slot %u defined twice",
				     section, idx);
			return false;
		}
		sp->slot_seen[idx] = true;
		sp->slot = &sp->st->slots[sp->st->n_slots++];
		slot_defaults(sp->slot, idx);
		return true;
	}
	fx_ini_error(ini, NULL,
		     "section '%s': unknown section (expected station or slot N)",
		     section);
	return false;
}

/* "LINE [FLAG...]" into cfg. */
static void key_line(struct fx_ini *ini, struct sparse *sp, const char *key,
		     const char *value, struct fx_gpio_line_cfg *cfg,
		     enum fx_gpio_dir dir, int initial)
{
	char buf[FX_CONF_LINE_MAX + 1];
	char *p, *word, *save = NULL;
	unsigned flags = 0, f;
	struct fx_err e;
	struct wired *w;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", value);
	p = buf;
	word = strtok_r(p, " \t", &save);
	if (!word) {
		fx_ini_error(ini, key, "expected a gpio line (e.g. gpiochip0:17 or sim:NAME), got ''");
		return;
	}
	fx_err_clear(&e);
	if (fx_gpio_name_check(word, &e)) {
		fx_ini_error(ini, key, "%s", e.msg);
		return;
	}
	snprintf(cfg->name, sizeof(cfg->name), "%s", word);
	while ((word = strtok_r(NULL, " \t", &save))) {
		if (!fx_gpio_flag_parse(word, &f)) {
			fx_ini_error(ini, key,
				     "unknown flag '%s' (expected active-low, open-drain, open-source, pull-up, pull-down or bias-disable)",
				     word);
			cfg->name[0] = '\0';
			return;
		}
		flags |= f;
	}
	if (fx_gpio_flags_check(dir, flags, &e)) {
		fx_ini_error(ini, key, "%s", e.msg);
		cfg->name[0] = '\0';
		return;
	}
	cfg->dir = dir;
	cfg->flags = flags;
	cfg->initial = initial;
	cfg->debounce_ms = 0; /* set from [station] debounce_ms at the end */

	for (i = 0; i < sp->n_wired; i++) {
		const struct wired *o = &sp->wired[i];

		if (!strcmp(o->cfg->name, cfg->name)) {
			char where[32] = "";

			if (o->slot)
				snprintf(where, sizeof(where), " of [slot %u]", o->slot);
			fx_ini_error(ini, key, "line '%s' already used by '%s'%s (line %u)",
				     cfg->name, o->key, where, o->line);
			cfg->name[0] = '\0';
			return;
		}
	}
	if (sp->n_wired < sizeof(sp->wired) / sizeof(sp->wired[0])) {
		w = &sp->wired[sp->n_wired++];
		w->key = key;
		w->slot = sp->slot ? sp->slot->index : 0;
		w->line = ini->line;
		w->cfg = cfg;
	}
}

/* A gpio line key: its name, the cfg it fills and how the line is used. */
struct line_key {
	const char *name;
	struct fx_gpio_line_cfg *cfg;
	enum fx_gpio_dir dir;
	int initial;
};

/* key_line() when key names one of the n entries of keys; false, reporting
 * nothing, when it does not. */
static bool line_key_set(struct fx_ini *ini, struct sparse *sp,
			 const struct line_key *keys, size_t n, const char *key,
			 const char *value)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(key, keys[i].name)) {
			key_line(ini, sp, keys[i].name, value, keys[i].cfg, keys[i].dir,
				 keys[i].initial);
			return true;
		}
	}
	return false;
}

static void key_device(struct fx_ini *ini, struct sparse *sp, const char *key,
		       const char *value)
{
	struct fx_station_slot *s = sp->slot;
	size_t i;

	if (!strncmp(value, "usb:", 4)) {
		const char *p = value + 4;
		bool ok = *p >= '1' && *p <= '9';

		/* port path "BUS-PORT[.PORT...]" (sysfs style, e.g. 1-1.4) */
		while (ok && *p >= '0' && *p <= '9')
			p++;
		ok = ok && *p++ == '-';
		while (ok) {
			if (!(*p >= '0' && *p <= '9')) {
				ok = false;
				break;
			}
			while (*p >= '0' && *p <= '9')
				p++;
			if (!*p)
				break;
			ok = *p++ == '.';
		}
		if (!ok) {
			fx_ini_error(ini, key,
				     "expected usb:PORTPATH (e.g. usb:1-1.4) or emu:FILE, got '%s'",
				     value);
			return;
		}
		snprintf(s->device, sizeof(s->device), "%s", value);
		s->emulated = false;
	} else if (!strncmp(value, "emu:", 4)) {
		const char *file = value + 4;
		const char *q = strchr(file, '?');
		size_t flen = q ? (size_t)(q - file) : strlen(file);
		char rel[FX_CONF_PATH_MAX];

		if (!flen || flen >= sizeof(rel)) {
			fx_ini_error(ini, key, "expected emu:FILE[?KNOBS], got '%s'", value);
			return;
		}
		if (q) {
			struct fx_emu_knobs k;
			struct fx_err e;
			bool boot0;

			fx_emu_knobs_default(&k);
			fx_err_clear(&e);
			if (fx_emu_knobs_parse(&k, &boot0, q + 1, &e)) {
				fx_ini_error(ini, key, "%s", e.msg);
				return;
			}
		}
		memcpy(rel, file, flen);
		rel[flen] = '\0';
		if (!fx_ini_path(ini, key, rel, s->board_path, sizeof(s->board_path)))
			return;
		if (snprintf(s->device, sizeof(s->device), "emu:%s%s", s->board_path,
			     q ? q : "") >= (int)sizeof(s->device)) {
			fx_ini_error(ini, key, "path too long");
			s->board_path[0] = '\0';
			return;
		}
		s->emulated = true;
	} else {
		fx_ini_error(ini, key,
			     "expected usb:PORTPATH (e.g. usb:1-1.4) or emu:FILE, got '%s'",
			     value);
		return;
	}
	for (i = 0; i < sp->st->n_slots; i++) {
		const struct fx_station_slot *o = &sp->st->slots[i];

		if (o != s && o->device[0] && !strcmp(o->device, s->device)) {
			fx_ini_error(ini, key, "'%s' already used by [slot %u] (line %u)",
				     value, o->index, sp->device_line[o->index]);
			s->device[0] = '\0';
			s->board_path[0] = '\0';
			return;
		}
	}
	sp->device_line[s->index] = ini->line;
}

static void on_key(struct fx_ini *ini, const char *section, const char *key,
		   const char *value, void *user)
{
	struct sparse *sp = user;
	struct fx_station *st = sp->st;
	struct fx_station_slot *s = sp->slot;

	if (!strcmp(section, "station")) {
		const struct line_key lines[] = {
			{ "start", &st->start, FX_GPIO_INPUT, 0 },
			{ "lid", &st->lid, FX_GPIO_INPUT, 0 },
			{ "tower_green", &st->tower_green, FX_GPIO_OUTPUT, 0 },
			{ "tower_yellow", &st->tower_yellow, FX_GPIO_OUTPUT, 0 },
			{ "tower_red", &st->tower_red, FX_GPIO_OUTPUT, 0 },
			{ "buzzer", &st->buzzer, FX_GPIO_OUTPUT, 0 },
		};

		if (line_key_set(ini, sp, lines, sizeof(lines) / sizeof(lines[0]), key, value))
			return;
		if (!strcmp(key, "name"))
			fx_ini_ident(ini, key, value, st->name, sizeof(st->name));
		else if (!strcmp(key, "database"))
			fx_ini_path(ini, key, value, st->db_path, sizeof(st->db_path));
		else if (!strcmp(key, "debounce_ms"))
			fx_ini_uint(ini, key, value, 0, 1000, &st->debounce_ms);
		else if (!strcmp(key, "start_mode")) {
			if (!strcmp(value, "batch"))
				st->start_mode = FX_STATION_START_BATCH;
			else if (!strcmp(value, "independent"))
				st->start_mode = FX_STATION_START_INDEPENDENT;
			else
				fx_ini_error(ini, key, "expected batch or independent, got '%s'",
					     value);
		} else if (!strcmp(key, "hub")) {
			if (!strcmp(value, "multi-tt"))
				st->hub = FX_STATION_HUB_MULTI_TT;
			else if (!strcmp(value, "single-tt"))
				st->hub = FX_STATION_HUB_SINGLE_TT;
			else
				fx_ini_error(ini, key, "expected multi-tt or single-tt, got '%s'",
					     value);
		} else if (!strcmp(key, "line")) /* fleet attribute (fx/fleet.h) */
			fx_ini_ident(ini, key, value, st->line, sizeof(st->line));
		else if (!strcmp(key, "sync_warn_after"))
			fx_ini_uint(ini, key, value, 1, 604800, &st->sync_warn_after_s);
		else if (!strcmp(key, "emulator")) {
			if (strcmp(value, "fxemu"))
				fx_ini_error(ini, key, "expected fxemu, got '%s'", value);
			else
				st->fxemu = true;
		} else
			fx_ini_error(ini, key, "unknown key in [station]");
		return;
	}
	/* [slot N] */
	{
		const struct line_key lines[] = {
			{ "boot0", &s->boot0, FX_GPIO_OUTPUT, 0 },
			{ "nrst", &s->nrst, FX_GPIO_OUTPUT, 1 }, /* not in reset */
			{ "power", &s->power, FX_GPIO_OUTPUT, 0 },
			{ "led_pass", &s->led_pass, FX_GPIO_OUTPUT, 0 },
			{ "led_fail", &s->led_fail, FX_GPIO_OUTPUT, 0 },
			{ "led_busy", &s->led_busy, FX_GPIO_OUTPUT, 0 },
			{ "present", &s->present, FX_GPIO_INPUT, 0 },
			{ "start", &s->start, FX_GPIO_INPUT, 0 },
			{ "lid", &s->lid, FX_GPIO_INPUT, 0 },
		};
		const struct fx_conf_uint_key timings[] = {
			{ "power_on_ms", &s->timing.power_on_ms },
			{ "power_off_ms", &s->timing.power_off_ms },
			{ "nrst_pulse_ms", &s->timing.nrst_pulse_ms },
			{ "boot0_setup_ms", &s->timing.boot0_setup_ms },
		};

		if (line_key_set(ini, sp, lines, sizeof(lines) / sizeof(lines[0]), key, value))
			return;
		if (fx_conf_uint_key_set(ini, timings, sizeof(timings) / sizeof(timings[0]),
					 key, value, 0, TIMING_MAX))
			return;
		if (!strcmp(key, "device"))
			key_device(ini, sp, key, value);
		else if (!strcmp(key, "recipe"))
			fx_ini_path(ini, key, value, s->recipe_path, sizeof(s->recipe_path));
		else if (!strcmp(key, "power_off_at_end")) {
			if (fx_ini_bool(ini, key, value, &s->power_off_at_end))
				sp->power_off_set[s->index] = true;
		} else
			fx_ini_error(ini, key, "unknown key in [%s]", section);
	}
}

/* emulator = fxemu: the boards are inside build/fxemu, on its root hub
 * ports 1-1 .. 1-8 (src/fxemu), reached as usb: devices. */
static void check_fxemu_device(struct fx_ini *ini, struct sparse *sp,
			       const struct fx_station_slot *s)
{
	unsigned port;
	char tail;

	if (s->emulated)
		fx_ini_error_at(ini, sp->device_line[s->index], "device",
				"emulator = fxemu: the boards are inside fxemu, use usb:1-N "
				"(fxemu's port of the board), not emu:");
	else if (sscanf(s->device, "usb:1-%u%c", &port, &tail) != 1 || port < 1 ||
		 port > 8)
		fx_ini_error_at(ini, sp->device_line[s->index], "device",
				"emulator = fxemu: expected usb:1-1 .. usb:1-8 (fxemu's ports), "
				"got '%s'", s->device);
}

/* start/lid per slot: independent mode only, start required there. */
static void check_slot_mode(struct fx_ini *ini, const struct fx_station *st,
			    const char *sec)
{
	static const char *const keys[] = { "start", "lid" };
	size_t k;

	if (st->start_mode == FX_STATION_START_INDEPENDENT) {
		if (!fx_ini_key_line(ini, sec, "start"))
			fx_ini_error_at(ini, fx_ini_section_line(ini, sec), "start",
					"missing in [%s] (start_mode = independent: every slot "
					"has its own START)", sec);
		return;
	}
	for (k = 0; k < 2; k++)
		if (fx_ini_key_line(ini, sec, keys[k]))
			fx_ini_error_at(ini, fx_ini_key_line(ini, sec, keys[k]), keys[k],
					"a %s line per slot needs 'start_mode = independent' "
					"in [station]", keys[k]);
}

/* [slot N] recipe = FILE is loaded and checked with the station (so
 * `check` validates it): each of its problems is reported at the key. */
static void check_slot_recipe(struct fx_ini *ini, const struct fx_station_slot *s,
			      const char *sec)
{
	unsigned line = fx_ini_key_line(ini, sec, "recipe");
	struct fx_recipe *r = NULL;
	struct fx_conf_diags d;
	struct fx_err e;
	size_t k;

	fx_conf_diags_init(&d);
	fx_err_clear(&e);
	if (fx_recipe_load(s->recipe_path, &r, &d, &e)) {
		if (!d.n)
			fx_ini_error_at(ini, line, "recipe", "%s", e.msg);
		for (k = 0; k < d.n; k++)
			fx_ini_error_at(ini, line, "recipe", "%s", d.msgs[k]);
	}
	fx_recipe_free(r);
	fx_conf_diags_release(&d);
}

static void check_whole(struct fx_ini *ini, void *user)
{
	struct sparse *sp = user;
	struct fx_station *st = sp->st;
	const struct wired *first = NULL;
	bool sim = false;
	unsigned sl;
	size_t i;

	sl = fx_ini_section_line(ini, "station");
	if (!sl) {
		fx_ini_error_at(ini, 0, NULL, "section 'station': missing");
	} else {
		static const char *const req[] = { "name", "database", "start" };
		/* independent: START is per slot */
		size_t n_req = st->start_mode == FX_STATION_START_INDEPENDENT ? 2 : 3;

		for (i = 0; i < n_req; i++)
			if (!fx_ini_key_line(ini, "station", req[i]))
				fx_ini_error_at(ini, sl, req[i], "missing in [station]");
		if (n_req == 2 && fx_ini_key_line(ini, "station", "start"))
			fx_ini_error_at(ini, fx_ini_key_line(ini, "station", "start"), "start",
					"start_mode = independent: each [slot N] has its own "
					"start line, not [station]");
	}
	if (!st->n_slots)
		fx_ini_error_at(ini, 0, NULL, "no [slot N] section: a station has at least one slot");

	/* one backend per station: the first wired line decides */
	for (i = 0; i < sp->n_wired; i++) {
		const struct wired *w = &sp->wired[i];
		bool is_sim = !strcmp(fx_gpio_backend_of(w->cfg->name), "sim");

		if (!first) {
			first = w;
			sim = is_sim;
		} else if (is_sim != sim) {
			fx_ini_error_at(ini, w->line, w->key,
					"line '%s' is %s but '%s' (line %u) is %s: use sim: lines throughout or none",
					w->cfg->name, is_sim ? "emulated" : "real",
					first->key, first->line, sim ? "emulated" : "real");
		}
	}
	st->gpio_backend = sim ? "sim" : "gpiod";
	if (st->fxemu && first && !sim)
		fx_ini_error_at(ini, fx_ini_key_line(ini, "station", "emulator"), "emulator",
				"fxemu needs sim: gpio lines (fxemu drives the boards' pins), "
				"got the real line '%s'", first->cfg->name);

	for (i = 0; i < st->n_slots; i++) {
		struct fx_station_slot *s = &st->slots[i];
		char sec[16];
		static const char *const req[] = { "device", "boot0", "nrst" };
		size_t k;

		snprintf(sec, sizeof(sec), "slot %u", s->index);
		sl = fx_ini_section_line(ini, sec);
		for (k = 0; k < 3; k++)
			if (!fx_ini_key_line(ini, sec, req[k]))
				fx_ini_error_at(ini, sl, req[k], "missing in [%s]", sec);
		if (s->device[0] && st->fxemu)
			check_fxemu_device(ini, sp, s);
		else if (s->device[0] && first && s->emulated != sim)
			fx_ini_error_at(ini, sp->device_line[s->index], "device",
					s->emulated ? "emu: boards need sim: gpio lines (the emulated gpio drives their pins)"
						    : "usb: devices need real gpio lines, not sim: "
						      "(or 'emulator = fxemu' in [station] when build/fxemu "
						      "emulates the boards)");
		check_slot_mode(ini, st, sec);
		if (s->recipe_path[0])
			check_slot_recipe(ini, s, sec);
		if (st->hub == FX_STATION_HUB_SINGLE_TT && s->device[0] && !s->emulated &&
		    !st->fxemu)
			fx_ini_error_at(ini, fx_ini_key_line(ini, "station", "hub"), "hub",
					"single-tt models the hub of emulated boards; [%s] is the "
					"real device '%s'", sec, s->device);
		if (sp->power_off_set[s->index]) {
			if (s->power_off_at_end && !s->power.name[0])
				fx_ini_error_at(ini, fx_ini_key_line(ini, sec, "power_off_at_end"),
						"power_off_at_end", "needs a 'power' line in [%s]", sec);
		} else {
			s->power_off_at_end = s->power.name[0] != '\0';
		}
	}

	/* inputs debounce with the station's setting */
	st->start.debounce_ms = st->debounce_ms;
	st->lid.debounce_ms = st->debounce_ms;
	for (i = 0; i < st->n_slots; i++) {
		st->slots[i].start.debounce_ms = st->debounce_ms;
		st->slots[i].lid.debounce_ms = st->debounce_ms;
		st->slots[i].present.debounce_ms = st->debounce_ms;
	}
}

/* By index, in place (at most FX_STATION_MAX_SLOTS; qsort may allocate). */
static void sort_slots(struct fx_station *st)
{
	size_t i, j;

	for (i = 1; i < st->n_slots; i++) {
		struct fx_station_slot tmp = st->slots[i];

		for (j = i; j > 0 && st->slots[j - 1].index > tmp.index; j--)
			st->slots[j] = st->slots[j - 1];
		st->slots[j] = tmp;
	}
}

int fx_station_load(const char *path, struct fx_station **out,
		    struct fx_conf_diags *diags, struct fx_err *err)
{
	struct sparse *sp;
	struct fx_station *st;
	int rc;

	sp = calloc(1, sizeof(*sp));
	st = calloc(1, sizeof(*st));
	if (!sp || !st) {
		rc = fx_err_set(err, FX_E_NOMEM, "out of memory loading '%s'", path);
		goto err_free;
	}
	sp->st = st;
	snprintf(st->path, sizeof(st->path), "%s", path);
	st->debounce_ms = 30;
	st->sync_warn_after_s = 600;
	st->gpio_backend = "gpiod";
	rc = fx_conf_ini_load(path, on_section, on_key, check_whole, sp, NULL, diags,
			      err);
	if (rc)
		goto err_free;
	sort_slots(st);
	free(sp);
	*out = st;
	return 0;

err_free:
	free(st);
	free(sp);
	return rc;
}

const char *fx_station_start_mode_name(enum fx_station_start_mode m)
{
	return m == FX_STATION_START_INDEPENDENT ? "independent" : "batch";
}

const char *fx_station_hub_name(enum fx_station_hub h)
{
	return h == FX_STATION_HUB_SINGLE_TT ? "single-tt" : "multi-tt";
}

void fx_station_free(struct fx_station *st)
{
	free(st);
}

const struct fx_station_slot *fx_station_slot_find(const struct fx_station *st,
						   unsigned index)
{
	size_t i;

	for (i = 0; i < st->n_slots; i++)
		if (st->slots[i].index == index)
			return &st->slots[i];
	return NULL;
}
