/* test_dfu.c - DFU 1.1 engine against the scripted fake transport:
 * open/descriptors, GETSTATUS parsing, poll-timeout honouring, bounded
 * recovery, STALL/timeout/NODEV mapping with exact messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_usb.h"
#include "fx/dfu.h"

struct ctx {
	struct fx_vclock vc;
	struct fake_usb *f;
	struct fx_dfu *d;
	struct fx_err err;       /* what the DFU calls report */
};

static int setup(void **state)
{
	static struct ctx c;

	memset(&c, 0, sizeof(c));
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

static void test_open_info(void **state)
{
	struct ctx *c = *state;
	const struct fx_dfu_info *in = fx_dfu_get_info(c->d);

	assert_int_equal(in->vid, 0x0483);
	assert_int_equal(in->pid, 0xDF11);
	assert_int_equal(in->bcd_device, 0x0200);
	assert_int_equal(in->bcd_dfu, 0x011A);
	assert_int_equal(in->attributes, 0x0B);
	assert_int_equal(in->detach_timeout, 255);
	assert_int_equal(in->transfer_size, 1024);
	assert_string_equal(in->serial, "206B30643138");
	assert_string_equal(in->product, "DFU in FS Mode");
	assert_int_equal(in->nalts, 3);
	assert_string_equal(in->alt_name[1], "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e");
	assert_string_equal(in->layout[0].name, "Internal Flash");
	assert_int_equal(in->layout[0].segs[0].page_size, 2048);
	assert_int_equal(in->layout[1].nsegs, 2);
	assert_int_equal(fx_dfu_alt_for(c->d, 0x08012345), 0);
	assert_int_equal(fx_dfu_alt_for(c->d, 0x1FFFF810), 1);
	assert_int_equal(fx_dfu_alt_for(c->d, 0x1FFF7000), 2);
	assert_int_equal(fx_dfu_alt_for(c->d, 0x20000000), FX_E_RANGE);
	assert_ptr_equal(fx_dfu_usb(c->d), &c->f->base);
	assert_int_equal(fx_dfu_set_alt(c->d, 2, &c->err), 0);
	assert_int_equal(c->f->last_alt, 2);
	assert_int_equal(fx_dfu_set_alt(c->d, 3, &c->err), FX_E_RANGE);
	assert_string_equal((&c->err)->msg, "alt setting 3: the device has 3");
}

static void test_open_not_dfu(void **state)
{
	struct fx_vclock vc;
	struct fake_usb *f;
	struct fx_err err;

	(void)state;
	fx_vclock_init(&vc);
	f = fake_usb_new(&vc.base, 1024);
	f->config[9 + 5] = 0x03; /* every interface becomes HID */
	f->config[18 + 5] = 0x03;
	f->config[27 + 5] = 0x03;
	fx_err_clear(&err);
	assert_null(fx_dfu_open(&f->base, &err));
	assert_int_equal(err.code, FX_E_NOTSUP);
	assert_string_equal(err.msg, "device 0483:df11 has no DFU interface (class 0xFE/0x01)");
	/* truncated descriptor */
	f->config[9 + 5] = USB_CLASS_APP_SPEC;
	f->config[9] = 40;
	f->config_len = 30;
	assert_null(fx_dfu_open(&f->base, &err));
	assert_int_equal(err.code, FX_E_PROTO);
	assert_string_equal(err.msg, "configuration descriptor: bad descriptor length 40 at offset 9");
	fx_usb_close(&f->base);
}

static void test_open_xfer_2048_and_bad_layout(void **state)
{
	struct fx_vclock vc;
	struct fake_usb *f;
	struct fx_dfu *d;

	(void)state;
	fx_vclock_init(&vc);
	f = fake_usb_new(&vc.base, 2048);
	fake_usb_set_string(f, 4, "@Internal Flash   /0x08000000/256*02K");
	fake_usb_set_string(f, 5, "STM32  BOOTLOADER");
	fake_push_status(f, dfuIDLE, DFU_STATUS_OK, 0);
	d = fake_dfu_open(f);
	assert_int_equal(fx_dfu_get_info(d)->transfer_size, 2048);
	assert_int_equal(fx_dfu_get_info(d)->layout[0].nsegs, 0); /* unparsable */
	assert_int_equal(fx_dfu_get_info(d)->layout[1].nsegs, 0);
	assert_int_equal(fx_dfu_alt_for(d, 0x08000000), FX_E_RANGE);
	fake_dfu_down(d, f);
}

static void test_open_recovers(void **state)
{
	struct fx_vclock vc;
	struct fake_usb *f;
	struct fx_dfu *d;

	(void)state;
	fx_vclock_init(&vc);
	f = fake_usb_new(&vc.base, 1024);
	/* spec 6.2 step 2: dfuERROR -> CLRSTATUS, DNLOAD-IDLE -> ABORT */
	fake_push_status(f, dfuERROR, DFU_STATUS_errTARGET, 0);
	fake_push(f, DFU_CLRSTATUS, 0);
	fake_push_status(f, dfuDNLOAD_IDLE, DFU_STATUS_OK, 0);
	fake_push(f, DFU_ABORT, 0);
	fake_push_status(f, dfuIDLE, DFU_STATUS_OK, 0);
	d = fake_dfu_open(f);
	assert_int_equal(fake_left(f), 0);
	assert_int_equal(f->unexpected, 0);
	fake_dfu_down(d, f);
}

static void test_recover_bounded(void **state)
{
	struct ctx *c = *state;
	const struct fx_err *e = (&c->err);
	int i;

	for (i = 0; i < 10; i++) {
		fake_push_status(c->f, dfuERROR, DFU_STATUS_errUNKNOWN, 0);
		fake_push(c->f, DFU_CLRSTATUS, FX_E_STALL); /* C5-style STALL tolerated */
	}
	assert_int_equal(fx_dfu_recover(c->d, &c->err), FX_E_STATE);
	assert_string_equal(e->msg, "recover: DFU_GETSTATUS still reports dfuERROR, status errUNKNOWN after 3 rounds of DFU_CLRSTATUS/DFU_ABORT");
	assert_int_equal(e->dfu_state, dfuERROR);
	assert_int_equal(e->dfu_status, DFU_STATUS_errUNKNOWN);
	assert_int_equal(fake_count(c->f, DFU_CLRSTATUS), 3);
	assert_int_equal(fake_count(c->f, DFU_GETSTATUS), 1 + 4);
}

static void test_recover_app_mode_and_transport(void **state)
{
	struct ctx *c = *state;
	const struct fx_err *e = (&c->err);

	fake_push_status(c->f, appIDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfu_recover(c->d, &c->err), FX_E_STATE);
	assert_string_equal(e->msg, "recover: device in run-time mode (appIDLE), not the DFU bootloader");
	fake_push(c->f, DFU_GETSTATUS, FX_E_NODEV);
	assert_int_equal(fx_dfu_recover(c->d, &c->err), FX_E_NODEV);
	assert_string_equal(e->msg, "recover: DFU_GETSTATUS: device left the bus");
	/* a busy device is waited for, then found idle */
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 30);
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfu_recover(c->d, &c->err), 0);
}

