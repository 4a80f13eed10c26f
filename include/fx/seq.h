/* seq.h - the station: its runtime (GPIO lines, emulated boards, USB per
 * slot) and the programming sequence of one slot (issue 4 "The sequence
 * (one slot)"), recorded through fx/store.h.
 *
 * Station runtime (src/seq/station.c):
 *   fx_seq_station_open()  opens the station's GPIO backend, requests every
 *                          line once (held until close), for emu: slots loads
 *                          the board file (knobs from the URI query) and wires
 *                          the sim BOOT0/NRST/POWER outputs to the board;
 *                          with [station] emulator = fxemu the usb:1-N
 *                          slots' sim outputs go to the board of that port
 *                          inside build/fxemu ($FXEMU_CTL, fx/gpio.h)
 *   fx_seq_station_wait_start()   START pressed (LID closed if wired)
 *   fx_seq_run()           one board on one slot, recorded
 *   fx_seq_station_close() saves emulated boards, releases lines
 *
 * The sequence (src/seq/seq.c, steps in src/seq/steps_*.c), in order:
 *   power       POWER on (only when wired), wait power_on_ms
 *   probe       BOOT0 low, NRST reset: the application's HID enumerating
 *               within probe_ms = programmed; nothing = blank or corrupted
 *   enter_boot  gpio: BOOT0 high, NRST reset, wait for DFU within enter_ms;
 *               app: HID SET_REPORT feature 0x01 "BOOT" to the running
 *               application (spec 8), wait for DFU (falls back to gpio
 *               when the probe saw no application)
 *   identify    UID, serial, flash size, bootloader version, OPTR; the
 *               board state: protected (RDP != 0), programmed (probe saw
 *               the app), blank (flash all 0xFF), corrupted (otherwise)
 *   firmware    the firmware file still has the recipe's SHA-256 (checked
 *               before anything changes the board)
 *   unprotect   only for a protected board: Read Unprotect (RDP 1 -> 0,
 *               mass erase, option bytes back to factory), bootloader back
 *               within option_bytes_ms; the board is then programmed like
 *               a blank one (its state is still recorded as protected)
 *   serial      only with [serial_number] (issue 11, fx/serial.h): with
 *               write = otp the OTP is read first (a serial of the pool
 *               there is the board's; a full OTP FAILs), then the value is
 *               reserved in its own committed transaction (a duplicate
 *               FAILs, an exhausted pool is ERROR FX_E_EXHAUSTED), before
 *               anything is written; its flash fields are merged into the
 *               image that erase/program/verify use; the outcome's serial
 *               is the allocated one
 *   read_ob     option bytes vs the recipe (fx_recipe_ob_want)
 *   write_ob    only when a recipe option byte differs (SKIPPED otherwise):
 *               BOOT0 held high, read-modify-write, the disconnect is
 *               expected, bootloader back within option_bytes_ms, re-read
 *               values must equal the recipe's
 *   erase       mass (recipe, or forced by a DBANK change) or the pages the
 *               image touches, bounded by erase_ms
 *   program     every segment, 0xFF chunks skipped, bounded by program_ms
 *   verify      readback compare (SKIPPED with verify = none); a
 *               mismatch in a serial field names the serial
 *   serial_otp  only when a [serial_number] field goes to OTP: the record
 *               at the first free double words, read back (SKIPPED when
 *               the OTP already carries it)
 *   rdp         only with rdp = 1: RDP level 1 written last, confirmed by a
 *               re-read after the option-byte reset (or, when the ROM
 *               refuses that re-read, by a refused flash read)
 *   release     BOOT0 low, NRST pulse
 *   app_check   the recipe's HID VID:PID enumerates within within_ms
 *               (SKIPPED without [app_check])
 * The serial is "reached" (committed) just before the program step writes
 * (flash) or the OTP write; at the end, before the run-end commit, it is
 * bound (PASS, or reached), else released or voided (fx_serial_finish), and
 * a bound value becomes units.serial. A kill in between: fx_serial_prepare
 * at the next start applies the same rules.
 * Whatever happens, the board is left with BOOT0 low, NRST released and
 * POWER off when the slot says power_off_at_end.
 * NRST reset (probe, enter_boot): NRST is held low until nothing is on
 * the slot's port (at least nrst_pulse_ms, at most 1 s more, else ERROR
 * FX_E_STATE), then released; only a device enumerating after the release
 * counts (never the power-on enumeration or an old device a hub still
 * lists), whatever power_on_ms is. The detail records the times.
 * Timeouts: every wait inside a step is bounded by the step's deadline
 * (the recipe timeout, plus the NRST reset for probe/enter_boot): the
 * step's sleeps, and through the slot's transport (src/seq/seq_usb.c)
 * every control transfer, DFU poll sleep, reopen and port wait, are
 * shortened to the time left and refused once it is gone. A step a wait
 * was cut short for ends at its deadline in ERROR FX_E_TIMEOUT
 * "STEP: limit N ms reached: <what was cut>". On real USB, libusb reads
 * the strings of a device it binds with its own 1 s timeouts (not
 * shortened). A step that still overran its limit by more than 1 s + 50 %
 * ends in ERROR FX_E_TIMEOUT (a backstop for real clocks).
 *
 * Results (runs.result): PASS only when every step passed or was skipped
 * by design AND the run record was committed. FAIL = the unit is bad
 * (verify mismatch, option bytes did not stick, the application does not
 * start, RDP not raised). ERROR = the station could not judge (no device,
 * USB/DFU error including a DFU error status, a step over its timeout, the
 * bootloader not back after a reset, a changed firmware file). ABORTED = the operator asked to stop (abort flag) before the
 * run finished; the board is still left in the safe state.
 *
 * Errors: 0 or a negative FX_E_* with err filled.
 *
 * Threads (gang programming, src/seq/gang.c): the slots of one station
 * run at the same time, one thread each (fx_seq_gang_run for a batch,
 * fx_seq_gang_each for slot loops), over one station database (the store
 * locks; a slot's PASS only after its own run-end commit), one GPIO
 * backend (lines requested once at open; each slot's lines used by its
 * thread, fx/gpio.h) and, in virtual time, one shared discrete-event
 * clock (fx_dclock: each slot's waits are its own, N slots take the time
 * of the slowest). fx_seq_run() may be called for different slots from
 * different threads; one slot runs one board at a time. Open, close,
 * set_board and the START waits of the station stay with one thread
 * while no slot runs. A board that drops off, hangs, reports a DFU error
 * or fails verify ends only its own slot's run. No file-scope state: two
 * stations in one process are independent.
 */
