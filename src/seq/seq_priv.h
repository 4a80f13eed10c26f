/* seq_priv.h - internals shared by the files of src/seq (not a public API). */
#ifndef FX_SEQ_SEQ_PRIV_H
#define FX_SEQ_SEQ_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/dfu.h"
#include "fx/prog.h"
#include "fx/seq.h"
#include "fx/stm32g4.h"
#include "fx/usb.h"
#include "fx/usb_emu.h"

struct fx_seq_slot {
	struct fx_seq_station *station;
	const struct fx_station_slot *cfg;   /* borrowed from the station */
	struct fx_gpio_line *boot0, *nrst, *power; /* power may be NULL */
	struct fx_gpio_line *led_pass, *led_fail, *led_busy; /* may be NULL */
	struct fx_gpio_line *present;        /* may be NULL: always a board */
	struct fx_gpio_line *start, *lid;    /* independent mode, may be NULL */
	struct fx_emu *board;                /* emu: slots, owned */
};

struct fx_seq_station {
	const struct fx_station *cfg;
	const struct fx_clock *clock;
	struct fx_gpio *gpio;
	bool sim;
	struct fx_gpio_line *start, *lid;
	struct fx_gpio_line *tower_green, *tower_yellow, *tower_red, *buzzer;
	size_t n_slots;
	struct fx_seq_slot slots[FX_STATION_MAX_SLOTS];
	/* hub = single-tt: the one full-speed bus of the emulated boards */
	struct fx_usb_emu_bus bus;
	bool have_bus;
};

/* What the probe saw. */
enum seq_probe {
	SEQ_PROBE_NONE = 0,    /* probe not run */
	SEQ_PROBE_APP,         /* the application (or some non-DFU device) */
	SEQ_PROBE_NOTHING,     /* nothing enumerated: blank or corrupted */
	SEQ_PROBE_BOOTLOADER,  /* the ROM came up with BOOT0 low */
};

struct seq_run;

/* The slot's transport as the steps see it (seq_usb.c): the handle the
 * backend opened (in), wrapped so that every transfer and wait is bounded
 * by the running step's deadline, and a clock for the DFU engine's poll
 * sleeps bounded the same way. r->usb points at base while open. */
struct seq_usb {
	struct fx_usb base;        /* first: the fx_usb_* wrappers see this */
	struct fx_usb *in;         /* the backend's handle, owned */
	struct seq_run *run;       /* whose deadline bounds every call */
	struct seq_clock {
		struct fx_clock base;
		const struct fx_clock *in; /* the station's clock */
		struct seq_run *run;
	} clock;
};

/* No step running: nothing to bound (the safe state, the records). */
#define SEQ_NO_DEADLINE UINT64_MAX

/* The state of one run, passed to every step. */
struct seq_run {
	struct fx_seq_slot *slot;
	const struct fx_seq_job *job;
	const struct fx_recipe *recipe;
	const struct fx_clock *clock;
	struct fx_usb *usb;        /* the slot's device (&bounded.base), NULL when
				    * none bound */
	struct seq_usb bounded;
	/* clock time by which the running step must be done (fx/seq.h
	 * "Timeouts"); SEQ_NO_DEADLINE between steps */
	uint64_t deadline_us;
	/* the deadline cut a wait of this step short, or refused one: the
	 * step's error is its timeout */
	bool deadline_cut;
	struct fx_dfu *dfu;        /* on usb, when it is the bootloader */
	enum seq_probe probe;
	uint16_t probe_vid, probe_pid; /* what the probe saw */
	uint64_t released_at;      /* clock time NRST rose in release */
	bool entered_by_app;
	struct fx_prog_ident ident;
	bool have_ident;
	enum fx_store_board board;
	struct fx_g4_ob ob_cur, ob_want;
	bool have_ob, ob_differs, dbank_changes;
	/* set by a failing step: FAIL (unit bad) or ERROR (default) */
	enum fx_store_result fail_class;
	/* step detail (free text for the record) */
	char detail[256];
	struct fx_err err;
	bool ob_written;
	bool identical;            /* skip_identical: the board already holds it */
};

/* Step results besides 0 and negative FX_E_* codes. */
#define SEQ_SKIPPED 1

/* Step functions: 0 = PASS, SEQ_SKIPPED, or a negative FX_E_* with
 * r->err filled (and r->fail_class = FX_STORE_FAIL when the unit is bad).
 * r->deadline_us: clock time by which the step must be done; every wait
 * of a step is bounded by it (its sleeps through seq_sleep(), its device
 * through r->usb, which seq_usb.c bounds). */
typedef int (*seq_step_fn)(struct seq_run *r);

