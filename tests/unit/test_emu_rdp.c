/* test_emu_rdp.c - read protection level 1 and Read Unprotect (spec 3.6,
 * 8), the OTP area (write once per double word, spec 2.5), and a full
 * 512 KiB program + verify in virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/bytes.h"
#include "fx/dfu_wire.h"

static void make_rdp1(struct fxt_emu *f)
{
	uint8_t raw[48];
	uint8_t d[8] = { 0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 2, 3 };

	fxt_emu_init(f, NULL);
	assert_int_equal(fxt_write(f, 0x08000000, d, 8), 0);
	assert_int_equal(fx_emu_set_alt(f->e, 0, 1), 0);
	assert_int_equal(fxt_read(f, G4_OB1_BASE, raw, 48), 0);
	fx_put_le32(raw, 0xFFEFF8BB);
	fx_put_le32(raw + 4, ~0xFFEFF8BBu);
	assert_int_equal(fxt_set_address(f, G4_OB1_BASE), 0);
	assert_int_equal(fxt_dnload(f, 2, raw, 48), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuDNBUSY);
	fxt_emu_sleep(f, 50000);
	assert_int_equal(fxt_emu_wait_bus(f, 2000000), FX_EMU_BUS_DFU);
	assert_int_equal(fx_emu_optr(f->e), 0xFFEFF8BB);
}

static void test_rdp1_refuses(void **state)
{
	struct fxt_emu f;
	uint8_t b[64], raw[48];
	size_t n;

	(void)state;
	make_rdp1(&f);
	/* set address to flash: errVENDOR */
	assert_int_equal(fxt_set_address(&f, 0x08000000), 0);
	assert_int_equal(FXT_STATE(&f), dfuERROR);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errVENDOR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* read (pointer at its default 0x08000000): STALL + errVENDOR */
	assert_int_equal(fxt_upload(&f, 2, b, 64, &n), FX_E_STALL);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errVENDOR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* write, page erase, mass erase */
	memset(b, 0, 8);
	assert_int_equal(fxt_run(&f, 2, b, 8), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errVENDOR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_erase_page(&f, 0x08000000), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errVENDOR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_mass_erase(&f), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errVENDOR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* the OB alt is still readable, but not writable */
	assert_int_equal(fxt_read(&f, G4_OB1_BASE, raw, 48), 0);
	assert_int_equal(fx_get_le32(raw), 0xFFEFF8BB);
	assert_int_equal(fxt_set_address(&f, G4_OB1_BASE), 0);
	assert_int_equal(fxt_run(&f, 2, raw, 48), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errVENDOR);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* Get Commands still works */
	assert_int_equal(fxt_upload(&f, 0, b, 4, &n), 0);
	assert_int_equal(n, 4);
	fxt_emu_release(&f);
}

static void test_read_unprotect(void **state)
{
	struct fxt_emu f;
	uint8_t b[8];
	struct fx_emu_stats a, s;
	size_t i;

	(void)state;
	make_rdp1(&f);
	fx_emu_get_stats(f.e, &a);
	assert_int_equal(fxt_dnload(&f, 0, (const uint8_t[]){ 0x92 }, 1), 0);
	assert_int_equal(fxt_getstatus(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNBUSY);
	assert_int_equal(FXT_POLL(&f), 75);
	assert_int_equal(fxt_getstatus(&f), FX_E_NODEV);
	assert_int_equal(fx_emu_poll(f.e), FX_EMU_BUS_NONE);
	assert_int_equal(fxt_emu_wait_bus(&f, 2000000), FX_EMU_BUS_DFU);
	fx_emu_get_stats(f.e, &s);
	assert_int_equal(s.resets - a.resets, 1);
	assert_int_equal(s.device_us - a.device_us, 22130 + 40000);
	assert_int_equal(fx_emu_optr(f.e), 0xFFEFF8AA); /* factory */
	assert_int_equal(fxt_read(&f, 0x08000000, b, 8), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(b[i], 0xFF);
	fxt_emu_release(&f);
}

static void test_otp_write_once(void **state)
{
	struct fxt_emu f;
	uint8_t d[16], e8[8], back[16];

	(void)state;
	fxt_emu_init(&f, NULL);
	assert_int_equal(fx_emu_set_alt(f.e, 0, 2), 0);
	memset(d, 0x12, sizeof(d));
	assert_int_equal(fxt_write(&f, G4_OTP_BASE, d, 8), 0);
	/* the same double word again: errWRITE */
	assert_int_equal(fxt_write(&f, G4_OTP_BASE, d, 8), DFU_STATUS_errWRITE);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* all-ones leaves it blank, so it stays writable */
	memset(e8, 0xFF, 8);
	assert_int_equal(fxt_write(&f, G4_OTP_BASE + 8, e8, 8), 0);
	assert_int_equal(fxt_write(&f, G4_OTP_BASE + 8, d, 8), 0);
	assert_int_equal(fxt_read(&f, G4_OTP_BASE, back, 16), 0);
	assert_memory_equal(back, d, 16);
	/* misaligned, and past the end */
	assert_int_equal(fxt_write(&f, G4_OTP_BASE + 20, d, 8), DFU_STATUS_errADDRESS);
	assert_int_equal(fxt_clrstatus(&f), 0);
	assert_int_equal(fxt_write(&f, G4_OTP_BASE + 1020, d, 8), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(&f), 0);
	/* OTP cannot be erased: a page erase there is errTARGET */
	assert_int_equal(fxt_erase_page(&f, G4_OTP_BASE), 0);
	assert_int_equal(FXT_STATUS(&f), DFU_STATUS_errTARGET);
	fxt_emu_release(&f);
}

/* Full 512 KiB: mass erase, program in 1 KiB blocks, verify. Virtual
 * time must match the spec-8 model; CPU time is printed, not asserted. */
static void test_full_image(void **state)
{
	struct fxt_emu f;
	static uint8_t img[512 * 1024], back[512 * 1024];
	struct fx_emu_stats st;
	struct timespec t0, t1;
	uint32_t x = 12345;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(img); i++) {
		x = x * 1103515245u + 12345u;
		img[i] = (uint8_t)(x >> 16);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fxt_emu_init(&f, NULL);
	assert_int_equal(fxt_mass_erase(&f), 0);
	assert_int_equal(FXT_STATE(&f), dfuDNLOAD_IDLE);
	assert_int_equal(fxt_write(&f, 0x08000000, img, sizeof(img)), 0);
	assert_int_equal(fxt_read(&f, 0x08000000, back, sizeof(back)), 0);
	assert_memory_equal(img, back, sizeof(img));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fx_emu_get_stats(f.e, &st);
	/* 512 writes of 128 DW + 512 set address + 1 mass erase */
	assert_int_equal(st.device_us, 512u * 10458u + 512u * 100u + 22130u + 100u);
	print_message("512 KiB program+verify: virtual %.3f s, device %.3f s, "
		      "usb %.3f s, cpu %.3f s\n", (double)f.vc.t / 1e6,
		      (double)st.device_us / 1e6, (double)st.usb_us / 1e6,
		      (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fxt_emu_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rdp1_refuses),
		cmocka_unit_test(test_read_unprotect),
		cmocka_unit_test(test_otp_write_once),
		cmocka_unit_test(test_full_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
