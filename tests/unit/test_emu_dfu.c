/* test_emu_dfu.c - DFU 1.1 state machine and DfuSe commands of the
 * emulated ROM (spec 1.4-1.8, 6.1, 8), raw setup packets on a virtual
 * clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_fix.h"
#include "fx/dfu_wire.h"

#define RT_OUT (USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define RT_IN (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)

static int setup(void **state)
{
	static struct fxt_emu f;

	fxt_emu_init(&f, NULL);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fxt_emu_release(*state);
	return 0;
}

/* The handshake after a DfuSe command (spec 1.4): the first GETSTATUS
 * says dfuDNBUSY/OK with poll_ms, and once poll_ms have passed the next
 * says dfuDNLOAD-IDLE/OK. */
static void expect_busy_then_idle(struct fxt_emu *f, uint32_t poll_ms)
{
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuDNBUSY);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_OK);
	assert_int_equal(FXT_POLL(f), poll_ms);
	fxt_emu_sleep(f, (uint64_t)poll_ms * 1000u);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuDNLOAD_IDLE);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_OK);
}

static void test_idle_after_enumeration(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t s;

	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_OK);
	assert_int_equal(FXT_STATE(f), dfuIDLE);
	assert_int_equal(FXT_POLL(f), 0);
	assert_int_equal(f->st[5], 0);
	assert_int_equal(fxt_getstate(f, &s), 0);
	assert_int_equal(s, dfuIDLE);
}

static void test_get_commands(void **state)
{
	static const uint8_t want[4] = { 0x00, 0x21, 0x41, 0x92 };
	struct fxt_emu *f = *state;
	uint8_t buf[16];
	size_t n;

	assert_int_equal(fxt_upload(f, 0, buf, 16, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, want, 4);
	/* short frame: back to dfuIDLE */
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuIDLE);
}

/* Spec 1.4: DNLOAD -> DNLOAD-SYNC; first GETSTATUS -> DNBUSY with the
 * spec-8 poll timeout; second -> DNLOAD-IDLE. */
static void test_set_address_two_step(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t c[5] = { 0x21, 0x00, 0x10, 0x00, 0x08 };
	uint8_t s;

	assert_int_equal(fxt_dnload(f, 0, c, 5), 0);
	assert_int_equal(fxt_getstate(f, &s), 0);
	assert_int_equal(s, dfuDNLOAD_SYNC);
	expect_busy_then_idle(f, 1);
	assert_int_equal(fxt_abort(f), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuIDLE);
}

static void test_write_read_roundtrip(void **state)
{
	struct fxt_emu *f = *state;
	static uint8_t img[5000], back[5000];
	size_t i;

	for (i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7 + 3);
	/* 5000 is not a multiple of 8: pad like a host must */
	memset(img + 4996, 0xFF, 4);
	assert_int_equal(fxt_write(f, 0x08001000, img, 5000), 0);
	assert_int_equal(fxt_read(f, 0x08001000, back, 5000), 0);
	assert_memory_equal(img, back, 5000);
	/* around it: still erased */
	assert_int_equal(fxt_read(f, 0x08000FF8, back, 8), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(back[i], 0xFF);
	assert_int_equal(fx_emu_backdoor_flash_read(f->e, 0x08001000, back, 5000), 0);
	assert_memory_equal(img, back, 5000);
}

/* Spec 1.5: address = (wBlockNum - 2) x wTransferSize + pointer, with
 * wTransferSize from the descriptor even when a block is short. */
static void test_block_addressing(void **state)
{
	struct fxt_emu *f = *state;
	static uint8_t a[1024], b[512], back[1536];
	size_t n;

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	assert_int_equal(fxt_set_address(f, 0x08010000), 0);
	assert_int_equal(fxt_run(f, 2, a, 1024), 0);
	assert_int_equal(FXT_STATE(f), dfuDNLOAD_IDLE);
	assert_int_equal(fxt_run(f, 3, b, 512), 0);
	assert_int_equal(FXT_STATE(f), dfuDNLOAD_IDLE);
	assert_int_equal(fxt_abort(f), 0);
	assert_int_equal(fxt_upload(f, 2, back, 1024, &n), 0);
	assert_int_equal(n, 1024);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuUPLOAD_IDLE);
	assert_int_equal(fxt_upload(f, 3, back + 1024, 512, &n), 0);
	assert_int_equal(n, 512);
	assert_memory_equal(back, a, 1024);
	assert_memory_equal(back + 1024, b, 512);
	assert_int_equal(fxt_abort(f), 0);
}

