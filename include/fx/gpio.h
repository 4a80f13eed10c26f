/* gpio.h - the GPIO seam of a station (STYLE 2: const ops table + instance
 * with the base struct first; callers use only the fx_gpio_* wrappers).
 *
 * Backends, chosen at run time by the station file's line names:
 *   gpiod   real lines through libgpiod 1.6 (gpio_gpiod.c, the only file that
 *           includes <gpiod.h>). Line names:
 *             "gpiochip0:17"        offset 17 on that chip
 *             "gpiochip0:START_BTN" the line with that name on that chip
 *             "START_BTN"           the line with that name on any chip
 *           (a chip may also be given as /dev/gpiochipN or by label).
 *   sim     emulated lines (gpio_sim.c), every name starts with "sim:"
 *           ("sim:START", "sim:BOOT0_1"). Outputs can drive the pins of an
 *           emulated board (fx/emu.h); inputs are scripted by tests and
 *           demos in clock time; every output change is logged.
 * One struct fx_gpio serves one backend; a station uses exactly one
 * (station.c refuses a mix of "sim:" and real lines).
 *
 * Values are LOGICAL: 1 = active. The station file's "active-low" flag maps
 * them to the physical level (libgpiod does the inversion for gpiod). The
 * station wires lines so that the logical value means:
 *   BOOT0  1 = the board's BOOT0 pin high (bootloader selected)
 *   NRST   1 = the board's NRST pin high (running), 0 = held in reset
 *   POWER  1 = board powered
 *   LEDs, tower, buzzer  1 = on
 *   START  1 = pressed            LID  1 = closed
 * (an inverting driver stage is described by "active-low", so the sequence
 * never thinks about polarity).
 *
 * Lines are requested once (consumer "fixturectl") and held until released
 * or until the fx_gpio is closed: nothing else can grab START or NRST in the
 * middle of a run (never the ctxless API, STYLE 4).
 *
 * Inputs are edge-driven: the backend blocks on edge events (gpiod:
 * gpiod_line_event_wait), never polls. fx_gpio_wait_edge() debounces in
 * software (same code for every backend): after an edge, the level must stay
 * put for debounce_ms (no further edge), then the settled level is compared
 * with the last settled level.
 *
 * Time: every wait uses the injected clock (fx/clock.h). The sim backend
 * advances a virtual clock to the next scripted input change, so tests and
 * emulated demos run in virtual time; gpiod requires a real clock.
 *
 * Errors: 0 or a negative FX_E_* (fx/err.h), message in err:
 *   FX_E_CONFIG    malformed line name or flags
 *   FX_E_NOTFOUND  no such chip / offset / line name
 *   FX_E_BUSY      line already requested (by us or another consumer)
 *   FX_E_GPIO      the kernel refused (errno in err->sys_errno)
 *   FX_E_TIMEOUT   no (debounced) edge within the timeout
 *   FX_E_NOTSUP    the backend lacks the op (NULL op) or the flag
 *   FX_E_INVAL     e.g. set on an input line
 * Threads (the slots of a gang station run in their own threads): request,
 * release and close from one thread while no other uses g; after that,
 * different lines may be set, read and waited on from different threads
 * at once (each line by one thread at a time). The sim backend locks its
 * shared state; gpiod lines are independent kernel requests (one fd
 * each). The sim test-side calls below are thread-safe too.
 */
#ifndef FX_FX_GPIO_H
#define FX_FX_GPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/err.h"

struct fx_emu;

#define FX_GPIO_NAME_MAX 64
#define FX_GPIO_CONSUMER "fixturectl"
#define FX_GPIO_SIM_PREFIX "sim:"

enum fx_gpio_dir {
	FX_GPIO_INPUT = 0,
	FX_GPIO_OUTPUT = 1,
};

/* Request flags, as the station file says (keywords in brackets). */
enum fx_gpio_flags {
	FX_GPIO_ACTIVE_LOW = 1 << 0,   /* [active-low] logical 1 = physical low */
	FX_GPIO_OPEN_DRAIN = 1 << 1,   /* [open-drain] outputs only */
	FX_GPIO_OPEN_SOURCE = 1 << 2,  /* [open-source] outputs only */
	FX_GPIO_PULL_UP = 1 << 3,      /* [pull-up] */
	FX_GPIO_PULL_DOWN = 1 << 4,    /* [pull-down] */
	FX_GPIO_BIAS_DISABLE = 1 << 5, /* [bias-disable] */
};

