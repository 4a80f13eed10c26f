/* test_seq_deadline.c - every wait of a step is bounded by the step's
 * deadline (fx/seq.h "Timeouts"): a step whose device stops answering, or
 * whose ROM asks for a poll longer than the step may take, ends AT its
 * deadline (virtual time, to the millisecond) in ERROR FX_E_TIMEOUT with a
 * message naming the step and its limit, and the board is left safe.
 * Before the deadline reached the transport, these steps waited out the
 * DFU engine's own bounds (a 5 s control timeout, a 25 s erase poll) and
 * only the backstop or the next step noticed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seq_fix.h"

#include "fx/dfu_wire.h"
#include "fx/emu.h"
#include "fx/gpio.h"

/* One step made to wait too long, at its STEP_BEGIN. */
struct deadline_case {
	const char *step;
	/* the recipe limit the case sets (ms) and what the step's limit is */
	void (*limit)(struct fx_recipe *r);
	unsigned limit_ms;
	/* the knobs armed when the step begins */
	void (*arm)(struct fx_emu_knobs *k, uint32_t requests_so_far);
};

struct fix {
	struct fxt_seq s;
	const struct deadline_case *c;
	bool armed;
};

/* The first request after the step began is never answered. */
static void arm_silence(struct fx_emu_knobs *k, uint32_t n)
{
	k->fault_kind = FX_EMU_FAULT_TIMEOUT;
	k->fault_request = -1;
	k->fault_nth = n + 1;
}

/* The third one (the step got going first). */
static void arm_silence_later(struct fx_emu_knobs *k, uint32_t n)
{
	arm_silence(k, n);
	k->fault_nth = n + 3;
}

/* Every GETSTATUS from now on is never answered (the DFU engine's first
 * comes when it opens the bootloader, with a 5 s timeout). */
static void arm_silent_status(struct fx_emu_knobs *k, uint32_t n)
{
	(void)n;
	k->fault_kind = FX_EMU_FAULT_TIMEOUT;
	k->fault_request = DFU_GETSTATUS;
	k->fault_nth = 1;
	k->fault_persistent = true;
}

/* A mass erase of 22 s asking for a 25 s poll (erase_scale 1000). */
static void arm_slow_erase(struct fx_emu_knobs *k, uint32_t n)
{
	(void)n;
	k->erase_scale = 1000.0;
}

static void lim_enter(struct fx_recipe *r)
{
	r->timeouts.enter_ms = 500; /* + NRST pulse 26 ms + 1000 ms port wait */
}

static void lim_read(struct fx_recipe *r)
{
	r->timeouts.verify_ms = 400; /* identify and verify */
}

static void lim_erase(struct fx_recipe *r)
{
	r->erase = FX_RECIPE_ERASE_MASS;
	r->timeouts.erase_ms = 2000;
}

static const struct deadline_case cases[] = {
	{ "enter_boot", lim_enter, 1526, arm_silent_status },
	{ "identify", lim_read, 400, arm_silence },
	{ "erase", lim_erase, 2000, arm_slow_erase },
	{ "verify", lim_read, 400, arm_silence_later },
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fxt_seq_init(&f->s, "/tmp/fxdeadline.XXXXXX");
	fxt_seq_firmware(&f->s, 12345, fxt_seq_vectors);
	fxt_seq_recipe(&f->s, "deadline-g474", "1.0");
	fxt_seq_station(&f->s, "deadline-station", true, true);
	fxt_seq_open(&f->s, NULL, 42);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	fxt_seq_close(&f->s);
	free(f);
	return 0;
}

static void on_report(void *user, const struct fx_seq_report *rep)
{
	struct fix *f = user;
	struct fx_emu *b = fxt_seq_board(&f->s);
	struct fx_emu_knobs k;

	if (rep->kind != FX_SEQ_REP_STEP_BEGIN || strcmp(rep->step, f->c->step))
		return;
	k = *fx_emu_get_knobs(b);
	f->c->arm(&k, fx_emu_request_count(b));
	fx_emu_set_knobs(b, &k);
	f->armed = true;
}

static int level(struct fix *f, const char *name)
{
	int v = -1;

	assert_int_equal(fx_gpio_sim_level(fx_seq_station_gpio(f->s.stn), name, &v), 0);
	return v;
}

