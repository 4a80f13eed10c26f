/* test_seq.c - the station sequence against emulated boards in virtual
 * time: every board state, every fault knob, the database after each run
 * (read back with the sqlite3 API), abort, software entry, a store that
 * cannot be written. No false PASS anywhere. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seq_fix.h"
#include <sqlite3.h>

#include "fx/conf.h"
#include "fx/dfu_wire.h"
#include "fx/emu.h"
#include "fx/gpio.h"
#include "fx/image.h"
#include "fx/seq.h"
#include "fx/store.h"
#include "../../src/store/store_sql.h"

#define FW_LEN FXT_SEQ_FW_LEN
#define DAY0_UTC FXT_SEQ_DAY0_UTC

struct fix;
typedef void (*hook_fn)(struct fix *f, const char *step);

/* The station's clock: the virtual clock, plus a delay line on the
 * board's NRST input when a test asks for one (lag_nrst()). */
struct lagclk {
	struct fx_clock base;
	struct fix *f;
};

#define MAX_EDGES 32

struct fix {
	struct fxt_seq s;
	struct lagclk lc;
	uint64_t nrst_lag_us;
	struct { uint64_t t; int v; } edge[MAX_EDGES]; /* NRST edges in flight */
	size_t n_edge;
	volatile sig_atomic_t abort_flag;
	const char *scan;
	/* a hook called when a named step begins (mid-run fault injection) */
	const char *hook_step;
	hook_fn hook;
	unsigned hook_arg;
	char steps_seen[512];
};

/* ---- helpers ---------------------------------------------------------- */

static struct fx_emu *board(struct fix *f);

/* Falling NRST edges whose time has come reach the board (at their
 * time). */
static void lag_apply(struct fix *f, uint64_t upto)
{
	while (f->n_edge && f->edge[0].t <= upto) {
		if (f->s.vc.t < f->edge[0].t)
			f->s.vc.t = f->edge[0].t;
		fx_emu_set_nrst(board(f), false);
		memmove(f->edge, f->edge + 1, --f->n_edge * sizeof(f->edge[0]));
	}
}

static uint64_t lag_now(const struct fx_clock *c)
{
	struct fix *f = ((const struct lagclk *)c)->f;

	lag_apply(f, f->s.vc.t);
	return f->s.vc.t;
}

static void lag_sleep(const struct fx_clock *c, uint64_t us)
{
	struct fix *f = ((const struct lagclk *)c)->f;
	uint64_t end = f->s.vc.t + us;

	lag_apply(f, end);
	f->s.vc.t = end;
}

/* NRST low reaches the board nrst_lag_us late; NRST high at once (after
 * any low still in flight: the reset did happen). */
static int nrst_lag_hook(void *user, int value, struct fx_err *err)
{
	struct fix *f = user;

	if (value) {
		if (f->n_edge) {
			f->n_edge = 0;
			fx_emu_set_nrst(board(f), false);
		}
		fx_emu_set_nrst(board(f), true);
		return 0;
	}
	if (f->n_edge == MAX_EDGES)
		return fx_err_set(err, FX_E_GPIO, "test: too many NRST edges in flight");
	f->edge[f->n_edge].t = f->s.vc.t + f->nrst_lag_us;
	f->edge[f->n_edge].v = value;
	f->n_edge++;
	return 0;
}

/* The host keeps seeing the device ms after the jig pulled NRST low, as
 * with a hub that reports the disconnect late (up to ~256 ms): modelled
 * as the board leaving the bus (and being reset) only then, while its
 * boot goes on meanwhile (a power-on enumeration may come in that window,
 * like one the host listed just before the reset). Call after
 * put_board(). */
static void lag_nrst(struct fix *f, unsigned ms)
{
	struct fx_gpio *g = fx_seq_station_gpio(f->s.stn);

	f->nrst_lag_us = (uint64_t)ms * 1000u;
	assert_int_equal(fx_gpio_sim_attach(g, "sim:NRST_1", NULL,
					    FX_GPIO_SIM_PIN_NRST, &f->s.err), 0);
	assert_int_equal(fx_gpio_sim_hook(g, "sim:NRST_1", nrst_lag_hook, f, NULL,
					  &f->s.err), 0);
}

static int setup_common(void **state, bool power)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fxt_seq_init(&f->s, "/tmp/fxseq.XXXXXX");
	f->lc.base.now_us = lag_now;
	f->lc.base.sleep_us = lag_sleep;
	f->lc.f = f;
	fxt_seq_firmware(&f->s, 12345, fxt_seq_vectors);
	fxt_seq_recipe(&f->s, "test-g474", "1.0.0");
	fxt_seq_station(&f->s, "test-station", power, true);
	fxt_seq_open(&f->s, &f->lc.base, 42);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, true);
}

static int setup_nopower(void **state)
{
	return setup_common(state, false);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	fxt_seq_close(&f->s);
	free(f);
	return 0;
}

static void put_board(struct fix *f, enum fx_seq_demo_board kind)
{
	fxt_seq_put_board(&f->s, kind, 7);
}

static struct fx_emu *board(struct fix *f)
{
	return fxt_seq_board(&f->s);
}

static void knobs(struct fix *f, void (*edit)(struct fx_emu_knobs *k, unsigned arg),
		  unsigned arg)
{
	struct fx_emu_knobs k;

	fx_emu_knobs_default(&k);
	edit(&k, arg);
	fx_emu_set_knobs(board(f), &k);
}