static void test_getstatus_parse(void **state)
{
	struct ctx *c = *state;
	struct fx_dfu_status st;
	uint8_t s;

	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_errVERIFY, 0x123456);
	assert_int_equal(fx_dfu_get_status(c->d, &st, &c->err), 0);
	assert_int_equal(st.bState, dfuDNBUSY);
	assert_int_equal(st.bStatus, DFU_STATUS_errVERIFY);
	assert_int_equal(st.bwPollTimeout, 0x123456);
	assert_int_equal((&c->err)->dfu_state, dfuDNBUSY);
	/* short reply */
	fake_push_upload(c->f, (const uint8_t *)"\0\0\0", 3);
	c->f->steps[c->f->nsteps - 1].bRequest = DFU_GETSTATUS;
	assert_int_equal(fx_dfu_get_status(c->d, &st, &c->err), FX_E_PROTO);
	assert_string_equal((&c->err)->msg, "DFU_GETSTATUS: short reply, 3 of 6 bytes");
	fake_push_upload(c->f, (const uint8_t *)"\x05", 1);
	c->f->steps[c->f->nsteps - 1].bRequest = DFU_GETSTATE;
	assert_int_equal(fx_dfu_get_state(c->d, &s, &c->err), 0);
	assert_int_equal(s, dfuDNLOAD_IDLE);
	fake_push(c->f, DFU_ABORT, 0);
	assert_int_equal(fx_dfu_abort(c->d, &c->err), 0);
	fake_push(c->f, DFU_CLRSTATUS, FX_E_STALL);
	assert_int_equal(fx_dfu_clear_status(c->d, &c->err), FX_E_STALL);
	assert_string_equal((&c->err)->msg, "DFU_CLRSTATUS: control request 0x04 stalled");
	/* requests go to the interface with the right request type */
	assert_int_equal(c->f->log[c->f->nlog - 1].setup.bmRequestType, 0x21);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_GETSTATUS, 1)].setup.bmRequestType, 0xA1);
	assert_int_equal(c->f->log[fake_find(c->f, DFU_GETSTATUS, 1)].setup.wLength, 6);
}