#ifndef FX_FX_SEQ_H
#define FX_FX_SEQ_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/conf.h"
#include "fx/err.h"
#include "fx/gpio.h"
#include "fx/image.h"
#include "fx/store.h"

struct fx_emu;
struct fx_seq_station;
struct fx_seq_slot;

/* ---- station runtime -------------------------------------------------- */

/* Open the runtime of st (borrowed: must outlive the runtime) on clk
 * (borrowed). For emulated stations (gpio backend "sim") every emu: slot
 * loads its board file (a missing file gives a factory-fresh board);
 * boards are powered at once when the slot has no POWER line (a jig
 * without power switching). LID (if wired) is driven closed on sim.
 * Errors: FX_E_GPIO/FX_E_BUSY/FX_E_NOTFOUND from the GPIO backend (and
 * FX_E_CONFIG/FX_E_IO/FX_E_TIMEOUT/FX_E_GPIO from fxemu's pin socket),
 * FX_E_FILE for a bad board file, FX_E_CONFIG for bad knobs, FX_E_NOMEM.
 * Free with fx_seq_station_close(). */
int fx_seq_station_open(const struct fx_station *st, const struct fx_clock *clk,
			struct fx_seq_station **out, struct fx_err *err);
/* Save every emulated board to its file (errors are logged), release all
 * lines, free. NULL is fine. */