static void on_report(void *user, const struct fx_seq_report *rep)
{
	struct fix *f = user;
	size_t n = strlen(f->steps_seen);

	if (rep->kind == FX_SEQ_REP_STEP_BEGIN) {
		if (f->hook && f->hook_step && !strcmp(rep->step, f->hook_step))
			f->hook(f, rep->step);
		return;
	}
	if (rep->kind != FX_SEQ_REP_STEP_END)
		return;
	snprintf(f->steps_seen + n, sizeof(f->steps_seen) - n, "%s%s:%s",
		 n ? " " : "", rep->step, fx_store_result_name(rep->result));
}

static int run(struct fix *f)
{
	struct fx_seq_job job;

	fxt_seq_job(&f->s, &job);
	job.scan_serial = f->scan;
	job.abort_flag = &f->abort_flag;
	job.report = on_report;
	job.report_user = f;
	f->steps_seen[0] = '\0';
	fx_err_clear(&f->s.err);
	return fx_seq_run(f->s.slot, f->s.store, &job, &f->s.out, &f->s.err);
}

/* First column of the first row of sql on the database file. */
static const char *q(struct fix *f, const char *sql)
{
	return fxt_seq_q(&f->s, sql);
}

#define LAST_RUN FXT_LAST_RUN
#define STEP_OF_LAST FXT_STEP_OF_LAST

static int level(struct fix *f, const char *name)
{
	int v = -1;

	assert_int_equal(fx_gpio_sim_level(fx_seq_station_gpio(f->s.stn), name, &v), 0);
	return v;
}

/* The state every run must leave: BOOT0 low, NRST released, power off. */
static void assert_safe(struct fix *f)
{
	assert_int_equal(level(f, "sim:BOOT0_1"), 0);
	assert_int_equal(level(f, "sim:NRST_1"), 1);
	if (f->s.st.slots[0].power.name[0])
		assert_int_equal(level(f, "sim:POWER_1"), 0);
	assert_int_equal(level(f, "sim:LED_BUSY_1"), 0);
}

static void assert_pass(struct fix *f, const char *board_state)
{
	if (f->s.out.result != FX_STORE_PASS)
		fail_msg("expected PASS, got %s at '%s': %s (steps %s)",
			 fx_store_result_name(f->s.out.result), f->s.out.failing_step,
			 f->s.out.message, f->steps_seen);
	assert_true(f->s.out.recorded);
	assert_string_equal(q(f, LAST_RUN("result")), "PASS");
	assert_string_equal(q(f, LAST_RUN("board_state")), board_state);
	assert_string_equal(fx_store_board_name(f->s.out.board), board_state);
	assert_string_equal(q(f, LAST_RUN("failing_step")), "");
	assert_string_equal(q(f, LAST_RUN("operator")), "op1");
	assert_string_equal(q(f, STEP_OF_LAST("result", "verify")), "PASS");
	assert_string_equal(q(f, STEP_OF_LAST("result", "app_check")), "PASS");
	assert_int_equal(level(f, "sim:LED_PASS_1"), 1);
	assert_int_equal(level(f, "sim:LED_FAIL_1"), 0);
	assert_safe(f);
	/* the board holds the firmware in single-bank mode (recipe DBANK=0) */
	assert_int_equal((fx_emu_optr(board(f)) >> 22) & 1, 0);
}

/* A run that did not pass: result, failing step, error code, message in
 * the outcome AND in the database; FAIL LED, never the PASS LED. */
static void assert_not_pass(struct fix *f, const char *result, const char *step,
			    const char *code, const char *msg_part)
{
	if (strcmp(fx_store_result_name(f->s.out.result), result) ||
	    strcmp(f->s.out.failing_step, step))
		fail_msg("expected %s at '%s', got %s at '%s': %s (steps %s)", result,
			 step, fx_store_result_name(f->s.out.result), f->s.out.failing_step,
			 f->s.out.message, f->steps_seen);
	assert_true(f->s.out.recorded);
	assert_string_equal(fx_err_name(f->s.out.error_code), code);
	assert_string_equal(q(f, LAST_RUN("result")), result);
	assert_string_equal(q(f, LAST_RUN("failing_step")), step);
	assert_string_equal(q(f, LAST_RUN("error_code")), code);
	if (msg_part && !strstr(f->s.out.message, msg_part))
		fail_msg("message '%s' lacks '%s'", f->s.out.message, msg_part);
	if (msg_part && !strstr(q(f, LAST_RUN("error_message")), msg_part))
		fail_msg("recorded message '%s' lacks '%s'", f->s.q, msg_part);
	assert_int_equal(level(f, "sim:LED_PASS_1"), 0);
	assert_int_equal(level(f, "sim:LED_FAIL_1"), 1);
	assert_safe(f);
}

/* ---- board states ----------------------------------------------------- */

static void test_blank(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_string_equal(q(f, STEP_OF_LAST("result", "probe")), "PASS");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "probe")), "nothing enumerated"));
	assert_string_equal(q(f, STEP_OF_LAST("result", "write_ob")), "SKIPPED");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "erase")), "pages"));
	/* unit recorded under the UID serial */
	assert_true(strlen(f->s.out.serial) == 12);
	assert_string_equal(q(f, "SELECT serial FROM units"), f->s.out.serial);
	assert_string_equal(q(f, LAST_RUN("chip_uid")), f->s.out.uid_hex);
	assert_string_equal(q(f, "SELECT count(*) FROM steps"), "12");
	assert_string_equal(f->steps_seen,
			    "power:PASS probe:PASS enter_boot:PASS identify:PASS "
			    "firmware:PASS read_ob:PASS write_ob:SKIPPED erase:PASS "
			    "program:PASS verify:PASS release:PASS app_check:PASS");
}

static void test_programmed(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "probe")), "application 1209:0001"));
}

static void test_corrupted(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_CORRUPTED);
	assert_int_equal(run(f), 0);
	assert_pass(f, "corrupted");
}

