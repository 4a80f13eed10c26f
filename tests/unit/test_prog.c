/* test_prog.c - the programming layer against the scripted fake:
 * range checks, touched-page erase, verify naming the first bad address,
 * option-byte write with the expected reset and the missing bootloader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_usb.h"
#include "fx/prog.h"

struct ctx {
	struct fx_vclock vc;
	struct fake_usb *f;
	struct fx_dfu *d;
	uint8_t ob_raw[2][48];
};

static int setup(void **state)
{
	static struct ctx c;
	struct fx_g4_ob ob;

	memset(&c, 0, sizeof(c));
	c.d = fake_dfu_up(&c.vc, &c.f, 1024);
	fx_g4_ob_factory(&ob);
	fx_g4_ob_encode(&ob, 0, c.ob_raw[0]);
	fx_g4_ob_encode(&ob, 1, c.ob_raw[1]);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	fake_dfu_down(c->d, c->f);
	return 0;
}

/* script one fx_dfuse_read of len <= xfer */
static void push_read(struct fake_usb *f, const uint8_t *data, size_t len)
{
	fake_push_cmd_ok(f, 1);
	fake_push(f, DFU_ABORT, 0);
	fake_push_upload(f, data, len);
	fake_push(f, DFU_ABORT, 0);
}

static void push_ob_read(struct ctx *c)
{
	push_read(c->f, c->ob_raw[0], 48);
	push_read(c->f, c->ob_raw[1], 48);
}

static void test_flash_range(void **state)
{
	struct ctx *c = *state;
	uint8_t data[16] = { 0 };
	struct fx_image_seg seg = { .addr = 0x0807FFF8, .len = 16, .data = data };
	struct fx_image img = { .nsegs = 1, .segs = &seg };
	struct fx_err err;
	size_t nlog = c->f->nlog;

	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(c->d, &img, NULL, NULL, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "image byte at 0x08080000 is outside the writeable flash of the current bank mode (\"Internal Flash\": 0x08000000-0x0807FFFF)");
	seg.addr = 0x20000000;
	assert_int_equal(fx_prog_flash(c->d, &img, NULL, NULL, &err), FX_E_RANGE);
	seg.addr = 0x08000000;
	seg.alt = 1;
	assert_int_equal(fx_prog_flash(c->d, &img, NULL, NULL, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "image segment at 0x08000000 targets alt 1, only the flash (alt 0) can be programmed");
	img.nsegs = 0;
	assert_int_equal(fx_prog_flash(c->d, &img, NULL, NULL, &err), FX_E_IMAGE);
	assert_int_equal(c->f->nlog, nlog); /* nothing sent */
}

static void test_flash_touched_pages_and_verify(void **state)
{
	struct ctx *c = *state;
	static uint8_t a[8], b[100];
	struct fx_image_seg segs[2] = {
		{ .addr = 0x08000FF8, .len = 8, .data = a },     /* page 1 */
		{ .addr = 0x08001000, .len = 100, .data = b },   /* page 2: merged run */
	};
	struct fx_image img = { .nsegs = 2, .segs = segs };
	struct fx_prog_flash_opts o = { .verify = true, .leave = true };
	struct fx_prog_flash_result r;
	static uint8_t bad[108];
	struct fx_err err;
	int k;

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	push_ob_read(c);                  /* page size from OPTR (DBANK=1) */
	fake_push_cmd_ok(c->f, 25);       /* erase 0x08000800 */
	fake_push_cmd_ok(c->f, 25);       /* erase 0x08001000 */
	fake_push_cmd_ok(c->f, 1);        /* SET_ADDRESS 0x08000FF8 */
	fake_push_cmd_ok(c->f, 1);        /* 8 bytes: leading 0xFF not sent */
	fake_push_cmd_ok(c->f, 2);        /* SET_ADDRESS 0x08001000 (short) */
	fake_push_cmd_ok(c->f, 2);        /* 104 bytes */
	memcpy(bad, a, 8);
	memcpy(bad + 8, b, 100);
	bad[8 + 42] = 0x00;               /* readback differs at 0x0800102A */
	push_read(c->f, bad, 8);
	push_read(c->f, bad + 8, 100);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(c->d, &img, &o, &r, &err), FX_E_VERIFY);
	assert_string_equal(err.msg, "verify: first difference at 0x0800102A: expected 0x22, read 0x00");
	assert_int_equal(r.pages_erased, 2);
	assert_int_equal(r.bytes_written, 8 + 104);
	assert_true(r.erase_us >= 50000);
	assert_true(r.program_us > 0);
	assert_int_equal(fake_left(c->f), 0);
	k = fake_find(c->f, DFU_DNLOAD, 2);
	assert_int_equal(c->f->log[k].out[0], 0x41);
	assert_memory_equal(c->f->log[k].out + 1, "\x00\x08\x00\x08", 4);
	k = fake_find(c->f, DFU_DNLOAD, 3);
	assert_memory_equal(c->f->log[k].out + 1, "\x00\x10\x00\x08", 4);
	k = fake_find(c->f, DFU_DNLOAD, 4);
	assert_int_equal(c->f->log[k].out[0], 0x21);
	assert_memory_equal(c->f->log[k].out + 1, "\xF8\x0F\x00\x08", 4);
	assert_int_equal(c->f->log[k + 3].setup.wLength, 8);
	assert_int_equal(fake_count(c->f, DFU_DNLOAD), 2 + 2 + 4 + 2); /* no leave after a failure */
}

