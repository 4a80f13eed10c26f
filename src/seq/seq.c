/* seq.c - the step engine of one slot (fx/seq.h): ordered steps, each
 * timed with the injected clock and bounded by the recipe's timeout,
 * each recorded as it finishes; the outcome recorded last and PASS shown
 * only after the commit. */
#include <stdio.h>
#include <string.h>

#include "fx/log.h"
#include "seq_priv.h"
#include "steps_serial.h"

#define LOG_PREFIX "seq"
#define FIXED_STEP_MS 10000u /* steps without a recipe timeout */
#define BACKSTOP_SLACK_US 1000000u

/* Does the step apply to this run at all (omitted steps leave no row)? */
typedef bool (*seq_applies_fn)(const struct seq_run *r);
/* The step's bound in ms from the recipe. */
typedef unsigned (*seq_limit_fn)(const struct seq_run *r);

struct seq_step {
	const char *name;
	seq_step_fn run;
	seq_applies_fn applies; /* NULL = always */
	seq_limit_fn limit;
};

/* The run with what only this file and the serial steps need: the serial
 * number (steps_serial.h) and the records it is tied to. fx_seq_run()
 * holds one; the serial steps reach it from their struct seq_run (the
 * first member). */
struct seq_run_ser {
	struct seq_run r;            /* first */
	struct seq_serial ser;
	struct fx_store *st;
	const struct fx_store_run *run;
	struct fx_seq_outcome *out;
	struct fx_seq_job job;       /* the job with the image to program
				      * (serial fields merged) */
};

static struct seq_run_ser *ser_run(struct seq_run *r)
{
	return (struct seq_run_ser *)r;
}

static bool has_power(const struct seq_run *r)
{
	return r->slot->power != NULL;
}

static bool is_protected(const struct seq_run *r)
{
	return r->board == FX_STORE_BOARD_PROTECTED;
}

static bool wants_rdp(const struct seq_run *r)
{
	return r->recipe->rdp == 1;
}

static bool has_serial(const struct seq_run *r)
{
	return r->recipe->serial_number.enabled;
}

static bool has_serial_otp(const struct seq_run *r)
{
	return r->recipe->serial_number.enabled &&
	       fx_serial_otp_record_size(&r->recipe->serial_number) > 0;
}

static int64_t utc_now(const struct seq_run *r);
static int step_serial(struct seq_run *r);
static int step_program(struct seq_run *r);
static int step_verify(struct seq_run *r);
static int step_serial_otp(struct seq_run *r);

static unsigned pulse_ms(const struct seq_run *r)
{
	const struct fx_station_timing *t = &r->slot->cfg->timing;

	return t->boot0_setup_ms + t->nrst_pulse_ms + 1;
}

static unsigned lim_fixed(const struct seq_run *r)
{
	(void)r;
	return FIXED_STEP_MS;
}

static unsigned lim_power(const struct seq_run *r)
{
	return r->slot->cfg->timing.power_on_ms + 1;
}

/* a reset the step causes: NRST held until the port is empty (bounded by
 * SEQ_GONE_MAX_MS), then the recipe's wait from the release */
static unsigned lim_probe(const struct seq_run *r)
{
	return r->recipe->timeouts.probe_ms + pulse_ms(r) + SEQ_GONE_MAX_MS;
}

static unsigned lim_enter(const struct seq_run *r)
{
	return r->recipe->timeouts.enter_ms + pulse_ms(r) + SEQ_GONE_MAX_MS +
	       (r->recipe->entry == FX_RECIPE_ENTRY_APP ? 1000u : 0u);
}

static unsigned lim_identify(const struct seq_run *r)
{
	return r->recipe->timeouts.verify_ms; /* reads the whole flash */
}

static unsigned lim_ob(const struct seq_run *r)
{
	return r->recipe->timeouts.option_bytes_ms;
}

static unsigned lim_erase(const struct seq_run *r)
{
	return r->recipe->timeouts.erase_ms;
}

static unsigned lim_program(const struct seq_run *r)
{
	return r->recipe->timeouts.program_ms;
}

static unsigned lim_verify(const struct seq_run *r)
{
	return r->recipe->timeouts.verify_ms;
}

static unsigned lim_rdp(const struct seq_run *r)
{
	return r->recipe->timeouts.rdp_ms;
}

static unsigned lim_release(const struct seq_run *r)
{
	return pulse_ms(r);
}