static void test_program_only_erased(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t d[16], z[8] = { 0 }, back[16];

	memset(d, 0xA5, sizeof(d));
	assert_int_equal(fxt_write(f, 0x08020000, d, 16), 0);
	/* second program of the same double word: errPROG (spec 6.1) */
	assert_int_equal(fxt_write(f, 0x08020008, d, 8), DFU_STATUS_errPROG);
	assert_int_equal(FXT_STATE(f), dfuERROR);
	assert_int_equal(fxt_clrstatus(f), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuIDLE);
	/* an all-zero write is the exception (RM0440) */
	assert_int_equal(fxt_write(f, 0x08020008, z, 8), 0);
	assert_int_equal(fxt_read(f, 0x08020000, back, 16), 0);
	assert_memory_equal(back, d, 8);
	assert_memory_equal(back + 8, z, 8);
	/* page erase makes it writable again */
	assert_int_equal(fxt_erase_page(f, 0x08020010), 0);
	assert_int_equal(FXT_STATE(f), dfuDNLOAD_IDLE);
	assert_int_equal(fxt_write(f, 0x08020000, d, 16), 0);
}

static void test_misaligned_write(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t d[16];

	memset(d, 0x5A, sizeof(d));
	assert_int_equal(fxt_write(f, 0x08030004, d, 8), DFU_STATUS_errADDRESS);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* a length that is not a multiple of 8: test_emu_tail.c */
}

/* errTARGET: outside memory, ROM, bootloader RAM; reported by the first
 * GETSTATUS (dfuERROR instead of dfuDNBUSY) */
static void test_write_outside_memory(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	assert_int_equal(fxt_set_address(f, 0x0807FFF8), 0);
	assert_int_equal(fxt_run(f, 3, d, 8), 0); /* 0x0807FFF8 + 1024 */
	assert_int_equal(FXT_STATE(f), dfuERROR);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(f), 0);
	assert_int_equal(fxt_write(f, 0x1FFF0000, d, 8), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(f), 0);
	assert_int_equal(fxt_write(f, 0x20000000, d, 8), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* set address to nowhere */
	assert_int_equal(fxt_set_address(f, 0x30000000), 0);
	assert_int_equal(FXT_STATE(f), dfuERROR);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* erase outside flash */
	assert_int_equal(fxt_erase_page(f, 0x08080000), 0);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* RAM above the bootloader's 16 KiB is fine */
	assert_int_equal(fxt_write(f, 0x20004000, d, 8), 0);
}

static void test_malformed_command(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t c[3] = { 0x21, 0, 0 };

	assert_int_equal(fxt_run(f, 0, c, 3), 0);
	assert_int_equal(FXT_STATE(f), dfuERROR);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(f), 0);
	c[0] = 0x77;
	assert_int_equal(fxt_run(f, 0, c, 1), 0);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(f), 0);
}

static void test_illegal_requests_stall(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t buf[2048];
	size_t n;

	/* wBlockNum 1 */
	assert_int_equal(fxt_upload(f, 1, buf, 64, &n), FX_E_STALL);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuERROR);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errSTALLEDPKT);
	assert_int_equal(fxt_clrstatus(f), 0);
	memset(buf, 0xFF, sizeof(buf));
	assert_int_equal(fxt_dnload(f, 1, buf, 8), FX_E_STALL);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* more than wTransferSize (spec 1.10: 2048 B STALL on a 1024 ROM) */
	assert_int_equal(fxt_dnload(f, 2, buf, 2048), FX_E_STALL);
	assert_int_equal(fxt_clrstatus(f), 0);
	assert_int_equal(fxt_upload(f, 2, buf, 2048, &n), FX_E_STALL);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* UPLOAD while in dfuDNLOAD-IDLE */
	assert_int_equal(fxt_set_address(f, 0x08000000), 0);
	assert_int_equal(fxt_upload(f, 2, buf, 64, &n), FX_E_STALL);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errSTALLEDPKT);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* wrong interface */
	assert_int_equal(fxt_ctl(f, RT_IN, DFU_GETSTATUS, 0, 1, buf, 6, &n),
			 FX_E_STALL);
	/* wrong direction */
	assert_int_equal(fxt_ctl(f, RT_OUT, DFU_GETSTATUS, 0, 0, buf, 6, &n),
			 FX_E_STALL);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* DNLOAD in DNLOAD-SYNC */
	buf[0] = 0x41;
	assert_int_equal(fxt_dnload(f, 0, buf, 1), 0);
	assert_int_equal(fxt_dnload(f, 0, buf, 1), FX_E_STALL);
	assert_int_equal(fxt_clrstatus(f), 0);
}

