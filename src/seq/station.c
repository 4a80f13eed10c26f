/* station.c - the station runtime (fx/seq.h): GPIO lines requested once
 * and held, emulated boards wired to the sim lines, START/LID, tower. */
#include <stdlib.h>
#include <string.h>

#include "fx/emu.h"
#include "fx/log.h"
#include "seq_priv.h"

#define LOG_PREFIX "station"
/* scripted START presses are held long enough that a loaded host on a
 * real-time clock cannot sleep past the release before the press settled */
#define START_HOLD_MS 500u

/* Request one line if wired (name non-empty); *out stays NULL if not. */
static int req(struct fx_seq_station *s, const struct fx_gpio_line_cfg *cfg,
	       struct fx_gpio_line **out, struct fx_err *err)
{
	*out = NULL;
	if (!cfg->name[0])
		return 0;
	return fx_gpio_request(s->gpio, cfg, out, err);
}

static int attach_pin(struct fx_seq_slot *sl, const struct fx_gpio_line *l,
		      struct fx_emu *board, enum fx_gpio_sim_pin pin,
		      struct fx_err *err)
{
	if (!l)
		return 0;
	return fx_gpio_sim_attach(sl->station->gpio, fx_gpio_line_name(l),
				  board, pin, err);
}

/* Wire the sim outputs of the slot to board (NULL detaches). */
static int attach_board(struct fx_seq_slot *sl, struct fx_emu *board,
			struct fx_err *err)
{
	int rc;

	rc = attach_pin(sl, sl->boot0, board, FX_GPIO_SIM_PIN_BOOT0, err);
	if (!rc)
		rc = attach_pin(sl, sl->nrst, board, FX_GPIO_SIM_PIN_NRST, err);
	if (!rc)
		rc = attach_pin(sl, sl->power, board, FX_GPIO_SIM_PIN_POWER, err);
	if (!rc && board && !sl->power)
		fx_emu_set_power(board, true); /* the jig powers the board */
	return rc;
}

/* emulator = fxemu: the slot's board is inside build/fxemu on the port of
 * its usb: device; the sim BOOT0/NRST/POWER lines drive it through
 * fxemu's pin socket ($FXEMU_CTL), their current levels sent now. */
static int attach_remote(struct fx_seq_slot *sl, struct fx_err *err)
{
	const struct {
		const struct fx_gpio_line *l;
		enum fx_gpio_sim_pin pin;
	} pins[] = {
		{ sl->boot0, FX_GPIO_SIM_PIN_BOOT0 },
		{ sl->nrst, FX_GPIO_SIM_PIN_NRST },
		{ sl->power, FX_GPIO_SIM_PIN_POWER },
	};
	const char *port = sl->cfg->device + strlen("usb:");
	size_t i;
	int rc;

	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		if (!pins[i].l)
			continue;
		rc = fx_gpio_sim_attach_remote(sl->station->gpio,
					       fx_gpio_line_name(pins[i].l), NULL,
					       port, pins[i].pin, err);
		if (rc)
			return fx_err_prefix(err, "slot %u", sl->cfg->index);
	}
	return 0;
}

/* The knobs of the slot's emu: URI (fault injection, spec 8 variants). */
static int slot_knobs(const struct fx_seq_slot *sl, struct fx_emu_knobs *knobs,
		      struct fx_err *err)
{
	const char *q = strchr(sl->cfg->device, '?');
	bool boot0 = false;

	fx_emu_knobs_default(knobs);
	if (q && fx_emu_knobs_parse(knobs, &boot0, q + 1, err))
		return fx_err_prefix(err, "slot %u", sl->cfg->index);
	return 0;
}

static int load_board(struct fx_seq_slot *sl, struct fx_err *err)
{
	struct fx_emu_knobs knobs;
	struct fx_emu *board;
	int rc;

	rc = slot_knobs(sl, &knobs, err);
	if (rc)
		return rc;
	board = fx_emu_load(sl->cfg->board_path, sl->station->clock, err);
	if (!board)
		return err ? err->code : FX_E_FILE;
	fx_emu_set_knobs(board, &knobs);
	sl->board = board;
	return attach_board(sl, board, err);
}