static void test_dual_bank(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_DUAL_BANK);
	assert_int_equal((fx_emu_optr(board(f)) >> 22) & 1, 1);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_true(f->s.out.ob_written);
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "read_ob")), "DBANK 1->0"));
	assert_string_equal(q(f, STEP_OF_LAST("result", "write_ob")), "PASS");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "write_ob")), "bootloader back after"));
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "erase")), "mass erase (DBANK changed)"));
}

static void test_protected(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_PROTECTED);
	assert_int_equal(run(f), 0);
	assert_pass(f, "protected");
	assert_string_equal(q(f, STEP_OF_LAST("result", "unprotect")), "PASS");
	/* read unprotect restores factory option bytes: DBANK written again */
	assert_string_equal(q(f, STEP_OF_LAST("result", "write_ob")), "PASS");
	assert_int_equal(fx_emu_optr(board(f)) & 0xFF, 0xAA);
}

/* A board first seen with RDP 1: the UID read is refused, so the unit
 * gets no UID at identify (not 24 zeros that stick forever), the real one
 * after the unprotect; a second run of the same board finds the unit and
 * the UID finds both runs. */
static void test_protected_uid_recorded(void **state)
{
	struct fix *f = *state;
	char uid[25];

	put_board(f, FX_SEQ_DEMO_PROTECTED);
	assert_int_equal(run(f), 0);
	assert_pass(f, "protected");
	snprintf(uid, sizeof(uid), "%s", f->s.out.uid_hex);
	assert_int_equal(strlen(uid), 24);
	assert_string_not_equal(uid, "000000000000000000000000");
	assert_string_equal(q(f, "SELECT chip_uid FROM units"), uid);
	assert_string_equal(q(f, LAST_RUN("chip_uid")), uid);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_string_equal(f->s.out.uid_hex, uid);
	assert_string_equal(q(f, "SELECT count(*) FROM units"), "1");
	assert_string_equal(q(f, "SELECT chip_uid FROM units"), uid);
	assert_string_equal(q(f, "SELECT count(*) FROM units WHERE chip_uid = "
			      "'000000000000000000000000'"), "0");
	/* what 'history UID' reads */
	{
		char sql[128];

		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM v_runs WHERE chip_uid = '%s'", uid);
		assert_string_equal(q(f, sql), "2");
	}
}

static void test_rdp_raised_last(void **state)
{
	struct fix *f = *state;

	f->s.rcp.rdp = 1;
	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_string_equal(q(f, STEP_OF_LAST("result", "rdp")), "PASS");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "rdp")), "RDP level 1"));
	assert_int_equal(fx_g4_rdp_level(fx_emu_optr(board(f))), 1);
	/* rdp comes after verify and before release */
	assert_non_null(strstr(f->steps_seen, "verify:PASS rdp:PASS release:PASS"));
}

static void test_second_run_same_unit(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_string_equal(q(f, "SELECT count(*) FROM units"), "1");
	assert_string_equal(q(f, "SELECT count(*) FROM runs WHERE result = 'PASS'"), "2");
}

static void test_no_power_line(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_string_equal(q(f, STEP_OF_LAST("count(*)", "power")), "0");
}

static void test_no_power_line_app_running(void **state)
{
	struct fix *f = *state;

	/* the jig keeps the board powered: the application is on the bus
	 * before the probe; only the device after the probe's reset counts */
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	f->s.vc.t += 500000; /* the app has enumerated */
	assert_int_equal(fx_emu_poll(board(f)), FX_EMU_BUS_APP);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "probe")), "application 1209:0001"));
}

/* Option bytes that boot the ROM whatever BOOT0 says (nSWBOOT0=0,
 * nBOOT0=0): the probe sees the bootloader; a recipe that does not fix
 * them gets the bootloader back after the release: FAIL, never PASS. */
static void set_ob(struct fix *f, const char *a, const char *b)
{
	struct fx_g4_ob ob;
	uint8_t raw[48];
	int bank;

	for (bank = 0; bank < 2; bank++) {
		assert_int_equal(fx_emu_backdoor_ob(board(f), bank, raw, false), 0);
		assert_int_equal(fx_g4_ob_decode(&ob, bank, raw, &f->s.err), 0);
	}
	assert_int_equal(fx_g4_ob_apply(&ob, a, &f->s.err), 0);
	assert_int_equal(fx_g4_ob_apply(&ob, b, &f->s.err), 0);
	for (bank = 0; bank < 2; bank++) {
		fx_g4_ob_encode(&ob, bank, raw);
		assert_int_equal(fx_emu_backdoor_ob(board(f), bank, raw, true), 0);
	}
}

static void test_rom_boot_option_bytes(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	set_ob(f, "nSWBOOT0=0", "nBOOT0=0");
	assert_int_equal(run(f), 0);
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "probe")),
			       "bootloader 0483:df11 with BOOT0 low"));
	assert_not_pass(f, "FAIL", "app_check", "FX_E_STATE",
			"the bootloader 0483:df11 enumerated, expected the application 1209:0001");
}

/* A recipe whose application ID is the ROM's (an application with its own
 * DFU mode, or a typo) must not let the bootloader pass as the running
 * application: a DFU interface is never proof that the application runs. */
static void test_app_check_refuses_dfu_interface(void **state)
{
	struct fix *f = *state;

	f->s.rcp.app.vid = 0x0483;
	f->s.rcp.app.pid = 0xDF11;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	set_ob(f, "nSWBOOT0=0", "nBOOT0=0");
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "FAIL", "app_check", "FX_E_STATE",
			"the bootloader 0483:df11 enumerated, expected the application 0483:df11");
}