static unsigned lim_app(const struct seq_run *r)
{
	return r->recipe->app.within_ms;
}

static const struct seq_step steps[] = {
	{ "power", seq_step_power, has_power, lim_power },
	{ "probe", seq_step_probe, NULL, lim_probe },
	{ "enter_boot", seq_step_enter_boot, NULL, lim_enter },
	{ "identify", seq_step_identify, NULL, lim_identify },
	/* before anything changes the board: a firmware file that no longer
	 * matches the recipe leaves the board as it was found */
	{ "firmware", seq_step_firmware, NULL, lim_fixed },
	{ "unprotect", seq_step_unprotect, is_protected, lim_ob },
	/* issue 11: the serial number is reserved (committed) once the chip
	 * UID is known and before anything is written; its flash fields are
	 * merged into the image, so program and verify cover them */
	{ "serial", step_serial, has_serial, lim_fixed },
	{ "read_ob", seq_step_read_ob, NULL, lim_ob },
	{ "write_ob", seq_step_write_ob, NULL, lim_ob },
	{ "erase", seq_step_erase, NULL, lim_erase },
	{ "program", step_program, NULL, lim_program },
	{ "verify", step_verify, NULL, lim_verify },
	/* the OTP record after the firmware's verify, read back */
	{ "serial_otp", step_serial_otp, has_serial_otp, lim_fixed },
	{ "rdp", seq_step_rdp, wants_rdp, lim_rdp },
	{ "release", seq_step_release, NULL, lim_release },
	{ "app_check", seq_step_app_check, NULL, lim_app },
};

static int64_t utc_now(const struct seq_run *r)
{
	return (int64_t)fx_clock_now(r->clock) + r->job->utc_offset_us;
}

/* Steps this run takes, as far as known now, and how many are done. */
static unsigned steps_total(const struct seq_run *r)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!steps[i].applies || steps[i].applies(r))
			n++;
	return n;
}

/* The job's report callback with what the run knows now. */
static void report(const struct seq_run *r, struct fx_seq_report *rep,
		   const struct fx_seq_outcome *out)
{
	if (!r->job->report)
		return;
	rep->slot = r->slot->cfg->index;
	rep->run_uuid = out->run_uuid;
	rep->serial = out->serial;
	rep->uid_hex = out->uid_hex;
	rep->utc_us = utc_now(r);
	rep->steps_total = steps_total(r);
	if (!rep->detail)
		rep->detail = "";
	r->job->report(r->job->report_user, rep);
}

static void led(struct fx_gpio_line *l, int v)
{
	struct fx_err err;

	fx_err_clear(&err);
	if (l && fx_gpio_set(l, v, &err))
		fx_log(FX_LOG_ERR, LOG_PREFIX, "LED '%s': %s", fx_gpio_line_name(l),
		       err.msg);
}

static void set_outcome(struct fx_seq_outcome *out, enum fx_store_result res,
			const char *step, int code, const char *msg)
{
	out->result = res;
	snprintf(out->failing_step, sizeof(out->failing_step), "%s", step ? step : "");
	out->error_code = code;
	snprintf(out->message, sizeof(out->message), "%.*s",
		 (int)sizeof(out->message) - 1, msg ? msg : "");
}

/* Attach the identified unit to the run (serial per the recipe). */
static int record_unit(struct seq_run *r, struct fx_store *st,
		       const struct fx_store_run *run, struct fx_seq_outcome *out,
		       struct fx_err *err)
{
	const char *serial = NULL, *uid = NULL;

	seq_ident_uid_hex(r, out->uid_hex);
	if (out->uid_hex[0])
		uid = out->uid_hex;
	switch (r->recipe->serial) {
	case FX_RECIPE_SERIAL_UID:
		/* [serial_number]: the unit serial is the allocated one
		 * (step serial), never the one derived from the UID */
		serial = r->ident.serial[0] && !r->recipe->serial_number.enabled ?
			 r->ident.serial : NULL;
		break;
	case FX_RECIPE_SERIAL_SCAN:
	case FX_RECIPE_SERIAL_BOTH:
		serial = r->job->scan_serial;
		if (r->recipe->serial == FX_RECIPE_SERIAL_SCAN)
			uid = NULL;
		break;
	}
	if (!r->recipe->serial_number.enabled || serial)
		snprintf(out->serial, sizeof(out->serial), "%s", serial ? serial : "");
	out->board = r->board;
	if (!serial && !uid)
		return 0;
	return fx_store_run_set_unit(st, run, serial, uid, r->board, err);
}