static int open_slot(struct fx_seq_station *s, struct fx_seq_slot *sl,
		     const struct fx_station_slot *cfg, struct fx_err *err)
{
	int rc;

	sl->station = s;
	sl->cfg = cfg;
	rc = req(s, &cfg->boot0, &sl->boot0, err);
	if (!rc)
		rc = req(s, &cfg->nrst, &sl->nrst, err);
	if (!rc)
		rc = req(s, &cfg->power, &sl->power, err);
	if (!rc)
		rc = req(s, &cfg->led_pass, &sl->led_pass, err);
	if (!rc)
		rc = req(s, &cfg->led_fail, &sl->led_fail, err);
	if (!rc)
		rc = req(s, &cfg->led_busy, &sl->led_busy, err);
	if (!rc)
		rc = req(s, &cfg->present, &sl->present, err);
	if (!rc)
		rc = req(s, &cfg->start, &sl->start, err);
	if (!rc)
		rc = req(s, &cfg->lid, &sl->lid, err);
	/* an emulated jig: a board is in the socket, the lid is closed
	 * (tests and demos drive them otherwise) */
	if (!rc && s->sim && sl->present)
		rc = fx_gpio_sim_drive(s->gpio, fx_gpio_line_name(sl->present), 1, err);
	if (!rc && s->sim && sl->lid)
		rc = fx_gpio_sim_drive(s->gpio, fx_gpio_line_name(sl->lid), 1, err);
	if (!rc && (!sl->boot0 || !sl->nrst))
		rc = fx_err_set(err, FX_E_CONFIG, "slot %u: boot0 and nrst must be wired",
				cfg->index);
	if (!rc && cfg->emulated) {
		if (!s->sim)
			rc = fx_err_set(err, FX_E_CONFIG,
					"slot %u: emulated device '%s' needs sim: lines",
					cfg->index, cfg->device);
		else
			rc = load_board(sl, err);
	} else if (!rc && s->sim) {
		if (!s->cfg->fxemu)
			rc = fx_err_set(err, FX_E_CONFIG,
					"slot %u: device '%s' with sim: lines needs "
					"'emulator = fxemu' in [station]",
					cfg->index, cfg->device);
		else
			rc = attach_remote(sl, err);
	}
	return rc;
}

static void teardown(struct fx_seq_station *s, bool save)
{
	struct fx_err err;
	size_t i;

	for (i = 0; i < s->n_slots; i++) {
		struct fx_seq_slot *sl = &s->slots[i];

		if (!sl->board)
			continue;
		fx_err_clear(&err);
		if (save && fx_seq_slot_save(sl, &err))
			fx_log(FX_LOG_ERR, LOG_PREFIX, "%s", err.msg);
		fx_err_clear(&err);
		attach_board(sl, NULL, &err);
		fx_emu_free(sl->board);
		sl->board = NULL;
	}
	fx_gpio_close(s->gpio); /* releases every line */
	if (s->have_bus)
		fx_usb_emu_bus_release(&s->bus);
	free(s);
}

int fx_seq_station_open(const struct fx_station *st, const struct fx_clock *clk,
			struct fx_seq_station **out, struct fx_err *err)
{
	struct fx_seq_station *s;
	const char *backend;
	size_t i;
	int rc;

