/* conf.h - station files (the jig wiring, stations/NAME.ini) and recipes (what
 * production engineers edit, config/NAME.ini): parsed with inih through our own
 * line reader (src/conf/ini_reader.c), validated strictly, no hardware.
 *
 * Error messages (one per problem, all collected: first the problems of
 * single lines in file order, then those found from the whole file, such
 * as missing keys, a firmware hash mismatch or a mix of gpio backends):
 *   "FILE:LINE: key 'x': expected 0 or 1, got 'yes'"
 *   "FILE:LINE: key 'x': duplicate (first set at line N)"
 *   "FILE:LINE: section 'foo': unknown section"
 *   "FILE:LINE: key 'x': unknown key in [recipe]"
 *   "FILE:LINE: line too long (N characters, limit 190)"
 *   "FILE:LINE: syntax error: expected 'key = value' or '[section]'"
 *   "FILE: section 'firmware': missing"
 *   "FILE:LINE: key 'name': missing in [recipe]" (LINE = the section header)
 * FILE is the path as passed to the loader. Loaders return FX_E_CONFIG for
 * bad content (err->msg = the first message, every message in diags),
 * FX_E_FILE when the file itself cannot be read ("FILE: cannot read:
 * REASON"), FX_E_NOMEM ("out of memory loading 'FILE'").
 *
 * Relative paths inside a file (firmware, database, emu: board files) are
 * resolved against the directory of that file, so a recipe or station
 * works from any current directory.
 *
 * Recipe file:
 *   [recipe]        name = demo-g474        (required, [A-Za-z0-9._-]+)
 *                   version = 1.0.0         (required, same charset)
 *                   target = stm32g474xe    (required, the only target)
 *   [firmware]      file = demo-g474.hex    (required, must exist)
 *                   sha256 = 64 hex digits  (required, must match the file)
 *                   address = 0x08000000    (a raw .bin's load address,
 *                                            default the flash base;
 *                                            refused for other formats)
 *   [option_bytes]  NAME = VALUE            (optional; names of
 *                   fx_g4_ob_field_find(), VALUE decimal or 0x hex, must
 *                   fit the field; RDP is refused here: use rdp)
 *   [program]       erase = pages|mass      (default pages; mass is forced
 *                                            when DBANK is in option_bytes,
 *                                            see fx_recipe_ob_want)
 *                   verify = readback|none  (default readback)
 *                   entry = gpio|app        (default gpio; app needs
 *                                            [app_check])
 *                   probe = flash|app|on|off (default on = flash with
 *                                            entry = gpio, app with entry =
 *                                            app; flash: the bootloader's
 *                                            view of the flash tells blank /
 *                                            corrupted / programmed; app:
 *                                            a plain reset, the application's
 *                                            HID within probe_ms = programmed;
 *                                            entry = app needs app)
 *                   skip_identical = no|yes (default no; yes: a board whose
 *                                            image range already reads back
 *                                            as the image, with the recipe's
 *                                            option bytes, passes with erase
 *                                            and program SKIPPED "identical")
 *                   serial = uid|scan|both  (default uid)
 *                   rdp = 0|1               (default 0; 1 = raise RDP to
 *                                            level 1 as the last step; level
 *                                            2 is permanent and refused)
 *   [timeouts]      probe_ms enter_ms option_bytes_ms erase_ms program_ms
 *                   verify_ms rdp_ms        (1..600000, defaults below)
 *   [app_check]     usb = VID:PID           (hex, e.g. 1209:0001)
 *                   within_ms = 1000        (1..600000, default 1000)
 *   [serial_number] source format first last pool list write encoding
 *                   on_fail warn_below write.COLUMN encoding.COLUMN
 *                   (optional; keys and rules in fx/serial.h)
 *   Booleans accept on/off, yes/no, true/false, 1/0.
 *
 * Station file:
 *   [station]   name = NAME                    (required)
 *               database = PATH                (required)
 *               start = LINE [FLAG...]         (required)
 *               lid = LINE [FLAG...]           (optional interlock)
 *               tower_green tower_yellow tower_red buzzer = LINE [FLAG...]
 *               debounce_ms = 30               (0..1000)
 *               line = NAME                    (optional: the production line,
 *                                   sent with the runs to the fleet database)
 *               sync_warn_after = 600          (seconds, 1..604800: run --sync
 *                                   warns when the oldest run not yet in the
 *                                   fleet database is older)
 *               emulator = fxemu               (optional: the boards are
 *                                   emulated by build/fxemu, which runs
 *                                   the station: devices are usb:1-N, its
 *                                   ports; lines are sim:, and BOOT0/NRST/
 *                                   POWER go to fxemu's pin socket)
 *               start_mode = batch|independent (default batch: one START
 *                                   runs every loaded slot at once, the
 *                                   next START counts when all finished;
 *                                   independent: every [slot N] has its
 *                                   own start (and may have its own lid),
 *                                   [station] start is then refused)
 *               hub = multi-tt|single-tt       (emulated stations only,
 *                                   default multi-tt: every board has its
 *                                   own full-speed transaction translator;
 *                                   single-tt: all boards share one
 *                                   12 Mbit/s bus, their transfers are
 *                                   serialized on it, spec 8's model)
 *   [slot N]    N = 1..FX_STATION_MAX_SLOTS, at least one slot
 *               device = usb:PORTPATH | emu:FILE[?KNOBS]   (required)
 *               boot0 = LINE [FLAG...]         (required)
 *               nrst = LINE [FLAG...]          (required)
 *               power = LINE [FLAG...]         (optional)
 *               led_pass led_fail led_busy = LINE [FLAG...]  (optional)
 *               power_on_ms = 50  power_off_ms = 200  nrst_pulse_ms = 20
 *               boot0_setup_ms = 5             (0..10000)
 *               power_off_at_end = yes         (needs power; default yes)
 *               recipe = FILE                  (optional: this slot's
 *                                   recipe instead of run --recipe, for a
 *                                   jig holding different boards; loaded
 *                                   and checked with the station)
 *               present = LINE [FLAG...]       (optional input: 1 = a
 *                                   board is in the socket; an empty
 *                                   socket is skipped and not recorded.
 *                                   Without it a slot always holds a
 *                                   board, and one that never enumerates
 *                                   is an ERROR run)
 *               start = LINE  lid = LINE       (start_mode = independent
 *                                   only: the slot's own START, required,
 *                                   and lid; inputs)
 *   LINE is a gpio name (fx/gpio.h); FLAG is active-low, open-drain,
 *   open-source, pull-up, pull-down, bias-disable. All lines of a station
 *   are "sim:" lines (emulated GPIO) or none is; emu: devices need sim
 *   lines and usb: devices real ones, except with emulator = fxemu (sim
 *   lines and usb:1-N devices only). A line is used once per station.
 */
