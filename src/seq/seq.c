/* seq.c - the step engine of one slot (fx/seq.h): ordered steps, each
 * timed with the injected clock and bounded by the recipe's timeout,
 * each recorded as it finishes; the outcome recorded last and PASS shown
 * only after the commit. */
#include <stdio.h>
#include <string.h>

#include "fx/log.h"
#include "seq_priv.h"

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
	{ "read_ob", seq_step_read_ob, NULL, lim_ob },
	{ "write_ob", seq_step_write_ob, NULL, lim_ob },
	{ "erase", seq_step_erase, NULL, lim_erase },
	{ "program", seq_step_program, NULL, lim_program },
	{ "verify", seq_step_verify, NULL, lim_verify },
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
		serial = r->ident.serial[0] ? r->ident.serial : NULL;
		break;
	case FX_RECIPE_SERIAL_SCAN:
	case FX_RECIPE_SERIAL_BOTH:
		serial = r->job->scan_serial;
		if (r->recipe->serial == FX_RECIPE_SERIAL_SCAN)
			uid = NULL;
		break;
	}
	snprintf(out->serial, sizeof(out->serial), "%s", serial ? serial : "");
	out->board = r->board;
	if (!serial && !uid)
		return 0;
	return fx_store_run_set_unit(st, run, serial, uid, r->board, err);
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

int fx_seq_run(struct fx_seq_slot *sl, struct fx_store *st,
	       const struct fx_seq_job *job, struct fx_seq_outcome *out,
	       struct fx_err *err)
{
	struct fx_store_run run;
	struct fx_run_start start;
	struct fx_run_end end;
	struct fx_seq_report rep;
	struct seq_run r;
	uint64_t t_run;
	unsigned done = 0;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	set_outcome(out, FX_STORE_ERROR, "start", FX_E_INVAL, "not started");
	rc = check_job(sl, st, job, err);
	if (rc) {
		set_outcome(out, FX_STORE_ERROR, "start", rc, err ? err->msg : "");
		return rc;
	}
	memset(&r, 0, sizeof(r));
	r.slot = sl;
	r.job = job;
	r.recipe = job->recipe;
	r.clock = sl->station->clock;
	r.board = FX_STORE_BOARD_UNKNOWN;
	t_run = fx_clock_now(r.clock);

	fx_seq_slot_leds_off(sl);
	led(sl->led_busy, 1);

	memset(&start, 0, sizeof(start));
	start.station = job->station_name;
	start.slot = (int)sl->cfg->index;
	start.port_path = sl->cfg->device;
	start.operator_id = job->operator_id;
	start.recipe_name = job->recipe->name;
	start.recipe_version = job->recipe->version;
	start.recipe_sha256 = job->recipe->sha256;
	start.firmware_sha256 = job->recipe->firmware_sha256;
	start.software_version = job->software_version;
	start.start_utc_us = utc_now(&r);
	rc = fx_store_run_begin(st, &start, &run, err);
	if (rc)
		goto err_store;
	snprintf(out->run_uuid, sizeof(out->run_uuid), "%s", run.uuid);
	memset(&rep, 0, sizeof(rep));
	rep.kind = FX_SEQ_REP_RUN_BEGIN;
	rep.start_utc_us = start.start_utc_us;
	report(&r, &rep, out);

	set_outcome(out, FX_STORE_PASS, NULL, 0, NULL);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct seq_step *s = &steps[i];
		struct fx_store_step rec;
		uint64_t t0, dur, limit_us;
		int64_t utc0;
		int src;

		if (s->applies && !s->applies(&r))
			continue;
		if (job->abort_flag && *job->abort_flag) {
			char msg[128];

			snprintf(msg, sizeof(msg), "stopped by the operator before '%s'",
				 s->name);
			set_outcome(out, FX_STORE_ABORTED, s->name, FX_E_ABORTED, msg);
			break;
		}
		r.detail[0] = '\0';
		fx_err_clear(&r.err);
		r.fail_class = FX_STORE_ERROR;
		limit_us = (uint64_t)s->limit(&r) * 1000u;
		t0 = fx_clock_now(r.clock);
		utc0 = utc_now(&r);
		memset(&rep, 0, sizeof(rep));
		rep.kind = FX_SEQ_REP_STEP_BEGIN;
		rep.step = s->name;
		rep.steps_done = done;
		rep.start_utc_us = utc0;
		report(&r, &rep, out);
		src = s->run(&r, t0 + limit_us);
		dur = fx_clock_now(r.clock) - t0;
		/* backstop: steps bound their own waits by the deadline; a step
		 * that still overran by more than the slack (real clocks and
		 * host overhead) is an error */
		if (src == 0 && dur > limit_us + BACKSTOP_SLACK_US + limit_us / 2) {
			src = fx_err_set(&r.err, FX_E_TIMEOUT,
					 "took %llu ms, limit %llu ms",
					 (unsigned long long)(dur / 1000u),
					 (unsigned long long)(limit_us / 1000u));
			r.fail_class = FX_STORE_ERROR;
		}
		if (src < 0 && !r.err.code)
			fx_err_set(&r.err, src, "%s", fx_strerror(src));
		if (src < 0)
			snprintf(r.detail, sizeof(r.detail), "%s", r.err.msg);