/* Spec 1.8/8: CLRSTATUS outside dfuERROR -> dfuERROR/errUNKNOWN */
static void test_clrstatus_outside_error(void **state)
{
	struct fxt_emu *f = *state;

	assert_int_equal(fxt_clrstatus(f), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuERROR);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errUNKNOWN);
	assert_int_equal(fxt_clrstatus(f), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuIDLE);
}

static void test_page_erase_dual_bank(void **state)
{
	struct fxt_emu *f = *state;
	static uint8_t d[4096], back[4096];
	size_t i;

	memset(d, 0x33, sizeof(d));
	assert_int_equal(fxt_write(f, 0x08040000, d, 4096), 0);
	/* 2 KiB page holding 0x08040900: only the second half */
	assert_int_equal(fxt_dnload(f, 0, (const uint8_t[]){ 0x41, 0x00, 0x09,
							      0x04, 0x08 }, 5), 0);
	expect_busy_then_idle(f, 25);
	assert_int_equal(fxt_read(f, 0x08040000, back, 4096), 0);
	for (i = 0; i < 2048; i++)
		assert_int_equal(back[i], 0x33);
	for (i = 2048; i < 4096; i++)
		assert_int_equal(back[i], 0xFF);
}

static void test_mass_erase(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8];
	size_t i;

	assert_int_equal(fxt_write(f, 0x08000000, d, 8), 0);
	assert_int_equal(fxt_write(f, 0x0807FFF8, d, 8), 0);
	assert_int_equal(fxt_dnload(f, 0, (const uint8_t[]){ 0x41 }, 1), 0);
	expect_busy_then_idle(f, 25);
	assert_int_equal(fxt_read(f, 0x0807FFF8, back, 8), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(back[i], 0xFF);
}

/* Spec 8 "Busy": an early GETSTATUS completes when the operation does. */
static void test_early_getstatus_completes_late(void **state)
{
	struct fxt_emu *f = *state;
	struct fx_usb_setup s = { RT_IN, DFU_GETSTATUS, 0, 0, 6 };
	uint8_t st[6];
	uint64_t t0, done;
	size_t n;

	assert_int_equal(fxt_dnload(f, 0, (const uint8_t[]){ 0x41, 0, 0, 0, 8 }, 5), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuDNBUSY);
	t0 = f->vc.t;
	/* ask again at once: answered when the 22.02 ms erase is done */
	assert_int_equal(fx_emu_control(f->e, &s, st, &n, &done), 0);
	assert_int_equal(done, t0 + 22020 + 560);
	assert_int_equal(st[4], dfuDNLOAD_IDLE);
	f->vc.t = done;
}

/* Spec 8 timing table and USB model; stats accumulate. */
static void test_timing_and_stats(void **state)
{
	struct fxt_emu *f = *state;
	struct fx_emu_stats a, b;
	static uint8_t d[1024];
	uint64_t t0;

	memset(d, 0x42, sizeof(d));
	assert_int_equal(fxt_set_address(f, 0x08050000), 0);
	fx_emu_get_stats(f->e, &a);
	t0 = f->vc.t;
	assert_int_equal(fxt_dnload(f, 2, d, 1024), 0);
	assert_int_equal(f->vc.t - t0, 1460);   /* 0.5 + 16 x 0.06 ms */
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(f->vc.t - t0, 1460 + 560);
	assert_int_equal(FXT_STATE(f), dfuDNBUSY);
	/* 128 double words x 81.7 us = 10457.6 us -> 11 ms */
	assert_int_equal(FXT_POLL(f), 11);
	fx_emu_get_stats(f->e, &b);
	assert_int_equal(b.device_us - a.device_us, 10458);
	assert_int_equal(b.usb_us - a.usb_us, 1460 + 560);
	assert_int_equal(b.requests - a.requests, 2);
	assert_int_equal(fx_emu_request_count(f->e), b.requests);
	fxt_emu_sleep(f, 11000);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuDNLOAD_IDLE);
}