/* issue 11: allocate the unit's serial number (steps_serial.c), program
 * the image with its flash fields from now on, and record it as the unit
 * serial. */
static int step_serial(struct seq_run *r)
{
	struct seq_run_ser *x = ser_run(r);
	char uid[25];
	bool fail = false;
	int rc;

	seq_ident_uid_hex(r, uid);
	rc = seq_serial_allocate(&x->ser, r->dfu, r->job->image, uid, r->job->scan_serial,
				 r->job->station_name, utc_now(r), &fail, r->detail,
				 sizeof(r->detail), &r->err);
	if (fail)
		r->fail_class = FX_STORE_FAIL;
	if (rc)
		return rc;
	x->job = *r->job;
	x->job.image = seq_serial_image(&x->ser, r->job->image);
	r->job = &x->job;
	snprintf(x->out->serial, sizeof(x->out->serial), "%.*s", (int)sizeof(x->out->serial) - 1,
		 x->ser.a.value);
	return 0;
}

/* The flash fields may reach the board from here on: reached is
 * committed first (a kill after it leaves the value bound to the UID). */
static int step_program(struct seq_run *r)
{
	struct seq_run_ser *x = ser_run(r);
	int rc;

	if (!r->identical) {
		rc = seq_serial_before_program(&x->ser, utc_now(r), &r->err);
		if (rc)
			return rc;
	}
	return seq_step_program(r);
}

/* A readback mismatch on a serial field names the serial. */
static int step_verify(struct seq_run *r)
{
	int rc = seq_step_verify(r);

	if (rc == FX_E_VERIFY)
		seq_serial_verify_note(&ser_run(r)->ser, r->dfu, &r->err);
	return rc;
}

static int step_serial_otp(struct seq_run *r)
{
	bool fail = false;
	int rc = seq_serial_write_otp(&ser_run(r)->ser, r->dfu, utc_now(r), &fail, r->detail,
				      sizeof(r->detail), &r->err);

	if (fail)
		r->fail_class = FX_STORE_FAIL;
	return rc == 1 ? SEQ_SKIPPED : rc;
}

/* The run's serial ends by the rules before the run end commits: bound
 * on PASS or when it may have reached the board, else released/voided.
 * A kill before this: the next start resolves it the same way. A bound
 * value becomes the unit's serial (units.serial; never a value that may
 * still go to another board). */
static int serial_end(struct seq_run_ser *x, struct fx_err *err)
{
	enum fx_serial_state state = FX_SERIAL_RESERVED;
	char uid[25];
	int rc;

	if (!x->ser.allocated)
		return 0;
	rc = seq_serial_finish(&x->ser, x->out->result == FX_STORE_PASS, utc_now(&x->r), &state,
			       err);
	if (rc)
		return rc;
	fx_log(FX_LOG_INFO, LOG_PREFIX, "slot %u: serial %s %s", x->r.slot->cfg->index,
	       x->ser.a.value, fx_serial_state_name(state));
	if (state != FX_SERIAL_BOUND)
		return 0;
	seq_ident_uid_hex(&x->r, uid);
	return fx_store_run_set_unit(x->st, x->run, x->ser.a.value, uid, x->r.board, err);
}

static void run_end_report(const struct seq_run *r,
			   const struct fx_seq_outcome *out, int64_t start_utc)
{
	struct fx_seq_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.kind = FX_SEQ_REP_RUN_END;
	rep.result = out->result;
	rep.detail = out->message;
	rep.start_utc_us = start_utc;
	rep.duration_us = out->duration_us;
	rep.outcome = out;
	report(r, &rep, out);
}

static int check_job(const struct fx_seq_slot *sl, const struct fx_store *st,
		     const struct fx_seq_job *job, struct fx_err *err)
{
	if (!sl || !st || !job || !job->recipe || !job->image ||
	    !job->station_name || !job->station_name[0])
		return fx_err_set(err, FX_E_INVAL, "run: missing slot, store, recipe, "
				  "image or station name");
	if (job->recipe->serial != FX_RECIPE_SERIAL_UID &&
	    (!job->scan_serial || !job->scan_serial[0]))
		return fx_err_set(err, FX_E_INVAL,
				  "recipe '%s' wants a scanned serial (serial = %s): none given",
				  job->recipe->name,
				  fx_recipe_serial_name(job->recipe->serial));
	return 0;
}