/* How to request one line. Plain data, filled by the station parser
 * (fx/conf.h) or by hand. */
struct fx_gpio_line_cfg {
	char name[FX_GPIO_NAME_MAX]; /* see the top comment; "" = not wired */
	enum fx_gpio_dir dir;
	unsigned flags;              /* enum fx_gpio_flags */
	int initial;                 /* outputs: logical value at request time */
	unsigned debounce_ms;        /* inputs: settle time of fx_gpio_wait_edge */
};

/* One settled input change. */
struct fx_gpio_event {
	uint64_t t_us; /* clock time of the last raw edge before it settled */
	int value;     /* logical level after the edge: 1 = became active */
};

struct fx_gpio;
struct fx_gpio_line;

/* Backend operations. Called only through the wrappers below, which check
 * arguments, keep the debounce state and fill err when an op is NULL. */
struct fx_gpio_ops {
	const char *name; /* "gpiod", "sim" */
	/* Create an instance; chips are opened lazily by request. */
	int (*open)(const struct fx_clock *clk, struct fx_gpio **out,
		    struct fx_err *err);
	/* Request one line with cfg (inputs with both-edge events). Does not
	 * block. Returns 0 and *out (released by release or close), or
	 * FX_E_CONFIG / FX_E_NOTFOUND / FX_E_BUSY / FX_E_GPIO / FX_E_NOMEM. */
	int (*request)(struct fx_gpio *g, const struct fx_gpio_line_cfg *cfg,
		       struct fx_gpio_line **out, struct fx_err *err);
	/* Drive an output (logical value). Does not block. */
	int (*set)(struct fx_gpio_line *l, int value, struct fx_err *err);
	/* Read the logical level (inputs and outputs). Does not block. */
	int (*get)(struct fx_gpio_line *l, int *value, struct fx_err *err);
	/* Block until the next RAW edge event of an input line, or until the
	 * clock reaches deadline_us. Returns 0 with *ev, FX_E_TIMEOUT at the
	 * deadline, FX_E_GPIO on a kernel error. Events queued before the
	 * call are returned first, oldest first, each with the clock time it
	 * happened (not the time it was read), even past the deadline. */
	int (*wait_event)(struct fx_gpio_line *l, uint64_t deadline_us,
			  struct fx_gpio_event *ev, struct fx_err *err);
	/* Give the line back to the kernel/simulator. Never fails. */
	void (*release)(struct fx_gpio_line *l);
	/* Free the instance (all lines must be released). Never fails. */
	void (*close)(struct fx_gpio *g);
};

/* Base of every backend instance: backends embed it first. */
struct fx_gpio {
	const struct fx_gpio_ops *ops;
	const struct fx_clock *clock;   /* borrowed, outlives the instance */
	struct fx_gpio_line *lines;     /* requested lines (wrapper list) */
};

/* Base of every requested line: backends embed it first. The wrapper
 * fields (stable, pending, next) belong to gpio.c. */
struct fx_gpio_line {
	struct fx_gpio *gpio;
	struct fx_gpio_line_cfg cfg; /* copy of the request */
	int stable;                  /* last settled logical level (inputs) */
	bool has_pending;            /* an edge read ahead while settling */
	struct fx_gpio_event pending;
	struct fx_gpio_line *next;
};

/* Open a backend by name ("gpiod" or "sim"); clk is borrowed and must
 * outlive the instance. Unknown name: FX_E_CONFIG. Free with
 * fx_gpio_close(), which also releases every line still held. */
int fx_gpio_open(const char *backend, const struct fx_clock *clk,
		 struct fx_gpio **out, struct fx_err *err);
void fx_gpio_close(struct fx_gpio *g); /* NULL is fine */

/* The backend name a line name belongs to: "sim" for "sim:..." names,
 * "gpiod" otherwise. */
const char *fx_gpio_backend_of(const char *line_name);

