/* cmd_run.c - `fixturectl run`: the operator loop (issue 4 "The operator
 * loop", issue 14 gang programming): READY -> START (lid closed) -> every
 * loaded slot at once (start_mode = batch) or each slot on its own START
 * (independent) -> the sequence -> PASS/FAIL with the reason, today's
 * counts and yield -> next boards. On a terminal a live panel (panel.h);
 * otherwise (or --plain) one log line per event; --events writes JSON
 * lines for the MES (events.h). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "cmd_run.h"
#include "events.h"
#include "run_sync.h"
#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/image.h"
#include "fx/log.h"
#include "fx/seq.h"
#include "fx/serial.h"
#include "fx/store.h"
#include "panel.h"

#define RUN_EXIT_INTERRUPTED 130
#define START_SLICE_MS 250u     /* real stations: re-check Ctrl-C this often */
#define SIM_PRESS_DELAY_US 1500000u /* emulated operator: next board after 1.5 s */
/* first press: a little ahead, so a real-time clock has not passed it */
#define SIM_FIRST_PRESS_US 100000u
#define SIM_PRESS_TRIES 3       /* ... and asked again when it has */
/* independent mode, emulated operator: slot k's first press k x this later */
#define SIM_STAGGER_US 700000u
#define MAX_SCANS 256
/* a scanned serial fits the outcome's serial field (and the PASS line) */
#define SERIAL_MAX (sizeof(((struct fx_seq_outcome *)0)->serial) - 1)

static const char run_usage[] =
	"usage: fixturectl run --station FILE [--recipe FILE] [--db FILE]\n"
	"                      [--operator ID] [--cycles N] [--serial-scan LIST]\n"
	"                      [--demo-boards[=LIST]] [--realtime[=SCALE]]\n"
	"                      [--events FILE|-] [--plain] [--stats] [--sync URI] [-v]\n"
	"\n"
	"The operator loop of a station: wait for START (lid closed), program the\n"
	"board of every slot at the same time (a thread per slot), record every run\n"
	"in the station database, show PASS (only after that slot's record is\n"
	"committed) or FAIL with the reason, today's counts and yield, then wait\n"
	"for the next boards. [station] start_mode = batch (default): one START\n"
	"runs every loaded slot, the next START counts when all have finished;\n"
	"independent: each slot runs when its own START is pressed.\n"
	"\n"
	"  --station FILE      the jig wiring (stations/*.ini)\n"
	"  --recipe FILE       what to program (config/*.ini); required unless\n"
	"                      every [slot N] names its own 'recipe ='\n"
	"  --db FILE           database (default: the station's 'database')\n"
	"  --operator ID       recorded with every run\n"
	"  --cycles N          stop after N START presses (batch) or N boards per\n"
	"                      slot (independent); emulated stations: START is\n"
	"                      pressed by a scripted operator; without --cycles\n"
	"                      each line on stdin presses START, EOF ends (batch)\n"
	"  --serial-scan LIST  unit serials the operator scans (recipe serial =\n"
	"                      scan|both): comma-separated, one per board in slot\n"
	"                      order, or '-' to read one line from stdin per board\n"
	"                      (batch only; an empty line asks again; a serial of\n"
	"                      more than 63 characters fails that board\n"
	"                      unprogrammed)\n"
	"  --demo-boards[=LIST]  emulated stations: put a fresh board into every\n"
	"                      emulated slot for every cycle, in turn from LIST\n"
	"                      (default blank,programmed,corrupted,dual-bank; also\n"
	"                      protected)\n"
	"  --realtime[=SCALE]  emulated stations: run in (scaled) real time instead\n"
	"                      of virtual time (stations with 'emulator = fxemu'\n"
	"                      always run in real time, by default on fxemu's\n"
	"                      scale)\n"
	"  --events FILE|-     write the station's events as JSON lines (schema\n"
	"                      fixturectl-events/1: run_started, step_finished,\n"
	"                      run_finished, station_stopped); '-' = stdout\n"
	"  --plain             log lines even on a terminal (no live panel)\n"
	"  --stats             at the end, the emulated boards' modelled USB and\n"
	"                      device time of the runs, the single-TT hub's busy\n"
	"                      time and the clock (benchmarks: scripts/bench-gang)\n"
	"  --sync URI          push the records to the fleet database in the background\n"
	"                      (as fixturectl sync --follow; the station never waits);\n"
	"                      warns when a run is not there after [station]\n"
	"                      sync_warn_after seconds (default 600)\n"
	"  -v, --verbose       log the sequence and the DFU layer\n"
	"\n"
	"Record times: each run starts at the wall clock (UTC), or 1 us after the\n"
	"newest start in the database if that is later; its steps and end follow\n"
	"at the durations the board took (model time on emulated stations). So\n"
	"starts are in order and on the wall-clock day even when the model runs\n"
	"faster than real time (virtual time, --realtime < 1); a run's end may\n"
	"then lie after the next run's start.\n"
	"\n"
	"Ctrl-C (SIGINT/SIGTERM) lets every running slot finish its board safely,\n"
	"records them and exits; a second Ctrl-C aborts them all at their next\n"
	"step (recorded ABORTED, BOOT0 released, power off).\n"
	"\n"
	"exit codes: 0 the loop ended and every unit passed, 1 the loop ended and\n"
	"            some unit did not pass (FAIL, ERROR or ABORTED), 64 usage,\n"
	"            65 bad station/recipe/firmware, 66 file unreadable,\n"
	"            69 a GPIO chip or line of the station is missing,\n"
	"            74 database, GPIO or --events file error (the station\n"
	"               stopped),\n"
	"            75 the recipe's serial-number pool ([serial_number]) has no\n"
	"               value left: the station stopped before the next board\n"
	"               (nothing written to it; add numbers, run again),\n"
	"            130 stopped by Ctrl-C/SIGTERM after recording the boards\n";

/* Signals: the only state a handler may touch. */
static volatile sig_atomic_t run_stop;  /* finish the boards, then exit */
static volatile sig_atomic_t run_abort; /* abort the boards at the next step */

static void on_signal(int sig)
{
	(void)sig;
	if (run_stop)
		run_abort = 1;
	run_stop = 1;
}

struct run_opts {
	const char *station, *recipe, *db, *operator_id, *scan;
	const char *demo, *events;
	const char *sync_uri;   /* --sync (run_sync.h) */
	bool demo_on, plain, stats;
	unsigned cycles;
	bool have_cycles;
	double scale;
	int verbose;
};

struct run_ctx;

/* One slot of the station, as the loop sees it. */
struct slot_ctx {
	struct run_ctx *c;
	struct fx_seq_slot *sl;
	size_t pos;                  /* in slot order */
	unsigned index;              /* [slot N] */
	const struct fx_recipe *rcp; /* the slot's or --recipe */
	const struct fx_image *img;
	struct fx_recipe *own_rcp;   /* [slot N] recipe =, owned */
	struct fx_image *own_img;
	struct fx_seq_job job;
	struct fx_seq_outcome out;
	char scan[SERIAL_MAX + 1];
	uint64_t step_t0, run_t0;
	uint64_t step_usb0;          /* --stats: board USB time at step begin */
	bool end_seen;               /* RUN_END reported for this run */
	int last;                    /* last result (enum fx_store_result), -1 none */
	struct fx_panel_slot view;
	int rc;                      /* independent loop: fatal code, 0 */
};

