/* test_dfuse.c - DfuSe read/write chunking, 0xFF skipping, addressing
 * modes, the option-byte write that resets, leave and read unprotect,
 * against the scripted fake transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_usb.h"
#include "fx/dfu.h"

struct ctx {
	struct fx_vclock vc;
	struct fake_usb *f;
	struct fx_dfu *d;
	struct fx_err err;       /* what the DFU calls report */
	size_t progress_calls, progress_last;
};

static void on_progress(void *user, const char *what, size_t done, size_t total)
{
	struct ctx *c = user;

	(void)what;
	assert_true(done <= total);
	c->progress_calls++;
	c->progress_last = done;
}

static int setup(void **state)
{
	static struct ctx c;

	memset(&c, 0, sizeof(c));
	c.d = fake_dfu_up(&c.vc, &c.f, 1024);
	fx_dfu_set_progress(c.d, on_progress, &c);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	fake_dfu_down(c->d, c->f);
	return 0;
}

/* the n-th DNLOAD with wValue == 0 is SET_ADDRESS addr */
static void assert_set_address(struct ctx *c, int idx, uint32_t addr)
{
	const struct fake_req *r = &c->f->log[idx];

	assert_int_equal(r->setup.bRequest, DFU_DNLOAD);
	assert_int_equal(r->setup.wValue, 0);
	assert_int_equal(r->setup.wLength, 5);
	assert_int_equal(r->out[0], 0x21);
	assert_int_equal((uint32_t)r->out[1] | (uint32_t)r->out[2] << 8 |
			 (uint32_t)r->out[3] << 16 | (uint32_t)r->out[4] << 24, addr);
}

static void test_write_chunks(void **state)
{
	struct ctx *c = *state;
	uint8_t img[2500];
	size_t i;
	int k;

	for (i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)i;
	c->f->sink = malloc(8192);
	c->f->sink_cap = 8192;
	fake_push_cmd_ok(c->f, 1);  /* SET_ADDRESS 0x08000000 */
	fake_push_cmd_ok(c->f, 11); /* block 2 */
	fake_push_cmd_ok(c->f, 11); /* block 3 */
	fake_push_cmd_ok(c->f, 1);  /* SET_ADDRESS 0x08000800 */
	fake_push_cmd_ok(c->f, 5);  /* block 2, 452 + 4 padding */
	assert_int_equal(fx_dfuse_write(c->d, 0x08000000, img, sizeof(img), true, &c->err), 0);
	assert_int_equal(fake_left(c->f), 0);
	k = fake_find(c->f, DFU_DNLOAD, 0);
	assert_set_address(c, k, 0x08000000);
	k = fake_find(c->f, DFU_DNLOAD, 1);
	assert_int_equal(c->f->log[k].setup.wValue, 2);
	assert_int_equal(c->f->log[k].setup.wLength, 1024);
	k = fake_find(c->f, DFU_DNLOAD, 2);
	assert_int_equal(c->f->log[k].setup.wValue, 3);
	assert_set_address(c, fake_find(c->f, DFU_DNLOAD, 3), 0x08000800);
	k = fake_find(c->f, DFU_DNLOAD, 4);
	assert_int_equal(c->f->log[k].setup.wValue, 2);
	assert_int_equal(c->f->log[k].setup.wLength, 456);
	assert_int_equal(c->f->sink_len, 2504);
	assert_memory_equal(c->f->sink, img, sizeof(img));
	assert_memory_equal(c->f->sink + 2500, "\xff\xff\xff\xff", 4);
	assert_int_equal(c->progress_last, sizeof(img));
}