static void run_case(struct fix *f, const struct deadline_case *c)
{
	struct fxt_seq *s = &f->s;
	struct fx_seq_job job;
	char want[96], sql[160];
	long long dur;

	f->c = c;
	c->limit(&s->rcp);
	fxt_seq_put_board(s, FX_SEQ_DEMO_BLANK, 7);
	fxt_seq_job(s, &job);
	job.report = on_report;
	job.report_user = f;
	assert_int_equal(fx_seq_run(s->slot, s->store, &job, &s->out, &s->err), 0);
	assert_true(f->armed);

	/* ERROR at the step, its timeout, the limit named */
	if (s->out.result != FX_STORE_ERROR || strcmp(s->out.failing_step, c->step))
		fail_msg("%s: expected ERROR at '%s', got %s at '%s': %s", c->step, c->step,
			 fx_store_result_name(s->out.result), s->out.failing_step,
			 s->out.message);
	assert_true(s->out.recorded);
	if (strcmp(fx_err_name(s->out.error_code), "FX_E_TIMEOUT"))
		fail_msg("%s: %s", fx_err_name(s->out.error_code), s->out.message);
	snprintf(want, sizeof(want), "%s: limit %u ms reached: ", c->step, c->limit_ms);
	if (strncmp(s->out.message, want, strlen(want)))
		fail_msg("message '%s' does not start '%s'", s->out.message, want);
	assert_string_equal(fxt_seq_q(s, FXT_LAST_RUN("failing_step")), c->step);
	assert_string_equal(fxt_seq_q(s, FXT_LAST_RUN("error_code")), "FX_E_TIMEOUT");

	/* the step's record: ERROR, and it took its limit, not a moment more
	 * (the last wait ends within the millisecond it was rounded up to) */
	snprintf(sql, sizeof(sql), "SELECT result FROM steps WHERE run_id = "
		 "(SELECT max(id) FROM runs) AND name = '%s'", c->step);
	assert_string_equal(fxt_seq_q(s, sql), "ERROR");
	snprintf(sql, sizeof(sql), "SELECT duration_us FROM steps WHERE run_id = "
		 "(SELECT max(id) FROM runs) AND name = '%s'", c->step);
	dur = atoll(fxt_seq_q(s, sql));
	if (dur < (long long)c->limit_ms * 1000 || dur > (long long)c->limit_ms * 1000 + 1000)
		fail_msg("%s took %lld us, its limit is %u ms", c->step, dur, c->limit_ms);
	/* nothing after it ran; the board is left safe */
	assert_string_equal(fxt_seq_q(s, "SELECT name FROM steps WHERE run_id = "
				      "(SELECT max(id) FROM runs) ORDER BY seq DESC LIMIT 1"),
			    c->step);
	assert_int_equal(level(f, "sim:BOOT0_1"), 0);
	assert_int_equal(level(f, "sim:NRST_1"), 1);
	assert_int_equal(level(f, "sim:POWER_1"), 0);
	assert_int_equal(level(f, "sim:LED_FAIL_1"), 1);
	assert_int_equal(level(f, "sim:LED_PASS_1"), 0);
}

static void test_enter_boot(void **state)
{
	run_case(*state, &cases[0]);
}

static void test_identify(void **state)
{
	run_case(*state, &cases[1]);
}

static void test_erase_poll(void **state)
{
	run_case(*state, &cases[2]);
}

static void test_verify(void **state)
{
	run_case(*state, &cases[3]);
}

/* The same board with no fault passes in the same limits: the bound
 * shortens only waits that would overrun. */
static void test_limits_suffice(void **state)
{
	struct fix *f = *state;
	struct fxt_seq *s = &f->s;
	struct fx_seq_job job;

	lim_enter(&s->rcp);
	lim_read(&s->rcp);
	lim_erase(&s->rcp);
	fxt_seq_put_board(s, FX_SEQ_DEMO_BLANK, 7);
	fxt_seq_job(s, &job);
	assert_int_equal(fx_seq_run(s->slot, s->store, &job, &s->out, &s->err), 0);
	if (s->out.result != FX_STORE_PASS)
		fail_msg("expected PASS, got %s at '%s': %s",
			 fx_store_result_name(s->out.result), s->out.failing_step,
			 s->out.message);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enter_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_suffice, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