struct run_ctx {
	struct run_opts o;
	struct fx_station *st;
	struct fx_recipe *rcp;       /* --recipe, may be NULL */
	struct fx_image *img;
	struct fx_store *store;
	struct fx_cli_run_sync *sync;
	struct fx_seq_station *stn;
	struct fx_dclock dclock;
	bool have_dclock;
	struct fx_rclock rclock;
	const struct fx_clock *clock;
	bool sim;
	int64_t utc_offset_us;
	int64_t utc_floor_us; /* newest run start in the database */
	int demo_kinds[16];
	size_t n_demo;
	char *scans[MAX_SCANS];
	size_t n_scans;
	char *line;         /* the last stdin line (getline) */
	size_t line_cap;
	unsigned n_runs;    /* boards started (one scanned serial each) */
	size_t n_slots;
	struct slot_ctx slots[FX_STATION_MAX_SLOTS];
	/* output, events, panel, counts, tower: behind lock (recursive) */
	pthread_mutex_t lock;
	bool have_lock;
	struct fx_events *events;
	FILE *log;          /* the log lines: stdout, stderr with --events - */
	struct fx_panel *panel;
	struct fx_panel_slot views[FX_STATION_MAX_SLOTS];
	char totals[160];
	char status[160];
	struct fx_events_totals tot;
	unsigned running;   /* slots running a board now */
	/* --stats: the emulated boards' modelled time over this process's runs */
	uint64_t stat_usb_us, stat_device_us;
	unsigned stat_boards;
	struct { const char *name; uint64_t usb_us; unsigned n; } stat_step[24];
	size_t n_stat_step;
	bool any_bad;
	int fatal;          /* exit code of a station error, 0 */
};

static void lock(struct run_ctx *c)
{
	pthread_mutex_lock(&c->lock);
}

static void unlock(struct run_ctx *c)
{
	pthread_mutex_unlock(&c->lock);
}

static int64_t wall_utc_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Record times (issue 8 defect 6; the rule is in --help): before each
 * board (each batch), anchor the run's start at the wall clock, or 1 us
 * after the newest start in the database when that is later; the steps and
 * the end then follow at the model's durations. A model running faster than
 * real time (virtual time, --realtime < 1) used to push every later start
 * after the previous end, so restarts ran hours ahead of the wall clock and
 * a day of emulated runs landed on tomorrow; now starts stay on the wall
 * clock and in order, and only an end may lie after the next start. Under
 * the lock. */
static void resync_utc(struct run_ctx *c)
{
	int64_t want = wall_utc_us();

	if (want <= c->utc_floor_us)
		want = c->utc_floor_us + 1;
	c->utc_offset_us = want - (int64_t)fx_clock_now(c->clock);
}

static int64_t ctx_utc(const struct run_ctx *c)
{
	return (int64_t)fx_clock_now(c->clock) + c->utc_offset_us;
}

/* "HH:MM:SS" of the record time (UTC), for the log lines. */
static void hms(const struct run_ctx *c, char buf[16])
{
	time_t s = (time_t)(ctx_utc(c) / 1000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, 16, "%H:%M:%S", &tm);
}

static void redraw(struct run_ctx *c, bool force)
{
	size_t i;

	if (!c->panel)
		return;
	for (i = 0; i < c->n_slots; i++) {
		c->views[i] = c->slots[i].view;
		if (!strcmp(c->views[i].state, "BUSY"))
			c->views[i].elapsed_us = fx_clock_now(c->clock) - c->slots[i].run_t0;
	}
	fx_panel_draw(c->panel, c->views, (unsigned)c->n_slots, c->totals, c->status,
		      force);
}

/* One log line (with the time in front when stamp), or the panel's status
 * line on a terminal. Thread-safe. */
static void say(struct run_ctx *c, bool stamp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct run_ctx *c, bool stamp, const char *fmt, ...)
{
	char msg[512], t[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lock(c);
	if (c->panel) {
		snprintf(c->status, sizeof(c->status), "%.*s",
			 (int)sizeof(c->status) - 1, msg);
		redraw(c, false);
	} else {
		if (stamp) {
			hms(c, t);
			fprintf(c->log, "%s %s\n", t, msg);
		} else {
			fprintf(c->log, "%s\n", msg);
		}
		fflush(c->log);
	}
	unlock(c);
}

static void print_diags(const struct fx_conf_diags *d, const struct fx_err *err)
{
	size_t i;

	if (d->n == 0) {
		fprintf(stderr, "fixturectl run: %s\n", err->msg);
		return;
	}
	for (i = 0; i < d->n; i++)
		fprintf(stderr, "fixturectl run: %s\n", d->msgs[i]);
}

/* A recipe and its firmware. 0 or an exit code. */
static int load_recipe(const char *path, struct fx_recipe **rcp,
		       struct fx_image **img)
{
	struct fx_conf_diags d;
	struct fx_err err;
	int rc;

	fx_err_clear(&err);
	fx_conf_diags_init(&d);
	rc = fx_recipe_load(path, rcp, &d, &err);
	if (rc) {
		print_diags(&d, &err);
		fx_conf_diags_release(&d);
		return fx_cli_exit_code(rc);
	}
	fx_conf_diags_release(&d);
	*img = fx_image_load((*rcp)->firmware, FX_IMAGE_AUTO, (*rcp)->firmware_raw,
			     (*rcp)->address, &err);
	if (!*img) {
		fprintf(stderr, "fixturectl run: recipe '%s': %s\n", path, err.msg);
		return err.code == FX_E_FILE ? FX_EXIT_NOINPUT : FX_EXIT_DATAERR;
	}
	return 0;
}

static int load_conf(struct run_ctx *c)
{
	struct fx_conf_diags d;
	struct fx_err err;
	size_t i;
	int rc;

	fx_err_clear(&err);
	fx_conf_diags_init(&d);
	rc = fx_station_load(c->o.station, &c->st, &d, &err);
	if (rc) {
		print_diags(&d, &err);
		fx_conf_diags_release(&d);
		return fx_cli_exit_code(rc);
	}
	fx_conf_diags_release(&d);
	for (i = 0; i < c->st->n_slots; i++)
		if (!c->st->slots[i].recipe_path[0] && !c->o.recipe)
			return fx_cli_usage_error("run", "[slot %u] has no 'recipe =': "
						  "--recipe is required",
						  c->st->slots[i].index);
	if (c->o.recipe) {
		rc = load_recipe(c->o.recipe, &c->rcp, &c->img);
		if (rc)
			return rc;
	}
	c->n_slots = c->st->n_slots;
	for (i = 0; i < c->n_slots; i++) {
		struct slot_ctx *sc = &c->slots[i];
		const struct fx_station_slot *cfg = &c->st->slots[i];

		sc->c = c;
		sc->pos = i;
		sc->index = cfg->index;
		sc->last = -1;
		if (cfg->recipe_path[0]) {
			rc = load_recipe(cfg->recipe_path, &sc->own_rcp, &sc->own_img);
			if (rc)
				return rc;
			sc->rcp = sc->own_rcp;
			sc->img = sc->own_img;
		} else {
			sc->rcp = c->rcp;
			sc->img = c->img;
		}
		sc->view.index = cfg->index;
		snprintf(sc->view.state, sizeof(sc->view.state), "READY");
	}
	return 0;
}

static int parse_demo(struct run_ctx *c)
{
	static const int dflt[] = { FX_SEQ_DEMO_BLANK, FX_SEQ_DEMO_PROGRAMMED,
				    FX_SEQ_DEMO_CORRUPTED, FX_SEQ_DEMO_DUAL_BANK };
	char buf[256], *p, *save = NULL;

	if (!c->o.demo) {
		memcpy(c->demo_kinds, dflt, sizeof(dflt));
		c->n_demo = 4;
		return 0;
	}
	if (strlen(c->o.demo) >= sizeof(buf))
		return fx_cli_usage_error("run", "--demo-boards: list too long");
	snprintf(buf, sizeof(buf), "%s", c->o.demo);
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		int k = fx_seq_demo_parse(p);

		if (k < 0)
			return fx_cli_usage_error("run", "--demo-boards: unknown board '%s' "
						  "(blank, programmed, corrupted, dual-bank, protected)", p);
		if (c->n_demo == sizeof(c->demo_kinds) / sizeof(c->demo_kinds[0]))
			return fx_cli_usage_error("run", "--demo-boards: more than 16 boards");
		c->demo_kinds[c->n_demo++] = k;
	}
	if (!c->n_demo)
		return fx_cli_usage_error("run", "--demo-boards: empty list");
	return 0;
}