/* The run's start: the outcome says "not started" until the job is
 * checked, then the state every step shares. */
static int run_init(struct seq_run *r, struct fx_seq_slot *sl,
		    const struct fx_store *st, const struct fx_seq_job *job,
		    struct fx_seq_outcome *out, struct fx_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	set_outcome(out, FX_STORE_ERROR, "start", FX_E_INVAL, "not started");
	rc = check_job(sl, st, job, err);
	if (rc) {
		set_outcome(out, FX_STORE_ERROR, "start", rc, err ? err->msg : "");
		return rc;
	}
	memset(r, 0, sizeof(*r));
	r->slot = sl;
	r->job = job;
	r->recipe = job->recipe;
	r->clock = sl->station->clock;
	r->board = FX_STORE_BOARD_UNKNOWN;
	r->deadline_us = SEQ_NO_DEADLINE;
	return 0;
}

/* The run row (its UUID into out) and the RUN_BEGIN report. */
static int record_begin(struct seq_run *r, struct fx_store *st,
			struct fx_store_run *run, int64_t start_utc,
			struct fx_seq_outcome *out, struct fx_err *err)
{
	const struct fx_seq_job *job = r->job;
	struct fx_run_start start;
	struct fx_seq_report rep;
	int rc;

	memset(&start, 0, sizeof(start));
	start.station = job->station_name;
	start.slot = (int)r->slot->cfg->index;
	start.port_path = r->slot->cfg->device;
	start.operator_id = job->operator_id;
	start.recipe_name = job->recipe->name;
	start.recipe_version = job->recipe->version;
	start.recipe_sha256 = job->recipe->sha256;
	start.firmware_sha256 = job->recipe->firmware_sha256;
	start.software_version = job->software_version;
	start.start_utc_us = start_utc;
	rc = fx_store_run_begin(st, &start, run, err);
	if (rc)
		return rc;
	snprintf(out->run_uuid, sizeof(out->run_uuid), "%s", run->uuid);
	memset(&rep, 0, sizeof(rep));
	rep.kind = FX_SEQ_REP_RUN_BEGIN;
	rep.start_utc_us = start_utc;
	report(r, &rep, out);
	return 0;
}

/* The operator asked to stop: the run ends ABORTED before step s. */
static bool aborted(const struct seq_run *r, const struct seq_step *s,
		    struct fx_seq_outcome *out)
{
	char msg[128];

	if (!r->job->abort_flag || !*r->job->abort_flag)
		return false;
	snprintf(msg, sizeof(msg), "stopped by the operator before '%s'", s->name);
	set_outcome(out, FX_STORE_ABORTED, s->name, FX_E_ABORTED, msg);
	return true;
}

/* One finished step: when it began, what it took and how it ended. */
struct step_end {
	uint64_t t0, dur, limit_us;
	int64_t utc0;
	int src;                    /* the step function's result */
	enum fx_store_result result;
};

static void report_step(const struct seq_run *r, const struct seq_step *s,
			enum fx_seq_report_kind kind, unsigned done,
			const struct step_end *e, struct fx_seq_outcome *out)
{
	struct fx_seq_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.kind = kind;
	rep.step = s->name;
	rep.steps_done = done;
	rep.start_utc_us = e->utc0;
	if (kind == FX_SEQ_REP_STEP_END) {
		rep.result = e->result;
		rep.detail = r->detail;
		rep.duration_us = e->dur;
	}
	report(r, &rep, out);
}

/* Run step s bounded by its deadline (r->deadline_us for its waits), and
 * turn what it returned into an error where it failed: a wait the
 * deadline cut short is the step's timeout; the backstop catches a step
 * that still overran by more than the slack (real clocks and host
 * overhead). */
