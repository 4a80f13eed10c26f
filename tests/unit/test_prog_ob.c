/* test_prog_ob.c - how many option-byte reads an option-byte change costs
 * (issue 9 section 3): the caller's read is reused, and after the reset
 * only the block written is read again; every script step is consumed, so
 * an extra read fails the test (the fake answers FX_E_IO). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_usb.h"
#include "fx/prog.h"

struct ctx {
	struct fx_vclock vc;
	struct fake_usb *f;
	struct fx_dfu *d;
	struct fx_g4_ob factory;
	uint8_t raw[2][48];
};

static int setup(void **state)
{
	static struct ctx c;

	memset(&c, 0, sizeof(c));
	c.d = fake_dfu_up(&c.vc, &c.f, 1024);
	fx_g4_ob_factory(&c.factory);
	fx_g4_ob_encode(&c.factory, 0, c.raw[0]);
	fx_g4_ob_encode(&c.factory, 1, c.raw[1]);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	fake_dfu_down(c->d, c->f);
	return 0;
}

/* one fx_dfuse_read of a 48-byte block */
static void push_read(struct fake_usb *f, const uint8_t *data)
{
	fake_push_cmd_ok(f, 1);
	fake_push(f, DFU_ABORT, 0);
	fake_push_upload(f, data, 48);
	fake_push(f, DFU_ABORT, 0);
}

/* SET_ADDRESS, the 48-byte DNLOAD, the GETSTATUS the chip never answers
 * (it resets), the rebind's GETSTATUS after the re-enumeration */
static void push_write_reset(struct fake_usb *f)
{
	fake_push_cmd_ok(f, 1);
	fake_push(f, DFU_DNLOAD, 0);
	fake_push(f, DFU_GETSTATUS, FX_E_STALL); /* obreset=stall */
	fake_push_status(f, dfuIDLE, DFU_STATUS_OK, 0);
}

static void test_write_from_reads_only_the_written_block(void **state)
{
	struct ctx *c = *state;
	struct fx_prog_ob_result r;
	struct fx_g4_ob want = c->factory, single;
	uint8_t raw0[48];
	struct fx_err err;

	fx_err_clear(&err);
	assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
	single = want;
	fx_g4_ob_encode(&single, 0, raw0);
	push_write_reset(c->f);
	push_read(c->f, raw0); /* bank 1 only, after the reset */
	assert_int_equal(fx_prog_ob_write_from(c->d, &c->factory, &want, 2000, &r, &err), 0);
	assert_int_equal(fake_left(c->f), 0);
	assert_int_equal(c->f->unexpected, 0);
	assert_int_equal(fake_count(c->f, DFU_UPLOAD), 1);
	assert_int_equal(c->f->reopens, 1);
	assert_int_equal(fx_g4_ob_optr(&r.after), 0xFFAFF8AAu);
	assert_memory_equal(r.after.word[1], c->factory.word[1], sizeof(r.after.word[1]));
	/* the confirm read still decides: a chip that kept DBANK=1 fails */
	push_write_reset(c->f);
	push_read(c->f, c->raw[0]);
	assert_int_equal(fx_prog_ob_write_from(c->d, &c->factory, &want, 2000, &r, &err), FX_E_VERIFY);
	assert_string_equal(err.msg, "option byte 'DBANK': expected 0x0, found 0x1 after the reset");
	assert_int_equal(fake_left(c->f), 0);
}

static void test_write_reads_both_blocks_once(void **state)
{
	struct ctx *c = *state;
	struct fx_g4_ob want = c->factory, single;
	uint8_t raw0[48];
	struct fx_err err;

	/* fx_prog_ob_write without a prior read: both blocks before, the
	 * written one after: 3 reads (was 4) */
	fx_err_clear(&err);
	assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
	single = want;
	fx_g4_ob_encode(&single, 0, raw0);
	push_read(c->f, c->raw[0]);
	push_read(c->f, c->raw[1]);
	push_write_reset(c->f);
	push_read(c->f, raw0);
	assert_int_equal(fx_prog_ob_write(c->d, &want, 2000, NULL, &err), 0);
	assert_int_equal(fake_left(c->f), 0);
	assert_int_equal(fake_count(c->f, DFU_UPLOAD), 3);
	/* the block read after the reset is the written one, at 0x1FFF7800 */
	{
		int k = fake_find(c->f, DFU_DNLOAD, 4); /* SET_ADDRESS of the re-read */

		assert_memory_equal(c->f->log[k].out, "\x21\x00\x78\xFF\x1F", 5);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_from_reads_only_the_written_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_reads_both_blocks_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