static void test_flash_mass_erase_single_bank(void **state)
{
	struct ctx *c = *state;
	static uint8_t a[16];
	struct fx_image_seg seg = { .addr = 0x08001800, .len = 16, .data = a };
	struct fx_image img = { .nsegs = 1, .segs = &seg };
	struct fx_prog_flash_opts o = { .mass_erase = true, .verify = true, .leave = true };
	struct fx_prog_flash_result r;
	struct fx_err err;
	int k;

	memset(a, 0x33, sizeof(a));
	fake_push_cmd_ok(c->f, 25); /* mass erase */
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 1);
	push_read(c->f, a, 16);
	fake_push_cmd_ok(c->f, 1);  /* leave: SET_ADDRESS 0x08000000 */
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push(c->f, DFU_GETSTATUS, FX_E_NODEV);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(c->d, &img, &o, &r, &err), 0);
	assert_int_equal(r.pages_erased, 0);
	assert_int_equal(r.bytes_written, 16);
	k = fake_find(c->f, DFU_DNLOAD, 0);
	assert_int_equal(c->f->log[k].setup.wLength, 1);
	assert_int_equal(fake_left(c->f), 0);
}

static void test_flash_constant_layout_single_bank(void **state)
{
	struct ctx *c = *state;
	static uint8_t a[16];
	struct fx_image_seg seg = { .addr = 0x08001800, .len = 16, .data = a };
	struct fx_image img = { .nsegs = 1, .segs = &seg };
	struct fx_prog_flash_opts o = { .verify = false };
	struct fx_g4_ob ob;
	struct fx_err err;
	int k;

	/* DBANK=0 but alt0 still says 2 KiB pages: erase the 4 KiB page */
	fx_g4_ob_factory(&ob);
	ob.word[0][0] = 0xFFAFF8AAu;
	fx_g4_ob_encode(&ob, 0, c->ob_raw[0]);
	memset(a, 0x44, sizeof(a));
	push_ob_read(c);
	fake_push_cmd_ok(c->f, 50);
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 1);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(c->d, &img, &o, NULL, &err), 0);
	k = fake_find(c->f, DFU_DNLOAD, 2);
	assert_int_equal(c->f->log[k].out[0], 0x41);
	assert_memory_equal(c->f->log[k].out + 1, "\x00\x10\x00\x08", 4);
	assert_int_equal(fake_left(c->f), 0);
}