static void test_write_skip_ff_and_unaligned(void **state)
{
	struct ctx *c = *state;
	uint8_t img[3072];
	int k;

	memset(img, 0xFF, sizeof(img));
	img[0] = 1;
	img[2048] = 3;
	/* block 2 (0x400..0x7FF) is all 0xFF: skipped, next needs SET_ADDRESS */
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 11);
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 11);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000000, img, sizeof(img), true, &c->err), 0);
	assert_int_equal(fake_left(c->f), 0);
	assert_set_address(c, fake_find(c->f, DFU_DNLOAD, 2), 0x08000800);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 3)].setup.wValue, 2);
	/* unaligned start: padded down to the double word with 0xFF */
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 1);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000104, (const uint8_t *)"\x11\x22\x33", 3, true, &c->err), 0);
	k = fake_find(c->f, DFU_DNLOAD, 4);
	assert_set_address(c, k, 0x08000100);
	k = fake_find(c->f, DFU_DNLOAD, 5);
	assert_int_equal(c->f->log[k].setup.wLength, 8);
	assert_memory_equal(c->f->log[k].out, "\xff\xff\xff\xff\x11\x22\x33\xff", 8);
	/* without skip_ff the all-0xFF block is sent, on rising block numbers */
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 11);
	fake_push_cmd_ok(c->f, 11);
	fake_push_cmd_ok(c->f, 11);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000000, img, sizeof(img), false, &c->err), 0);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 9)].setup.wValue, 4);
	assert_int_equal(fake_left(c->f), 0);
}

static void test_write_trims_ff(void **state)
{
	struct ctx *c = *state;
	uint8_t img[2048];
	size_t sent = 99;
	int k;

	memset(img, 0xFF, sizeof(img));
	img[17] = 0x01;              /* double word 0x08000010 */
	img[1024 + 1000] = 0x02;     /* double word 0x080007E8 */
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 1);
	assert_int_equal(fx_dfuse_write_ex(c->d, 0x08000000, img, sizeof(img), true, &sent, &c->err), 0);
	assert_int_equal(sent, 16);
	k = fake_find(c->f, DFU_DNLOAD, 0);
	assert_set_address(c, k, 0x08000010);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 1)].setup.wLength, 8);
	assert_memory_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 1)].out,
			    "\xff\x01\xff\xff\xff\xff\xff\xff", 8);
	assert_set_address(c, fake_find(c->f, DFU_DNLOAD, 2), 0x080007E8);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 3)].setup.wLength, 8);
	assert_int_equal(fake_left(c->f), 0);
	/* without skip_ff nothing is trimmed */
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 11);
	fake_push_cmd_ok(c->f, 11);
	assert_int_equal(fx_dfuse_write_ex(c->d, 0x08000000, img, sizeof(img), false, &sent, &c->err), 0);
	assert_int_equal(sent, 2048);
	assert_int_equal(fx_dfuse_write_ex(c->d, 0x08000000, img, 0, false, &sent, &c->err), 0);
	assert_int_equal(sent, 0);
}

static void test_write_safe_addressing(void **state)
{
	struct ctx *c = *state;
	uint8_t img[2048];
	int i;

	memset(img, 0x5A, sizeof(img));
	fx_dfu_set_safe_addressing(c->d, true);
	for (i = 0; i < 4; i++)
		fake_push_cmd_ok(c->f, 1);
	assert_int_equal(fx_dfuse_write(c->d, 0x08001000, img, sizeof(img), true, &c->err), 0);
	assert_set_address(c, fake_find(c->f, DFU_DNLOAD, 0), 0x08001000);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 1)].setup.wValue, 2);
	assert_set_address(c, fake_find(c->f, DFU_DNLOAD, 2), 0x08001400);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 3)].setup.wValue, 2);
	assert_int_equal(fake_left(c->f), 0);
}

static void test_write_error_names_address(void **state)
{
	struct ctx *c = *state;
	uint8_t img[2048];

	memset(img, 0, sizeof(img));
	fake_push_cmd_ok(c->f, 1);
	fake_push_cmd_ok(c->f, 11);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 11);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errPROG, 0);
	assert_int_equal(fx_dfuse_write(c->d, 0x08000000, img, sizeof(img), true, &c->err), FX_E_DFU);
	assert_string_equal((&c->err)->msg,
			    "write at 0x08000400 (block 3): DFU_GETSTATUS: device reports dfuERROR, status errPROG");
	assert_int_equal((&c->err)->dfu_status, DFU_STATUS_errPROG);
}