static int parse_scans(struct run_ctx *c)
{
	const char *p = c->o.scan;

	if (!p || !strcmp(p, "-"))
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 0 || c->n_scans == MAX_SCANS)
			return fx_cli_usage_error("run", "--serial-scan: empty serial or more than %d",
						  MAX_SCANS);
		if (n > SERIAL_MAX)
			return fx_cli_usage_error("run", "--serial-scan: serial '%.*s...' has "
						  "%zu characters, at most %zu", 16, p, n,
						  SERIAL_MAX);
		c->scans[c->n_scans] = strndup(p, n);
		if (!c->scans[c->n_scans])
			return FX_EXIT_SOFTWARE;
		c->n_scans++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* One whole line of stdin into c->line, without the line end and the
 * blanks around it (whatever its length: a long line is one line, never
 * two). 0, or 1 at EOF. */
static int read_line(struct run_ctx *c)
{
	ssize_t n = getline(&c->line, &c->line_cap, stdin);
	char *p;

	if (n < 0)
		return 1;
	while (n > 0 && strchr("\r\n \t", c->line[n - 1]))
		c->line[--n] = '\0';
	for (p = c->line; *p == ' ' || *p == '\t'; p++)
		;
	memmove(c->line, p, strlen(p) + 1);
	return 0;
}

/* The serial for board i of a slot with recipe rcp: from the list, or one
 * stdin line (batch only). 0 = *out set (NULL when the recipe needs
 * none), 1 = EOF on stdin, -1 = none left, 2 = the scanned serial is
 * refused (too long; the reason is in why). */
static int next_scan(struct run_ctx *c, const struct fx_recipe *rcp, unsigned i,
		     const char **out, char *why, size_t why_cap)
{
	size_t len;

	*out = NULL;
	if (rcp->serial == FX_RECIPE_SERIAL_UID)
		return 0;
	if (c->o.scan && !strcmp(c->o.scan, "-")) {
		for (;;) {
			fprintf(c->log, "scan the unit serial: ");
			fflush(c->log);
			if (read_line(c))
				return 1; /* EOF: the operator is done */
			if (c->line[0])
				break;
			fprintf(c->log, "empty serial: scan the unit again\n");
		}
		len = strlen(c->line);
		if (len > SERIAL_MAX) {
			snprintf(why, why_cap, "scanned serial '%.16s...' has %zu "
				 "characters, at most %zu: board not programmed",
				 c->line, len, SERIAL_MAX);
			return 2;
		}
		*out = c->line;
		return 0;
	}
	if (i < c->n_scans) {
		*out = c->scans[i];
		return 0;
	}
	return -1;
}

/* Today's counts as one line (under the lock). */
static void totals_line(struct run_ctx *c, char *buf, size_t cap)
{
	struct fx_store_counts n;
	struct fx_err err;

	fx_err_clear(&err);
	if (fx_store_counts_day(c->store, ctx_utc(c), NULL, &n, &err)) {
		snprintf(buf, cap, "today: (counts unavailable: %.100s)", err.msg);
		return;
	}
	snprintf(buf, cap, "today: %u runs, %u passed, %u failed, %u errors, yield %.1f%%",
		 n.runs, n.passed, n.failed, n.errors,
		 n.runs ? 100.0 * n.passed / n.runs : 0.0);
	{
		size_t l = strlen(buf);
		char w[200];

		if (l + 4 < cap && fx_cli_run_sync_warn(c->sync, w, sizeof(w)))
			snprintf(buf + l, cap - l, " | %.100s", w);
	}
}

/* Tower: yellow while any slot runs; then green when every board of the
 * last batch passed (independent mode: every slot's last board), red when
 * one did not (under the lock). */
static void tower(struct run_ctx *c)
{
	bool any = false, bad = false;
	size_t i;

	for (i = 0; i < c->n_slots; i++) {
		if (c->slots[i].last < 0)
			continue;
		any = true;
		if (c->slots[i].last != FX_STORE_PASS)
			bad = true;
	}
	if (c->running)
		fx_seq_station_tower(c->stn, 0, 1, 0, NULL);
	else
		fx_seq_station_tower(c->stn, any && !bad, 0, any && bad, NULL);
}

static void count_result(struct run_ctx *c, struct slot_ctx *sc,
			 enum fx_store_result res)
{
	c->tot.runs++;
	sc->view.runs++;
	switch (res) {
	case FX_STORE_PASS:
		c->tot.passed++;
		sc->view.passed++;
		break;
	case FX_STORE_FAIL:
		c->tot.failed++;
		sc->view.failed++;
		break;
	case FX_STORE_ABORTED:
		c->tot.aborted++;
		sc->view.errors++;
		break;
	case FX_STORE_ERROR:
	case FX_STORE_SKIPPED:
		c->tot.errors++;
		sc->view.errors++;
		break;
	}
	if (res != FX_STORE_PASS)
		c->any_bad = true;
}

