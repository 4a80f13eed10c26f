/* test_dfu_busy.c - fx_dfu_set_busy_times() against the scripted fake
 * transport (issue 9 section 3): the first dfuDNBUSY of a memory write or
 * a mass erase is waited for the target's worst-case time when that is
 * shorter than bwPollTimeout, never longer, and a device that is still
 * busy then is handled as before (DNBUSY again, STALL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_usb.h"
#include "fx/dfu.h"
#include "fx/stm32g4.h"

static const struct fx_dfu_busy_times g4 = {
	.write_ns_per_dw = FX_G4_T_PROG_DW_MAX_NS,
	.mass_erase_us = FX_G4_T_ME_MAX_US,
};

struct ctx {
	struct fx_vclock vc;
	struct fake_usb *f;
	struct fx_dfu *d;
	struct fx_err err;
	uint8_t block[1024];
};

static int setup(void **state)
{
	static struct ctx c;

	memset(&c, 0, sizeof(c));
	memset(c.block, 0x5A, sizeof(c.block));
	c.d = fake_dfu_up(&c.vc, &c.f, 1024);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	fake_dfu_down(c->d, c->f);
	return 0;
}

/* Time between the n-th GETSTATUS after the open (from 0) and the next
 * one (the open's recovery asked one). */
static uint64_t gap_after(const struct ctx *c, int n)
{
	int i = fake_find(c->f, DFU_GETSTATUS, n + 1);
	int j = fake_find(c->f, DFU_GETSTATUS, n + 2);

	assert_true(i >= 0 && j > i);
	return c->f->log[j].t_us - c->f->log[i].t_us;
}

/* SET_ADDRESS (poll 1 ms), then one block whose first GETSTATUS says
 * dfuDNBUSY with poll_ms, then dfuDNLOAD-IDLE. */
static void push_write(struct fake_usb *f, uint32_t poll_ms)
{
	fake_push_cmd_ok(f, 1);
	fake_push_cmd_ok(f, poll_ms);
}

static void test_default_waits_the_reported_time(void **state)
{
	struct ctx *c = *state;

	push_write(c->f, 11);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000000, c->block, 1024, false, &c->err), 0);
	assert_int_equal(fake_left(c->f), 0);
	/* GETSTATUS #0/#1: SET_ADDRESS; #2/#3: the block */
	assert_int_equal(gap_after(c, 0), 1000);
	assert_int_equal(gap_after(c, 2), 11000);
}

static void test_write_waits_the_datasheet_maximum(void **state)
{
	struct ctx *c = *state;

	fx_dfu_set_busy_times(c->d, &g4);
	push_write(c->f, 11);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000000, c->block, 1024, false, &c->err), 0);
	assert_int_equal(fake_left(c->f), 0);
	/* commands keep the reported 1 ms (no datasheet figure) */
	assert_int_equal(gap_after(c, 0), 1000);
	/* 128 double words x 83.35 us = 10668.8 us, rounded up */
	assert_int_equal(gap_after(c, 2), 10669);
	/* a 100-byte write: 13 double words, 1083.55 us */
	push_write(c->f, 2);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000400, c->block, 100, false, &c->err), 0);
	assert_int_equal(gap_after(c, 6), 1084);
	/* kept across a rebind (a reset re-enumerates the same device) */
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfu_rebind(c->d, &c->err), 0);
	push_write(c->f, 11);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000800, c->block, 1024, false, &c->err), 0);
	assert_int_equal(gap_after(c, 11), 10669);
	/* NULL: unknown again, the reported time */
	fx_dfu_set_busy_times(c->d, NULL);
	push_write(c->f, 11);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000C00, c->block, 1024, false, &c->err), 0);
	assert_int_equal(gap_after(c, 15), 11000);
	assert_int_equal(c->f->unexpected, 0);
}

static void test_never_longer_than_reported(void **state)
{
	struct ctx *c = *state;

	/* busy=lying (F405-style 1 ms for a 10 ms job): the reported time is
	 * shorter, so it is the one waited; DNBUSY again: the reported time
	 * again, not the datasheet's */
	fx_dfu_set_busy_times(c->d, &g4);
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 1);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 2);
	fake_push_status(c->f, dfuDNLOAD_IDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000000, c->block, 1024, false, &c->err), 0);
	assert_int_equal(fake_left(c->f), 0);
	assert_int_equal(gap_after(c, 2), 1000);
	assert_int_equal(gap_after(c, 3), 2000);
}

static void test_mass_erase_and_still_busy(void **state)
{
	struct ctx *c = *state;

	fx_dfu_set_busy_times(c->d, &g4);
	fake_push_cmd_ok(c->f, 25);
	assert_int_equal(fx_dfuse_mass_erase(c->d, &c->err), 0);
	assert_int_equal(gap_after(c, 0), 24600);
	/* a chip still busy after the datasheet time STALLs the early
	 * GETSTATUS (L4-style): retried after the reported poll, done */
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 25);
	fake_push(c->f, DFU_GETSTATUS, FX_E_STALL);
	fake_push_status(c->f, dfuDNLOAD_IDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfuse_mass_erase(c->d, &c->err), 0);
	assert_int_equal(fake_left(c->f), 0);
	assert_int_equal(gap_after(c, 2), 24600);
	assert_int_equal(gap_after(c, 3), 25000);
	/* a device that says it needs much longer (erase_scale, a scaled
	 * fxemu bed) is slower than the datasheet: its own time is waited,
	 * an early GETSTATUS could be held past the transfer timeout */
	fake_push_cmd_ok(c->f, 125);
	assert_int_equal(fx_dfuse_mass_erase(c->d, &c->err), 0);
	assert_int_equal(gap_after(c, 5), 125000);
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 12);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000000, c->block, 1024, false, &c->err), 0);
	assert_int_equal(gap_after(c, 9), 12000);
	/* page erase: no datasheet figure used, the reported 25 ms */
	fake_push_cmd_ok(c->f, 25);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000000, &c->err), 0);
	assert_int_equal(gap_after(c, 11), 25000);
	assert_int_equal(c->f->unexpected, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_waits_the_reported_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_waits_the_datasheet_maximum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_longer_than_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mass_erase_and_still_busy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