void fx_seq_station_close(struct fx_seq_station *s);

/* Borrowed views, valid until close. */
struct fx_gpio *fx_seq_station_gpio(struct fx_seq_station *s);
const struct fx_station *fx_seq_station_conf(const struct fx_seq_station *s);
const struct fx_clock *fx_seq_station_clock(const struct fx_seq_station *s);
/* Slot with [slot N] index, NULL if none. */
struct fx_seq_slot *fx_seq_station_slot(struct fx_seq_station *s,
					unsigned index);
/* The first slot (stations with one slot). */
struct fx_seq_slot *fx_seq_station_first(struct fx_seq_station *s);

/* Wait until START is pressed (debounced rising edge) within timeout_ms;
 * with a LID line, a press while the lid is open is ignored (logged) and
 * the wait goes on. Returns 0, FX_E_TIMEOUT, or a GPIO error. */
int fx_seq_station_wait_start(struct fx_seq_station *s, unsigned timeout_ms,
			      struct fx_err *err);
/* Emulated stations: script a START press at clock time at_us (held
 * 500 ms, with 2 contact bounces). FX_E_NOTSUP on real GPIO. */
int fx_seq_station_press_start(struct fx_seq_station *s, uint64_t at_us,
			       struct fx_err *err);

/* start_mode = independent: the slot's own START (with its lid, else the
 * station's), as fx_seq_station_wait_start; a slot without its own START
 * waits for the station's. May be called from the slot's thread. */
int fx_seq_slot_wait_start(struct fx_seq_slot *sl, unsigned timeout_ms,
			   struct fx_err *err);
/* Emulated stations: script a press of the slot's START (its own, else
 * the station's) at at_us, as fx_seq_station_press_start. */
int fx_seq_slot_press_start(struct fx_seq_slot *sl, uint64_t at_us,
			    struct fx_err *err);
/* Is a board in the socket? Reads the slot's present line (1 = board);
 * without one a slot always holds a board. 0 or a GPIO error. */
int fx_seq_slot_present(struct fx_seq_slot *sl, bool *present,
			struct fx_err *err);
/* Slots in index order: count, and the i-th (NULL past the end). */
unsigned fx_seq_station_count(const struct fx_seq_station *s);
struct fx_seq_slot *fx_seq_station_at(struct fx_seq_station *s, size_t i);
/* hub = single-tt: model time the shared bus was held so far (0 with a
 * multi-TT hub). */
uint64_t fx_seq_station_bus_us(struct fx_seq_station *s);

/* Tower lights (green/yellow/red) when wired; unwired lines are ignored. */
int fx_seq_station_tower(struct fx_seq_station *s, int green, int yellow,
			 int red, struct fx_err *err);

/* ---- slot ------------------------------------------------------------- */

const struct fx_station_slot *fx_seq_slot_conf(const struct fx_seq_slot *sl);
/* The emulated board of an emu: slot (borrowed), NULL for usb: slots. */
struct fx_emu *fx_seq_slot_board(struct fx_seq_slot *sl);
/* Replace the emulated board (the jig gets a new board: demos, tests).
 * The slot takes ownership of board and frees the old one (without saving
 * it); the sim lines are re-attached and the current levels applied;
 * without a POWER line the board is powered at once. FX_E_NOTSUP on a
 * usb: slot. */
int fx_seq_slot_set_board(struct fx_seq_slot *sl, struct fx_emu *board,
			  struct fx_err *err);
/* Save the emulated board to the slot's board file (no-op for usb:). */
int fx_seq_slot_save(struct fx_seq_slot *sl, struct fx_err *err);

/* ---- one run ---------------------------------------------------------- */