/* --stats: the board's modelled USB and device time so far (0 for usb:) */
static void board_stats(struct slot_ctx *sc, struct fx_emu_stats *es)
{
	struct fx_emu *b = fx_seq_slot_board(sc->sl);

	memset(es, 0, sizeof(*es));
	if (b)
		fx_emu_get_stats(b, es);
}

/* --stats: the board's USB time a step took (under the lock). Step names
 * are the sequence's static strings. */
static void stats_step(struct run_ctx *c, const char *step, uint64_t usb_us)
{
	size_t i;

	for (i = 0; i < c->n_stat_step; i++)
		if (!strcmp(c->stat_step[i].name, step))
			break;
	if (i == c->n_stat_step) {
		if (i == sizeof(c->stat_step) / sizeof(c->stat_step[0]))
			return;
		c->stat_step[i].name = step;
		c->n_stat_step++;
	}
	c->stat_step[i].usb_us += usb_us;
	c->stat_step[i].n++;
}

/* Add what a run cost the board (after - before). Under the lock. */
static void stats_add(struct run_ctx *c, struct slot_ctx *sc,
		      const struct fx_emu_stats *before)
{
	struct fx_emu_stats now;

	board_stats(sc, &now);
	c->stat_usb_us += now.usb_us - before->usb_us;
	c->stat_device_us += now.device_us - before->device_us;
	c->stat_boards++;
}

/* The verdict of a run (RUN_END): log lines or panel, counts. */
static void verdict(struct run_ctx *c, struct slot_ctx *sc,
		    const struct fx_seq_outcome *out)
{
	char t[16];

	hms(c, t);
	sc->end_seen = true;
	if (!out->recorded) {
		snprintf(sc->view.state, sizeof(sc->view.state), "ERROR");
		snprintf(sc->view.last, sizeof(sc->view.last), "ERROR not recorded: %.120s",
			 out->message);
		if (!c->panel)
			fprintf(c->log, "%s ERROR  slot %u: %s\n", t, sc->index, out->message);
		sc->last = FX_STORE_ERROR;
		c->any_bad = true;
		return;
	}
	if (out->result == FX_STORE_PASS) {
		if (!c->panel)
			fprintf(c->log, "%s PASS   slot %u serial %s board %s%s  %.1f s\n", t,
			       sc->index, out->serial, fx_store_board_name(out->board),
			       out->ob_written ? " (option bytes rewritten)" : "",
			       (double)out->duration_us / 1e6);
		snprintf(sc->view.last, sizeof(sc->view.last), "PASS %s %s%s %.1f s",
			 out->serial, fx_store_board_name(out->board),
			 out->ob_written ? " (OB rewritten)" : "",
			 (double)out->duration_us / 1e6);
	} else {
		if (!c->panel)
			fprintf(c->log, "%s %-6s slot %u serial %s board %s: %s\n", t,
			       fx_store_result_name(out->result), sc->index,
			       out->serial[0] ? out->serial : "?",
			       fx_store_board_name(out->board), out->message);
		snprintf(sc->view.last, sizeof(sc->view.last), "%s %.24s %s: %.80s",
			 fx_store_result_name(out->result),
			 out->serial[0] ? out->serial : "?",
			 fx_store_board_name(out->board), out->message);
	}
	snprintf(sc->view.state, sizeof(sc->view.state), "%s",
		 fx_store_result_name(out->result));
	sc->view.step[0] = '\0';
	sc->view.pct = out->result == FX_STORE_PASS ? 100 : sc->view.pct;
	sc->view.elapsed_us = out->duration_us;
	sc->last = out->result;
	count_result(c, sc, out->result);
	totals_line(c, c->totals, sizeof(c->totals));
	if (!c->panel)
		fprintf(c->log, "           %s\n", c->totals);
}

/* Every report of a slot's run (called from the slot's thread). */
static void on_report(void *user, const struct fx_seq_report *rep)
{
	struct slot_ctx *sc = user;
	struct run_ctx *c = sc->c;
	char t[16];

	lock(c);
	fx_events_report(c->events, rep, sc->rcp->name, sc->rcp->version);
	switch (rep->kind) {
	case FX_SEQ_REP_RUN_BEGIN:
		sc->run_t0 = fx_clock_now(c->clock);
		snprintf(sc->view.state, sizeof(sc->view.state), "BUSY");
		sc->view.step[0] = '\0';
		sc->view.pct = 0;
		sc->view.last[0] = '\0'; /* the next board: the old verdict goes */
		break;
	case FX_SEQ_REP_STEP_BEGIN:
		sc->step_t0 = fx_clock_now(c->clock);
		if (c->o.stats) {
			struct fx_emu_stats es;

			board_stats(sc, &es);
			sc->step_usb0 = es.usb_us;
		}
		snprintf(sc->view.step, sizeof(sc->view.step), "%s", rep->step);
		break;
	case FX_SEQ_REP_STEP_END:
		if (c->o.stats) {
			struct fx_emu_stats es;

			board_stats(sc, &es);
			stats_step(c, rep->step, es.usb_us - sc->step_usb0);
		}
		if (rep->steps_total)
			sc->view.pct = 100u * rep->steps_done / rep->steps_total;
		if (!c->panel) {
			hms(c, t);
			fprintf(c->log, "%s slot %u   %-10s %-7s %6llu ms  %s\n", t, sc->index,
			       rep->step, fx_store_result_name(rep->result),
			       (unsigned long long)(rep->duration_us / 1000u),
			       rep->detail ? rep->detail : "");
		}
		break;
	case FX_SEQ_REP_RUN_END:
		verdict(c, sc, rep->outcome);
		break;
	}
	if (!c->panel)
		fflush(c->log);
	redraw(c, rep->kind == FX_SEQ_REP_RUN_END);
	unlock(c);
}

/* Emulated operator or real button (station START): 0 = START, 1 = stop
 * the loop, <0 err. */
static int wait_start(struct run_ctx *c, unsigned cycle)
{
	struct fx_err err;
	int rc;

	fx_err_clear(&err);
	if (c->sim) {
		if (!c->o.have_cycles) {
			say(c, false, "press Enter for START (Ctrl-D ends)");
			if (read_line(c)) /* a long line is one press */
				return 1;
		}
		/* the press is due a little ahead of now; a loaded host can
		 * pass that moment before it is scheduled (refused as in the
		 * past, FX_E_INVAL): ask again from a fresh now, a late scripted
		 * press is harmless */
		for (int tries = 0;; tries++) {
			fx_err_clear(&err);
			rc = fx_seq_station_press_start(c->stn, fx_clock_now(c->clock) +
							(cycle ? SIM_PRESS_DELAY_US :
								 SIM_FIRST_PRESS_US), &err);
			if (rc != FX_E_INVAL || tries == SIM_PRESS_TRIES)
				break;
		}
		if (!rc)
			rc = fx_seq_station_wait_start(c->stn, 60000, &err);
		if (rc) {
			fprintf(stderr, "fixturectl run: START: %s\n", err.msg);
			return rc;
		}
		return 0;
	}
	for (;;) {
		if (run_stop)
			return 1;
		rc = fx_seq_station_wait_start(c->stn, START_SLICE_MS, &err);
		if (rc == 0)
			return 0;
		if (rc == FX_E_TIMEOUT)
			continue;
		if (run_stop) /* the signal interrupted the event wait */
			return 1;
		fprintf(stderr, "fixturectl run: START: %s\n", err.msg);
		return rc;
	}
}