/* Check a line name's syntax without touching hardware (station check):
 * FX_E_CONFIG with "line 'x': ..." when malformed. */
int fx_gpio_name_check(const char *line_name, struct fx_err *err);

/* Parse a flag keyword ("active-low", "open-drain", "open-source",
 * "pull-up", "pull-down", "bias-disable") into *flag; false if unknown. */
bool fx_gpio_flag_parse(const char *word, unsigned *flag);
/* Check a flag set for dir: open-drain/source only on outputs, at most one
 * bias, not open-drain with open-source. FX_E_CONFIG with the reason. */
int fx_gpio_flags_check(enum fx_gpio_dir dir, unsigned flags,
			struct fx_err *err);

/* Request a line (held until fx_gpio_release or fx_gpio_close). Outputs are
 * driven to cfg->initial at once; inputs get their first level read.
 * The line belongs to g: do not use it after fx_gpio_close(g). */
int fx_gpio_request(struct fx_gpio *g, const struct fx_gpio_line_cfg *cfg,
		    struct fx_gpio_line **out, struct fx_err *err);
void fx_gpio_release(struct fx_gpio_line *l); /* NULL is fine */

/* Drive an output to a logical value (0/1). FX_E_INVAL on an input. */
int fx_gpio_set(struct fx_gpio_line *l, int value, struct fx_err *err);
/* Read the logical level now (no debounce). */
int fx_gpio_get(struct fx_gpio_line *l, int *value, struct fx_err *err);

/* Wait for a debounced change of an input to want (1 = becomes active,
 * e.g. START pressed; 0 = becomes inactive, e.g. LID opened). Changes to
 * the other level are consumed and skipped; bounces shorter than the
 * line's debounce_ms are ignored. A change that began before timeout_ms
 * ran out may take up to debounce_ms more to settle. Changes queued
 * while nobody waited are reported too (a press between two calls is not
 * lost); call fx_gpio_flush() first to ignore them. Returns 0 with *ev
 * (may be NULL), FX_E_TIMEOUT, or a backend error. Edge-driven: sleeps in
 * the backend's event wait, never busy-polls. */
int fx_gpio_wait_edge(struct fx_gpio_line *l, int want, unsigned timeout_ms,
		      struct fx_gpio_event *ev, struct fx_err *err);

/* Forget the input changes queued up to now (e.g. START pressed during the
 * previous run, before the station showed READY) and take the current
 * level as the settled one. Never blocks. FX_E_INVAL on an output. */
int fx_gpio_flush(struct fx_gpio_line *l, struct fx_err *err);

const char *fx_gpio_line_name(const struct fx_gpio_line *l);

/* ---- sim backend: the test/demo side (libgpiod's gpiosim idea) ----------
 * All levels here are logical, like the rest of the API (the sim models the
 * world after the polarity stage). Lines are known by their full name
 * ("sim:START"); a line can be scripted or attached before it is requested.
 * g must come from fx_gpio_open("sim", ...): other backends give
 * FX_E_NOTSUP. */

/* Board pins an emulated output can drive. */
enum fx_gpio_sim_pin {
	FX_GPIO_SIM_PIN_BOOT0 = 1, /* fx_emu_set_boot0(board, value) */
	FX_GPIO_SIM_PIN_NRST,      /* fx_emu_set_nrst(board, value) */
	FX_GPIO_SIM_PIN_POWER,     /* fx_emu_set_power(board, value) */
};

/* Wire output line to a pin of board (borrowed; detach with board NULL
 * before freeing it). Every later set drives the pin at fx_clock_now();
 * if the line is already requested its current level is applied now. */
int fx_gpio_sim_attach(struct fx_gpio *g, const char *line,
		       struct fx_emu *board, enum fx_gpio_sim_pin pin,
		       struct fx_err *err);

/* Set an input's level now (queues an edge if it changes). */
int fx_gpio_sim_drive(struct fx_gpio *g, const char *line, int value,
		      struct fx_err *err);
/* Schedule an input level change at clock time at_us (>= now). Changes
 * fire in time order when a wait reaches them (or at fx_gpio_get). */