/* What happened in a run, for displays and event streams (plain data,
 * every pointer borrowed for the duration of the callback). */
enum fx_seq_report_kind {
	FX_SEQ_REP_RUN_BEGIN = 0, /* the run row is written (run_uuid set) */
	FX_SEQ_REP_STEP_BEGIN,
	FX_SEQ_REP_STEP_END,      /* the step row is written */
	FX_SEQ_REP_RUN_END,       /* after the run-end commit (or its failure:
				   * outcome->recorded says which) */
};
struct fx_seq_report {
	enum fx_seq_report_kind kind;
	unsigned slot;              /* [slot N] */
	const char *step;           /* STEP_*: the step's name, else NULL */
	unsigned steps_done;        /* steps finished so far (progress) */
	unsigned steps_total;       /* steps this run will take, as known now */
	enum fx_store_result result;/* STEP_END: the step's; RUN_END: the run's */
	const char *detail;         /* STEP_END: the step's detail ("" if none) */
	const char *run_uuid;       /* "" before RUN_BEGIN */
	const char *serial;         /* unit serial, "" until identified */
	const char *uid_hex;        /* chip UID, "" until read */
	int64_t start_utc_us;       /* of the step (STEP_*) or the run */
	int64_t utc_us;             /* of this report */
	uint64_t duration_us;       /* STEP_END, RUN_END: clock time taken */
	const struct fx_seq_outcome *outcome; /* RUN_END only */
};
typedef void (*fx_seq_report_fn)(void *user, const struct fx_seq_report *rep);

/* What the sequence needs besides the slot. Everything is borrowed for
 * the call. */
struct fx_seq_job {
	const struct fx_recipe *recipe;
	const struct fx_image *image;  /* the recipe's firmware, loaded */
	const char *station_name;      /* runs.station */
	const char *operator_id;       /* NULL if none */
	const char *scan_serial;       /* operator scan (serial = scan|both) */
	const char *software_version;  /* "fixturectl 0.1.0" */
	/* UTC of the records = clock now + utc_offset_us (real stations: the
	 * realtime offset; tests: a fixed date) */
	int64_t utc_offset_us;
	/* nonzero = the operator asked to stop: checked before every step;
	 * the run ends ABORTED at the next step boundary */
	volatile sig_atomic_t *abort_flag;
	/* may be NULL; called from the thread that runs the slot */
	fx_seq_report_fn report;
	void *report_user;
};

/* The outcome of one run, plain data. */
struct fx_seq_outcome {
	enum fx_store_result result;   /* PASS FAIL ERROR ABORTED */
	enum fx_store_board board;     /* state found */
	char failing_step[24];         /* "" for PASS */
	int error_code;                /* FX_E_*, 0 for PASS */
	char message[256];             /* the cause shown to the operator */
	char serial[64];               /* unit serial ("" if never known) */
	char uid_hex[25];              /* chip UID ("" if never read) */
	char run_uuid[37];             /* "" if the run row was never written */
	uint64_t duration_us;          /* clock time of the whole run */
	bool recorded;                 /* run_end committed: PASS may be shown */
	bool ob_written;               /* write_ob changed the option bytes */
};

/* Program one board on slot sl and record it in st. out is always filled.
 * An emulated board is saved to its board file (fx_seq_slot_save) after
 * the safe state and BEFORE the run end is committed, so a recorded PASS
 * always has its image in the file; a save that fails turns a PASS into
 * ERROR at step "save_board" (FX_E_FILE, the message names the file).
 * Returns 0 when the run was recorded (whatever its result: look at
 * out->result), or FX_E_DB when the store failed (the station must show
 * the error and stop: no PASS was shown, the board was left safe),
 * FX_E_INVAL for a bad job. LEDs: BUSY on during the run; PASS on only
 * after the commit of a PASS run; FAIL on for every other outcome. */
int fx_seq_run(struct fx_seq_slot *sl, struct fx_store *st,
	       const struct fx_seq_job *job, struct fx_seq_outcome *out,
	       struct fx_err *err);