	if (!st || !clk || !out || st->n_slots == 0 ||
	    st->n_slots > FX_STATION_MAX_SLOTS)
		return fx_err_set(err, FX_E_INVAL, "station: bad arguments");
	s = calloc(1, sizeof(*s));
	if (!s)
		return fx_err_set(err, FX_E_NOMEM, "out of memory");
	s->cfg = st;
	s->clock = clk;
	backend = st->gpio_backend ? st->gpio_backend :
		  fx_gpio_backend_of(st->start.name);
	s->sim = !strcmp(backend, "sim");
	rc = fx_gpio_open(backend, clk, &s->gpio, err);
	if (rc)
		goto err_free;
	rc = req(s, &st->start, &s->start, err);
	if (!rc)
		rc = req(s, &st->lid, &s->lid, err);
	if (!rc)
		rc = req(s, &st->tower_green, &s->tower_green, err);
	if (!rc)
		rc = req(s, &st->tower_yellow, &s->tower_yellow, err);
	if (!rc)
		rc = req(s, &st->tower_red, &s->tower_red, err);
	if (!rc)
		rc = req(s, &st->buzzer, &s->buzzer, err);
	if (!rc && !s->start && st->start_mode == FX_STATION_START_BATCH)
		rc = fx_err_set(err, FX_E_CONFIG, "station '%s': no start line",
				st->name);
	if (!rc && st->hub == FX_STATION_HUB_SINGLE_TT) {
		rc = fx_usb_emu_bus_init(&s->bus);
		if (rc)
			rc = fx_err_set(err, rc, "station '%s': out of memory", st->name);
		else
			s->have_bus = true;
	}
	if (!rc && s->sim && s->lid)
		rc = fx_gpio_sim_drive(s->gpio, fx_gpio_line_name(s->lid), 1, err);
	for (i = 0; !rc && i < st->n_slots; i++) {
		rc = open_slot(s, &s->slots[i], &st->slots[i], err);
		s->n_slots = i + 1;
	}
	if (rc)
		goto err_close;
	*out = s;
	return 0;

err_close:
	teardown(s, false);
	return rc;
err_free:
	free(s);
	return rc;
}

void fx_seq_station_close(struct fx_seq_station *s)
{
	if (s)
		teardown(s, true);
}

struct fx_gpio *fx_seq_station_gpio(struct fx_seq_station *s)
{
	return s->gpio;
}

const struct fx_station *fx_seq_station_conf(const struct fx_seq_station *s)
{
	return s->cfg;
}

const struct fx_clock *fx_seq_station_clock(const struct fx_seq_station *s)
{
	return s->clock;
}

struct fx_seq_slot *fx_seq_station_slot(struct fx_seq_station *s,
					unsigned index)
{
	size_t i;

	for (i = 0; i < s->n_slots; i++)
		if (s->slots[i].cfg->index == index)
			return &s->slots[i];
	return NULL;
}

struct fx_seq_slot *fx_seq_station_first(struct fx_seq_station *s)
{
	return s->n_slots ? &s->slots[0] : NULL;
}

/* START (debounced rising edge) with the lid closed, if wired. */
static int wait_start(const struct fx_seq_station *s, struct fx_gpio_line *start,
		      struct fx_gpio_line *lid_line, unsigned timeout_ms,
		      struct fx_err *err)
{
	uint64_t deadline = fx_clock_now(s->clock) + (uint64_t)timeout_ms * 1000u;

	for (;;) {
		uint64_t now = fx_clock_now(s->clock);
		unsigned left;
		int rc, lid = 1;

		if (now >= deadline)
			return fx_err_set(err, FX_E_TIMEOUT,
					  "no START press within %u ms", timeout_ms);
		left = (unsigned)((deadline - now + 999u) / 1000u);
		rc = fx_gpio_wait_edge(start, 1, left, NULL, err);
		if (rc == FX_E_TIMEOUT)
			return fx_err_set(err, FX_E_TIMEOUT,
					  "no START press within %u ms", timeout_ms);
		if (rc)
			return rc;
		if (lid_line) {
			rc = fx_gpio_get(lid_line, &lid, err);
			if (rc)
				return rc;
		}
		if (lid)
			return 0;
		fx_log(FX_LOG_WARN, LOG_PREFIX, "START ignored: the lid is open");
	}
}

int fx_seq_station_wait_start(struct fx_seq_station *s, unsigned timeout_ms,
			      struct fx_err *err)
{
	if (!s->start)
		return fx_err_set(err, FX_E_CONFIG,
				  "station '%s': no station START (start_mode = independent: "
				  "each slot has its own)", s->cfg->name);
	return wait_start(s, s->start, s->lid, timeout_ms, err);
}

int fx_seq_slot_wait_start(struct fx_seq_slot *sl, unsigned timeout_ms,
			   struct fx_err *err)
{
	struct fx_seq_station *s = sl->station;

	if (!sl->start)
		return fx_seq_station_wait_start(s, timeout_ms, err);
	return wait_start(s, sl->start, sl->lid ? sl->lid : s->lid, timeout_ms, err);
}

int fx_seq_slot_press_start(struct fx_seq_slot *sl, uint64_t at_us,
			    struct fx_err *err)
{
	struct fx_gpio_line *l = sl->start ? sl->start : sl->station->start;