#ifndef FX_FX_CONF_H
#define FX_FX_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/err.h"
#include "fx/gpio.h"
#include "fx/serial.h"
#include "fx/stm32g4.h"

#define FX_CONF_PATH_MAX 1024
#define FX_CONF_NAME_MAX 64
#define FX_CONF_LINE_MAX 190      /* longest accepted line, in characters */
#define FX_RECIPE_MAX_OB 32
#define FX_STATION_MAX_SLOTS 8

/* [station] start_mode */
enum fx_station_start_mode {
	FX_STATION_START_BATCH = 0,       /* one START runs every slot */
	FX_STATION_START_INDEPENDENT = 1, /* a START per slot, slots overlap */
};

/* [station] hub: how emulated boards reach the host */
enum fx_station_hub {
	FX_STATION_HUB_MULTI_TT = 0,  /* a transaction translator per port */
	FX_STATION_HUB_SINGLE_TT = 1, /* one full-speed bus for all boards */
};

/* ---- diagnostics ------------------------------------------------------ */

/* Every problem found in one or more files, in file order. */
struct fx_conf_diags {
	char **msgs; /* n messages, owned */
	size_t n;
	size_t cap;
};

void fx_conf_diags_init(struct fx_conf_diags *d);
void fx_conf_diags_release(struct fx_conf_diags *d); /* NULL is fine */

/* Which kind of file, by its sections: [recipe] = recipe, [station] or
 * [slot N] = station. */
enum fx_conf_kind {
	FX_CONF_RECIPE = 1,
	FX_CONF_STATION = 2,
};
/* FX_E_CONFIG "FILE: neither a recipe ([recipe]) nor a station
 * ([station]) file" when the file has neither; FX_E_FILE if unreadable. */
int fx_conf_detect(const char *path, enum fx_conf_kind *kind,
		   struct fx_err *err);

/* ---- recipe ----------------------------------------------------------- */

enum fx_recipe_erase {
	FX_RECIPE_ERASE_PAGES = 0, /* only the pages the image touches */
	FX_RECIPE_ERASE_MASS = 1,
};