/* Turn the slot's PASS/FAIL/BUSY LEDs off (the next board is loaded). */
void fx_seq_slot_leds_off(struct fx_seq_slot *sl);

/* ---- gang: slots at the same time (src/seq/gang.c) ------------------- */

/* Call fn(users[i]) for i < n, each in its own thread, all at once, and
 * return when every call has returned. Each thread is a member of clk
 * (fx_clock_join, joined before it starts, so model time cannot run ahead
 * of a thread still starting) while fn runs; the caller must not be a
 * member of clk (it blocks in the join). When a thread cannot be
 * created, the caller runs that call and the later ones itself, one after
 * the other (logged). Returns 0, or
 * FX_E_INVAL for bad arguments. */
typedef void (*fx_seq_gang_fn)(void *user);
int fx_seq_gang_each(const struct fx_clock *clk, fx_seq_gang_fn fn,
		     void *const users[], size_t n, struct fx_err *err);

/* One slot of a batch: what to run (in) and what came out (out). */
struct fx_seq_gang_slot {
	struct fx_seq_slot *slot;      /* in */
	const struct fx_seq_job *job;  /* in, borrowed */
	struct fx_seq_outcome out;     /* out: as fx_seq_run */
	int rc;                        /* out: fx_seq_run's return */
	struct fx_err err;             /* out: its error */
	bool empty;                    /* out: the present line said no board:
					* not run, nothing recorded (rc 0) */
};
/* One batch (start_mode = batch): for every entry at once (fx_seq_gang_each
 * on the station's clock) the slot's present line is read (fx_seq_slot_
 * present: an empty socket is skipped, empty = true, nothing recorded, not
 * in the yield), then fx_seq_run() into st. The runs begin in entry order
 * (their records too), then go on at the same time. Returns 0 when every
 * entry was handled (look at each empty, rc and out), FX_E_INVAL for bad
 * arguments. */
int fx_seq_gang_run(struct fx_seq_station *s, struct fx_store *st,
		    struct fx_seq_gang_slot *slots, size_t n, struct fx_err *err);

/* ---- emulated boards in every state (demos and tests) -------------- */

enum fx_seq_demo_board {
	FX_SEQ_DEMO_BLANK = 0,   /* erased flash, the recipe's option bytes */
	FX_SEQ_DEMO_PROGRAMMED,  /* the recipe's firmware, its option bytes */
	FX_SEQ_DEMO_CORRUPTED,   /* firmware with a broken vector table: nothing
				  * starts, flash not blank */
	FX_SEQ_DEMO_DUAL_BANK,   /* factory option bytes (DBANK=1) with the
				  * firmware written in dual-bank mode: it runs,
				  * but the recipe's option bytes differ */
	FX_SEQ_DEMO_PROTECTED,   /* programmed, then RDP level 1 */
	FX_SEQ_DEMO_COUNT
};

/* "blank", "programmed", "corrupted", "dual-bank", "protected"; NULL if
 * out of range. */
const char *fx_seq_demo_name(enum fx_seq_demo_board kind);
/* Name -> kind, -1 if unknown. */
int fx_seq_demo_parse(const char *name);

/* A new emulated board in state kind, with a UID derived from serial_no
 * and the application ID of the recipe's [app_check] (default 1209:0001).
 * recipe and img are borrowed for the call; clk must outlive the board.
 * Returns NULL with err (FX_E_NOMEM, FX_E_INVAL, FX_E_RANGE). Free with
 * fx_emu_free() or hand it to fx_seq_slot_set_board(). */
struct fx_emu *fx_seq_demo_board_new(enum fx_seq_demo_board kind,
				     unsigned serial_no,
				     const struct fx_recipe *recipe,
				     const struct fx_image *img,
				     const struct fx_clock *clk,
				     struct fx_err *err);

#endif