int seq_step_power(struct seq_run *r);
int seq_step_probe(struct seq_run *r);
int seq_step_enter_boot(struct seq_run *r);
int seq_step_identify(struct seq_run *r);
int seq_step_unprotect(struct seq_run *r);
int seq_step_read_ob(struct seq_run *r);
int seq_step_write_ob(struct seq_run *r);
int seq_step_firmware(struct seq_run *r);
int seq_step_erase(struct seq_run *r);
int seq_step_program(struct seq_run *r);
int seq_step_verify(struct seq_run *r);
int seq_step_rdp(struct seq_run *r);
int seq_step_release(struct seq_run *r);
int seq_step_app_check(struct seq_run *r);

/* Chip UID as 24 hex digits (bytes in address order); FX_E_STATE and ""
 * when the chip was not identified or refused the UID read (RDP 1). */
int seq_ident_uid_hex(const struct seq_run *r, char out[25]);

/* Helpers (steps_io.c). */
/* Set a slot output; a NULL line (not wired) is fine. */
int seq_pin(struct seq_run *r, struct fx_gpio_line *l, int value);
/* NRST low for nrst_pulse_ms, then high (BOOT0 already set). */
int seq_nrst_pulse(struct seq_run *r);
/* Drop the DFU engine and the USB handle. */
void seq_close_dev(struct seq_run *r);
/* Open the slot's device: emu: attach to the board, usb: open the URI. */
int seq_open_dev(struct seq_run *r, const struct fx_usb_open_opts *o);
/* A reset the step causes: NRST is held low until nothing is on the slot's
 * port (at least nrst_pulse_ms, at most SEQ_GONE_MAX_MS more: a USB 2.0
 * hub reports a disconnect up to ~256 ms late, its interrupt endpoint's
 * bInterval), then released; only a device that enumerates after the
 * release counts, never one seen while NRST was low (the power-on boot
 * of a board that was still booting when power_on_ms ran out, or the old
 * device still listed by a late hub). Independent of power_on_ms and of
 * what was bound before. */
#define SEQ_GONE_MAX_MS 1000u

/* What seq_reset_wait() measured (for the step detail). */
struct seq_reset {
	uint64_t held_us;   /* NRST low -> released (port empty) */
	uint64_t enum_us;   /* released -> a device bound (or the wait) */
	unsigned ignored;   /* distinct devices seen while NRST was low */
};

/* Drop any DFU session, NRST low (BOOT0 already set), wait until the port
 * is empty (fx_usb_port_wait: returns as soon as it is), release NRST,
 * then bind the first device not seen while NRST was low that enumerates
 * within o->wait_ms of the release, DFU or not (check info.is_dfu). The
 * handle follows the slot's port throughout (opened unbound when none
 * was). rs is filled in every case. Returns 0 with r->usb
 * bound; FX_E_NOTFOUND/FX_E_TIMEOUT when nothing came (r->err says so);
 * FX_E_STATE when the port never emptied (NRST released, nothing bound);
 * a GPIO error. The whole call is bounded by nrst_pulse_ms +
 * SEQ_GONE_MAX_MS + o->wait_ms (plus the transport's event granularity,
 * 25 ms real time on libusb). */
int seq_reset_wait(struct seq_run *r, const struct fx_usb_open_opts *o,
		   struct seq_reset *rs);
/* " (NRST held N ms[, K device(s) seen while NRST was low ignored])" */
void seq_reset_text(const struct seq_reset *rs, char *buf, size_t cap);
/* Milliseconds left until the step's deadline (at least 1). */
unsigned seq_ms_left(const struct seq_run *r);
/* Sleep us of clock time, but not past the step's deadline (that sets
 * deadline_cut). */
void seq_sleep(struct seq_run *r, uint64_t us);
/* A wait of *wait_ms bounded by the step's deadline: ASIS (it ends before
 * the deadline, or no step runs), CUT (*wait_ms shortened to the time
 * left), PAST (the deadline has passed: do not start it). */
enum seq_bound { SEQ_BOUND_ASIS, SEQ_BOUND_CUT, SEQ_BOUND_PAST };
enum seq_bound seq_bound_ms(const struct seq_run *r, unsigned *wait_ms);

/* seq_usb.c: wrap the backend's handle in (owned from now on, closed by
 * fx_usb_close(r->usb)) so that r->usb = &r->bounded.base. Never fails. */
void seq_usb_wrap(struct seq_run *r, struct fx_usb *in);
/* Leave the board safe: BOOT0 low, NRST high, POWER off if configured. */
void seq_safe_state(struct seq_run *r);

#endif