static void test_read(void **state)
{
	struct ctx *c = *state;
	static uint8_t dev[2100];
	uint8_t buf[2100];
	size_t i;
	int k;

	for (i = 0; i < sizeof(dev); i++)
		dev[i] = (uint8_t)(i * 7);
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_ABORT, 0);
	fake_push_upload(c->f, dev, 1024);
	fake_push_upload(c->f, dev + 1024, 1024);
	fake_push(c->f, DFU_ABORT, 0); /* out of dfuUPLOAD-IDLE */
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_ABORT, 0);
	fake_push_upload(c->f, dev + 2048, 52);
	fake_push(c->f, DFU_ABORT, 0);
	assert_int_equal(fx_dfuse_read(c->d, 0x08000000, buf, sizeof(buf), &c->err), 0);
	assert_memory_equal(buf, dev, sizeof(buf));
	assert_int_equal(fake_left(c->f), 0);
	k = fake_find(c->f, DFU_UPLOAD, 1);
	assert_int_equal(c->f->log[k].setup.wValue, 3);
	assert_int_equal(c->f->log[k].setup.wLength, 1024);
	assert_set_address(c, fake_find(c->f, DFU_DNLOAD, 1), 0x08000800);
	k = fake_find(c->f, DFU_UPLOAD, 2);
	assert_int_equal(c->f->log[k].setup.wValue, 2);
	assert_int_equal(c->f->log[k].setup.wLength, 52);
	assert_int_equal(c->progress_last, sizeof(buf));
	/* short reply */
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_ABORT, 0);
	fake_push_upload(c->f, dev, 40);
	assert_int_equal(fx_dfuse_read(c->d, 0x1FFF7800, buf, 48, &c->err), FX_E_PROTO);
	assert_string_equal((&c->err)->msg,
			    "read at 0x1FFF7800: DFU_UPLOAD block 2: short reply, 40 of 48 bytes");
	/* read protection: SET_ADDRESS refused */
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errVENDOR, 0);
	k = fx_dfuse_read(c->d, 0x08000000, buf, 16, &c->err);
	assert_int_equal(k, FX_E_PROTECTED);
	assert_string_equal((&c->err)->msg,
			    "read at 0x08000000: SET_ADDRESS 0x08000000: DFU_GETSTATUS: device reports dfuERROR, status errVENDOR");
	/* UPLOAD STALLed, GETSTATUS explains */
	fake_push_clear_error(c->f, DFU_STATUS_errVENDOR);
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_ABORT, 0);
	fake_push(c->f, DFU_UPLOAD, FX_E_STALL);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errSTALLEDPKT, 0);
	assert_int_equal(fx_dfuse_read(c->d, 0x08000000, buf, 16, &c->err), FX_E_DFU);
	assert_string_equal((&c->err)->msg,
			    "read at 0x08000000: DFU_UPLOAD: control request 0x02 stalled; device reports dfuERROR, status errSTALLEDPKT");
	assert_int_equal(fake_left(c->f), 0);
	assert_int_equal(fx_dfuse_read(c->d, 0xFFFFFFF0, buf, 32, &c->err), FX_E_RANGE);
}

static void test_get_commands(void **state)
{
	struct ctx *c = *state;
	uint8_t cmds[8];
	size_t n = 0;

	fake_push_upload(c->f, (const uint8_t *)"\x00\x21\x41\x92", 4);
	fake_push(c->f, DFU_ABORT, 0);
	assert_int_equal(fx_dfuse_get_commands(c->d, cmds, sizeof(cmds), &n, &c->err), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(cmds, "\x00\x21\x41\x92", 4);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_UPLOAD, 0)].setup.wValue, 0);
}