static void test_rom_boot_option_bytes_fixed_by_recipe(void **state)
{
	struct fix *f = *state;
	struct fx_recipe_ob *o = &f->s.rcp.ob[f->s.rcp.n_ob++];

	snprintf(o->name, sizeof(o->name), "nSWBOOT0");
	o->value = 1;
	snprintf(o->text, sizeof(o->text), "nSWBOOT0=1");
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	set_ob(f, "nSWBOOT0=0", "nBOOT0=0");
	assert_int_equal(run(f), 0);
	assert_pass(f, "unknown");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "read_ob")), "nSWBOOT0 0->1"));
}

static void test_probe_off(void **state)
{
	struct fix *f = *state;

	f->s.rcp.probe = false;
	put_board(f, FX_SEQ_DEMO_CORRUPTED);
	assert_int_equal(run(f), 0);
	assert_pass(f, "unknown");
	assert_string_equal(q(f, STEP_OF_LAST("result", "probe")), "SKIPPED");
}

static void test_mass_erase_recipe(void **state)
{
	struct fix *f = *state;

	f->s.rcp.erase = FX_RECIPE_ERASE_MASS;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_string_equal(q(f, STEP_OF_LAST("detail", "erase")), "mass erase");
}

/* ---- software entry ----------------------------------------------------- */

static void test_app_entry(void **state)
{
	struct fix *f = *state;
	const struct fx_gpio_sim_change *ch;
	size_t n_before, n;

	f->s.rcp.entry = FX_RECIPE_ENTRY_APP;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "enter_boot")), "entry app"));
	/* BOOT0 was never raised: the only BOOT0 changes are none at all */
	assert_int_equal(fx_gpio_sim_history(fx_seq_station_gpio(f->s.stn), "sim:BOOT0_1",
					     &ch, &n, &f->s.err), 0);
	n_before = n;
	for (n = 0; n < n_before; n++)
		assert_int_equal(ch[n].value, 0);
}

static void test_app_entry_falls_back_on_blank(void **state)
{
	struct fix *f = *state;

	f->s.rcp.entry = FX_RECIPE_ENTRY_APP;
	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "enter_boot")),
			       "gpio (no application for the app entry)"));
}

static void test_app_entry_ob_change_raises_boot0(void **state)
{
	struct fix *f = *state;

	f->s.rcp.entry = FX_RECIPE_ENTRY_APP;
	put_board(f, FX_SEQ_DEMO_DUAL_BANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "write_ob")),
			       "BOOT0 raised for the write"));
}

/* ---- fault knobs --------------------------------------------------------- */

static void k_never_return(struct fx_emu_knobs *k, unsigned arg)
{
	(void)arg;
	k->never_return = true;
}

static void test_never_return(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	knobs(f, k_never_return, 0);
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "enter_boot", "FX_E_NODEV",
			"no DFU bootloader within 3000 ms");
}

static void hook_never_return(struct fix *f, const char *step)
{
	(void)step;
	knobs(f, k_never_return, 0);
}

/* The field failure: the bootloader does not come back after the
 * option-byte reset. Recorded at write_ob, never a PASS. */
static void test_ob_reset_never_returns(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_DUAL_BANK);
	f->hook_step = "write_ob";
	f->hook = hook_never_return;
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "write_ob", "FX_E_TIMEOUT", "write_ob: ");
}

static void k_ob_reset_stall(struct fx_emu_knobs *k, unsigned arg)
{
	(void)arg;
	k->ob_reset_stall = true;
}

static void test_ob_reset_stall_tolerated(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_DUAL_BANK);
	knobs(f, k_ob_reset_stall, 0);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
}

/* Host-side alternatives of spec 8 that must all still PASS. */
static void k_variant(struct fx_emu_knobs *k, unsigned arg)
{
	switch (arg) {
	case 0: k->transfer_size = 2048; break;
	case 1: k->iproduct_stm32 = true; break;
	case 2: k->alt0_constant = true; break;
	case 3: k->busy = FX_EMU_BUSY_STALL; break;
	case 4: k->busy = FX_EMU_BUSY_LYING; break;
	case 5: k->dbank_read_error = true; break;
	case 6: k->malformed_stall = true; break;
	default: break;
	}
}

static void test_knob_variants_pass(void **state)
{
	struct fix *f = *state;
	unsigned v;

	for (v = 0; v < 7; v++) {
		put_board(f, FX_SEQ_DEMO_DUAL_BANK);
		knobs(f, k_variant, v);
		assert_int_equal(run(f), 0);
		if (f->s.out.result != FX_STORE_PASS)
			fail_msg("variant %u: %s at '%s': %s", v,
				 fx_store_result_name(f->s.out.result),
				 f->s.out.failing_step, f->s.out.message);
		assert_pass(f, "programmed");
	}
}

/* Faults injected when `program` begins: the Nth control request from
 * there on (counting DNLOADs only). */
static enum fx_emu_fault_kind g_kind;
static const int g_req = -1;                 /* bRequest filter: all */
static uint8_t g_status = DFU_STATUS_errPROG; /* with FX_EMU_FAULT_STATUS */

static void hook_fault(struct fix *f, const char *step)
{
	struct fx_emu_knobs k = *fx_emu_get_knobs(board(f));

	(void)step;
	k.fault_kind = g_kind;
	k.fault_request = g_req;
	/* counted from the board's creation (emu.h): the hook_arg-th request
	 * from now on (g_req must stay -1: per-request counts are not
	 * visible through the API) */
	k.fault_nth = fx_emu_request_count(board(f)) + f->hook_arg;
	k.fault_persistent = false;
	k.fault_status = g_status;
	fx_emu_set_knobs(board(f), &k);
}

