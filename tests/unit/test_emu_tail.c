/* test_emu_tail.c - spec 2.4 / 8 "write tail": a flash or OTP DNLOAD whose
 * length is not a multiple of 8 is padded with 0xFF (default), dropped
 * (acknowledged, the partial double word not written) or rejected
 * (errADDRESS); and spec 8 "the application": an initial stack pointer in
 * CCM SRAM boots like one in SRAM. Raw requests on a virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/bytes.h"
#include "fx/dfu_wire.h"

static void init_tail(struct fxt_emu *f, enum fx_emu_write_tail t)
{
	struct fx_emu_knobs k;

	fx_emu_knobs_default(&k);
	k.write_tail = t;
	fxt_emu_init(f, &k);
}

/* 12 bytes at 0x08030000 (the shape of an objcopy .bin's last chunk) */
static int write12(struct fxt_emu *f, uint8_t got[16])
{
	uint8_t d[12];
	int rc;

	memset(d, 0x5A, sizeof(d));
	rc = fxt_write(f, 0x08030000, d, sizeof(d));
	if (rc == 0)
		assert_int_equal(fxt_read(f, 0x08030000, got, 16), 0);
	return rc;
}

static void test_default_is_pad(void **state)
{
	struct fx_emu_knobs k;

	(void)state;
	fx_emu_knobs_default(&k);
	assert_int_equal(k.write_tail, FX_EMU_TAIL_PAD);
}

static void test_tail_pad(void **state)
{
	static const uint8_t want[16] = { 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A,
					  0x5A, 0x5A, 0x5A, 0x5A, 0xFF, 0xFF, 0xFF, 0xFF };
	struct fxt_emu f;
	uint8_t got[16];

	(void)state;
	init_tail(&f, FX_EMU_TAIL_PAD);
	assert_int_equal(write12(&f, got), 0);
	assert_memory_equal(got, want, 16);
	/* the padded double word is programmed: writing it again is errPROG */
	assert_int_equal(fxt_write(&f, 0x08030008, want + 8, 8), DFU_STATUS_errPROG);
	fxt_emu_release(&f);
}

static void test_tail_drop(void **state)
{
	struct fxt_emu f;
	uint8_t got[16], want[16];

	(void)state;
	memset(want, 0xFF, sizeof(want));
	memset(want, 0x5A, 8);
	init_tail(&f, FX_EMU_TAIL_DROP);
	assert_int_equal(write12(&f, got), 0);
	assert_memory_equal(got, want, 16);
	/* the dropped double word is still erased: writable */
	assert_int_equal(fxt_write(&f, 0x08030008, want, 8), 0);
	fxt_emu_release(&f);
}

static void test_tail_reject(void **state)
{
	struct fxt_emu f;
	uint8_t got[16], erased[16];

	(void)state;
	memset(erased, 0xFF, sizeof(erased));
	init_tail(&f, FX_EMU_TAIL_REJECT);
	assert_int_equal(write12(&f, got), DFU_STATUS_errADDRESS);
	assert_int_equal(FXT_STATE(&f), dfuERROR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_read(&f, 0x08030000, got, 16), 0);
	assert_memory_equal(got, erased, 16);
	fxt_emu_release(&f);
}

static void test_tail_knob_parse(void **state)
{
	struct fx_emu_knobs k;
	struct fx_err err;

	(void)state;
	fx_emu_knobs_default(&k);
	fx_err_clear(&err);
	assert_int_equal(fx_emu_knobs_parse(&k, NULL, "tail=drop", &err), 0);
	assert_int_equal(k.write_tail, FX_EMU_TAIL_DROP);
	assert_int_equal(fx_emu_knobs_parse(&k, NULL, "tail=reject", &err), 0);
	assert_int_equal(k.write_tail, FX_EMU_TAIL_REJECT);
	assert_int_equal(fx_emu_knobs_parse(&k, NULL, "tail=pad", &err), 0);
	assert_int_equal(k.write_tail, FX_EMU_TAIL_PAD);
	assert_int_equal(fx_emu_knobs_parse(&k, NULL, "tail=cut", &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "knob 'tail': expected pad, drop or reject, got 'cut'");
}

/* The OTP programs double words too: the same rule */
static void test_tail_otp_pad(void **state)
{
	struct fxt_emu f;
	uint8_t d[4] = { 1, 2, 3, 4 }, got[8];
	static const uint8_t want[8] = { 1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF };

	(void)state;
	init_tail(&f, FX_EMU_TAIL_PAD);
	assert_int_equal(fxt_write(&f, G4_OTP_BASE, d, sizeof(d)), 0);
	assert_int_equal(fxt_read(&f, G4_OTP_BASE, got, 8), 0);
	assert_memory_equal(got, want, 8);
	fxt_emu_release(&f);
}

/* spec 8: SP in CCM SRAM 0x10000001-0x10008000 is plausible */
static enum fx_emu_bus boot_with_sp(uint32_t sp)
{
	struct fxt_emu f;
	uint8_t vt[8];
	enum fx_emu_bus bus;

	fxt_emu_init(&f, NULL);
	fx_put_le32(vt, sp);
	fx_put_le32(vt + 4, 0x080001D9u);
	assert_int_equal(fx_emu_backdoor_flash_write(f.e, G4_FLASH_BASE, vt, 8), 0);
	fx_emu_set_boot0(f.e, false);
	fx_emu_set_nrst(f.e, false);
	fxt_emu_sleep(&f, 1000);
	fx_emu_set_nrst(f.e, true);
	bus = fxt_emu_wait_bus(&f, 1000000);
	fxt_emu_release(&f);
	return bus;
}

static void test_ccm_stack_boots(void **state)
{
	(void)state;
	assert_int_equal(boot_with_sp(0x10008000u), FX_EMU_BUS_APP);
	assert_int_equal(boot_with_sp(0x10004000u), FX_EMU_BUS_APP);
	assert_int_equal(boot_with_sp(0x20020000u), FX_EMU_BUS_APP);
	assert_int_equal(boot_with_sp(0x10000000u), FX_EMU_BUS_NONE);
	assert_int_equal(boot_with_sp(0x10008004u), FX_EMU_BUS_NONE);
	assert_int_equal(boot_with_sp(0x10004002u), FX_EMU_BUS_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_pad),
		cmocka_unit_test(test_tail_pad),
		cmocka_unit_test(test_tail_drop),
		cmocka_unit_test(test_tail_reject),
		cmocka_unit_test(test_tail_knob_parse),
		cmocka_unit_test(test_tail_otp_pad),
		cmocka_unit_test(test_ccm_stack_boots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