/* A fresh demo board in an emulated slot: number k of the session. */
static int put_demo_board(struct run_ctx *c, struct slot_ctx *sc, unsigned k)
{
	enum fx_seq_demo_board kind = (enum fx_seq_demo_board)c->demo_kinds[k % c->n_demo];
	struct fx_emu *b;
	struct fx_err err;

	fx_err_clear(&err);
	b = fx_seq_demo_board_new(kind, k + 1, sc->rcp, sc->img, c->clock, &err);
	if (!b || fx_seq_slot_set_board(sc->sl, b, &err)) {
		fprintf(stderr, "fixturectl run: demo board: %s\n", err.msg);
		return FX_EXIT_SOFTWARE;
	}
	say(c, false, "           demo: a %s board is in slot %u", fx_seq_demo_name(kind),
	    sc->index);
	return 0;
}

/* emulator = fxemu: --realtime=SCALE if given, else fxemu's own scale
 * ($FXEMU_SCALE), else 1.0 (real time). */
static double fxemu_scale(const struct run_ctx *c)
{
	const char *env = getenv("FXEMU_SCALE");
	double v;

	if (c->o.scale > 0)
		return c->o.scale;
	if (env && fx_cli_parse_scale(env, &v) && v > 0)
		return v;
	return 1.0;
}

static int open_all(struct run_ctx *c)
{
	const char *db = c->o.db ? c->o.db : c->st->db_path;
	struct fx_err err;
	unsigned n;
	size_t i;

	fx_err_clear(&err);
	c->sim = c->st->gpio_backend && !strcmp(c->st->gpio_backend, "sim");
	if (c->st->fxemu) {
		/* the boards are in build/fxemu, which runs in (scaled) real
		 * time: the station must run on the same scale */
		fx_rclock_init(&c->rclock, fxemu_scale(c));
		c->clock = &c->rclock.base;
	} else if (c->sim && c->o.scale <= 0) {
		/* virtual time shared by the slot threads */
		if (fx_dclock_init(&c->dclock)) {
			fprintf(stderr, "fixturectl run: out of memory\n");
			return FX_EXIT_SOFTWARE;
		}
		c->have_dclock = true;
		c->clock = &c->dclock.base;
	} else {
		fx_rclock_init(&c->rclock, c->sim ? c->o.scale : 1.0);
		c->clock = &c->rclock.base;
	}
	c->utc_offset_us = wall_utc_us() - (int64_t)fx_clock_now(c->clock);
	c->store = fx_store_open(db, &err);
	if (!c->store) {
		fprintf(stderr, "fixturectl run: database: %s\n", err.msg);
		return FX_EXIT_IOERR;
	}
	if (fx_store_latest_start_us(c->store, &c->utc_floor_us, &err)) {
		fprintf(stderr, "fixturectl run: database: %s\n", err.msg);
		return FX_EXIT_IOERR;
	}
	if (c->o.sync_uri) {
		c->sync = fx_cli_run_sync_start(fx_store_path(c->store), c->o.sync_uri,
						c->st->name, c->st->line,
						c->st->sync_warn_after_s);
		if (!c->sync)
			return FX_EXIT_USAGE;
		/* central serial pools: the pusher leases their blocks; wait
		 * up to 10 s for the first before the first board */
		const struct fx_serial_conf *pools[FX_STATION_MAX_SLOTS];

		for (i = 0; i < c->n_slots; i++)
			pools[i] = &c->slots[i].rcp->serial_number;
		if (fx_cli_run_sync_pools(c->sync, c->store, pools, c->n_slots, 10000))
			return FX_EXIT_DATAERR;
	}
	n = fx_store_recovered(c->store);
	if (n)
		fprintf(c->log, "database %s: %u unfinished run%s from before marked ABORTED\n",
		       db, n, n == 1 ? "" : "s");
	if (fx_seq_station_open(c->st, c->clock, &c->stn, &err)) {
		fprintf(stderr, "fixturectl run: station '%s': %s\n", c->o.station, err.msg);
		return err.code == FX_E_FILE ? FX_EXIT_NOINPUT :
		       err.code == FX_E_CONFIG ? FX_EXIT_DATAERR :
		       err.code == FX_E_NOTFOUND ? FX_EXIT_NODEV : FX_EXIT_IOERR;
	}
	for (i = 0; i < c->n_slots; i++)
		c->slots[i].sl = fx_seq_station_at(c->stn, i);
	if (c->o.events) {
		c->events = fx_events_open(c->o.events, c->st->name);
		if (!c->events) {
			fprintf(stderr, "fixturectl run: --events '%s': cannot write: %s\n",
				c->o.events, strerror(errno));
			return FX_EXIT_IOERR;
		}
	}
	return 0;
}

/* [serial_number] (issue 11): before a board is touched, its pool matches
 * the recipe, reservations of runs that ended (kill -9) are resolved, and
 * a value is left for it beyond the ahead boards of the same pool already
 * started in this batch; none left stops the station (FX_EXIT_EXHAUSTED).
 * Fewer than warn_below: the operator is warned. 0 or an exit code. */
static int serial_ready(struct run_ctx *c, const struct slot_ctx *sc, unsigned ahead)
{
	const struct fx_serial_conf *sn = &sc->rcp->serial_number;
	struct fx_err err;
	uint64_t left = 0;

	if (!sn->enabled)
		return 0;
	fx_err_clear(&err);
	if (fx_serial_prepare(c->store, sn, ctx_utc(c), &left, &err)) {
		fprintf(stderr, "fixturectl run: serial numbers: %s\n", err.msg);
		return err.code == FX_E_CONFIG ? FX_EXIT_DATAERR :
		       err.code == FX_E_FILE ? FX_EXIT_NOINPUT : FX_EXIT_IOERR;
	}
	if (left == UINT64_MAX)
		return 0;
	if (left <= ahead) {
		say(c, true, "STOP   pool '%s': no serial numbers left for slot %u", sn->pool,
		    sc->index);
		fprintf(stderr, "fixturectl run: pool '%s': no serial numbers left: station stopped"
			" before the board of slot %u (nothing written to it)\n", sn->pool, sc->index);
		return FX_EXIT_EXHAUSTED;
	}
	if (left - ahead <= sn->warn_below)
		say(c, true, "WARN   pool '%s': %llu serial number%s left (warn_below = %u)", sn->pool,
		    (unsigned long long)(left - ahead), left - ahead == 1 ? "" : "s", sn->warn_below);
	return 0;
}