static void test_write_expect_reset(void **state)
{
	struct ctx *c = *state;
	uint8_t ob[48];

	memset(ob, 0xA5, sizeof(ob));
	/* default: DNBUSY, then the device is gone */
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 50);
	fake_push(c->f, DFU_GETSTATUS, FX_E_NODEV);
	assert_int_equal(fx_dfuse_write_expect_reset(c->d, 0x1FFF7800, ob, 48, &c->err), 0);
	assert_int_equal((&c->err)->code, FX_OK);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 1)].setup.wValue, 2);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_DNLOAD, 1)].setup.wLength, 48);
	/* knob: the first GETSTATUS STALLs */
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push(c->f, DFU_GETSTATUS, FX_E_STALL);
	assert_int_equal(fx_dfuse_write_expect_reset(c->d, 0x1FFF7800, ob, 48, &c->err), 0);
	/* never answered */
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push(c->f, DFU_GETSTATUS, FX_E_TIMEOUT);
	assert_int_equal(fx_dfuse_write_expect_reset(c->d, 0x1FFF7800, ob, 48, &c->err), 0);
	/* refused: bad complement -> errTARGET */
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 50);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errTARGET, 0);
	assert_int_equal(fx_dfuse_write_expect_reset(c->d, 0x1FFF7800, ob, 48, &c->err), FX_E_RANGE);
	assert_string_equal((&c->err)->msg,
			    "write with reset at 0x1FFF7800: DFU_GETSTATUS: device reports dfuERROR, status errTARGET");
	/* protected: DNLOAD STALL explained */
	fake_push_clear_error(c->f, DFU_STATUS_errTARGET);
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, FX_E_STALL);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errVENDOR, 0);
	assert_int_equal(fx_dfuse_write_expect_reset(c->d, 0x1FFF7800, ob, 48, &c->err), FX_E_PROTECTED);
	assert_int_equal(fx_dfuse_write_expect_reset(c->d, 0x1FFF7800, ob, 0, &c->err), FX_E_INVAL);
	assert_int_equal(fake_left(c->f), 0);
}

static void test_leave_and_unprotect(void **state)
{
	struct ctx *c = *state;
	int k;

	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuMANIFEST, DFU_STATUS_OK, 1);
	assert_int_equal(fx_dfuse_leave(c->d, 0x08000000, &c->err), 0);
	k = fake_find(c->f, DFU_DNLOAD, 1);
	assert_int_equal(c->f->log[k].setup.wLength, 0);
	/* the GETSTATUS after leave is not answered: fine */
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push(c->f, DFU_GETSTATUS, FX_E_NODEV);
	assert_int_equal(fx_dfuse_leave(c->d, 0x08000000, &c->err), 0);
	/* an explicit refusal is an error */
	fake_push_cmd_ok(c->f, 1);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errFIRMWARE, 0);
	assert_int_equal(fx_dfuse_leave(c->d, 0x08000000, &c->err), FX_E_DFU);
	assert_string_equal((&c->err)->msg,
			    "leave to 0x08000000: DFU_GETSTATUS: device reports dfuERROR, status errFIRMWARE");
	/* read unprotect */
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 100);
	assert_int_equal(fx_dfuse_read_unprotect(c->d, &c->err), 0);
	k = fake_find(c->f, DFU_DNLOAD, 6);
	assert_int_equal(c->f->log[k].setup.wLength, 1);
	assert_int_equal(c->f->log[k].out[0], 0x92);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push(c->f, DFU_GETSTATUS, FX_E_NODEV);
	assert_int_equal(fx_dfuse_read_unprotect(c->d, &c->err), 0);
	fake_push(c->f, DFU_DNLOAD, FX_E_NODEV);
	assert_int_equal(fx_dfuse_read_unprotect(c->d, &c->err), FX_E_NODEV);
	assert_string_equal((&c->err)->msg, "READ_UNPROTECT: DFU_DNLOAD: device left the bus");
	assert_int_equal(fake_left(c->f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_skip_ff_and_unaligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_trims_ff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_safe_addressing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_names_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_expect_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_and_unprotect, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