int fx_gpio_sim_schedule(struct fx_gpio *g, const char *line, uint64_t at_us,
			 int value, struct fx_err *err);
/* A button press at at_us held for hold_ms, with `bounces` contact bounces
 * (1 ms apart) at both ends: scheduled changes, for debounce tests. */
int fx_gpio_sim_press(struct fx_gpio *g, const char *line, uint64_t at_us,
		      unsigned hold_ms, unsigned bounces, struct fx_err *err);
/* Scheduled input changes not yet fired (all lines). */
size_t fx_gpio_sim_pending(const struct fx_gpio *g);

/* Current logical level of any sim line (output as last set, input as
 * last driven); FX_E_NOTFOUND for a name the sim never saw. */
int fx_gpio_sim_level(struct fx_gpio *g, const char *line, int *value);

/* Every level change of a line, oldest first (for LEDs: the history the
 * operator saw). The array is owned by g and valid until the next call on
 * g. */
struct fx_gpio_sim_change {
	uint64_t t_us;
	int value;
};
int fx_gpio_sim_history(struct fx_gpio *g, const char *line,
			const struct fx_gpio_sim_change **changes, size_t *n,
			struct fx_err *err);

/* Call fn(user, value, err) after every set of the sim output line (and
 * at once when the line is already requested), value = the logical level
 * just set: a way to drive something outside this process. fn's error
 * becomes the error of that fx_gpio_set(). user belongs to g from this
 * call on (even when it fails): g calls free_user(user) (if not NULL) when
 * the hook is replaced or g is closed. fn NULL removes the hook. Errors:
 * FX_E_NOTSUP (not a sim), FX_E_INVAL (an input line), fn's error. */
typedef int (*fx_gpio_sim_hook_fn)(void *user, int value, struct fx_err *err);
int fx_gpio_sim_hook(struct fx_gpio *g, const char *line,
		     fx_gpio_sim_hook_fn fn, void *user, void (*free_user)(void *),
		     struct fx_err *err);

/* ---- sim outputs wired to boards inside build/fxemu (gpio_fxemu.c) -------
 * Under `fxemu --board F -- CMD` the boards live in the fxemu process;
 * FXEMU_CTL names its pin socket (a line protocol, src/fxemu/ctl.c). */
#define FX_GPIO_FXEMU_ENV "FXEMU_CTL"
#define FX_GPIO_FXEMU_TIMEOUT_MS 2000u /* real time, per request */

/* Drive pin of the board on port ("1-1") inside fxemu: sends
 * "pin PORT boot0|nrst|power 0|1" to the socket ctl_path (NULL = the
 * FXEMU_CTL environment variable) and waits for the answer, in real time
 * at most FX_GPIO_FXEMU_TIMEOUT_MS. Blocks. Errors:
 *   FX_E_CONFIG  FXEMU_CTL not set ("... run the station under build/fxemu")
 *   FX_E_IO      cannot connect/send/read (sys_errno set), or fxemu closed
 *   FX_E_TIMEOUT no answer in time
 *   FX_E_GPIO    fxemu refused: "fxemu: port 'PORT' pin: MESSAGE" */
int fx_gpio_fxemu_pin(const char *ctl_path, const char *port,
		      enum fx_gpio_sim_pin pin, int value, struct fx_err *err);

/* Wire sim output line to pin of the fxemu board on port (the remote
 * counterpart of fx_gpio_sim_attach): every later set of the line is
 * forwarded with fx_gpio_fxemu_pin(), synchronously, and its error is the
 * set's error; if the line is already requested its level is sent now.
 * ctl_path NULL = $FXEMU_CTL, checked now (FX_E_CONFIG if unset). The
 * strings are copied. Errors as fx_gpio_sim_hook and fx_gpio_fxemu_pin. */
int fx_gpio_sim_attach_remote(struct fx_gpio *g, const char *line,
			      const char *ctl_path, const char *port,
			      enum fx_gpio_sim_pin pin, struct fx_err *err);

/* Registered backends (gpio.c holds the static table). */
extern const struct fx_gpio_ops fx_gpio_gpiod_ops;
extern const struct fx_gpio_ops fx_gpio_sim_ops;

#endif
