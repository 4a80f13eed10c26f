/* cmd_run.c - `fixturectl run`: the operator loop (issue 4 "The operator
 * loop"): READY -> START (lid closed) -> BUSY -> the sequence -> PASS/FAIL
 * with the reason, today's counts and yield -> next board. Plain lines on
 * stdout, so it works the same with or without a TTY. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "cmd_run.h"
#include "run_sync.h"
#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/image.h"
#include "fx/log.h"
#include "fx/seq.h"
#include "fx/store.h"

#define RUN_EXIT_INTERRUPTED 130
#define START_SLICE_MS 250u     /* real stations: re-check Ctrl-C this often */
#define SIM_PRESS_DELAY_US 1500000u /* emulated operator: next board after 1.5 s */
/* first press: a little ahead, so a real-time clock has not passed it */
#define SIM_FIRST_PRESS_US 100000u
#define MAX_SCANS 256
/* a scanned serial fits the outcome's serial field (and the PASS line) */
#define SERIAL_MAX (sizeof(((struct fx_seq_outcome *)0)->serial) - 1)

static const char run_usage[] =
	"usage: fixturectl run --station FILE --recipe FILE [--db FILE]\n"
	"                      [--operator ID] [--cycles N] [--serial-scan LIST]\n"
	"                      [--demo-boards[=LIST]] [--realtime[=SCALE]] [--sync URI] [-v]\n"
	"\n"
	"The operator loop of a station: wait for START (lid closed), program one\n"
	"board per slot with the recipe, record every run in the station database,\n"
	"show PASS (only after the record is committed) or FAIL with the reason,\n"
	"today's counts and yield, then wait for the next board.\n"
	"\n"
	"  --station FILE      the jig wiring (stations/*.ini)\n"
	"  --recipe FILE       what to program (config/*.ini)\n"
	"  --db FILE           database (default: the station's 'database')\n"
	"  --operator ID       recorded with every run\n"
	"  --cycles N          stop after N boards (emulated stations: START is\n"
	"                      pressed by a scripted operator; without --cycles\n"
	"                      each line on stdin presses START, EOF ends)\n"
	"  --serial-scan LIST  unit serials the operator scans (recipe serial =\n"
	"                      scan|both): comma-separated, one per board in slot\n"
	"                      order, or '-' to read one line from stdin per board\n"
	"                      (an empty line asks again; a serial of more than\n"
	"                      63 characters fails that board unprogrammed)\n"
	"  --demo-boards[=LIST]  emulated stations: put a fresh board into slot 1\n"
	"                      for every cycle, in turn from LIST (default\n"
	"                      blank,programmed,corrupted,dual-bank; also protected)\n"
	"  --realtime[=SCALE]  emulated stations: run in (scaled) real time instead\n"
	"                      of virtual time (stations with 'emulator = fxemu'\n"
	"                      always run in real time, by default on fxemu's\n"
	"                      scale)\n"
	"  --sync URI          push the records to the fleet database in the background\n"
	"                      (as fixturectl sync --follow; the station never waits);\n"
	"                      warns when a run is not there after [station]\n"
	"                      sync_warn_after seconds (default 600)\n"
	"  -v, --verbose       log the sequence and the DFU layer\n"
	"\n"
	"Ctrl-C (SIGINT/SIGTERM) finishes the current board safely, records it and\n"
	"exits; a second Ctrl-C aborts the board at the next step (recorded\n"
	"ABORTED, BOOT0 released, power off).\n"
	"\n"
	"exit codes: 0 the loop ended and every unit passed, 1 the loop ended and\n"
	"            some unit did not pass (FAIL, ERROR or ABORTED), 64 usage,\n"
	"            65 bad station/recipe/firmware, 66 file unreadable,\n"
	"            69 a GPIO chip or line of the station is missing,\n"
	"            74 database or GPIO error (the station stopped),\n"
	"            130 stopped by Ctrl-C/SIGTERM after recording the current board\n";

/* Signals: the only state a handler may touch. */
static volatile sig_atomic_t run_stop;  /* finish the board, then exit */
static volatile sig_atomic_t run_abort; /* abort the board at the next step */

static void on_signal(int sig)
{
	(void)sig;
	if (run_stop)
		run_abort = 1;
	run_stop = 1;
}

struct run_opts {
	const char *station, *recipe, *db, *operator_id, *scan;
	const char *demo;
	const char *sync_uri;   /* --sync (run_sync.h) */
	bool demo_on;
	unsigned cycles;
	bool have_cycles;
	double scale;
	int verbose;
};