static void call_step(struct seq_run *r, const struct seq_step *s,
		      struct step_end *e)
{
	e->src = s->run(r);
	e->dur = fx_clock_now(r->clock) - e->t0;
	r->deadline_us = SEQ_NO_DEADLINE;
	if (e->src < 0 && r->deadline_cut) {
		char msg[sizeof(r->err.msg)];

		snprintf(msg, sizeof(msg), "%s", r->err.msg[0] ? r->err.msg :
			 fx_strerror(e->src));
		e->src = fx_err_set(&r->err, FX_E_TIMEOUT, "limit %llu ms reached: %s",
				    (unsigned long long)(e->limit_us / 1000u), msg);
		r->fail_class = FX_STORE_ERROR;
	}
	if (e->src == 0 && e->dur > e->limit_us + BACKSTOP_SLACK_US + e->limit_us / 2) {
		e->src = fx_err_set(&r->err, FX_E_TIMEOUT, "took %llu ms, limit %llu ms",
				    (unsigned long long)(e->dur / 1000u),
				    (unsigned long long)(e->limit_us / 1000u));
		r->fail_class = FX_STORE_ERROR;
	}
	if (e->src < 0 && !r->err.code)
		fx_err_set(&r->err, e->src, "%s", fx_strerror(e->src));
	if (e->src < 0)
		snprintf(r->detail, sizeof(r->detail), "%s", r->err.msg);
	e->result = e->src == 0 ? FX_STORE_PASS :
		    e->src == SEQ_SKIPPED ? FX_STORE_SKIPPED : r->fail_class;
}

/* The step row, and the unit once identify (or unprotect) knows it. */
static int record_step(struct seq_run *r, const struct seq_step *s,
		       const struct step_end *e, struct fx_store *st,
		       const struct fx_store_run *run, struct fx_seq_outcome *out,
		       struct fx_err *err)
{
	struct fx_store_step rec;
	int rc;

	memset(&rec, 0, sizeof(rec));
	rec.name = s->name;
	rec.start_utc_us = e->utc0;
	rec.duration_us = (int64_t)e->dur;
	rec.result = e->result;
	rec.detail = r->detail[0] ? r->detail : NULL;
	fx_log(FX_LOG_INFO, LOG_PREFIX, "slot %u: %s %s (%llu ms) %s",
	       r->slot->cfg->index, s->name, fx_store_result_name(rec.result),
	       (unsigned long long)(e->dur / 1000u), r->detail);
	rc = fx_store_step(st, run, &rec, err);
	if (rc)
		return rc;
	if (e->src >= 0 && (!strcmp(s->name, "identify") || !strcmp(s->name, "unprotect")))
		return record_unit(r, st, run, out, err);
	return 0;
}

/* One step from its STEP_BEGIN to its STEP_END: *stop when the run ends
 * here (the step failed). Returns 0 or the store's error. */
static int one_step(struct seq_run *r, const struct seq_step *s, unsigned *done,
		    struct fx_store *st, const struct fx_store_run *run,
		    struct fx_seq_outcome *out, bool *stop, struct fx_err *err)
{
	struct step_end e;
	int rc;

	memset(&e, 0, sizeof(e));
	r->detail[0] = '\0';
	fx_err_clear(&r->err);
	r->fail_class = FX_STORE_ERROR;
	r->deadline_cut = false;
	e.limit_us = (uint64_t)s->limit(r) * 1000u;
	e.t0 = fx_clock_now(r->clock);
	e.utc0 = utc_now(r);
	r->deadline_us = e.t0 + e.limit_us;
	report_step(r, s, FX_SEQ_REP_STEP_BEGIN, *done, &e, out);
	call_step(r, s, &e);
	rc = record_step(r, s, &e, st, run, out, err);
	if (rc)
		return rc;
	report_step(r, s, FX_SEQ_REP_STEP_END, ++*done, &e, out);
	if (e.src < 0) {
		size_t nl = strlen(s->name);
		char msg[300];

		/* the step's name once: layers below may name it already
		 * (fx_prog's "program: write at ...") */
		if (!strncmp(r->err.msg, s->name, nl) && !strncmp(r->err.msg + nl, ": ", 2))
			snprintf(msg, sizeof(msg), "%s", r->err.msg);
		else
			snprintf(msg, sizeof(msg), "%s: %s", s->name, r->err.msg);
		set_outcome(out, r->fail_class, s->name, r->err.code, msg);
		*stop = true;
	}
	return 0;
}

/* Every step that applies, in order, until one fails or the operator
 * stops the run. Returns 0 or the store's error. */
static int run_steps(struct seq_run *r, struct fx_store *st,
		     const struct fx_store_run *run, struct fx_seq_outcome *out,
		     struct fx_err *err)
{
	unsigned done = 0;
	bool stop = false;
	size_t i;
	int rc;