enum fx_recipe_verify {
	FX_RECIPE_VERIFY_READBACK = 0,
	FX_RECIPE_VERIFY_NONE = 1,
};

enum fx_recipe_entry {
	FX_RECIPE_ENTRY_GPIO = 0, /* BOOT0 high + NRST pulse */
	FX_RECIPE_ENTRY_APP = 1,  /* ask the application (HID) to jump; only
				   * when the app is there and no option byte
				   * must change (decided by the sequence) */
};

enum fx_recipe_probe {
	FX_RECIPE_PROBE_APP = 0,   /* plain reset, wait probe_ms for the app */
	FX_RECIPE_PROBE_FLASH = 1, /* classify from the bootloader's view of
				    * the flash (no reset, no wait) */
};

enum fx_recipe_serial {
	FX_RECIPE_SERIAL_UID = 0,  /* unit serial = chip UID serial string */
	FX_RECIPE_SERIAL_SCAN = 1, /* the operator scans a label */
	FX_RECIPE_SERIAL_BOTH = 2, /* scan, and record the UID next to it */
};

/* One "[option_bytes] NAME = VALUE" line. */
struct fx_recipe_ob {
	char name[24];      /* canonical field name from the G4 table */
	uint32_t value;
	char text[48];      /* "DBANK=0" (for records and fx_g4_ob_apply) */
	unsigned line;      /* line in the recipe file */
};

/* Defaults in brackets. */
struct fx_recipe_timeouts {
	unsigned probe_ms;        /* plain reset -> app HID seen [1500] */
	unsigned enter_ms;        /* BOOT0+NRST -> DFU enumerated [3000] */
	unsigned option_bytes_ms; /* OB write -> bootloader back [5000] */
	unsigned erase_ms;        /* [30000] */
	unsigned program_ms;      /* [60000] */
	unsigned verify_ms;       /* [60000] */
	unsigned rdp_ms;          /* RDP write -> confirmed after reset [5000] */
};

struct fx_recipe_app_check {
	bool enabled;       /* [app_check] present */
	uint16_t vid, pid;  /* HID device of the application */
	unsigned within_ms; /* release -> enumerated [1000] */
};

struct fx_recipe {
	char path[FX_CONF_PATH_MAX];          /* the file as given */
	char sha256[65];                      /* of the recipe file itself */
	char name[FX_CONF_NAME_MAX];
	char version[FX_CONF_NAME_MAX];
	char target[FX_CONF_NAME_MAX];        /* "stm32g474xe" */
	char firmware[FX_CONF_PATH_MAX];      /* resolved path */
	char firmware_sha256[65];             /* lowercase hex */
	bool firmware_raw;                    /* a raw .bin: load at address */
	uint32_t address;                     /* load address of a raw .bin */
	size_t n_ob;
	struct fx_recipe_ob ob[FX_RECIPE_MAX_OB]; /* file order, no RDP */
	enum fx_recipe_erase erase;
	enum fx_recipe_verify verify;
	enum fx_recipe_entry entry;
	bool probe;                           /* probe = off: false */
	enum fx_recipe_probe probe_mode;      /* when probe */
	bool skip_identical;
	enum fx_recipe_serial serial;
	int rdp;                              /* 0 or 1 */
	struct fx_recipe_timeouts timeouts;
	struct fx_recipe_app_check app;
	struct fx_serial_conf serial_number;  /* [serial_number], fx/serial.h */
};

/* Parse and validate a recipe (hashes the firmware file). *out is freed
 * with fx_recipe_free(). diags (may be NULL) gets every message. */
int fx_recipe_load(const char *path, struct fx_recipe **out,
		   struct fx_conf_diags *diags, struct fx_err *err);
void fx_recipe_free(struct fx_recipe *r); /* NULL is fine */
/* Fill r with what a recipe file that sets no optional key gets (the
 * loader starts from it): page erase, readback verify, GPIO entry, probe
 * on (probe_mode is resolved from entry only by the loader), UID serial,
 * the default timeouts, app within_ms 1000, [serial_number] off. For
 * recipes built in code (tests, tools); everything else zero. */
void fx_recipe_defaults(struct fx_recipe *r);

/* Does the recipe set option byte `name` (case-insensitive)? */
const struct fx_recipe_ob *fx_recipe_ob_find(const struct fx_recipe *r,
					     const char *name);