/* DFU 1.1: after the work, dfuDNLOAD-SYNC until the host asks GETSTATUS;
 * a DNLOAD before that STALLs */
static void test_result_needs_getstatus(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, s;

	assert_int_equal(fxt_set_address(f, 0x08060000), 0);
	assert_int_equal(fxt_dnload(f, 2, d, 8), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuDNBUSY);
	fxt_emu_sleep(f, 5000);
	assert_int_equal(fxt_getstate(f, &s), 0);
	assert_int_equal(s, dfuDNLOAD_SYNC);
	assert_int_equal(fxt_dnload(f, 3, d, 8), FX_E_STALL);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuERROR);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errSTALLEDPKT);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* errPROG comes with the GETSTATUS after the work, not the first */
	assert_int_equal(fxt_set_address(f, 0x08060000), 0);
	assert_int_equal(fxt_dnload(f, 2, d, 8), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuDNBUSY);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_OK);
	fxt_emu_sleep(f, 1000);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuERROR);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errPROG);
	assert_int_equal(fxt_clrstatus(f), 0);
	/* ABORT in dfuDNLOAD-SYNC is fine */
	assert_int_equal(fxt_set_address(f, 0x08060000), 0);
	assert_int_equal(fxt_dnload(f, 0, (const uint8_t[]){ 0x21, 0, 0, 0, 8 }, 5), 0);
	assert_int_equal(fxt_abort(f), 0);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuIDLE);
}

static void test_read_sysmem(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t b[4];

	assert_int_equal(fxt_read(f, G4_BL_ID_ADDR, b, 2), 0);
	assert_int_equal(b[0], 0xD5);
	assert_int_equal(b[1], 0xFF);
	/* flash size register (RM0440 FLASHSIZE_BASE): 512 KiB */
	assert_int_equal(fxt_read(f, 0x1FFF75E0, b, 2), 0);
	assert_int_equal(b[0] | b[1] << 8, 512);
	/* the dual-bank mirror of system memory (spec 2.4) */
	assert_int_equal(fxt_read(f, G4_BL_ID_ADDR + 0x8000, b, 2), 0);
	assert_int_equal(b[0], 0xD5);
	/* OTP reads erased */
	assert_int_equal(fxt_read(f, G4_OTP_BASE, b, 4), 0);
	assert_int_equal(b[0], 0xFF);
}

/* Upload across the end of flash is cut (short frame -> dfuIDLE) */
static void test_upload_short_at_end(void **state)
{
	struct fxt_emu *f = *state;
	uint8_t b[1024];
	size_t n;

	assert_int_equal(fxt_set_address(f, 0x0807FF00), 0);
	assert_int_equal(fxt_abort(f), 0);
	assert_int_equal(fxt_upload(f, 2, b, 1024, &n), 0);
	assert_int_equal(n, 256);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATE(f), dfuIDLE);
	/* from nowhere: STALL + errTARGET */
	assert_int_equal(fxt_upload(f, 2 + 1, b, 1024, &n), FX_E_STALL);
	assert_int_equal(fxt_getstatus(f), 0);
	assert_int_equal(FXT_STATUS(f), DFU_STATUS_errTARGET);
	assert_int_equal(fxt_clrstatus(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_idle_after_enumeration),
		T(test_get_commands),
		T(test_set_address_two_step),
		T(test_write_read_roundtrip),
		T(test_block_addressing),
		T(test_program_only_erased),
		T(test_misaligned_write),
		T(test_write_outside_memory),
		T(test_malformed_command),
		T(test_illegal_requests_stall),
		T(test_clrstatus_outside_error),
		T(test_page_erase_dual_bank),
		T(test_mass_erase),
		T(test_early_getstatus_completes_late),
		T(test_timing_and_stats),
		T(test_result_needs_getstatus),
		T(test_read_sysmem),
		T(test_upload_short_at_end),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