static void test_poll_timeout_honoured(void **state)
{
	struct ctx *c = *state;
	int i0;

	fake_push_cmd_ok(c->f, 25);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000800, &c->err), 0);
	i0 = fake_find(c->f, DFU_DNLOAD, 0);
	assert_int_equal(c->f->log[i0].out[0], 0x41);
	assert_memory_equal(c->f->log[i0].out + 1, "\x00\x08\x00\x08", 4);
	assert_int_equal(c->f->log[i0].setup.wValue, 0);
	/* GETSTATUS #2 comes no earlier than bwPollTimeout after #1 */
	assert_true(c->f->log[i0 + 2].t_us - c->f->log[i0 + 1].t_us >= 25000);
	assert_true(c->f->log[i0 + 2].t_us - c->f->log[i0 + 1].t_us < 26000);
	/* a huge poll timeout is capped at FX_DFU_POLL_CAP_MS */
	fake_push_cmd_ok(c->f, 0xFFFFFF);
	assert_int_equal(fx_dfuse_mass_erase(c->d, &c->err), 0);
	i0 = fake_find(c->f, DFU_DNLOAD, 1);
	assert_int_equal(c->f->log[i0].setup.wLength, 1);
	assert_int_equal(c->f->log[i0 + 2].t_us - c->f->log[i0 + 1].t_us,
			 (uint64_t)FX_DFU_POLL_CAP_MS * 1000u);
	/* lying short timeout (F405-style): DNBUSY again, keep polling */
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 1);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 1);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 0);
	fake_push_status(c->f, dfuDNLOAD_IDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfuse_mass_erase(c->d, &c->err), 0);
	assert_int_equal(fake_left(c->f), 0);
	/* first reply DNLOAD-IDLE without DNBUSY (U5 ROM) is accepted */
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNLOAD_IDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfuse_set_address(c->d, 0x08000000, &c->err), 0);
}

static void test_device_errors(void **state)
{
	struct ctx *c = *state;
	const struct fx_err *e = (&c->err);

	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 25);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errTARGET, 0);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08080000, &c->err), FX_E_RANGE);
	assert_string_equal(e->msg, "ERASE_PAGE 0x08080000: DFU_GETSTATUS: device reports dfuERROR, status errTARGET");
	assert_int_equal(e->dfu_state, dfuERROR);
	assert_int_equal(e->dfu_status, DFU_STATUS_errTARGET);
	/* the next operation recovers first (CLRSTATUS), then runs */
	fake_push_clear_error(c->f, DFU_STATUS_errTARGET);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errVENDOR, 0);
	assert_int_equal(fx_dfuse_set_address(c->d, 0x08000000, &c->err), FX_E_PROTECTED);
	assert_string_equal(e->msg, "SET_ADDRESS 0x08000000: DFU_GETSTATUS: device reports dfuERROR, status errVENDOR");
	fake_push_clear_error(c->f, DFU_STATUS_errVENDOR);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 25);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errERASE, 0);
	assert_int_equal(fx_dfuse_mass_erase(c->d, &c->err), FX_E_DFU);
	assert_string_equal(e->msg, "MASS_ERASE: DFU_GETSTATUS: device reports dfuERROR, status errERASE");
	/* wrong state (not DNBUSY/DNLOAD-IDLE/dfuERROR) */
	fake_push_clear_error(c->f, DFU_STATUS_errERASE);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000000, &c->err), FX_E_PROTO);
	assert_string_equal(e->msg, "ERASE_PAGE 0x08000000: DFU_GETSTATUS: unexpected state dfuIDLE, status OK");
	assert_int_equal(fake_left(c->f), 0);
}