/* From the option bytes the chip holds (cur), build the wanted set (want =
 * cur with every recipe option byte applied; RDP untouched). *differs = a
 * write is needed; *dbank_changes = DBANK flips (then erase must be mass:
 * spec 3.5). Either out-flag may be NULL. FX_E_RANGE / FX_E_CONFIG from
 * the G4 table. */
int fx_recipe_ob_want(const struct fx_recipe *r, const struct fx_g4_ob *cur,
		      struct fx_g4_ob *want, bool *differs, bool *dbank_changes,
		      struct fx_err *err);

/* Re-check firmware bytes against the recipe's SHA-256 just before
 * programming (the file may have changed since load): FX_E_HASH with
 * "firmware 'PATH': sha256 X, recipe says Y". */
int fx_recipe_check_firmware(const struct fx_recipe *r, const uint8_t *data,
			     size_t len, struct fx_err *err);

/* SHA-256 of a whole file as 64 lowercase hex digits + NUL (nettle).
 * FX_E_FILE naming the path if unreadable. */
int fx_conf_sha256_file(const char *path, char hex[65], struct fx_err *err);

const char *fx_recipe_erase_name(enum fx_recipe_erase e);   /* "pages" */
const char *fx_recipe_verify_name(enum fx_recipe_verify v); /* "readback" */
const char *fx_recipe_entry_name(enum fx_recipe_entry e);   /* "gpio" */
const char *fx_recipe_serial_name(enum fx_recipe_serial s); /* "uid" */

/* ---- station ---------------------------------------------------------- */

/* Per-slot timings, defaults in brackets. */
struct fx_station_timing {
	unsigned power_on_ms;    /* power on -> board stable [50] */
	unsigned power_off_ms;   /* power off -> discharged [200] */
	unsigned nrst_pulse_ms;  /* NRST held low [20] */
	unsigned boot0_setup_ms; /* BOOT0 settled before NRST rises [5] */
};

/* A line cfg with name[0] == 0 is not wired. dir, flags, initial and
 * debounce_ms are set by the parser, ready for fx_gpio_request():
 * outputs start inactive (boot0 0, nrst 1 = not in reset, power 0, LEDs
 * 0), inputs carry the station's debounce_ms. */
struct fx_station_slot {
	unsigned index;                   /* N of [slot N] */
	char device[FX_CONF_PATH_MAX];    /* "usb:1-1.4", "emu:/abs/f?knobs" */
	bool emulated;                    /* device is emu: */
	char board_path[FX_CONF_PATH_MAX];/* emu: resolved FILE, else "" */
	struct fx_gpio_line_cfg boot0, nrst, power;
	struct fx_gpio_line_cfg led_pass, led_fail, led_busy;
	struct fx_station_timing timing;
	bool power_off_at_end;            /* power off after each run */
	char recipe_path[FX_CONF_PATH_MAX];/* resolved, "" = run --recipe */
	struct fx_gpio_line_cfg present;  /* input, "" = always a board */
	struct fx_gpio_line_cfg start, lid; /* independent mode only */
};

struct fx_station {
	char path[FX_CONF_PATH_MAX];       /* the file as given */
	char name[FX_CONF_NAME_MAX];
	char db_path[FX_CONF_PATH_MAX];    /* resolved */
	const char *gpio_backend;          /* "sim" or "gpiod" (static) */
	struct fx_gpio_line_cfg start, lid;
	struct fx_gpio_line_cfg tower_green, tower_yellow, tower_red, buzzer;
	unsigned debounce_ms;              /* [30] */
	char line[FX_CONF_NAME_MAX];       /* "" = none */
	unsigned sync_warn_after_s;        /* [600] */
	bool fxemu;                        /* emulator = fxemu (see above) */
	enum fx_station_start_mode start_mode;
	enum fx_station_hub hub;
	size_t n_slots;
	struct fx_station_slot slots[FX_STATION_MAX_SLOTS]; /* by index */
};

/* Parse and validate a station file (no hardware touched). *out is freed
 * with fx_station_free(). diags (may be NULL) gets every message. */
int fx_station_load(const char *path, struct fx_station **out,
		    struct fx_conf_diags *diags, struct fx_err *err);
void fx_station_free(struct fx_station *st); /* NULL is fine */

/* "batch", "independent" / "multi-tt", "single-tt". */
const char *fx_station_start_mode_name(enum fx_station_start_mode m);
const char *fx_station_hub_name(enum fx_station_hub h);

/* Slot with index N ([slot N]), NULL if none. */
const struct fx_station_slot *fx_station_slot_find(const struct fx_station *st,
						   unsigned index);

#endif