	if (!sl->station->sim)
		return fx_err_set(err, FX_E_NOTSUP,
				  "START can only be scripted on an emulated station");
	return fx_gpio_sim_press(sl->station->gpio, fx_gpio_line_name(l), at_us,
				 START_HOLD_MS, 2, err);
}

int fx_seq_slot_present(struct fx_seq_slot *sl, bool *present, struct fx_err *err)
{
	int v = 1, rc = 0;

	if (sl->present)
		rc = fx_gpio_get(sl->present, &v, err);
	if (!rc)
		*present = v != 0;
	return rc;
}

unsigned fx_seq_station_count(const struct fx_seq_station *s)
{
	return (unsigned)s->n_slots;
}

struct fx_seq_slot *fx_seq_station_at(struct fx_seq_station *s, size_t i)
{
	return i < s->n_slots ? &s->slots[i] : NULL;
}

uint64_t fx_seq_station_bus_us(struct fx_seq_station *s)
{
	uint64_t v;

	if (!s->have_bus)
		return 0;
	pthread_mutex_lock(&s->bus.lock);
	v = s->bus.busy_us;
	pthread_mutex_unlock(&s->bus.lock);
	return v;
}

int fx_seq_station_press_start(struct fx_seq_station *s, uint64_t at_us,
			       struct fx_err *err)
{
	if (s->sim && !s->start)
		return fx_err_set(err, FX_E_CONFIG,
				  "station '%s': no station START (start_mode = independent)",
				  s->cfg->name);
	if (!s->sim)
		return fx_err_set(err, FX_E_NOTSUP,
				  "START can only be scripted on an emulated station");
	return fx_gpio_sim_press(s->gpio, fx_gpio_line_name(s->start), at_us,
				 START_HOLD_MS, 2, err);
}

static int set_opt(struct fx_gpio_line *l, int v, struct fx_err *err)
{
	return l ? fx_gpio_set(l, v, err) : 0;
}

int fx_seq_station_tower(struct fx_seq_station *s, int green, int yellow,
			 int red, struct fx_err *err)
{
	int rc = set_opt(s->tower_green, green, err);

	if (!rc)
		rc = set_opt(s->tower_yellow, yellow, err);
	if (!rc)
		rc = set_opt(s->tower_red, red, err);
	return rc;
}

const struct fx_station_slot *fx_seq_slot_conf(const struct fx_seq_slot *sl)
{
	return sl->cfg;
}

struct fx_emu *fx_seq_slot_board(struct fx_seq_slot *sl)
{
	return sl->board;
}

int fx_seq_slot_set_board(struct fx_seq_slot *sl, struct fx_emu *board,
			  struct fx_err *err)
{
	int rc;

	if (!sl->cfg->emulated)
		return fx_err_set(err, FX_E_NOTSUP,
				  "slot %u: '%s' is not an emulated device",
				  sl->cfg->index, sl->cfg->device);
	if (!board)
		return fx_err_set(err, FX_E_INVAL, "slot %u: no board",
				  sl->cfg->index);
	/* a board put into the jig meets the same station: the slot's knobs
	 * (faults, spec 8 variants) apply to it as to the board file's */
	if (strchr(sl->cfg->device, '?')) {
		struct fx_emu_knobs knobs;

		rc = slot_knobs(sl, &knobs, err);
		if (rc)
			return rc;
		fx_emu_set_knobs(board, &knobs);
	}
	rc = attach_board(sl, NULL, err);
	if (rc)
		return rc;
	fx_emu_free(sl->board);
	sl->board = board;
	return attach_board(sl, board, err);
}

int fx_seq_slot_save(struct fx_seq_slot *sl, struct fx_err *err)
{
	if (!sl->board || !sl->cfg->board_path[0])
		return 0;
	return fx_emu_save(sl->board, sl->cfg->board_path, err);
}

void fx_seq_slot_leds_off(struct fx_seq_slot *sl)
{
	struct fx_err err;

	fx_err_clear(&err);
	set_opt(sl->led_pass, 0, &err);
	set_opt(sl->led_fail, 0, &err);
	set_opt(sl->led_busy, 0, &err);
}
