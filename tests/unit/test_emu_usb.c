/* test_emu_usb.c - the emulator behind the in-process USB backend
 * (emu:PATH?KNOBS): binding, identity, the OB reset and re-enumeration,
 * persistence across open/close, knob errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fx/bytes.h"
#include "fx/dfu_wire.h"
#include "fx/usb.h"
#include "fx/usb_emu.h"

#define RT_OUT (USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define RT_IN (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)

struct ctx {
	char dir[64];
	char uri[160];
	char path[128];
	struct fx_vclock vc;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	snprintf(c->dir, sizeof(c->dir), "/tmp/fxemu-usb-XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	snprintf(c->path, sizeof(c->path), "%s/b.fxb", c->dir);
	fx_vclock_init(&c->vc);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	if (system(cmd) != 0)
		return -1;
	free(c);
	return 0;
}

static int ctl(struct fx_usb *u, uint8_t rt, uint8_t req, uint16_t wv,
	       uint8_t *d, uint16_t len, struct fx_err *err)
{
	struct fx_usb_setup s = { rt, req, wv, 0, len };
	size_t n;

	return fx_usb_control(u, &s, d, &n, 5000, err);
}

static void test_open_identity(void **state)
{
	struct ctx *c = *state;
	const struct fx_usb_info *in;
	struct fx_usb *u = NULL;
	struct fx_err err;
	uint8_t cfg[128], st[6];
	size_t len;

	fx_err_clear(&err);
	snprintf(c->uri, sizeof(c->uri), "emu:%s?xfer=2048", c->path);
	assert_int_equal(fx_usb_open(c->uri, &c->vc.base, NULL, &u, &err), 0);
	in = fx_usb_get_info(u);
	assert_int_equal(in->vid, 0x0483);
	assert_int_equal(in->pid, 0xDF11);
	assert_int_equal(in->bcd_device, 0x0200);
	assert_true(in->is_dfu);
	assert_string_equal(in->product, "DFU in FS Mode");
	assert_int_equal(strlen(in->serial), 12);
	assert_true(c->vc.t >= 400000); /* the boot delay passed */
	assert_int_equal(fx_usb_config_desc(u, cfg, sizeof(cfg), &len, &err), 0);
	assert_int_equal(len, 45);
	assert_int_equal(fx_get_le16(cfg + 36 + 5), 2048);
	assert_int_equal(ctl(u, RT_IN, DFU_GETSTATUS, 0, st, 6, &err), 0);
	assert_int_equal(st[4], dfuIDLE);
	fx_usb_close(u);
	assert_int_equal(access(c->path, F_OK), 0); /* saved on close */
}

static void test_ob_reset_and_persistence(void **state)
{
	struct ctx *c = *state;
	struct fx_usb *u = NULL;
	struct fx_err err;
	uint8_t cmd[5] = { 0x21, 0x00, 0x78, 0xFF, 0x1F }, raw[48], st[6];
	uint64_t waited = 0;

	fx_err_clear(&err);
	snprintf(c->uri, sizeof(c->uri), "emu:%s", c->path);
	assert_int_equal(fx_usb_open(c->uri, &c->vc.base, NULL, &u, &err), 0);
	assert_int_equal(fx_usb_set_alt(u, 0, 1, &err), 0);
	assert_int_equal(ctl(u, RT_OUT, DFU_DNLOAD, 0, cmd, 5, &err), 0);
	assert_int_equal(ctl(u, RT_IN, DFU_GETSTATUS, 0, st, 6, &err), 0);
	assert_int_equal(ctl(u, RT_IN, DFU_GETSTATUS, 0, st, 6, &err), 0);
	assert_int_equal(ctl(u, RT_OUT, DFU_ABORT, 0, NULL, 0, &err), 0);
	assert_int_equal(ctl(u, RT_IN, DFU_UPLOAD, 2, raw, 48, &err), 0);
	fx_put_le32(raw, 0xFFAFF8AA);
	fx_put_le32(raw + 4, ~0xFFAFF8AAu);
	assert_int_equal(ctl(u, RT_OUT, DFU_ABORT, 0, NULL, 0, &err), 0);
	assert_int_equal(ctl(u, RT_OUT, DFU_DNLOAD, 0, cmd, 5, &err), 0);
	assert_int_equal(ctl(u, RT_IN, DFU_GETSTATUS, 0, st, 6, &err), 0);
	assert_int_equal(ctl(u, RT_IN, DFU_GETSTATUS, 0, st, 6, &err), 0);
	assert_int_equal(ctl(u, RT_OUT, DFU_DNLOAD, 2, raw, 48, &err), 0);
	assert_int_equal(ctl(u, RT_IN, DFU_GETSTATUS, 0, st, 6, &err), 0);
	assert_int_equal(st[4], dfuDNBUSY);
	/* the device vanishes: NODEV, then the ROM returns */
	assert_int_equal(ctl(u, RT_IN, DFU_GETSTATUS, 0, st, 6, &err), FX_E_NODEV);
	assert_string_equal(err.msg, "device left the bus");
	assert_int_equal(fx_usb_reopen(u, 2000, &waited, &err), 0);
	assert_true(waited > 400000 && waited < 500000);
	assert_int_equal(fx_emu_optr(fx_usb_emu_board(u)), 0xFFAFF8AA);
	fx_usb_close(u);
	/* the next open loads the saved board */
	assert_int_equal(fx_usb_open(c->uri, &c->vc.base, NULL, &u, &err), 0);
	assert_int_equal(fx_emu_optr(fx_usb_emu_board(u)), 0xFFAFF8AA);
	fx_usb_close(u);
}

static void test_open_errors(void **state)
{
	struct ctx *c = *state;
	struct fx_usb *u = NULL;
	struct fx_err err;
	char want[300];

	fx_err_clear(&err);
	snprintf(c->uri, sizeof(c->uri), "emu:%s?busy=sleep", c->path);
	assert_int_equal(fx_usb_open(c->uri, &c->vc.base, NULL, &u, &err),
			 FX_E_CONFIG);
	assert_string_equal(err.msg,
			    "knob 'busy': expected wait, stall or lying, got 'sleep'");
	/* blank board with BOOT0 low: nothing enumerates */
	snprintf(c->uri, sizeof(c->uri), "emu:%s?boot0=0", c->path);
	fx_err_clear(&err);
	assert_int_equal(fx_usb_open(c->uri, &c->vc.base, NULL, &u, &err),
			 FX_E_NOTFOUND);
	snprintf(want, sizeof(want), "board '%s': nothing enumerated within 5000 ms "
		 "(blank or corrupted flash with BOOT0 low?)", c->path);
	assert_string_equal(err.msg, want);
	/* a foreign file */
	{
		FILE *fp = fopen(c->path, "w");

		fputs("hello\n", fp);
		fclose(fp);
	}
	snprintf(c->uri, sizeof(c->uri), "emu:%s", c->path);
	fx_err_clear(&err);
	assert_int_equal(fx_usb_open(c->uri, &c->vc.base, NULL, &u, &err), FX_E_FILE);
	snprintf(want, sizeof(want),
		 "board file '%s': not an emulated board file (bad magic)", c->path);
	assert_string_equal(err.msg, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_open_identity),
		T(test_ob_reset_and_persistence),
		T(test_open_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