static void fault_in_program(struct fix *f, enum fx_emu_fault_kind kind,
			     const char *code)
{
	put_board(f, FX_SEQ_DEMO_BLANK);
	g_kind = kind;
	f->hook_step = "program";
	f->hook = hook_fault;
	f->hook_arg = 9;
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "program", code, "program: ");
	/* the step named once, though fx_prog names it too */
	if (strstr(f->s.out.message, "program: program: "))
		fail_msg("step named twice: '%s'", f->s.out.message);
	assert_string_equal(q(f, STEP_OF_LAST("result", "program")), "ERROR");
	assert_string_equal(q(f, STEP_OF_LAST("count(*)", "verify")), "0");
}

static void test_fault_drop(void **state)
{
	fault_in_program(*state, FX_EMU_FAULT_DROP, "FX_E_NODEV");
}

static void test_fault_stall(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	g_kind = FX_EMU_FAULT_STALL;
	f->hook_step = "program";
	f->hook = hook_fault;
	f->hook_arg = 9;
	assert_int_equal(run(f), 0);
	/* a single STALL is recovered by the DFU engine (CLRSTATUS) or ends
	 * the step: either a PASS after a full verify or an ERROR, never a
	 * FAIL or an unverified PASS */
	if (f->s.out.result == FX_STORE_PASS)
		assert_pass(f, "blank");
	else
		assert_not_pass(f, "ERROR", "program", fx_err_name(f->s.out.error_code), NULL);
}

static void test_fault_timeout(void **state)
{
	fault_in_program(*state, FX_EMU_FAULT_TIMEOUT, "FX_E_TIMEOUT");
}

static void test_fault_status(void **state)
{
	fault_in_program(*state, FX_EMU_FAULT_STATUS, "FX_E_DFU");
}

static void k_slow_erase(struct fx_emu_knobs *k, unsigned arg)
{
	k->erase_scale = (double)arg;
}

static void test_slow_erase(void **state)
{
	struct fix *f = *state;

	f->s.rcp.timeouts.erase_ms = 2000;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	knobs(f, k_slow_erase, 20); /* 2 KiB page: 440 ms each, 10 pages */
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "erase", "FX_E_TIMEOUT", "limit 2000 ms");
}

static void test_slow_erase_within_bound(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	knobs(f, k_slow_erase, 20);
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
}

static void test_app_entry_refused(void **state)
{
	struct fix *f = *state;

	f->s.rcp.entry = FX_RECIPE_ENTRY_APP;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	g_kind = FX_EMU_FAULT_STALL;
	f->hook_step = "enter_boot";
	f->hook = hook_fault;
	f->hook_arg = 1; /* the SET_REPORT itself */
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "enter_boot", "FX_E_STALL",
			"enter_boot: application refused the bootloader request: ");
}

static void test_app_entry_no_bootloader(void **state)
{
	struct fix *f = *state;

	f->s.rcp.entry = FX_RECIPE_ENTRY_APP;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	g_kind = FX_EMU_FAULT_DROP;
	f->hook_step = "enter_boot";
	f->hook = hook_fault;
	f->hook_arg = 1;
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "enter_boot", "FX_E_TIMEOUT",
			"enter_boot: no bootloader within 3000 ms of the application's jump request");
}

/* Some ROMs refuse even the option-byte read under RDP 1 (spec 3.6): an
 * errVENDOR at every request position of the rdp step. A PASS only with
 * the chip really at RDP 1; the refused re-read is confirmed by a refused
 * flash read. */
static void test_rdp_refused_reread(void **state)
{
	struct fix *f = *state;
	unsigned nth, passes = 0, refused = 0;

	f->s.rcp.rdp = 1;
	g_kind = FX_EMU_FAULT_STATUS; /* armed at a request: the next GETSTATUS */
	g_status = DFU_STATUS_errVENDOR;
	for (nth = 1; nth <= 40; nth++) {
		put_board(f, FX_SEQ_DEMO_BLANK);
		f->hook_step = "rdp";
		f->hook = hook_fault;
		f->hook_arg = nth;
		assert_int_equal(run(f), 0);
		if (f->s.out.result == FX_STORE_PASS) {
			assert_pass(f, "blank");
			assert_int_equal(fx_g4_rdp_level(fx_emu_optr(board(f))), 1);
			passes++;
			if (strstr(q(f, STEP_OF_LAST("detail", "rdp")), "reads refused"))
				refused++;
		} else {
			assert_not_pass(f, "ERROR", "rdp", fx_err_name(f->s.out.error_code), "rdp: ");
		}
	}
	g_status = DFU_STATUS_errPROG;
	assert_true(passes > 0);
	assert_true(refused > 0);
}

static void hook_boot0_high(struct fix *f, const char *step)
{
	(void)step;
	/* after the option-byte reset and until the release, BOOT0 is high */
	assert_int_equal(level(f, "sim:BOOT0_1"), 1);
	f->hook_arg++;
}

static void test_boot0_held_across_ob_reset(void **state)
{
	struct fix *f = *state;
	const struct fx_gpio_sim_change *ch;
	size_t n, i, rises = 0;

	put_board(f, FX_SEQ_DEMO_DUAL_BANK);
	f->hook_step = "erase";
	f->hook = hook_boot0_high;
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_int_equal(f->hook_arg, 1);
	/* one rise (enter_boot) and one fall (release): never dropped across
	 * the option-byte reset */
	assert_int_equal(fx_gpio_sim_history(fx_seq_station_gpio(f->s.stn), "sim:BOOT0_1",
					     &ch, &n, &f->s.err), 0);
	for (i = 0; i < n; i++)
		if (ch[i].value == 1)
			rises++;
	assert_int_equal(rises, 1);
	assert_int_equal(ch[n - 1].value, 0);
}