struct run_ctx {
	struct run_opts o;
	struct fx_station *st;
	struct fx_recipe *rcp;
	struct fx_image *img;
	struct fx_store *store;
	struct fx_cli_run_sync *sync;
	struct fx_seq_station *stn;
	struct fx_vclock vclock;
	struct fx_rclock rclock;
	const struct fx_clock *clock;
	int64_t utc_offset_us;
	int64_t utc_floor_us; /* latest time in the database at open */
	int demo_kinds[16];
	size_t n_demo;
	char *scans[MAX_SCANS];
	size_t n_scans;
	char *line;         /* the last stdin line (getline) */
	size_t line_cap;
	uint64_t step_t0;
	unsigned slot_index;
	bool tty;           /* stdout is a terminal: show the step in progress */
	unsigned n_runs;    /* boards started (one scanned serial each) */
};

static int64_t wall_utc_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Re-anchor record times to the wall clock before each board: a virtual
 * clock runs ahead of (or behind) real time, and records stamped in the
 * future would sort after later runs. Never moves backwards, so the
 * records of one process stay in order. */
static void resync_utc(struct run_ctx *c)
{
	int64_t want = wall_utc_us(), off;

	/* after whatever the database holds: an earlier process on a
	 * virtual clock may have run ahead of the wall clock */
	if (want <= c->utc_floor_us)
		want = c->utc_floor_us + 1;
	off = want - (int64_t)fx_clock_now(c->clock);
	if (off > c->utc_offset_us)
		c->utc_offset_us = off;
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

static int load_conf(struct run_ctx *c)
{
	struct fx_conf_diags d;
	struct fx_err err;
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
	fx_conf_diags_init(&d);
	rc = fx_recipe_load(c->o.recipe, &c->rcp, &d, &err);
	if (rc) {
		print_diags(&d, &err);
		fx_conf_diags_release(&d);
		return fx_cli_exit_code(rc);
	}
	fx_conf_diags_release(&d);
	c->img = fx_image_load(c->rcp->firmware, FX_IMAGE_AUTO, c->rcp->firmware_raw,
			       c->rcp->address, &err);
	if (!c->img) {
		fprintf(stderr, "fixturectl run: recipe '%s': %s\n", c->o.recipe, err.msg);
		return err.code == FX_E_FILE ? FX_EXIT_NOINPUT : FX_EXIT_DATAERR;
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

/* The serial for board i: from the list, or one stdin line. 0 = *out set
 * (NULL when the recipe needs none), 1 = EOF on stdin, -1 = none left,
 * 2 = the scanned serial is refused (too long; the reason is in why). */
static int next_scan(struct run_ctx *c, unsigned i, const char **out,
		     char *why, size_t why_cap)
{
	size_t len;

	*out = NULL;
	if (c->rcp->serial == FX_RECIPE_SERIAL_UID)
		return 0;
	if (c->o.scan && !strcmp(c->o.scan, "-")) {
		for (;;) {
			printf("scan the unit serial: ");
			fflush(stdout);
			if (read_line(c))
				return 1; /* EOF: the operator is done */
			if (c->line[0])
				break;
			printf("empty serial: scan the unit again\n");
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

static void on_progress(void *user, enum fx_seq_event ev, const char *step,
			enum fx_store_result res, const char *detail)
{
	struct run_ctx *c = user;
	char t[16];

	if (ev == FX_SEQ_EV_STEP_BEGIN) {
		c->step_t0 = fx_clock_now(c->clock);
		if (c->tty) { /* the step in progress, replaced by its result */
			hms(c, t);
			printf("%s slot %u   %-10s ...\r", t, c->slot_index, step);
			fflush(stdout);
		}
		return;
	}
	hms(c, t);
	printf("%s%s slot %u   %-10s %-7s %6llu ms  %s\n", c->tty ? "\033[K" : "", t,
	       c->slot_index, step,
	       fx_store_result_name(res),
	       (unsigned long long)((fx_clock_now(c->clock) - c->step_t0) / 1000u),
	       detail ? detail : "");
	fflush(stdout);
}

static void print_counts(struct run_ctx *c)
{
	struct fx_store_counts n;
	struct fx_err err;

	fx_err_clear(&err);
	if (fx_store_counts_day(c->store, ctx_utc(c), NULL, &n, &err)) {
		printf("           today: (counts unavailable: %s)\n", err.msg);
		return;
	}
	printf("           today: %u runs, %u passed, %u failed, %u errors, yield %.1f%%\n",
	       n.runs, n.passed, n.failed, n.errors,
	       n.runs ? 100.0 * n.passed / n.runs : 0.0);
	fx_cli_run_sync_warn(c->sync);
}

/* Emulated operator or real button: 0 = START, 1 = stop the loop, <0 err. */
static int wait_start(struct run_ctx *c, bool sim, unsigned cycle)
{
	struct fx_err err;
	int rc;

	fx_err_clear(&err);
	if (sim) {
		if (!c->o.have_cycles) {
			printf("press Enter for START (Ctrl-D ends)\n");
			fflush(stdout);
			if (read_line(c)) /* a long line is one press */
				return 1;
		}
		rc = fx_seq_station_press_start(c->stn, fx_clock_now(c->clock) +
						(cycle ? SIM_PRESS_DELAY_US : SIM_FIRST_PRESS_US), &err);
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

static int put_demo_board(struct run_ctx *c, struct fx_seq_slot *sl, unsigned cycle)
{
	enum fx_seq_demo_board kind = (enum fx_seq_demo_board)c->demo_kinds[cycle % c->n_demo];
	struct fx_emu *b;
	struct fx_err err;

	fx_err_clear(&err);
	b = fx_seq_demo_board_new(kind, cycle + 1, c->rcp, c->img, c->clock, &err);
	if (!b || fx_seq_slot_set_board(sl, b, &err)) {
		fprintf(stderr, "fixturectl run: demo board: %s\n", err.msg);
		return FX_EXIT_SOFTWARE;
	}
	printf("           demo: a %s board is in slot %u\n", fx_seq_demo_name(kind),
	       fx_seq_slot_conf(sl)->index);
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
	bool sim = c->st->gpio_backend && !strcmp(c->st->gpio_backend, "sim");
	struct fx_err err;
	unsigned n;

	fx_err_clear(&err);
	if (c->st->fxemu) {
		/* the boards are in build/fxemu, which runs in (scaled) real
		 * time: the station must run on the same scale */
		fx_rclock_init(&c->rclock, fxemu_scale(c));
		c->clock = &c->rclock.base;
	} else if (sim && c->o.scale <= 0) {
		fx_vclock_init(&c->vclock);
		c->clock = &c->vclock.base;
	} else {
		fx_rclock_init(&c->rclock, sim ? c->o.scale : 1.0);
		c->clock = &c->rclock.base;
	}
	c->utc_offset_us = wall_utc_us() - (int64_t)fx_clock_now(c->clock);
	c->store = fx_store_open(db, &err);
	if (!c->store) {
		fprintf(stderr, "fixturectl run: database: %s\n", err.msg);
		return FX_EXIT_IOERR;
	}
	if (fx_store_latest_us(c->store, &c->utc_floor_us, &err)) {
		fprintf(stderr, "fixturectl run: database: %s\n", err.msg);
		return FX_EXIT_IOERR;
	}
	if (c->o.sync_uri) {
		c->sync = fx_cli_run_sync_start(fx_store_path(c->store), c->o.sync_uri,
						c->st->name, c->st->line,
						c->st->sync_warn_after_s);
		if (!c->sync)
			return FX_EXIT_USAGE;
	}
	n = fx_store_recovered(c->store);
	if (n)
		printf("database %s: %u unfinished run%s from before marked ABORTED\n",
		       db, n, n == 1 ? "" : "s");
	if (fx_seq_station_open(c->st, c->clock, &c->stn, &err)) {
		fprintf(stderr, "fixturectl run: station '%s': %s\n", c->o.station, err.msg);
		return err.code == FX_E_FILE ? FX_EXIT_NOINPUT :
		       err.code == FX_E_CONFIG ? FX_EXIT_DATAERR :
		       err.code == FX_E_NOTFOUND ? FX_EXIT_NODEV : FX_EXIT_IOERR;
	}
	return 0;
}

static int loop(struct run_ctx *c)
{
	bool sim = c->st->gpio_backend && !strcmp(c->st->gpio_backend, "sim");
	bool any_bad = false;
	unsigned cycle;
	char ver[64], t[16];

	snprintf(ver, sizeof(ver), "fixturectl %s", FX_VERSION);
	printf("station %s, recipe %s %s, firmware %s\n", c->st->name, c->rcp->name,
	       c->rcp->version, c->rcp->firmware);
	for (cycle = 0; !c->o.have_cycles || cycle < c->o.cycles; cycle++) {
		const char *scan = NULL;
		size_t si;
		int rc;

		if (run_stop)
			break;
		hms(c, t);
		printf("%s READY  load the board%s and press START\n", t,
		       c->st->n_slots > 1 ? "s" : "");
		fflush(stdout);
		fx_seq_station_tower(c->stn, 0, 1, 0, NULL);
		rc = wait_start(c, sim, cycle);
		if (rc == 1)
			break;
		if (rc)
			return FX_EXIT_IOERR;
		fx_seq_station_tower(c->stn, 0, 0, 0, NULL);
		for (si = 0; si < c->st->n_slots; si++) {
			struct fx_seq_slot *sl = fx_seq_station_slot(c->stn, c->st->slots[si].index);
			struct fx_seq_outcome out;
			struct fx_seq_job job;
			struct fx_err err;
			char why[160];

			if (run_stop && si > 0)
				break; /* Ctrl-C: boards not started stay untouched */
			fx_err_clear(&err);
			c->slot_index = c->st->slots[si].index;
			/* one scanned serial per board */
			rc = next_scan(c, c->n_runs, &scan, why, sizeof(why));
			if (rc == 1)
				goto out;
			if (rc == 2) {
				/* this board only: the next line is the next
				 * board's serial */
				hms(c, t);
				printf("%s FAIL   slot %u: %s\n", t, c->slot_index, why);
				fflush(stdout);
				any_bad = true;
				continue;
			}
			if (rc < 0) {
				fprintf(stderr, "fixturectl run: recipe '%s' wants a scanned serial "
					"(serial = %s): none left (--serial-scan)\n", c->rcp->name,
					fx_recipe_serial_name(c->rcp->serial));
				return FX_EXIT_USAGE;
			}
			c->n_runs++;
			if (c->o.demo_on && si == 0) {
				rc = put_demo_board(c, sl, cycle);
				if (rc)
					return rc;
			}
			resync_utc(c);
			memset(&job, 0, sizeof(job));
			job.recipe = c->rcp;
			job.image = c->img;
			job.station_name = c->st->name;
			job.operator_id = c->o.operator_id;
			job.scan_serial = scan;
			job.software_version = ver;
			job.utc_offset_us = c->utc_offset_us;
			job.abort_flag = &run_abort;
			job.progress = on_progress;
			job.progress_user = c;
			hms(c, t);
			printf("%s BUSY   slot %u\n", t, c->slot_index);
			fflush(stdout);
			rc = fx_seq_run(sl, c->store, &job, &out, &err);
			if (fx_seq_slot_save(sl, &err))
				fprintf(stderr, "fixturectl run: slot %u: %s\n", c->slot_index, err.msg);
			hms(c, t);
			if (rc) {
				fx_seq_station_tower(c->stn, 0, 0, 1, NULL);
				printf("%s ERROR  slot %u: %s\n", t, c->slot_index, out.message);
				fprintf(stderr, "fixturectl run: the run could not be recorded "
					"(%s): station stopped, no more boards\n", out.message);
				return rc == FX_E_INVAL ? FX_EXIT_USAGE : FX_EXIT_IOERR;
			}
			if (out.result == FX_STORE_PASS)
				printf("%s PASS   slot %u serial %s board %s%s  %.1f s\n", t,
				       c->slot_index, out.serial, fx_store_board_name(out.board),
				       out.ob_written ? " (option bytes rewritten)" : "",
				       (double)out.duration_us / 1e6);
			else
				printf("%s %-6s slot %u serial %s board %s: %s\n", t,
				       fx_store_result_name(out.result), c->slot_index,
				       out.serial[0] ? out.serial : "?",
				       fx_store_board_name(out.board), out.message);
			if (out.result != FX_STORE_PASS)
				any_bad = true;
			fx_seq_station_tower(c->stn, out.result == FX_STORE_PASS,
					     0, out.result != FX_STORE_PASS, NULL);
			print_counts(c);
			fflush(stdout);
		}
	}
out:
	if (run_stop)
		return RUN_EXIT_INTERRUPTED;
	return any_bad ? FX_EXIT_FAIL : FX_EXIT_OK;
}

static void cleanup(struct run_ctx *c)
{
	size_t i;

	fx_seq_station_close(c->stn);
	fx_cli_run_sync_stop(c->sync);
	fx_store_close(c->store);
	fx_image_free(c->img);
	fx_recipe_free(c->rcp);
	fx_station_free(c->st);
	for (i = 0; i < c->n_scans; i++)
		free(c->scans[i]);
	free(c->line);
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
	if (!o->station || !o->recipe)
		return fx_cli_usage_error("run", "--station and --recipe are required");
	return -1;
}

int fx_cmd_run(int argc, char **argv)
{
	struct sigaction sa;
	struct run_ctx c;
	char *abs;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = parse_args(&c.o, argc, argv);
	if (rc >= 0)
		return rc;
	fx_cli_log_init(c.o.verbose);
	c.tty = isatty(STDOUT_FILENO);
	run_stop = 0;
	run_abort = 0;
	rc = load_conf(&c);
	if (!rc && c.o.demo_on) {
		if (!c.st->slots[0].emulated)
			rc = fx_cli_usage_error("run", "--demo-boards needs an emulated slot 1");
		else
			rc = parse_demo(&c);
	}
	if (!rc)
		rc = parse_scans(&c);
	if (!rc)
		rc = open_all(&c);
	if (!rc) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = loop(&c);
		abs = realpath(fx_store_path(c.store), NULL);
		printf("database: %s\nlook at it: fixturectl report yield --db %s\n",
		       abs ? abs : fx_store_path(c.store), abs ? abs : fx_store_path(c.store));
		free(abs);
	}
	cleanup(&c);
	return rc;
}
