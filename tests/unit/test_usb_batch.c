/* test_usb_batch.c - fx_usb_control_batch() on a backend without a
 * control_batch op (the in-process emulator): the transfers one by one
 * in order, stopping at the first failure, *ok = how many completed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fx/dfu_wire.h"
#include "fx/usb.h"

#define RT_IN (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define RT_OUT (USB_TYPE_CLASS | USB_RECIP_INTERFACE)

struct ctx {
	char dir[64];
	char uri[160];
	struct fx_vclock vc;
	struct fx_usb *u;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct fx_err err;

	if (!c)
		return -1;
	snprintf(c->dir, sizeof(c->dir), "/tmp/fxusb-batch-XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	snprintf(c->uri, sizeof(c->uri), "emu:%s/b.fxb", c->dir);
	fx_vclock_init(&c->vc);
	fx_err_clear(&err);
	if (fx_usb_open(c->uri, &c->vc.base, NULL, &c->u, &err))
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];

	fx_usb_close(c->u);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	if (system(cmd) != 0)
		return -1;
	free(c);
	return 0;
}

static void xfer(struct fx_usb_xfer *x, uint8_t rt, uint8_t req, uint16_t wv,
		 uint8_t *data, uint16_t len)
{
	struct fx_usb_setup s = { rt, req, wv, 0, len };

	x->setup = s;
	x->data = data;
	x->actual = 77;
}

/* SET_ADDRESS 0x08000000 and its two GETSTATUS, ABORT, then 4 UPLOADs:
 * one batch, all done, the blocks as one read each gives them. */
static void test_batch_in_order(void **state)
{
	struct ctx *c = *state;
	uint8_t cmd[5] = { DFUSE_CMD_SET_ADDRESS, 0x00, 0x00, 0x00, 0x08 };
	uint8_t st1[6], st2[6], blk[4][1024], one[1024];
	struct fx_usb_xfer x[8];
	struct fx_err err;
	size_t ok = 99, i, n;

	fx_err_clear(&err);
	xfer(&x[0], RT_OUT, DFU_DNLOAD, 0, cmd, sizeof(cmd));
	xfer(&x[1], RT_IN, DFU_GETSTATUS, 0, st1, 6);
	xfer(&x[2], RT_IN, DFU_GETSTATUS, 0, st2, 6);
	xfer(&x[3], RT_OUT, DFU_ABORT, 0, NULL, 0);
	for (i = 0; i < 4; i++)
		xfer(&x[4 + i], RT_IN, DFU_UPLOAD, (uint16_t)(2 + i), blk[i], 1024);
	assert_int_equal(fx_usb_control_batch(c->u, x, 8, 5000, &ok, &err), 0);
	assert_int_equal(ok, 8);
	assert_int_equal(x[1].actual, 6);
	assert_int_equal(st1[4], dfuDNBUSY);
	assert_int_equal(st2[4], dfuDNLOAD_IDLE);
	for (i = 0; i < 4; i++) {
		struct fx_usb_setup s = { RT_IN, DFU_UPLOAD, (uint16_t)(2 + i), 0, 1024 };

		assert_int_equal(x[4 + i].actual, 1024);
		assert_int_equal(fx_usb_control(c->u, &s, one, &n, 5000, &err), 0);
		assert_int_equal(n, 1024);
		assert_memory_equal(one, blk[i], 1024);
	}
}

/* A STALL in the middle: its error, the ones after it not sent. */
static void test_batch_stops_at_failure(void **state)
{
	struct ctx *c = *state;
	uint8_t st[6], q[10], st2[6];
	struct fx_usb_xfer x[3];
	struct fx_err err;
	size_t ok = 99;

	fx_err_clear(&err);
	xfer(&x[0], RT_IN, DFU_GETSTATUS, 0, st, 6);
	xfer(&x[1], USB_DIR_IN, USB_REQ_GET_DESCRIPTOR, 0x0600, q, 10); /* FS: STALL */
	xfer(&x[2], RT_IN, DFU_GETSTATUS, 0, st2, 6);
	assert_int_equal(fx_usb_control_batch(c->u, x, 3, 5000, &ok, &err), FX_E_STALL);
	assert_int_equal(ok, 1);
	assert_int_equal(x[0].actual, 6);
	assert_int_equal(x[2].actual, 0); /* reset by the call, never sent */
	/* no transfers: nothing to do; too many: refused before any is sent */
	assert_int_equal(fx_usb_control_batch(c->u, x, 0, 5000, &ok, &err), 0);
	assert_int_equal(ok, 0);
	assert_int_equal(fx_usb_control_batch(c->u, x, FX_USB_BATCH_MAX + 1, 5000, NULL, &err),
			 FX_E_INVAL);
	assert_string_equal(err.msg, "batch of 33 control transfers (at most 32)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_stops_at_failure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