	set_outcome(out, FX_STORE_PASS, NULL, 0, NULL);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && !stop; i++) {
		const struct seq_step *s = &steps[i];

		if (s->applies && !s->applies(r))
			continue;
		if (aborted(r, s, out))
			break;
		rc = one_step(r, s, &done, st, run, out, &stop, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The board left safe and, when emulated, saved. issue 8: the board is
 * durable BEFORE its record commits, so a kill after the commit never
 * leaves a PASS whose board file still holds the old content (a kill
 * before it: ABORTED at the next start, board saved); a board that cannot
 * be saved is no PASS (judge: the run is still being recorded; otherwise
 * the save error is only logged). */
static void leave_board(struct seq_run *r, uint64_t t_run, bool judge,
			struct fx_seq_outcome *out)
{
	int rc;

	out->board = r->board;
	out->ob_written = r->ob_written;
	seq_safe_state(r);
	out->duration_us = fx_clock_now(r->clock) - t_run;
	rc = fx_seq_slot_save(r->slot, &r->err);
	if (rc && judge && out->result == FX_STORE_PASS) {
		char msg[300];

		snprintf(msg, sizeof(msg), "save_board: %s", r->err.msg);
		set_outcome(out, FX_STORE_ERROR, "save_board", rc, msg);
	} else if (rc) {
		fx_log(FX_LOG_ERR, LOG_PREFIX, "slot %u: %s", r->slot->cfg->index,
		       r->err.msg);
	}
}

/* The run-end row: the outcome is committed (out->recorded). */
static int record_end(struct seq_run *r, struct fx_store *st,
		      const struct fx_store_run *run, struct fx_seq_outcome *out,
		      struct fx_err *err)
{
	struct fx_run_end end;
	int rc;

	memset(&end, 0, sizeof(end));
	end.result = out->result;
	end.end_utc_us = utc_now(r);
	if (out->result != FX_STORE_PASS) {
		end.failing_step = out->failing_step;
		end.error_code = out->error_code;
		end.message = out->message;
	}
	rc = fx_store_run_end(st, run, &end, err);
	if (!rc)
		out->recorded = true;
	return rc;
}

/* The record is not written: never PASS, stop the station. */
static int record_failed(struct fx_seq_outcome *out, int rc,
			 const struct fx_err *err)
{
	set_outcome(out, FX_STORE_ERROR, "record", rc,
		    err && err->msg[0] ? err->msg : fx_strerror(rc));
	out->recorded = false;
	return rc < 0 ? rc : FX_E_DB;
}

/* LEDs and the RUN_END report, once the outcome is final: PASS only
 * after its commit. */
static void show_outcome(const struct seq_run *r, const struct fx_seq_outcome *out,
			 int64_t start_utc)
{
	struct fx_seq_slot *sl = r->slot;

	led(sl->led_busy, 0);
	led(out->recorded && out->result == FX_STORE_PASS ? sl->led_pass : sl->led_fail, 1);
	if (out->run_uuid[0])
		run_end_report(r, out, start_utc);
}

int fx_seq_run(struct fx_seq_slot *sl, struct fx_store *st,
	       const struct fx_seq_job *job, struct fx_seq_outcome *out,
	       struct fx_err *err)
{
	struct fx_store_run run;
	struct seq_run_ser x;
	uint64_t t_run;
	int64_t start_utc;
	int rc;

	rc = run_init(&x.r, sl, st, job, out, err);
	if (rc)
		return rc;
	memset(&run, 0, sizeof(run));
	seq_serial_init(&x.ser, &job->recipe->serial_number, st, 0);
	x.st = st;
	x.run = &run;
	x.out = out;
	t_run = fx_clock_now(x.r.clock);
	fx_seq_slot_leds_off(sl);
	led(sl->led_busy, 1);
	start_utc = utc_now(&x.r);
	rc = record_begin(&x.r, st, &run, start_utc, out, err);
	x.ser.run_id = run.id;
	if (!rc)
		rc = run_steps(&x.r, st, &run, out, err);
	leave_board(&x.r, t_run, rc == 0, out);
	if (!rc)
		rc = serial_end(&x, err);
	if (!rc)
		rc = record_end(&x.r, st, &run, out, err);
	if (rc)
		rc = record_failed(out, rc, err);
	show_outcome(&x.r, out, start_utc);
	seq_serial_release(&x.ser);
	return rc;
}