/* Boards of sc's pool among the first n started in this batch. */
static unsigned same_pool(struct slot_ctx *const *who, size_t n, const struct slot_ctx *sc)
{
	unsigned k = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (who[i]->rcp->serial_number.enabled &&
		    !strcmp(who[i]->rcp->serial_number.pool, sc->rcp->serial_number.pool))
			k++;
	return k;
}

/* The job of the slot's next board (scan: its serial or NULL). */
static void make_job(struct run_ctx *c, struct slot_ctx *sc, const char *scan,
		     const char *ver)
{
	struct fx_seq_job *job = &sc->job;

	memset(job, 0, sizeof(*job));
	if (scan) {
		snprintf(sc->scan, sizeof(sc->scan), "%s", scan);
		job->scan_serial = sc->scan;
	}
	job->recipe = sc->rcp;
	job->image = sc->img;
	job->station_name = c->st->name;
	job->operator_id = c->o.operator_id;
	job->software_version = ver;
	job->utc_offset_us = c->utc_offset_us;
	job->abort_flag = &run_abort;
	job->report = on_report;
	job->report_user = sc;
	sc->end_seen = false;
}

/* After fx_seq_run (which saved an emulated board before recording it):
 * the next start comes after this one; a run that could not be recorded
 * stops the station. Under the lock. */
static void after_run(struct run_ctx *c, struct slot_ctx *sc, int rc,
		      const struct fx_seq_outcome *out)
{
	char t[16];

	if (fx_store_latest_start_us(c->store, &c->utc_floor_us, NULL))
		c->utc_floor_us = ctx_utc(c);
	if (!rc && out->error_code == FX_E_EXHAUSTED) {
		/* another slot took the last value meanwhile: this board was
		 * not written to (the serial step runs before erase) */
		fprintf(stderr, "fixturectl run: %s: station stopped, no more boards\n",
			out->message);
		if (!c->fatal)
			c->fatal = FX_EXIT_EXHAUSTED;
	}
	if (!rc)
		return;
	if (!sc->end_seen && !c->panel) {
		hms(c, t);
		fprintf(c->log, "%s ERROR  slot %u: %s\n", t, sc->index, out->message);
		fflush(c->log);
	}
	sc->last = FX_STORE_ERROR;
	fprintf(stderr, "fixturectl run: the run could not be recorded "
		"(%s): station stopped, no more boards\n", out->message);
	if (!c->fatal)
		c->fatal = rc == FX_E_INVAL ? FX_EXIT_USAGE : FX_EXIT_IOERR;
}

/* start_mode = batch: one START, every loaded slot at once. 0 = the loop
 * ended, 1 = EOF, or an exit code. */
static int loop_batch(struct run_ctx *c, const char *ver)
{
	struct fx_seq_gang_slot gs[FX_STATION_MAX_SLOTS];
	struct slot_ctx *who[FX_STATION_MAX_SLOTS];
	struct fx_emu_stats before[FX_STATION_MAX_SLOTS];
	unsigned cycle, k;
	struct fx_err err;

	for (cycle = 0; !c->o.have_cycles || cycle < c->o.cycles; cycle++) {
		size_t si, n = 0;
		int rc;

		if (run_stop)
			break;
		say(c, true, "READY  load the board%s and press START",
		    c->n_slots > 1 ? "s" : "");
		rc = wait_start(c, cycle);
		if (rc == 1)
			return 1;
		if (rc)
			return FX_EXIT_IOERR;
		lock(c);
		resync_utc(c);
		/* the tower judges this batch only (a slot left empty keeps no
		 * old verdict in it; a board refused before its run counts) */
		for (si = 0; si < c->n_slots; si++)
			c->slots[si].last = -1;
		unlock(c);
		for (si = 0, k = 0; si < c->n_slots; si++) {
			struct slot_ctx *sc = &c->slots[si];
			const char *scan = NULL;
			bool present = true;
			char why[160];

			fx_err_clear(&err);
			if (fx_seq_slot_present(sc->sl, &present, &err)) {
				fprintf(stderr, "fixturectl run: slot %u: %s\n", sc->index, err.msg);
				return FX_EXIT_IOERR;
			}
			if (!present) {
				lock(c);
				snprintf(sc->view.state, sizeof(sc->view.state), "EMPTY");
				unlock(c);
				say(c, true, "EMPTY  slot %u: no board in the socket, skipped",
				    sc->index);
				continue;
			}
			/* one scanned serial per board */
			rc = next_scan(c, sc->rcp, c->n_runs, &scan, why, sizeof(why));
			if (rc == 1)
				return n ? FX_EXIT_USAGE : 1; /* EOF: nothing started */
			if (rc == 2) {
				/* this board only: the next line is the next
				 * board's serial */
				say(c, true, "FAIL   slot %u: %s", sc->index, why);
				c->any_bad = true;
				lock(c);
				sc->last = FX_STORE_FAIL;
				unlock(c);
				continue;
			}
			if (rc < 0) {
				fprintf(stderr, "fixturectl run: recipe '%s' wants a scanned serial "
					"(serial = %s): none left (--serial-scan)\n", sc->rcp->name,
					fx_recipe_serial_name(sc->rcp->serial));
				return FX_EXIT_USAGE;
			}
			rc = serial_ready(c, sc, same_pool(who, n, sc));
			if (rc == FX_EXIT_EXHAUSTED) {
				/* this board untouched; the batch's others run,
				 * then the station stops */
				c->fatal = rc;
				continue;
			}
			if (rc)
				return rc;
			c->n_runs++;
			if (c->o.demo_on && fx_seq_slot_conf(sc->sl)->emulated) {
				rc = put_demo_board(c, sc, cycle * (unsigned)c->n_slots + k);
				if (rc)
					return rc;
			}
			k++;
			make_job(c, sc, scan, ver);
			memset(&gs[n], 0, sizeof(gs[n]));
			gs[n].slot = sc->sl;
			gs[n].job = &sc->job;
			board_stats(sc, &before[n]);
			who[n++] = sc;
			say(c, true, "BUSY   slot %u", sc->index);
		}
		if (!n && c->fatal)
			return c->fatal;
		if (!n) {
			say(c, true, "no board to program");
			lock(c);
			tower(c);
			unlock(c);
			continue;
		}
		lock(c);
		c->running = (unsigned)n;
		tower(c);
		unlock(c);
		fx_err_clear(&err);
		if (fx_seq_gang_run(c->stn, c->store, gs, n, &err)) {
			fprintf(stderr, "fixturectl run: %s\n", err.msg);
			return FX_EXIT_SOFTWARE;
		}
		lock(c);
		c->running = 0;
		for (si = 0; si < n; si++) {
			if (gs[si].empty) {
				/* emptied between the look above and its run */
				snprintf(who[si]->view.state, sizeof(who[si]->view.state), "EMPTY");
				say(c, true, "EMPTY  slot %u: no board in the socket, skipped",
				    who[si]->index);
				continue;
			}
			stats_add(c, who[si], &before[si]);
			after_run(c, who[si], gs[si].rc, &gs[si].out);
		}
		tower(c);
		redraw(c, true);
		unlock(c);
		if (c->fatal)
			return c->fatal;
	}
	return 0;
}