static void test_unprotect_never_returns(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_PROTECTED);
	f->hook_step = "unprotect";
	f->hook = hook_never_return;
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "unprotect", fx_err_name(f->s.out.error_code), "unprotect: ");
	assert_string_equal(q(f, LAST_RUN("board_state")), "protected");
	assert_int_not_equal(f->s.out.error_code, 0);
}

/* ---- the unit is bad ------------------------------------------------------ */

static void hook_flip_flash(struct fix *f, const char *step)
{
	static const uint8_t bad[4] = { 0x12, 0x34, 0x56, 0x78 };

	(void)step;
	assert_int_equal(fx_emu_backdoor_flash_write(board(f), 0x08001000u, bad, 4), 0);
}

static void test_verify_mismatch_fails(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	f->hook_step = "verify";
	f->hook = hook_flip_flash;
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "FAIL", "verify", "FX_E_VERIFY", "verify: ");
	assert_string_equal(q(f, STEP_OF_LAST("count(*)", "app_check")), "0");
}

/* Two segments that share one double word (a 1-byte hole at 0x08000004):
 * the word must be programmed once (a second write of a programmed double
 * word is errPROG on the G4), so the run passes and the hole stays 0xFF. */
static void test_segments_share_double_word(void **state)
{
	struct fix *f = *state;
	struct fx_image_seg segs[2];
	uint8_t back[16];

	segs[0] = f->s.seg;
	segs[0].len = 4;
	segs[1] = f->s.seg;
	segs[1].addr = f->s.seg.addr + 5;
	segs[1].data = f->s.seg.data + 5;
	segs[1].len = f->s.seg.len - 5;
	f->s.img.segs = segs;
	f->s.img.nsegs = 2;
	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_int_equal(fx_emu_backdoor_flash_read(board(f), 0x08000000u, back, sizeof(back)), 0);
	assert_memory_equal(back, f->s.fw_data, 4);
	assert_int_equal(back[4], 0xFF);
	assert_memory_equal(back + 5, f->s.fw_data + 5, sizeof(back) - 5);
	f->s.img.segs = &f->s.seg;
	f->s.img.nsegs = 1;
}

static void hook_break_vectors(struct fix *f, const char *step)
{
	static const uint8_t zero[8];

	(void)step;
	assert_int_equal(fx_emu_backdoor_flash_write(board(f), 0x08000000u, zero, 8), 0);
}

static void test_app_does_not_start_fails(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	f->hook_step = "release";
	f->hook = hook_break_vectors;
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "FAIL", "app_check", "FX_E_TIMEOUT",
			"application 1209:0001 did not enumerate within 1000 ms");
}

static void test_app_wrong_id_fails(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	f->s.rcp.app.pid = 0x0002; /* the board's app is 1209:0001 */
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "FAIL", "app_check", "FX_E_STATE",
			"device 1209:0001 enumerated, expected the application 1209:0002");
}

static void test_firmware_changed_refused(void **state)
{
	struct fix *f = *state;
	FILE *fp;

	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	fp = fopen(f->s.fw, "r+b");
	assert_non_null(fp);
	fputc(0x5A, fp);
	fclose(fp);
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "firmware", "FX_E_HASH", "firmware: ");
	assert_string_equal(q(f, STEP_OF_LAST("count(*)", "erase")), "0");
	assert_string_equal(q(f, STEP_OF_LAST("count(*)", "write_ob")), "0");
}

/* ---- abort, serials, store failures -------------------------------------- */

static void hook_abort(struct fix *f, const char *step)
{
	(void)step;
	f->abort_flag = 1;
}

static void test_abort_between_steps(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	f->hook_step = "erase";
	f->hook = hook_abort;
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ABORTED", "program", "FX_E_ABORTED",
			"stopped by the operator before 'program'");
	assert_string_equal(q(f, STEP_OF_LAST("result", "erase")), "PASS");
}

static void test_scan_serial(void **state)
{
	struct fix *f = *state;

	f->s.rcp.serial = FX_RECIPE_SERIAL_BOTH;
	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), FX_E_INVAL);
	assert_non_null(strstr(f->s.err.msg, "wants a scanned serial (serial = both): none given"));
	assert_string_equal(q(f, "SELECT count(*) FROM runs"), "0");
	f->scan = "SN-0001";
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_string_equal(q(f, "SELECT serial FROM units"), "SN-0001");
	assert_string_equal(q(f, "SELECT chip_uid FROM units"), f->s.out.uid_hex);
}

/* Fault injection in the database: a TEMP trigger on the store's own
 * connection makes the chosen write fail like a full disk would. */