static void test_flash_protected(void **state)
{
	struct ctx *c = *state;
	static uint8_t a[16];
	struct fx_image_seg seg = { .addr = 0x08000000, .len = 16, .data = a };
	struct fx_image img = { .nsegs = 1, .segs = &seg };
	struct fx_prog_flash_opts o = { .mass_erase = true };
	struct fx_err err;

	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errVENDOR, 0);
	fx_err_clear(&err);
	assert_int_equal(fx_prog_flash(c->d, &img, &o, NULL, &err), FX_E_PROTECTED);
	assert_string_equal(err.msg, "flash: mass erase: MASS_ERASE: DFU_GETSTATUS: device reports dfuERROR, status errVENDOR");
	assert_int_equal(err.dfu_status, DFU_STATUS_errVENDOR);
}

static void test_ob_write_no_change_and_timeout(void **state)
{
	struct ctx *c = *state;
	struct fx_prog_ob_result r;
	struct fx_g4_ob want;
	struct fx_err err;

	fx_err_clear(&err);
	fx_g4_ob_factory(&want);
	push_ob_read(c);
	assert_int_equal(fx_prog_ob_write(c->d, &want, 2000, &r, &err), 0);
	assert_int_equal(r.reenum_us, 0);
	assert_int_equal(fake_count(c->f, DFU_DNLOAD), 2); /* two SET_ADDRESS for reads */
	/* DBANK=0: write, reset, nothing comes back */
	assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &err), 0);
	push_ob_read(c);
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 50);
	fake_push(c->f, DFU_GETSTATUS, FX_E_NODEV);
	c->f->reopen_rc = FX_E_TIMEOUT;
	assert_int_equal(fx_prog_ob_write(c->d, &want, 2000, &r, &err), FX_E_TIMEOUT);
	assert_string_equal(err.msg, "option bytes written at 0x1FFF7800: the bootloader did not come back within 2000 ms (BOOT0 low? nothing or the application booted)");
	assert_int_equal(fake_left(c->f), 0);
	/* the 48 bytes sent: value + complement */
	{
		int k = fake_find(c->f, DFU_DNLOAD, 5);

		assert_int_equal(c->f->log[k].setup.wLength, 48);
		assert_memory_equal(c->f->log[k].out, "\xAA\xF8\xAF\xFF\x55\x07\x50\x00", 8);
	}
}

static void test_ob_write_verify(void **state)
{
	struct ctx *c = *state;
	struct fx_prog_ob_result r;
	struct fx_g4_ob want, cur;
	struct fx_err err;

	fx_err_clear(&err);
	fx_g4_ob_factory(&want);
	assert_int_equal(fx_g4_ob_apply(&want, "nSWBOOT0=0", &err), 0);
	push_ob_read(c);
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push(c->f, DFU_GETSTATUS, FX_E_STALL); /* obreset=stall */
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0); /* rebind */
	/* after the reset the chip kept nSWBOOT0=1 */
	push_ob_read(c);
	assert_int_equal(fx_prog_ob_write(c->d, &want, 2000, &r, &err), FX_E_VERIFY);
	assert_string_equal(err.msg, "option byte 'nSWBOOT0': expected 0x0, found 0x1 after the reset");
	assert_int_equal(c->f->reopens, 1);
	assert_int_equal(r.reenum_us, 400000);
	fx_g4_ob_factory(&cur);
	assert_memory_equal(&r.after, &cur, sizeof(cur));
}

static void test_read_picks_alt(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[48];
	struct fx_err err;

	fx_err_clear(&err);
	push_read(c->f, c->ob_raw[1], 48);
	assert_int_equal(fx_prog_read(c->d, 0x1FFFF800, buf, 48, &err), 0);
	assert_int_equal(c->f->last_alt, 1);
	push_read(c->f, c->ob_raw[1], 2);
	assert_int_equal(fx_prog_read(c->d, 0x1FFF6FFE, buf, 2, &err), 0);
	assert_int_equal(c->f->last_alt, 0);
	assert_int_equal(fx_prog_read(c->d, 0x0807FFF0, buf, 32, &err), FX_E_RANGE);
	assert_string_equal(err.msg, "read 0x0807FFF0-0x0808000F: not inside one memory area of the device");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flash_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_touched_pages_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_mass_erase_single_bank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_constant_layout_single_bank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ob_write_no_change_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ob_write_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_picks_alt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