/* Emulated operator or the slot's button: 0 = START, 1 = stop, <0 err. */
static int slot_wait_start(struct slot_ctx *sc, unsigned k)
{
	struct run_ctx *c = sc->c;
	struct fx_err err;
	int rc;

	fx_err_clear(&err);
	if (c->sim) {
		/* as in wait_start: a press already in the past is asked again */
		for (int tries = 0;; tries++) {
			uint64_t at = fx_clock_now(c->clock) +
				      (k ? SIM_PRESS_DELAY_US :
				       SIM_FIRST_PRESS_US + (uint64_t)sc->pos * SIM_STAGGER_US);

			fx_err_clear(&err);
			rc = fx_seq_slot_press_start(sc->sl, at, &err);
			if (rc != FX_E_INVAL || tries == SIM_PRESS_TRIES)
				break;
		}
		if (!rc)
			rc = fx_seq_slot_wait_start(sc->sl, 60000, &err);
	} else {
		for (;;) {
			if (run_stop || c->fatal)
				return 1;
			rc = fx_seq_slot_wait_start(sc->sl, START_SLICE_MS, &err);
			if (rc != FX_E_TIMEOUT)
				break;
		}
		if (rc && run_stop)
			return 1;
	}
	if (rc) {
		fprintf(stderr, "fixturectl run: slot %u: START: %s\n", sc->index, err.msg);
		return rc;
	}
	return run_stop || c->fatal ? 1 : 0;
}

/* start_mode = independent: the loop of one slot, in its own thread. */
static void loop_slot(void *user)
{
	struct slot_ctx *sc = user;
	struct run_ctx *c = sc->c;
	char ver[64];
	unsigned k;

	snprintf(ver, sizeof(ver), "fixturectl %s", FX_VERSION);
	for (k = 0; !c->o.have_cycles || k < c->o.cycles; k++) {
		struct fx_emu_stats before;
		const char *scan = NULL;
		struct fx_err err;
		bool present = true;
		char why[160];
		unsigned nth;
		int rc;

		if (run_stop || c->fatal)
			break;
		say(c, true, "READY  slot %u: load the board and press its START", sc->index);
		rc = slot_wait_start(sc, k);
		if (rc == 1)
			break;
		if (rc) {
			lock(c);
			if (!c->fatal)
				c->fatal = FX_EXIT_IOERR;
			unlock(c);
			break;
		}
		fx_err_clear(&err);
		if (fx_seq_slot_present(sc->sl, &present, &err)) {
			fprintf(stderr, "fixturectl run: slot %u: %s\n", sc->index, err.msg);
			lock(c);
			if (!c->fatal)
				c->fatal = FX_EXIT_IOERR;
			unlock(c);
			break;
		}
		if (!present) {
			say(c, true, "EMPTY  slot %u: no board in the socket, skipped", sc->index);
			continue;
		}
		lock(c);
		nth = c->n_runs++;
		rc = next_scan(c, sc->rcp, nth, &scan, why, sizeof(why));
		unlock(c);
		if (rc < 0) {
			fprintf(stderr, "fixturectl run: recipe '%s' wants a scanned serial "
				"(serial = %s): none left (--serial-scan)\n", sc->rcp->name,
				fx_recipe_serial_name(sc->rcp->serial));
			lock(c);
			if (!c->fatal)
				c->fatal = FX_EXIT_USAGE;
			unlock(c);
			break;
		}
		lock(c); /* the record time (ctx_utc) is the others' too */
		rc = serial_ready(c, sc, 0);
		if (rc && !c->fatal)
			c->fatal = rc;
		unlock(c);
		if (rc)
			break;
		if (c->o.demo_on && fx_seq_slot_conf(sc->sl)->emulated &&
		    put_demo_board(c, sc, k * (unsigned)c->n_slots + (unsigned)sc->pos)) {
			lock(c);
			if (!c->fatal)
				c->fatal = FX_EXIT_SOFTWARE;
			unlock(c);
			break;
		}
		lock(c);
		resync_utc(c);
		make_job(c, sc, scan, ver);
		c->running++;
		tower(c);
		unlock(c);
		say(c, true, "BUSY   slot %u", sc->index);
		fx_err_clear(&err);
		board_stats(sc, &before);
		rc = fx_seq_run(sc->sl, c->store, &sc->job, &sc->out, &err);
		lock(c);
		stats_add(c, sc, &before);
		c->running--;
		after_run(c, sc, rc, &sc->out);
		tower(c);
		redraw(c, true);
		unlock(c);
	}
}

static int loop(struct run_ctx *c)
{
	char ver[64], title[256];
	const char *reason = "done";
	size_t i;
	int rc;

	snprintf(ver, sizeof(ver), "fixturectl %s", FX_VERSION);
	snprintf(title, sizeof(title), "fixturectl run  station %s  %s, %zu slot%s, hub %s  "
		 "recipe %s %s", c->st->name, fx_station_start_mode_name(c->st->start_mode),
		 c->n_slots, c->n_slots == 1 ? "" : "s", fx_station_hub_name(c->st->hub),
		 c->rcp ? c->rcp->name : c->slots[0].rcp->name,
		 c->rcp ? c->rcp->version : c->slots[0].rcp->version);
	if (c->rcp)
		say(c, false, "station %s, recipe %s %s, firmware %s", c->st->name,
		    c->rcp->name, c->rcp->version, c->rcp->firmware);
	else
		say(c, false, "station %s, a recipe per slot", c->st->name);
	if (c->n_slots > 1)
		say(c, false, "%zu slots at once (start_mode %s, hub %s)", c->n_slots,
		    fx_station_start_mode_name(c->st->start_mode),
		    fx_station_hub_name(c->st->hub));
	if (isatty(STDOUT_FILENO) && !c->o.plain &&
	    !(c->o.events && !strcmp(c->o.events, "-"))) {
		lock(c);
		c->panel = fx_panel_open(title);
		totals_line(c, c->totals, sizeof(c->totals));
		redraw(c, true);
		unlock(c);
	}
	if (c->st->start_mode == FX_STATION_START_BATCH) {
		rc = loop_batch(c, ver);
		if (rc == 1) {
			reason = "eof";
			rc = 0;
		}
	} else {
		void *users[FX_STATION_MAX_SLOTS];
		struct fx_err err;

		for (i = 0; i < c->n_slots; i++)
			users[i] = &c->slots[i];
		fx_err_clear(&err);
		fx_seq_gang_each(c->clock, loop_slot, users, c->n_slots, &err);
		rc = c->fatal;
	}
	if (rc)
		reason = "error";
	else if (run_stop)
		reason = "interrupted";
	lock(c);
	if (c->panel) {
		redraw(c, true);
		fx_panel_close(c->panel);
		c->panel = NULL;
		fx_panel_print(c->log, c->views, (unsigned)c->n_slots);
		fprintf(c->log, "%s\n", c->totals);
	}
	fx_events_stopped(c->events, ctx_utc(c), reason, &c->tot);
	if (c->o.stats)
		fprintf(c->log, "stats boards=%u emu_usb_us=%llu emu_device_us=%llu "
			"hub_busy_us=%llu clock_us=%llu\n", c->stat_boards,
			(unsigned long long)c->stat_usb_us,
			(unsigned long long)c->stat_device_us,
			(unsigned long long)fx_seq_station_bus_us(c->stn),
			(unsigned long long)fx_clock_now(c->clock));
	for (i = 0; c->o.stats && i < c->n_stat_step; i++)
		fprintf(c->log, "stats step=%s n=%u emu_usb_us=%llu\n", c->stat_step[i].name,
			c->stat_step[i].n, (unsigned long long)c->stat_step[i].usb_us);
	unlock(c);
	if (rc)
		return rc;
	if (run_stop)
		return RUN_EXIT_INTERRUPTED;
	return c->any_bad ? FX_EXIT_FAIL : FX_EXIT_OK;
}