		memset(&rec, 0, sizeof(rec));
		rec.name = s->name;
		rec.start_utc_us = utc0;
		rec.duration_us = (int64_t)dur;
		rec.result = src == 0 ? FX_STORE_PASS :
			     src == SEQ_SKIPPED ? FX_STORE_SKIPPED : r.fail_class;
		rec.detail = r.detail[0] ? r.detail : NULL;
		fx_log(FX_LOG_INFO, LOG_PREFIX, "slot %u: %s %s (%llu ms) %s",
		       sl->cfg->index, s->name, fx_store_result_name(rec.result),
		       (unsigned long long)(dur / 1000u), r.detail);
		rc = fx_store_step(st, &run, &rec, err);
		if (rc)
			goto err_store;
		if (src >= 0 && (!strcmp(s->name, "identify") ||
				 !strcmp(s->name, "unprotect"))) {
			rc = record_unit(&r, st, &run, out, err);
			if (rc)
				goto err_store;
		}
		memset(&rep, 0, sizeof(rep));
		rep.kind = FX_SEQ_REP_STEP_END;
		rep.step = s->name;
		rep.steps_done = ++done;
		rep.result = rec.result;
		rep.detail = r.detail;
		rep.start_utc_us = utc0;
		rep.duration_us = dur;
		report(&r, &rep, out);
		if (src < 0) {
			char msg[300];

			snprintf(msg, sizeof(msg), "%s: %s", s->name, r.err.msg);
			set_outcome(out, r.fail_class, s->name, r.err.code, msg);
			break;
		}
	}
	out->board = r.board;
	out->ob_written = r.ob_written;
	seq_safe_state(&r);
	out->duration_us = fx_clock_now(r.clock) - t_run;
	/* issue 8: the emulated board is durable BEFORE its record commits,
	 * so a kill after the commit never leaves a PASS whose board file
	 * still holds the old content (a kill before it: ABORTED at the next
	 * start, board saved); a board that cannot be saved is no PASS */
	rc = fx_seq_slot_save(sl, &r.err);
	if (rc && out->result == FX_STORE_PASS) {
		char msg[300];

		snprintf(msg, sizeof(msg), "save_board: %s", r.err.msg);
		set_outcome(out, FX_STORE_ERROR, "save_board", rc, msg);
	} else if (rc) {
		fx_log(FX_LOG_ERR, LOG_PREFIX, "slot %u: %s", sl->cfg->index, r.err.msg);
	}

	memset(&end, 0, sizeof(end));
	end.result = out->result;
	end.end_utc_us = utc_now(&r);
	if (out->result != FX_STORE_PASS) {
		end.failing_step = out->failing_step;
		end.error_code = out->error_code;
		end.message = out->message;
	}
	rc = fx_store_run_end(st, &run, &end, err);
	if (rc)
		goto err_store_end;
	out->recorded = true;
	led(sl->led_busy, 0);
	led(out->result == FX_STORE_PASS ? sl->led_pass : sl->led_fail, 1);
	run_end_report(&r, out, start.start_utc_us);
	return 0;

err_store:
	seq_safe_state(&r);
	out->duration_us = fx_clock_now(r.clock) - t_run;
	if (fx_seq_slot_save(sl, &r.err))
		fx_log(FX_LOG_ERR, LOG_PREFIX, "slot %u: %s", sl->cfg->index, r.err.msg);
err_store_end:
	/* the record is not written: never PASS, stop the station */
	out->board = r.board;
	set_outcome(out, FX_STORE_ERROR, "record", rc,
		    err && err->msg[0] ? err->msg : fx_strerror(rc));
	out->recorded = false;
	led(sl->led_busy, 0);
	led(sl->led_fail, 1);
	if (out->run_uuid[0])
		run_end_report(&r, out, start.start_utc_us);
	return rc < 0 ? rc : FX_E_DB;
}