static void test_transport_errors(void **state)
{
	struct ctx *c = *state;
	const struct fx_err *e = (&c->err);

	/* STALLed DNLOAD: GETSTATUS tells why */
	fake_push(c->f, DFU_DNLOAD, FX_E_STALL);
	fake_push_status(c->f, dfuERROR, DFU_STATUS_errVENDOR, 0);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000000, &c->err), FX_E_PROTECTED);
	assert_string_equal(e->msg, "ERASE_PAGE 0x08000000: DFU_DNLOAD: control request 0x01 stalled; device reports dfuERROR, status errVENDOR");
	/* STALL that GETSTATUS does not explain stays a STALL */
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0); /* recover */
	fake_push(c->f, DFU_DNLOAD, FX_E_STALL);
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000000, &c->err), FX_E_STALL);
	assert_string_equal(e->msg, "ERASE_PAGE 0x08000000: DFU_DNLOAD: control request 0x01 stalled (last reply dfuIDLE, status OK)");
	/* timeout */
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push(c->f, DFU_GETSTATUS, FX_E_TIMEOUT);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000000, &c->err), FX_E_TIMEOUT);
	assert_string_equal(e->msg, "ERASE_PAGE 0x08000000: DFU_GETSTATUS: control request 0x03 timed out after 5000 ms (last reply dfuIDLE, status OK)");
	/* disconnect */
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0);
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 25);
	fake_push(c->f, DFU_GETSTATUS, FX_E_NODEV);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000000, &c->err), FX_E_NODEV);
	assert_string_equal(e->msg, "ERASE_PAGE 0x08000000: DFU_GETSTATUS: device left the bus (last reply dfuDNBUSY, status OK)");
	assert_int_equal(e->dfu_state, dfuDNBUSY); /* last state seen */
	assert_int_equal(fake_left(c->f), 0);
	assert_int_equal(c->f->unexpected, 0);
}

static void test_busy_stall_retry(void **state)
{
	struct ctx *c = *state;
	const struct fx_err *e = (&c->err);
	int i;

	/* STM32L4-style: STALL while busy, then done */
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 25);
	fake_push(c->f, DFU_GETSTATUS, FX_E_STALL);
	fake_push(c->f, DFU_GETSTATUS, FX_E_STALL);
	fake_push_status(c->f, dfuDNLOAD_IDLE, DFU_STATUS_OK, 0);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000000, &c->err), 0);
	assert_int_equal(fake_left(c->f), 0);
	/* a STALL that never ends: bounded */
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 25);
	for (i = 0; i < 17; i++)
		fake_push(c->f, DFU_GETSTATUS, FX_E_STALL);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000000, &c->err), FX_E_STALL);
	assert_string_equal(e->msg, "ERASE_PAGE 0x08000000: DFU_GETSTATUS: control request 0x03 stalled (last reply dfuDNBUSY, status OK)");
	assert_int_equal(fake_left(c->f), 0);
	/* a STALL before any DNBUSY is not "busy": no retry */
	fake_push_status(c->f, dfuIDLE, DFU_STATUS_OK, 0); /* recover */
	fake_push(c->f, DFU_DNLOAD, 0);
	fake_push(c->f, DFU_GETSTATUS, FX_E_STALL);
	assert_int_equal(fx_dfuse_erase_page(c->d, 0x08000800, &c->err), FX_E_STALL);
	assert_int_equal(fake_left(c->f), 0);
}

static void test_busy_limit(void **state)
{
	struct ctx *c = *state;
	const struct fx_err *e = (&c->err);
	int i;

	fake_push(c->f, DFU_DNLOAD, 0);
	for (i = 0; i < 8; i++)
		fake_push_status(c->f, dfuDNBUSY, DFU_STATUS_OK, 10000);
	assert_int_equal(fx_dfuse_mass_erase(c->d, &c->err), FX_E_TIMEOUT);
	assert_string_equal(e->msg, "MASS_ERASE: DFU_GETSTATUS: still dfuDNBUSY after 60000 ms");
	assert_int_equal(fake_left(c->f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_info, setup, teardown),
		cmocka_unit_test(test_open_not_dfu),
		cmocka_unit_test(test_open_xfer_2048_and_bad_layout),
		cmocka_unit_test(test_open_recovers),
		cmocka_unit_test_setup_teardown(test_recover_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_app_mode_and_transport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_getstatus_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_timeout_honoured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transport_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_stall_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