static void cleanup(struct run_ctx *c)
{
	size_t i;

	fx_panel_close(c->panel);
	if (c->events && !fx_events_close(c->events))
		fprintf(stderr, "fixturectl run: --events '%s': write failed: %s\n",
			c->o.events, strerror(errno));
	fx_seq_station_close(c->stn);
	fx_cli_run_sync_stop(c->sync);
	fx_store_close(c->store);
	for (i = 0; i < c->n_slots; i++) {
		fx_image_free(c->slots[i].own_img);
		fx_recipe_free(c->slots[i].own_rcp);
	}
	fx_image_free(c->img);
	fx_recipe_free(c->rcp);
	fx_station_free(c->st);
	for (i = 0; i < c->n_scans; i++)
		free(c->scans[i]);
	free(c->line);
	if (c->have_dclock)
		fx_dclock_release(&c->dclock);
	if (c->have_lock)
		pthread_mutex_destroy(&c->lock);
}

static int parse_args(struct run_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "station", required_argument, NULL, 's' },
		{ "recipe", required_argument, NULL, 'r' },
		{ "db", required_argument, NULL, 'd' },
		{ "operator", required_argument, NULL, 'o' },
		{ "cycles", required_argument, NULL, 'n' },
		{ "serial-scan", required_argument, NULL, 'S' },
		{ "demo-boards", optional_argument, NULL, 'D' },
		{ "realtime", optional_argument, NULL, 'R' },
		{ "events", required_argument, NULL, 'E' },
		{ "plain", no_argument, NULL, 'P' },
		{ "stats", no_argument, NULL, 'T' },
		{ "sync", required_argument, NULL, 'Y' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t n;
	int ch, before;

	optind = 1;
	opterr = 0;
	while ((before = optind, ch = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		switch (ch) {
		case 's': o->station = optarg; break;
		case 'r': o->recipe = optarg; break;
		case 'd': o->db = optarg; break;
		case 'o': o->operator_id = optarg; break;
		case 'S': o->scan = optarg; break;
		case 'Y': o->sync_uri = optarg; break;
		case 'D': o->demo_on = true; o->demo = optarg; break;
		case 'E': o->events = optarg; break;
		case 'P': o->plain = true; break;
		case 'T': o->stats = true; break;
		case 'n':
			if (!fx_cli_parse_u32(optarg, 1000000, &n) || n == 0)
				return fx_cli_usage_error("run", "--cycles: expected 1..1000000, got '%s'",
							  optarg);
			o->cycles = n;
			o->have_cycles = true;
			break;
		case 'R':
			if (!fx_cli_parse_scale(optarg, &o->scale))
				return fx_cli_usage_error("run", "--realtime: expected a scale > 0, got '%s'",
							  optarg);
			break;
		case 'v': o->verbose++; break;
		case 'h':
			fputs(run_usage, stdout);
			return 0;
		case ':':
		default:
			return fx_cli_option_error("run", ch, argv, before);
		}
	}
	if (optind < argc)
		return fx_cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (!o->station)
		return fx_cli_usage_error("run", "--station and --recipe are required "
					  "(--recipe may be left out when every [slot N] "
					  "names its own recipe)");
	if (o->events && !o->events[0])
		return fx_cli_usage_error("run", "--events: expected a file or '-', got ''");
	return -1;
}

/* Options that depend on the station file. 0 or FX_EXIT_USAGE. */
static int check_mode(const struct run_ctx *c)
{
	bool sim = c->st->gpio_backend && !strcmp(c->st->gpio_backend, "sim");

	if (c->st->start_mode != FX_STATION_START_INDEPENDENT)
		return 0;
	if (c->o.scan && !strcmp(c->o.scan, "-"))
		return fx_cli_usage_error("run", "--serial-scan -: stdin serials need "
					  "start_mode = batch (slots would race for the lines)");
	if (sim && !c->o.have_cycles)
		return fx_cli_usage_error("run", "start_mode = independent on an emulated "
					  "station needs --cycles N (the scripted operator "
					  "presses each slot's START N times)");
	return 0;
}

int fx_cmd_run(int argc, char **argv)
{
	pthread_mutexattr_t ma;
	struct sigaction sa;
	struct run_ctx c;
	char *abs;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = parse_args(&c.o, argc, argv);
	if (rc >= 0)
		return rc;
	fx_cli_log_init(c.o.verbose);
	run_stop = 0;
	run_abort = 0;
	if (pthread_mutexattr_init(&ma) ||
	    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE) ||
	    pthread_mutex_init(&c.lock, &ma)) {
		fprintf(stderr, "fixturectl run: out of memory\n");
		return FX_EXIT_SOFTWARE;
	}
	pthread_mutexattr_destroy(&ma);
	c.have_lock = true;
	c.log = c.o.events && !strcmp(c.o.events, "-") ? stderr : stdout;
	rc = load_conf(&c);
	if (!rc && c.o.demo_on) {
		if (!c.st->slots[0].emulated)
			rc = fx_cli_usage_error("run", "--demo-boards needs an emulated slot 1");
		else
			rc = parse_demo(&c);
	}
	if (!rc)
		rc = check_mode(&c);
	if (!rc)
		rc = parse_scans(&c);
	if (!rc)
		rc = open_all(&c);
	if (!rc) {
		/* before ncurses looks: it leaves handlers that are set alone */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = loop(&c);
		abs = realpath(fx_store_path(c.store), NULL);
		fprintf(c.log, "database: %s\nlook at it: fixturectl report yield --db %s\n",
		       abs ? abs : fx_store_path(c.store), abs ? abs : fx_store_path(c.store));
		free(abs);
	}
	cleanup(&c);
	return rc;
}