static void db_fail_on(struct fix *f, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(fx_store_sqlite(f->s.store), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("trigger: %s", msg);
}

static void test_store_step_fails_stops(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_BLANK);
	db_fail_on(f, "CREATE TEMP TRIGGER t BEFORE INSERT ON main.steps "
		      "WHEN NEW.name = 'erase' BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
	assert_int_equal(run(f), FX_E_DB);
	assert_false(f->s.out.recorded);
	assert_int_not_equal(f->s.out.result, FX_STORE_PASS);
	assert_non_null(strstr(f->s.out.message, "disk full"));
	assert_int_equal(level(f, "sim:LED_PASS_1"), 0);
	assert_int_equal(level(f, "sim:LED_FAIL_1"), 1);
	assert_safe(f);
	/* nothing after the erase was done: the board was never programmed */
	assert_string_equal(q(f, "SELECT count(*) FROM steps WHERE name = 'program'"), "0");
	assert_null(strstr(f->steps_seen, "program"));
}

static void test_store_end_fails_no_pass_then_aborted(void **state)
{
	struct fix *f = *state;
	struct fx_store *st2;

	put_board(f, FX_SEQ_DEMO_BLANK);
	db_fail_on(f, "CREATE TEMP TRIGGER t BEFORE UPDATE OF result ON main.runs "
		      "BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
	assert_int_equal(run(f), FX_E_DB);
	assert_false(f->s.out.recorded);
	assert_int_equal(f->s.out.result, FX_STORE_ERROR);
	assert_int_equal(level(f, "sim:LED_PASS_1"), 0);
	assert_int_equal(level(f, "sim:LED_FAIL_1"), 1);
	assert_safe(f);
	assert_string_equal(q(f, LAST_RUN("result")), "");
	/* the station restarts: the unfinished run becomes ABORTED */
	fx_store_close(f->s.store);
	f->s.store = NULL;
	st2 = fx_store_open(f->s.db, &f->s.err);
	assert_non_null(st2);
	assert_int_equal(fx_store_recovered(st2), 1);
	f->s.store = st2;
	assert_string_equal(q(f, LAST_RUN("result")), "ABORTED");
	assert_string_equal(q(f, LAST_RUN("error_code")), "FX_E_ABORTED");
	/* the steps it finished are kept */
	assert_string_equal(q(f, STEP_OF_LAST("result", "app_check")), "PASS");
}

static void test_store_begin_fails_nothing_touched(void **state)
{
	struct fix *f = *state;
	const struct fx_gpio_sim_change *ch;
	size_t n0, n1;

	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	db_fail_on(f, "CREATE TEMP TRIGGER t BEFORE INSERT ON main.runs "
		      "BEGIN SELECT RAISE(ABORT, 'read-only'); END;");
	assert_int_equal(fx_gpio_sim_history(fx_seq_station_gpio(f->s.stn), "sim:NRST_1",
					     &ch, &n0, &f->s.err), 0);
	assert_int_equal(run(f), FX_E_DB);
	assert_false(f->s.out.recorded);
	assert_int_equal(fx_gpio_sim_history(fx_seq_station_gpio(f->s.stn), "sim:NRST_1",
					     &ch, &n1, &f->s.err), 0);
	assert_int_equal(n0, n1); /* no reset: nothing was programmed */
	assert_string_equal(f->steps_seen, "");
}

/* ---- station runtime ------------------------------------------------------ */

static void test_wait_start_and_lid(void **state)
{
	struct fix *f = *state;
	struct fx_gpio *g = fx_seq_station_gpio(f->s.stn);
	uint64_t t0 = f->s.vc.t;

	assert_int_equal(fx_seq_station_wait_start(f->s.stn, 100, &f->s.err), FX_E_TIMEOUT);
	assert_string_equal(f->s.err.msg, "no START press within 100 ms");
	/* lid open: the first press is ignored, the second one counts */
	assert_int_equal(fx_gpio_sim_drive(g, "sim:LID", 0, &f->s.err), 0);
	assert_int_equal(fx_seq_station_press_start(f->s.stn, f->s.vc.t + 1000000, &f->s.err), 0);
	assert_int_equal(fx_gpio_sim_schedule(g, "sim:LID", f->s.vc.t + 2000000, 1, &f->s.err), 0);
	assert_int_equal(fx_seq_station_press_start(f->s.stn, f->s.vc.t + 3000000, &f->s.err), 0);
	assert_int_equal(fx_seq_station_wait_start(f->s.stn, 10000, &f->s.err), 0);
	assert_true(f->s.vc.t >= t0 + 3000000);
}

static void test_board_file_saved(void **state)
{
	struct fix *f = *state;
	struct fx_emu *e;
	uint8_t b[8];

	put_board(f, FX_SEQ_DEMO_BLANK);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_int_equal(fx_seq_slot_save(f->s.slot, &f->s.err), 0);
	e = fx_emu_load(f->s.board, &f->s.vc.base, &f->s.err);
	assert_non_null(e);
	assert_int_equal(fx_emu_backdoor_flash_read(e, 0x08000000u, b, 8), 0);
	assert_memory_equal(b, f->s.fw_data, 8);
	fx_emu_free(e);
}


/* ---- the resets the station causes (probe, enter_boot) ------------------ */

static void hook_enum_count(struct fix *f, const char *step)
{
	(void)step;
	f->hook_arg = fx_emu_enum_count(board(f));
}

/* power_on_ms far shorter than the board's boot, a jig with a long NRST
 * pulse (60 ms) and a host that sees the device leave 100 ms after NRST
 * fell: the application of the power-on boot enumerates at 50 ms while
 * the jig holds NRST low for the probe. The probe must hold NRST until
 * the port is empty and judge from the device after ITS reset (the 2nd
 * enumeration); enter_boot likewise passes over the application still
 * listed and waits for the slow ROM (boot_delay 900 ms). */
static void test_reset_ignores_power_on_enumeration(void **state)
{
	struct fix *f = *state;
	struct fx_emu_knobs k;

	f->s.st.slots[0].timing.power_on_ms = 1;
	f->s.st.slots[0].timing.nrst_pulse_ms = 60;
	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	k = *fx_emu_get_knobs(board(f));
	k.boot_delay_us = 900000;
	fx_emu_set_knobs(board(f), &k);
	lag_nrst(f, 100);
	f->hook_step = "enter_boot";
	f->hook = hook_enum_count;
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	if (f->hook_arg != 2)
		fail_msg("probe judged from enumeration %u, expected 2 (the one after "
			 "its reset); probe: %s", f->hook_arg,
			 q(f, STEP_OF_LAST("detail", "probe")));
	q(f, STEP_OF_LAST("detail", "probe"));
	if (!strstr(f->s.q, "application 1209:0001 after 5") ||
	    !strstr(f->s.q, " ms until the port was empty; 1 device seen while NRST was low ignored)"))
		fail_msg("probe detail: %s", f->s.q);
	q(f, STEP_OF_LAST("detail", "enter_boot"));
	if (!strstr(f->s.q, "entry gpio: 0483:df11") || !strstr(f->s.q, " after 90") ||
	    !strstr(f->s.q, "1 device seen while NRST was low ignored)"))
		fail_msg("enter_boot detail: %s", f->s.q);
}

/* A blank board, a slow ROM (boot_delay 900 ms) and power_on_ms = 1,
 * NRST seen at once: nothing at the probe, the bootloader after the
 * release; the measured times are in the details (NRST held exactly the
 * 20 ms pulse: the port wait returns the moment the board is gone, no
 * second look). */
static void test_reset_blank_slow_rom(void **state)
{
	struct fix *f = *state;
	struct fx_emu_knobs k;

	f->s.st.slots[0].timing.power_on_ms = 1;
	put_board(f, FX_SEQ_DEMO_BLANK);
	k = *fx_emu_get_knobs(board(f));
	k.boot_delay_us = 900000;
	fx_emu_set_knobs(board(f), &k);
	assert_int_equal(run(f), 0);
	assert_pass(f, "blank");
	assert_string_equal(q(f, STEP_OF_LAST("detail", "probe")),
			    "nothing enumerated within 1500 ms: blank or corrupted "
			    "(NRST held 20 ms)");
	q(f, STEP_OF_LAST("detail", "enter_boot"));
	if (!strstr(f->s.q, " after 90") || !strstr(f->s.q, " ms (NRST held 20 ms)"))
		fail_msg("enter_boot detail: %s", f->s.q);
}

/* No POWER line, the application running, and the old device still
 * listed 200 ms after NRST fell (a late hub): NRST stays low until the
 * port is empty, then only the new enumeration counts. */
static void test_reset_late_hub(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	f->s.vc.t += 500000; /* the app has enumerated */
	assert_int_equal(fx_emu_poll(board(f)), FX_EMU_BUS_APP);
	lag_nrst(f, 200);
	f->hook_step = "enter_boot";
	f->hook = hook_enum_count;
	assert_int_equal(run(f), 0);
	assert_pass(f, "programmed");
	assert_int_equal(f->hook_arg, 2);
	q(f, STEP_OF_LAST("detail", "probe"));
	if (!strstr(f->s.q, "application 1209:0001 after 5") ||
	    !strstr(f->s.q, " ms until the port was empty; 1 device seen while NRST was low ignored)"))
		fail_msg("probe detail: %s", f->s.q);
}

/* NRST does not reach the board (broken wire): the running application
 * never leaves. Bounded: the probe gives up after nrst_pulse_ms +
 * SEQ_GONE_MAX_MS (1000 ms) with ERROR, never judging the board. */
static void test_reset_nrst_not_reaching_board(void **state)
{
	struct fix *f = *state;
	long long us;

	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	f->s.vc.t += 500000;
	assert_int_equal(fx_gpio_sim_attach(fx_seq_station_gpio(f->s.stn), "sim:NRST_1",
					    NULL, FX_GPIO_SIM_PIN_NRST, &f->s.err), 0);
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "probe", "FX_E_STATE",
			"probe: 1209:0001 still on the port ");
	if (!strstr(f->s.out.message, " ms after NRST went low (NRST not reaching the "
		    "board, or another device on the slot's port?)"))
		fail_msg("message: %s", f->s.out.message);
	us = atoll(q(f, STEP_OF_LAST("duration_us", "probe")));
	assert_true(us >= 1020000 && us < 1100000);
	assert_string_equal(f->s.out.failing_step, "probe");
}

/* Option bytes that ignore the BOOT0 pin and boot the flash (nSWBOOT0=0,
 * nBOOT0=1): the GPIO entry's reset brings the application back. ERROR at
 * enter_boot naming what came, never a DFU session on the wrong device. */
static void test_reset_app_instead_of_bootloader(void **state)
{
	struct fix *f = *state;

	put_board(f, FX_SEQ_DEMO_PROGRAMMED);
	set_ob(f, "nSWBOOT0=0", "nBOOT0=1");
	assert_int_equal(run(f), 0);
	assert_not_pass(f, "ERROR", "enter_boot", "FX_E_NODEV",
			"enter_boot: no DFU bootloader within 3000 ms of the BOOT0+NRST "
			"reset (1209:0001 is running, not the DFU bootloader)");
	assert_non_null(strstr(q(f, STEP_OF_LAST("detail", "probe")), "application 1209:0001"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_programmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dual_bank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protected_uid_recorded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rdp_raised_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_run_same_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_power_line, setup_nopower, teardown),
		cmocka_unit_test_setup_teardown(test_no_power_line_app_running, setup_nopower, teardown),
		cmocka_unit_test_setup_teardown(test_rom_boot_option_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_check_refuses_dfu_interface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rom_boot_option_bytes_fixed_by_recipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mass_erase_recipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_entry_falls_back_on_blank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_entry_ob_change_raises_boot0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ob_reset_never_returns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ob_reset_stall_tolerated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knob_variants_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot0_held_across_ob_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdp_refused_reread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_entry_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_entry_no_bootloader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprotect_never_returns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_erase_within_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_mismatch_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segments_share_double_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_does_not_start_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_wrong_id_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_changed_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_between_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_step_fails_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_end_fails_no_pass_then_aborted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_begin_fails_nothing_touched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_start_and_lid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_board_file_saved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_ignores_power_on_enumeration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_blank_slow_rom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_late_hub, setup_nopower, teardown),
		cmocka_unit_test_setup_teardown(test_reset_nrst_not_reaching_board, setup_nopower, teardown),
		cmocka_unit_test_setup_teardown(test_reset_app_instead_of_bootloader, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
