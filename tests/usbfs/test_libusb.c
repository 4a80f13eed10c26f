/* test_libusb.c - the production transport (src/usb/usb_libusb.c) through
 * build/fxemu (the umockdev usbfs bridge) against emulated boards.
 *
 * The test binary runs each scenario as `fxemu --board ... -- SELF
 * --scenario NAME`: the process that calls libusb must start inside the
 * testbed (LD_PRELOAD, UMOCKDEV_DIR). The DfuSe requests are written out
 * here (spec 1.4-1.7) so the transport is tested on its own, without the
 * host engine of src/dfu.
 *
 * Boards run 20 times faster than the spec's timings (--realtime=0.05).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fx/bytes.h"
#include "fx/dfu.h"
#include "fx/gpio.h"
#include "fx/prog.h"
#include "fx/usb.h"
#include "fx/usb_libusb.h"

#define SCALE "0.05"
#define XFER 1024u

static struct fx_rclock rclock;

static const struct fx_clock *clk(void)
{
	return &rclock.base;
}

/* ---- raw DfuSe helpers (spec 1.1-1.7) ---- */

static int ctrl(struct fx_usb *u, uint8_t type, uint8_t req, uint16_t val,
		uint8_t *data, uint16_t len, size_t *actual, struct fx_err *err)
{
	struct fx_usb_setup s = { type, req, val, 0, len };

	return fx_usb_control(u, &s, data, actual, 5000, err);
}

static int getstatus(struct fx_usb *u, uint8_t st[6], struct fx_err *err)
{
	size_t n = 0;
	int rc = ctrl(u, 0xA1, DFU_GETSTATUS, 0, st, 6, &n, err);

	if (!rc && n != 6)
		return fx_err_set(err, FX_E_PROTO, "short GETSTATUS %zu", n);
	return rc;
}

/* GETSTATUS until the device is not busy; returns bState. */
static int settle(struct fx_usb *u, struct fx_err *err)
{
	uint8_t st[6];
	int rc, i;

	for (i = 0; i < 1000; i++) {
		rc = getstatus(u, st, err);
		if (rc)
			return rc;
		if (st[4] != dfuDNBUSY)
			return st[4];
	}
	return fx_err_set(err, FX_E_TIMEOUT, "busy forever");
}

static int dnload(struct fx_usb *u, uint16_t block, const uint8_t *d, uint16_t n,
		  struct fx_err *err)
{
	uint8_t buf[2048];

	if (n)
		memcpy(buf, d, n);
	return ctrl(u, 0x21, DFU_DNLOAD, block, buf, n, NULL, err);
}

/* A DfuSe command (wValue 0) run to completion; 0 when DNLOAD-IDLE. */
static int command(struct fx_usb *u, const uint8_t *cmd, uint16_t n,
		   struct fx_err *err)
{
	int rc = dnload(u, 0, cmd, n, err);

	if (!rc)
		rc = settle(u, err);
	if (rc == dfuDNLOAD_IDLE)
		return 0;
	return rc < 0 ? rc : fx_err_set(err, FX_E_DFU, "state %d after command", rc);
}

static int set_address(struct fx_usb *u, uint32_t a, struct fx_err *err)
{
	uint8_t c[5] = { DFUSE_CMD_SET_ADDRESS };

	fx_put_le32(c + 1, a);
	return command(u, c, 5, err);
}

static int dfu_abort(struct fx_usb *u, struct fx_err *err)
{
	return ctrl(u, 0x21, DFU_ABORT, 0, NULL, 0, NULL, err);
}

static int read_mem(struct fx_usb *u, uint32_t a, uint8_t *buf, size_t len,
		    struct fx_err *err)
{
	size_t off, n;
	int rc = set_address(u, a, err);
	uint16_t blk = 2;

	if (!rc)
		rc = dfu_abort(u, err);
	for (off = 0; !rc && off < len; off += n, blk++) {
		size_t want = len - off < XFER ? len - off : XFER;

		rc = ctrl(u, 0xA1, DFU_UPLOAD, blk, buf + off, (uint16_t)want, &n, err);
		if (!rc && n != want)
			rc = fx_err_set(err, FX_E_PROTO, "short upload %zu", n);
	}
	if (!rc)
		rc = dfu_abort(u, err);
	return rc;
}

static int write_mem(struct fx_usb *u, uint32_t a, const uint8_t *d, size_t len,
		     struct fx_err *err)
{
	size_t off;
	int rc = 0;

	for (off = 0; !rc && off < len; off += XFER) {
		size_t n = len - off < XFER ? len - off : XFER;

		rc = set_address(u, a + (uint32_t)off, err);
		if (!rc)
			rc = dnload(u, 2, d + off, (uint16_t)n, err);
		if (!rc) {
			rc = settle(u, err);
			rc = rc == dfuDNLOAD_IDLE ? 0 : rc < 0 ? rc :
			     fx_err_set(err, FX_E_DFU, "state %d after write", rc);
		}
	}
	if (!rc)
		rc = dfu_abort(u, err);
	return rc;
}

static struct fx_usb *open_ok(const char *uri)
{
	struct fx_usb_open_opts o = { .wait_ms = 2000 };
	struct fx_usb *u = NULL;
	struct fx_err err;
	int rc;

	fx_err_clear(&err);
	rc = fx_usb_open(uri, clk(), &o, &u, &err);
	if (rc)
		fail_msg("open '%s': %s (%s)", uri, err.msg, fx_err_name(rc));
	return u;
}

static void expect_open_error(const char *uri, int code, const char *msg)
{
	struct fx_usb_open_opts o = { 0 };
	struct fx_usb *u = NULL;
	struct fx_err err;

	fx_err_clear(&err);
	assert_int_equal(fx_usb_open(uri, clk(), &o, &u, &err), code);
	assert_int_equal(err.code, code);
	assert_null(u);
	if (!strstr(err.msg, msg))
		fail_msg("open '%s': message '%s' lacks '%s'", uri, err.msg, msg);
}

/* Alt-setting string of alt via the config blob. */
static void alt_name(struct fx_usb *u, unsigned alt, char *buf, size_t cap)
{
	uint8_t cfg[512];
	size_t len = 0, i;
	struct fx_err err;

	fx_err_clear(&err);
	assert_int_equal(fx_usb_config_desc(u, cfg, sizeof(cfg), &len, &err), 0);
	for (i = 0; i + 9 <= len && cfg[i] >= 2; i += cfg[i])
		if (cfg[i + 1] == USB_DT_INTERFACE && cfg[i + 3] == alt) {
			assert_int_equal(fx_usb_string(u, cfg[i + 8], buf, cap, &err), 0);
			return;
		}
	fail_msg("alt %u not found", alt);
}

/* ---- scenario "one": one fresh board on 1-1 ---- */

static void test_enumerate(void **state)
{
	struct fx_usb *u = open_ok("usb:");
	const struct fx_usb_info *in = fx_usb_get_info(u);

	(void)state;
	assert_int_equal(in->vid, 0x0483);
	assert_int_equal(in->pid, 0xdf11);
	assert_int_equal(in->bcd_device, 0x0200);
	assert_string_equal(in->port_path, "1-1");
	assert_int_equal(in->busnum, 1);
	assert_true(in->devnum >= 2);
	assert_int_equal(strlen(in->serial), 12);
	assert_string_equal(in->product, "DFU in FS Mode");
	assert_true(in->is_dfu);
	fx_usb_close(u);
}

static void test_match(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1"), *v;
	char uri[96];

	(void)state;
	snprintf(uri, sizeof(uri), "usb:serial=%s", fx_usb_get_info(u)->serial);
	fx_usb_close(u);
	v = open_ok(uri);
	assert_string_equal(fx_usb_get_info(v)->port_path, "1-1");
	fx_usb_close(v);
	expect_open_error("usb:1-2", FX_E_NOTFOUND,
			  "device 'usb:1-2': no DFU device (0483:df11) on port 1-2");
	expect_open_error("usb:serial=NOPE", FX_E_NOTFOUND,
			  "no DFU device (0483:df11) with serial 'NOPE'");
	expect_open_error("usb:1-x", FX_E_CONFIG,
			  "device 'usb:1-x': expected usb:, usb:PORTPATH");
	expect_open_error("usb:serial=", FX_E_CONFIG, "expected serial=S");
}

static void test_port_path_syntax(void **state)
{
	(void)state;
	assert_true(fx_usb_port_path_valid("1-1"));
	assert_true(fx_usb_port_path_valid("3-1.4.2"));
	assert_false(fx_usb_port_path_valid("1-"));
	assert_false(fx_usb_port_path_valid("0-1"));
	assert_false(fx_usb_port_path_valid("1-1."));
	assert_false(fx_usb_port_path_valid("1-256"));
	assert_false(fx_usb_port_path_valid("1-1.1.1.1.1.1.1.1"));
	assert_false(fx_usb_port_path_valid("serial"));
}

static void test_descriptors(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	uint8_t cfg[512], st[6];
	size_t len = 0, i, alts = 0, func = 0;
	struct fx_err err;
	char name[128];

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_usb_config_desc(u, cfg, sizeof(cfg), &len, &err), 0);
	assert_int_equal(fx_get_le16(cfg + 2), len);
	for (i = 0; i + 2 <= len && cfg[i] >= 2; i += cfg[i]) {
		if (cfg[i + 1] == USB_DT_INTERFACE)
			alts++;
		if (cfg[i + 1] == USB_DT_DFU_FUNCTIONAL)
			func = i;
	}
	assert_int_equal(alts, 3);
	assert_true(func > 0);
	assert_int_equal(fx_get_le16(cfg + func + 5), XFER);
	assert_int_equal(fx_get_le16(cfg + func + 7), DFU_VERSION_DFUSE);
	alt_name(u, 0, name, sizeof(name));
	assert_string_equal(name, "@Internal Flash   /0x08000000/256*02Kg");
	alt_name(u, 1, name, sizeof(name));
	assert_string_equal(name, "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e");
	assert_int_equal(getstatus(u, st, &err), 0);
	assert_int_equal(st[4], dfuIDLE);
	/* buffers too small: the code and the message say so */
	assert_int_equal(fx_usb_config_desc(u, cfg, 20, &len, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "configuration descriptor: 45 bytes do not fit in 20");
	assert_int_equal(fx_usb_string(u, 1, name, 0, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "string buffer of size 0");
	assert_int_equal(fx_usb_set_alt(u, 0, 1, &err), 0);
	assert_int_equal(fx_usb_set_alt(u, 0, 0, &err), 0);
	fx_usb_close(u);
}

static void test_stall(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	uint8_t buf[10];
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	/* GET_DESCRIPTOR device qualifier: a full-speed device STALLs it */
	assert_int_equal(ctrl(u, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0600, buf, 10, NULL,
			      &err), FX_E_STALL);
	assert_string_equal(err.msg, "control request 0x06 stalled");
	/* the pipe recovers: the next request works */
	assert_int_equal(getstatus(u, buf, &err), 0);
	fx_usb_close(u);
}

static void test_flash_verify(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	static uint8_t img[16384], back[16384];
	uint8_t mass = DFUSE_CMD_ERASE;
	struct fx_err err;
	size_t i;

	(void)state;
	srand(7);
	for (i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)rand();
	fx_err_clear(&err);
	assert_int_equal(command(u, &mass, 1, &err), 0);
	assert_int_equal(write_mem(u, G4_FLASH_BASE + 0x1000, img, sizeof(img), &err), 0);
	assert_int_equal(read_mem(u, G4_FLASH_BASE + 0x1000, back, sizeof(back), &err), 0);
	assert_memory_equal(img, back, sizeof(img));
	fx_usb_close(u);
}

/* Flip DBANK through the OB alt (spec 2.6, 3.5): the device resets,
 * re-enumerates with a new address, and alt 0 shows 4 KiB pages. */
static void test_dbank_reset(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	uint8_t ob[48], st[6];
	uint8_t old_dev = fx_usb_get_info(u)->devnum;
	uint32_t optr;
	uint64_t waited = 0;
	struct fx_err err;
	char name[128];
	int rc, i;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_usb_set_alt(u, 0, 1, &err), 0);
	assert_int_equal(read_mem(u, G4_OB1_BASE, ob, sizeof(ob), &err), 0);
	optr = fx_get_le32(ob);
	assert_true(optr & (1u << 22)); /* factory: dual bank */
	optr &= ~(1u << 22);
	fx_put_le32(ob, optr);
	fx_put_le32(ob + 4, ~optr);
	assert_int_equal(set_address(u, G4_OB1_BASE, &err), 0);
	assert_int_equal(dnload(u, 2, ob, sizeof(ob), &err), 0);
	/* first GETSTATUS: DNBUSY (or the device already went away) */
	rc = getstatus(u, st, &err);
	assert_true(rc == 0 || rc == FX_E_NODEV);
	/* then it is gone: an expected disconnect, never a STALL/IO error */
	for (i = 0; i < 200 && rc == 0; i++)
		rc = getstatus(u, st, &err);
	assert_int_equal(rc, FX_E_NODEV);
	assert_non_null(strstr(err.msg, "left the bus"));
	assert_int_equal(fx_usb_reopen(u, 5000, &waited, &err), 0);
	assert_true(waited > 0 && waited < 5000000u);
	assert_true(fx_usb_get_info(u)->devnum != old_dev);
	assert_string_equal(fx_usb_get_info(u)->port_path, "1-1");
	assert_true(fx_usb_get_info(u)->is_dfu);
	alt_name(u, 0, name, sizeof(name));
	assert_string_equal(name, "@Internal Flash   /0x08000000/128*04Kg");
	assert_int_equal(fx_usb_set_alt(u, 0, 1, &err), 0);
	assert_int_equal(read_mem(u, G4_OB1_BASE, ob, sizeof(ob), &err), 0);
	assert_int_equal(fx_get_le32(ob) & (1u << 22), 0);
	fx_usb_close(u);
}

/* Leave (spec 1.7): the GETSTATUS says dfuMANIFEST, the device goes, and
 * with BOOT0 held high the ROM comes back on the same port. */
static void test_leave(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	uint8_t st[6];
	uint64_t waited = 0;
	struct fx_err err;
	int rc;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(set_address(u, G4_FLASH_BASE, &err), 0);
	assert_int_equal(dnload(u, 2, NULL, 0, &err), 0);
	rc = getstatus(u, st, &err);
	if (rc == 0)
		assert_int_equal(st[4], dfuMANIFEST);
	else
		assert_int_equal(rc, FX_E_NODEV);
	assert_int_equal(fx_usb_reopen(u, 5000, &waited, &err), 0);
	assert_true(fx_usb_get_info(u)->is_dfu);
	fx_usb_close(u);
}

/* Without hotplug (FX_USB_NO_HOTPLUG): the bounded rescan finds the
 * re-enumerated device too. */
static void test_reopen_rescan(void **state)
{
	struct fx_usb *u;
	uint8_t st[6];
	uint64_t waited = 0;
	struct fx_err err;
	uint8_t old;

	(void)state;
	setenv("FX_USB_NO_HOTPLUG", "1", 1);
	u = open_ok("usb:1-1");
	old = fx_usb_get_info(u)->devnum;
	fx_err_clear(&err);
	assert_int_equal(set_address(u, G4_FLASH_BASE, &err), 0);
	assert_int_equal(dnload(u, 2, NULL, 0, &err), 0);
	(void)getstatus(u, st, &err); /* dfuMANIFEST, or gone already */
	assert_int_equal(fx_usb_reopen(u, 5000, &waited, &err), 0);
	assert_true(waited > 0 && waited < 5000000u);
	assert_true(fx_usb_get_info(u)->devnum != old);
	assert_true(fx_usb_get_info(u)->is_dfu);
	fx_usb_close(u);
	unsetenv("FX_USB_NO_HOTPLUG");
}

/* ---- scenario "two": boards on 1-1 and 1-2 ---- */

static void test_two_ambiguous(void **state)
{
	(void)state;
	expect_open_error("usb:", FX_E_AMBIGUOUS, "2 DFU devices on the system: 1-1 (serial ");
	expect_open_error("usb:", FX_E_AMBIGUOUS, "), 1-2 (serial ");
}

static void test_two_at_once(void **state)
{
	struct fx_usb *a = open_ok("usb:1-1"), *b = open_ok("usb:1-2");
	static uint8_t da[4096], db[4096], back[4096];
	uint8_t mass = DFUSE_CMD_ERASE;
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	assert_string_equal(fx_usb_get_info(b)->port_path, "1-2");
	assert_string_not_equal(fx_usb_get_info(a)->serial, fx_usb_get_info(b)->serial);
	memset(da, 0xA5, sizeof(da));
	memset(db, 0x5A, sizeof(db));
	assert_int_equal(command(a, &mass, 1, &err), 0);
	assert_int_equal(command(b, &mass, 1, &err), 0);
	assert_int_equal(write_mem(a, G4_FLASH_BASE, da, sizeof(da), &err), 0);
	assert_int_equal(write_mem(b, G4_FLASH_BASE, db, sizeof(db), &err), 0);
	assert_int_equal(read_mem(a, G4_FLASH_BASE, back, sizeof(back), &err), 0);
	assert_memory_equal(back, da, sizeof(da));
	assert_int_equal(read_mem(b, G4_FLASH_BASE, back, sizeof(back), &err), 0);
	assert_memory_equal(back, db, sizeof(db));
	fx_usb_close(a);
	fx_usb_close(b);
}

/* ---- scenario "drop": the board falls off the bus at the 6th DNLOAD ---- */

static void test_unplug_mid_download(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	static uint8_t img[16384];
	uint8_t mass = DFUSE_CMD_ERASE;
	uint64_t waited = 0;
	struct fx_err err;
	int rc;

	(void)state;
	fx_err_clear(&err);
	memset(img, 0x42, sizeof(img));
	assert_int_equal(command(u, &mass, 1, &err), 0);
	rc = write_mem(u, G4_FLASH_BASE, img, sizeof(img), &err);
	assert_int_equal(rc, FX_E_NODEV); /* a clear error, no success */
	assert_int_equal(err.code, FX_E_NODEV);
	assert_non_null(strstr(err.msg, "device left the bus"));
	/* it stays off: reopen gives up after its bound */
	assert_int_equal(fx_usb_reopen(u, 300, &waited, &err), FX_E_TIMEOUT);
	assert_string_equal(err.msg, "no device re-appeared on port 1-1 within 300 ms");
	assert_true(waited >= 300000u && waited < 2000000u);
	/* the handle is unbound now: requests fail cleanly */
	assert_int_equal(getstatus(u, (uint8_t[6]){ 0 }, &err), FX_E_NODEV);
	fx_usb_close(u);
}

/* ---- scenario "never": after a reset the board never enumerates ---- */

static void test_never_returns(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	uint8_t ob[48], st[6];
	uint64_t waited = 0;
	struct timespec t0, t1;
	struct fx_err err;
	int rc, i;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_usb_set_alt(u, 0, 1, &err), 0);
	assert_int_equal(read_mem(u, G4_OB1_BASE, ob, sizeof(ob), &err), 0);
	assert_int_equal(set_address(u, G4_OB1_BASE, &err), 0);
	fx_usb_expect_reset(u, true); /* what src/dfu says before an OB write */
	assert_int_equal(dnload(u, 2, ob, sizeof(ob), &err), 0); /* same OB: still a reset */
	rc = 0;
	for (i = 0; i < 200 && rc == 0; i++)
		rc = getstatus(u, st, &err);
	assert_int_equal(rc, FX_E_NODEV);
	assert_non_null(strstr(err.msg, "(expected reset"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fx_usb_reopen(u, 1000, &waited, &err), FX_E_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_string_equal(err.msg, "no device re-appeared on port 1-1 within 1000 ms");
	assert_true(waited >= 1000000u);
	/* bounded: gives up at its timeout, not seconds later */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2500);
	fx_usb_close(u);
}

/* ---- scenario "obstall": the first GETSTATUS after an OB write STALLs ---- */

/* A STALL is a STALL (FX_E_STALL) except after the caller said that its
 * next request makes the ROM reset (fx_usb_expect_reset): then
 * LIBUSB_ERROR_PIPE is the reset (FX_E_NODEV). */
static void test_ob_stall_is_expected_reset(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	uint8_t ob[48], st[6];
	uint64_t waited = 0;
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_usb_set_alt(u, 0, 1, &err), 0);
	assert_int_equal(read_mem(u, G4_OB1_BASE, ob, sizeof(ob), &err), 0);
	assert_int_equal(set_address(u, G4_OB1_BASE, &err), 0);
	fx_usb_expect_reset(u, true);
	assert_int_equal(dnload(u, 2, ob, sizeof(ob), &err), 0);
	assert_int_equal(getstatus(u, st, &err), FX_E_NODEV);
	assert_int_equal(err.usb_rc, -9 /* LIBUSB_ERROR_PIPE */);
	assert_string_equal(err.msg, "control request 0x03: device left the bus "
			    "(expected reset, LIBUSB_ERROR_PIPE)");
	assert_int_equal(fx_usb_reopen(u, 5000, &waited, &err), 0);
	/* a new device: STALLs are STALLs again */
	assert_int_equal(ctrl(u, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0600, st, 6, NULL,
			      &err), FX_E_STALL);
	fx_usb_close(u);
}

/* The backend does not decode DfuSe requests to guess a reset: the same
 * option-byte write, not announced, and its STALL stays a STALL. An
 * announced reset that the device refuses (expected = false again) is
 * back to STALL too. */
static void test_ob_stall_unannounced(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	uint8_t ob[48], st[6];
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_usb_set_alt(u, 0, 1, &err), 0);
	assert_int_equal(read_mem(u, G4_OB1_BASE, ob, sizeof(ob), &err), 0);
	fx_usb_expect_reset(u, true);
	fx_usb_expect_reset(u, false);
	assert_int_equal(set_address(u, G4_OB1_BASE, &err), 0);
	assert_int_equal(dnload(u, 2, ob, sizeof(ob), &err), 0);
	assert_int_equal(getstatus(u, st, &err), FX_E_STALL);
	assert_string_equal(err.msg, "control request 0x03 stalled");
	fx_usb_close(u);
}

/* ---- scenario "port": fx_usb_port_wait with the board's NRST driven
 * through fxemu's pin socket, as a station does ---- */

static void nrst(int v)
{
	struct fx_err err;

	fx_err_clear(&err);
	if (fx_gpio_fxemu_pin(NULL, "1-1", FX_GPIO_SIM_PIN_NRST, v, &err))
		fail_msg("nrst %d: %s", v, err.msg);
}

static void test_port_wait(void **state)
{
	struct fx_usb_open_opts o = { .unbound = true };
	struct fx_usb_port_seen seen;
	struct fx_usb *u = NULL;
	uint8_t st[6], first;
	struct fx_err err;

	(void)state;
	fx_err_clear(&err);
	/* following a slot needs a port path */
	assert_int_equal(fx_usb_open("usb:", clk(), &o, &u, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "device 'usb:': following a slot needs a port "
			    "path (usb:PORTPATH, e.g. usb:1-1.4)");
	assert_int_equal(fx_usb_open("usb:1-1", clk(), &o, &u, &err), 0);
	assert_string_equal(fx_usb_get_info(u)->port_path, "1-1");
	assert_int_equal(getstatus(u, st, &err), FX_E_NODEV); /* nothing bound */
	/* nothing old yet: the ROM already on the port is new */
	assert_int_equal(fx_usb_port_wait(u, FX_USB_PORT_NEW, 2000, &seen, &err), 0);
	assert_int_equal(seen.old, 0);
	assert_true(fx_usb_get_info(u)->is_dfu);
	first = fx_usb_get_info(u)->devnum;
	assert_int_equal(getstatus(u, st, &err), 0);
	/* the port does not empty while the board runs */
	assert_int_equal(fx_usb_port_wait(u, FX_USB_PORT_EMPTY, 200, &seen, &err),
			 FX_E_TIMEOUT);
	assert_string_equal(err.msg, "0483:df11 still on port 1-1");
	assert_string_equal(seen.what, "0483:df11");
	assert_int_equal(seen.old, 1);
	/* NRST low: empty as soon as the board is gone, well before the bound */
	nrst(0);
	assert_int_equal(fx_usb_port_wait(u, FX_USB_PORT_EMPTY, 5000, &seen, &err), 0);
	assert_true(seen.waited_us < 2500000u);
	assert_int_equal(seen.old, 1);
	assert_string_equal(seen.what, "");
	/* held in reset: nothing new comes */
	assert_int_equal(fx_usb_port_wait(u, FX_USB_PORT_NEW, 300, &seen, &err),
			 FX_E_TIMEOUT);
	assert_string_equal(err.msg, "no new device on port 1-1 within 300 ms");
	assert_int_equal(getstatus(u, st, &err), FX_E_NODEV);
	/* released: the next enumeration, never the old one */
	nrst(1);
	assert_int_equal(fx_usb_port_wait(u, FX_USB_PORT_NEW, 5000, &seen, &err), 0);
	assert_true(fx_usb_get_info(u)->devnum != first);
	assert_true(fx_usb_get_info(u)->is_dfu);
	assert_int_equal(getstatus(u, st, &err), 0);
	fx_usb_close(u);
}

/* ---- scenario "shared": boards on 1-1 and 1-2, a thread each, as the
 * slots of a gang station; the process makes one libusb context for all
 * of it (issue 14 item 1) ---- */

#define SHARED_CYCLES 3
#define SHARED_BATCH 8

/* Where the slots meet before each NRST low (a barrier that gives up
 * after 10 s: a slot that failed does not come). */
struct shared_meet {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned here, round;
};

static bool shared_meet(struct shared_meet *m)
{
	struct timespec until;
	unsigned round;
	bool met = true;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&m->lock);
	round = m->round;
	if (++m->here == 2) {
		m->here = 0;
		m->round++;
		pthread_cond_broadcast(&m->cond);
	}
	while (met && m->round == round)
		met = pthread_cond_timedwait(&m->cond, &m->lock, &until) == 0;
	pthread_mutex_unlock(&m->lock);
	return met || m->round != round;
}

struct shared_slot {
	const char *port;      /* "1-1" */
	unsigned hold_ms;      /* how long its NEW wait meets NRST low */
	struct shared_meet *meet;
	char fail[400];        /* "" = every step went as expected */
};

static void *shared_fail(struct shared_slot *sl, const char *step,
			 const struct fx_err *err, int rc)
{
	snprintf(sl->fail, sizeof(sl->fail), "port %s: %s: %s (%s)", sl->port,
		 step, err ? err->msg : "", rc ? fx_err_name(rc) : "-");
	return NULL;
}

/* One slot: per cycle a new unbound handle (as seq_reset_wait opens one
 * after every close), the ROM bound, GETSTATUS batched on the shared event
 * loop, NRST low until the port is empty, a NEW wait that must time out
 * while the other slot's board re-plugs, NRST high, the new device bound
 * on this port only. No cmocka assertion here (not in a thread). */
static void *shared_main(void *arg)
{
	struct shared_slot *sl = arg;
	struct fx_usb_open_opts o = { .unbound = true };
	struct fx_usb_xfer x[SHARED_BATCH];
	uint8_t st[SHARED_BATCH][6];
	struct fx_usb_port_seen seen;
	struct fx_err err;
	int rc;

	for (int c = 0; c < SHARED_CYCLES; c++) {
		struct fx_usb *u = NULL;
		struct fx_usb_found found[4];
		uint8_t first;
		size_t n = 0, ok = 0;
		char uri[16];

		fx_err_clear(&err);
		snprintf(uri, sizeof(uri), "usb:%s", sl->port);
		rc = fx_usb_open(uri, clk(), &o, &u, &err);
		if (rc)
			return shared_fail(sl, "open", &err, rc);
		rc = fx_usb_port_wait(u, FX_USB_PORT_NEW, 5000, &seen, &err);
		if (rc) {
			fx_usb_close(u);
			return shared_fail(sl, "first NEW", &err, rc);
		}
		first = fx_usb_get_info(u)->devnum;
		for (int i = 0; i < SHARED_BATCH; i++) {
			struct fx_usb_xfer xi = { { 0xA1, DFU_GETSTATUS, 0, 0, 6 }, st[i], 0 };

			x[i] = xi;
		}
		rc = fx_usb_control_batch(u, x, SHARED_BATCH, 5000, &ok, &err);
		if (rc || ok != SHARED_BATCH || x[SHARED_BATCH - 1].actual != 6) {
			fx_usb_close(u);
			return shared_fail(sl, "GETSTATUS batch", &err, rc);
		}
		/* both boards are up: both list them, then pull NRST low
		 * together */
		if (!shared_meet(sl->meet)) {
			fx_usb_close(u);
			return shared_fail(sl, "the other slot did not come", NULL, 0);
		}
		rc = fx_usb_libusb_list(NULL, found, 4, &n, &err);
		if (rc || n != 2) {
			fx_usb_close(u);
			return shared_fail(sl, n != 2 ? "list (not 2 devices)" : "list",
					   &err, rc);
		}
		if (!shared_meet(sl->meet)) {
			fx_usb_close(u);
			return shared_fail(sl, "the other slot did not come", NULL, 0);
		}
		rc = fx_gpio_fxemu_pin(NULL, sl->port, FX_GPIO_SIM_PIN_NRST, 0, &err);
		if (!rc)
			rc = fx_usb_port_wait(u, FX_USB_PORT_EMPTY, 5000, &seen, &err);
		if (rc) {
			fx_usb_close(u);
			return shared_fail(sl, "NRST low, EMPTY", &err, rc);
		}
		/* held in reset: the other board's plug events are not ours */
		rc = fx_usb_port_wait(u, FX_USB_PORT_NEW, sl->hold_ms, &seen, &err);
		if (rc != FX_E_TIMEOUT) {
			fx_usb_close(u);
			return shared_fail(sl, "NEW while held in reset (expected "
					   "FX_E_TIMEOUT)", &err, rc);
		}
		fx_err_clear(&err);
		rc = fx_gpio_fxemu_pin(NULL, sl->port, FX_GPIO_SIM_PIN_NRST, 1, &err);
		if (!rc)
			rc = fx_usb_port_wait(u, FX_USB_PORT_NEW, 5000, &seen, &err);
		if (!rc && (strcmp(fx_usb_get_info(u)->port_path, sl->port) ||
			    fx_usb_get_info(u)->devnum == first ||
			    !fx_usb_get_info(u)->is_dfu))
			rc = fx_err_set(&err, FX_E_STATE, "bound %s dev %u (first dev %u)",
					fx_usb_get_info(u)->port_path,
					fx_usb_get_info(u)->devnum, first);
		if (!rc)
			rc = getstatus(u, st[0], &err);
		fx_usb_close(u);
		if (rc)
			return shared_fail(sl, "NRST high, NEW", &err, rc);
	}
	return NULL;
}

static void test_shared_context(void **state)
{
	struct shared_meet meet = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct shared_slot sl[2] = {
		{ .port = "1-1", .hold_ms = 600, .meet = &meet },
		{ .port = "1-2", .hold_ms = 50, .meet = &meet },
	};
	pthread_t t[2];

	(void)state;
	assert_int_equal(fx_usb_libusb_contexts(), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, shared_main, &sl[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++)
		if (sl[i].fail[0])
			print_error("%s\n", sl[i].fail);
	assert_true(!sl[0].fail[0] && !sl[1].fail[0]);
	/* 2 slots x 3 cycles: 6 handles, 12 NRST edges, 6 lists, 6 batches */
	assert_int_equal(fx_usb_libusb_contexts(), 1);
}

/* ---- scenario "timeout": the 2nd GETSTATUS is never answered ---- */

static void test_timeout(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	struct fx_usb_setup s = { 0xA1, DFU_GETSTATUS, 0, 0, 6 };
	struct timespec t0, t1;
	uint8_t st[6];
	size_t n = 0;
	struct fx_err err;
	long ms;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(fx_usb_control(u, &s, st, &n, 300, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fx_usb_control(u, &s, st, &n, 300, &err), FX_E_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_string_equal(err.msg, "control request 0x03 timed out after 300 ms");
	assert_int_equal(n, 0);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 290 && ms < 2000);
	/* the cancelled transfer is gone: the next one is answered */
	assert_int_equal(fx_usb_control(u, &s, st, &n, 1000, &err), 0);
	assert_int_equal(n, 6);
	fx_usb_close(u);
}

/* ---- scenarios "fdropN": board 1-2 falls off the bus at its Nth request
 * during a 100 KiB fx_prog_flash (the review's crash: the option-byte read
 * of the erase page size met the drop, prog.c took it for a refused read
 * and the next SET_INTERFACE ran on the detached handle; libusb 1.0.26 then
 * aborted in libusb_close). ---- */

static int drop_nth;

static void test_flash_drop(void **state)
{
	struct fx_usb *u = open_ok("usb:1-2");
	static uint8_t fw[100 * 1024];
	struct fx_image_seg seg = { G4_FLASH_BASE, sizeof(fw), 0, fw };
	struct fx_image img = { .nsegs = 1, .segs = &seg };
	struct fx_prog_flash_result res;
	struct fx_dfu *d;
	struct fx_err err;
	uint8_t st[6];
	int rc;

	(void)state;
	fx_err_clear(&err);
	memset(fw, 0x5A, sizeof(fw));
	d = fx_dfu_open(u, &err);
	if (!d)
		fail_msg("fx_dfu_open: %s", err.msg);
	rc = fx_prog_flash(d, &img, NULL, &res, &err);
	printf("nth %d: %s (%s)\n", drop_nth, err.msg, fx_err_name(rc));
	assert_int_equal(rc, FX_E_NODEV); /* an error, no success */
	assert_non_null(strstr(err.msg, "device left the bus"));
	/* the drop inside the option-byte read is an error, not a warning */
	if (drop_nth >= 10 && drop_nth <= 22)
		assert_non_null(strstr(err.msg, "flash: erase page size: "));
	/* the handle is dead: nothing more reaches libusb */
	assert_int_equal(fx_usb_set_alt(u, 0, 0, &err), FX_E_NODEV);
	assert_string_equal(err.msg, "set interface 0 alt 0: device left the bus (not sent)");
	assert_int_equal(getstatus(u, st, &err), FX_E_NODEV);
	assert_string_equal(err.msg, "control request 0x03: device left the bus (not sent)");
	fx_dfu_free(d);
	fx_usb_close(u); /* no abort in libusb_close */
}

/* ---- scenario "strings": string reads over fxemu -vv, every control
 * transfer in its log (checked by check_strings() in the parent) ---- */

/* Serial and product (bind), every alt name, alt 0 again; then a leave,
 * the reopen on the new device, its alt 0 name. The language ID (string
 * descriptor 0) is asked once per handle: once before the reset, once
 * after it (the new device may speak another language). */
static void test_strings_lang_cached(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	uint8_t st[6];
	uint64_t waited = 0;
	struct fx_err err;
	char name[128];
	unsigned alt;

	(void)state;
	fx_err_clear(&err);
	assert_string_equal(fx_usb_get_info(u)->product, "DFU in FS Mode");
	for (alt = 0; alt < 3; alt++)
		alt_name(u, alt, name, sizeof(name));
	alt_name(u, 0, name, sizeof(name));
	assert_string_equal(name, "@Internal Flash   /0x08000000/256*02Kg");
	assert_int_equal(set_address(u, G4_FLASH_BASE, &err), 0);
	assert_int_equal(dnload(u, 2, NULL, 0, &err), 0);
	(void)getstatus(u, st, &err); /* dfuMANIFEST, or gone already */
	assert_int_equal(fx_usb_reopen(u, 5000, &waited, &err), 0);
	assert_string_equal(fx_usb_get_info(u)->product, "DFU in FS Mode");
	assert_int_equal(strlen(fx_usb_get_info(u)->serial), 12);
	alt_name(u, 0, name, sizeof(name));
	assert_string_equal(name, "@Internal Flash   /0x08000000/256*02Kg");
	fx_usb_close(u);
}

/* fxemu's log of the "strings" scenario: per device address, how many
 * GET_DESCRIPTOR(string 0) (the language IDs) and how many strings in
 * 0x0409. Exactly two devices (before and after the reset), one language
 * request on each, before its strings; 6 strings on the first (serial,
 * product, 3 alt names, alt 0 again), 3 on the second. */
static int check_strings(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[512];
	unsigned dev[2] = { 0 }, lang[2] = { 0 }, str[2] = { 0 }, ndev = 0, d, i;
	int bad = 0;

	if (!f) {
		printf("check_strings: cannot open %s\n", log);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, ": dev ");
		unsigned idx, lid;

		if (!p || sscanf(p, ": dev %u: 80 06 03%2x %4x", &d, &idx, &lid) != 3)
			continue;
		for (i = 0; i < ndev && dev[i] != d; i++)
			;
		if (i == ndev) {
			if (ndev == 2) {
				printf("check_strings: strings from a third device %u\n", d);
				bad = 1;
				continue;
			}
			dev[ndev++] = d;
		}
		if (idx == 0) {
			lang[i]++;
		} else if (lid == 0x0409) {
			if (!lang[i]) {
				printf("check_strings: dev %u: string %u before the language\n", d, idx);
				bad = 1;
			}
			str[i]++;
		}
	}
	fclose(f);
	if (ndev != 2 || lang[0] != 1 || lang[1] != 1 || str[0] != 6 || str[1] != 3) {
		printf("check_strings: %u devices; language requests %u, %u (expected 1, 1); "
		       "strings %u, %u (expected 6, 3)\n", ndev, lang[0], lang[1], str[0], str[1]);
		bad = 1;
	}
	return bad;
}

/* ---- scenario "batch": fx_usb_control_batch over fxemu -vv (the
 * queueing checked in the log by check_batch()) ---- */

#define BATCH_BLOCKS 16

/* 16 UPLOADs queued at once read what 16 sent one by one read; a STALL
 * in the middle of a batch is its result, with the ones before it done. */
static void test_batch_queue(void **state)
{
	struct fx_usb *u = open_ok("usb:1-1");
	static uint8_t one[BATCH_BLOCKS * XFER], queued[BATCH_BLOCKS * XFER];
	struct fx_usb_xfer x[BATCH_BLOCKS];
	uint8_t st[6], q[10];
	struct fx_err err;
	size_t ok = 99, i;

	(void)state;
	fx_err_clear(&err);
	assert_int_equal(read_mem(u, G4_FLASH_BASE, one, sizeof(one), &err), 0);
	assert_int_equal(set_address(u, G4_FLASH_BASE, &err), 0);
	assert_int_equal(dfu_abort(u, &err), 0);
	memset(x, 0, sizeof(x));
	for (i = 0; i < BATCH_BLOCKS; i++) {
		struct fx_usb_setup s = { 0xA1, DFU_UPLOAD, (uint16_t)(2 + i), 0, XFER };

		x[i].setup = s;
		x[i].data = queued + i * XFER;
	}
	assert_int_equal(fx_usb_control_batch(u, x, BATCH_BLOCKS, 5000, &ok, &err), 0);
	assert_int_equal(ok, BATCH_BLOCKS);
	for (i = 0; i < BATCH_BLOCKS; i++)
		assert_int_equal(x[i].actual, XFER);
	assert_memory_equal(one, queued, sizeof(one));
	assert_int_equal(dfu_abort(u, &err), 0);
	/* GETSTATUS, a STALLed GET_DESCRIPTOR(device qualifier), GETSTATUS */
	memset(x, 0, 3 * sizeof(x[0]));
	x[0].setup = (struct fx_usb_setup){ 0xA1, DFU_GETSTATUS, 0, 0, 6 };
	x[0].data = st;
	x[1].setup = (struct fx_usb_setup){ 0x80, USB_REQ_GET_DESCRIPTOR, 0x0600, 0, 10 };
	x[1].data = q;
	x[2].setup = (struct fx_usb_setup){ 0xA1, DFU_GETSTATUS, 0, 0, 6 };
	x[2].data = st;
	assert_int_equal(fx_usb_control_batch(u, x, 3, 5000, &ok, &err), FX_E_STALL);
	assert_int_equal(ok, 1);
	assert_int_equal(x[0].actual, 6);
	assert_string_equal(err.msg, "control request 0x06 stalled");
	assert_int_equal(fx_usb_control_batch(u, x, FX_USB_BATCH_MAX + 1, 5000, &ok, &err),
			 FX_E_INVAL);
	/* the pipe recovers: the next request works */
	assert_int_equal(getstatus(u, st, &err), 0);
	fx_usb_close(u);
}

/* fxemu's log of "batch" (run in real time: the spec's bus times): the
 * 1024-byte UPLOADs' completion times (model time). Sent one by one, each
 * starts after the host saw the last one end: always more than the
 * 1460 us bus time apart. Queued, every one the host submitted before the
 * bus was free runs right after the last: exactly 1460 us apart (spec 8
 * transfer model); a submission is a round trip to fxemu, well under
 * 1460 us, so most of them (a loaded machine may delay a few). */
static int check_batch(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[512];
	unsigned long long t, last = 0;
	unsigned n = 0, back_to_back = 0, gaps = 0, d;

	if (!f) {
		printf("check_batch: cannot open %s\n", log);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, ": dev ");
		const char *at = strstr(line, "done at ");

		if (!p || !at || sscanf(p, ": dev %u: a1 02 %*4x 0000 1024 ", &d) != 1 ||
		    !strstr(p, " a1 02 ") || !strstr(p, " 1024 -> 0") ||
		    sscanf(at, "done at %llu", &t) != 1)
			continue;
		if (n++ < BATCH_BLOCKS)
			gaps += n > 1 && t - last > 1460u;
		else if (n > BATCH_BLOCKS + 1)
			back_to_back += t - last == 1460u;
		last = t;
	}
	fclose(f);
	if (n != 2 * BATCH_BLOCKS || gaps != BATCH_BLOCKS - 1 ||
	    back_to_back < BATCH_BLOCKS / 2) {
		printf("check_batch: %u UPLOADs (expected %d); one by one %u of %d more than "
		       "1460 us apart (expected all); queued %u of %d exactly 1460 us apart "
		       "(expected at least %d)\n", n, 2 * BATCH_BLOCKS, gaps, BATCH_BLOCKS - 1,
		       back_to_back, BATCH_BLOCKS - 1, BATCH_BLOCKS / 2);
		return 1;
	}
	return 0;
}

/* ---- driver ---- */

struct scenario {
	const char *name;
	const char *boards[3]; /* file names (+ knobs) in the temp dir */
	const struct CMUnitTest *tests;
	size_t ntests;
};

static const struct CMUnitTest one_tests[] = {
	cmocka_unit_test(test_port_path_syntax),
	cmocka_unit_test(test_enumerate),
	cmocka_unit_test(test_match),
	cmocka_unit_test(test_descriptors),
	cmocka_unit_test(test_stall),
	cmocka_unit_test(test_flash_verify),
	cmocka_unit_test(test_leave),
	cmocka_unit_test(test_reopen_rescan),
	cmocka_unit_test(test_dbank_reset),
};
static const struct CMUnitTest two_tests[] = {
	cmocka_unit_test(test_two_ambiguous),
	cmocka_unit_test(test_two_at_once),
};
static const struct CMUnitTest drop_tests[] = {
	cmocka_unit_test(test_unplug_mid_download),
};
static const struct CMUnitTest never_tests[] = {
	cmocka_unit_test(test_never_returns),
};
static const struct CMUnitTest obstall_tests[] = {
	cmocka_unit_test(test_ob_stall_is_expected_reset),
};
static const struct CMUnitTest obstall2_tests[] = {
	cmocka_unit_test(test_ob_stall_unannounced),
};
static const struct CMUnitTest port_tests[] = {
	cmocka_unit_test(test_port_wait),
};
static const struct CMUnitTest fdrop_tests[] = {
	cmocka_unit_test(test_flash_drop),
};
static const struct CMUnitTest strings_tests[] = {
	cmocka_unit_test(test_strings_lang_cached),
};
static const struct CMUnitTest batch_tests[] = {
	cmocka_unit_test(test_batch_queue),
};
static const struct CMUnitTest shared_tests[] = {
	cmocka_unit_test(test_shared_context),
};
static const struct CMUnitTest timeout_tests[] = {
	cmocka_unit_test(test_timeout),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct scenario scenarios[] = {
	{ "one", { "one.fxb" }, one_tests, N(one_tests) },
	{ "two", { "a.fxb", "b.fxb" }, two_tests, N(two_tests) },
	{ "drop", { "drop.fxb?fault=drop&fault_req=dnload&fault_nth=6" },
	  drop_tests, N(drop_tests) },
	{ "never", { "never.fxb?return=never" }, never_tests, N(never_tests) },
	{ "obstall", { "obstall.fxb?obreset=stall" }, obstall_tests, N(obstall_tests) },
	{ "port", { "port.fxb" }, port_tests, N(port_tests) },
	{ "obstall2", { "obstall2.fxb?obreset=stall" }, obstall2_tests, N(obstall2_tests) },
	{ "timeout", { "timeout.fxb?fault=timeout&fault_req=getstatus&fault_nth=2" },
	  timeout_tests, N(timeout_tests) },
	{ "strings", { "strings.fxb" }, strings_tests, N(strings_tests) },
	{ "batch", { "batch.fxb" }, batch_tests, N(batch_tests) },
	{ "shared", { "sa.fxb", "sb.fxb" }, shared_tests, N(shared_tests) },
#define FDROP(n) { "fdrop" #n, { "fd" #n "a.fxb", \
		   "fd" #n "b.fxb?fault=drop&fault_nth=" #n }, \
		   fdrop_tests, N(fdrop_tests) }
	/* the open: 9 requests (the language once, serial, product, the
	 * configuration, 3 alt names, SET_INTERFACE alt 0, GETSTATUS); 10, 23: SET_INTERFACE
	 * meets the drop first (sent as a control request: libusb_close()
	 * must not abort afterwards); 10-22: inside the option-byte read of
	 * the erase page size */
	FDROP(10), FDROP(13), FDROP(14), FDROP(15), FDROP(16), FDROP(17),
	FDROP(18), FDROP(23),
#undef FDROP
};

/* Scenarios run under fxemu -vv, its log (stderr) to a file checked
 * after the scenario passed. */
static int (*log_check(const char *name))(const char *log)
{
	return !strcmp(name, "strings") ? check_strings :
	       !strcmp(name, "batch") ? check_batch : NULL;
}

static int run_scenario(const char *name)
{
	fx_rclock_init(&rclock, 1.0);
	if (!strncmp(name, "fdrop", 5))
		drop_nth = atoi(name + 5);
	for (size_t i = 0; i < N(scenarios); i++)
		if (!strcmp(scenarios[i].name, name))
			return _cmocka_run_group_tests(name, scenarios[i].tests,
						       scenarios[i].ntests, NULL, NULL);
	fprintf(stderr, "unknown scenario '%s'\n", name);
	return 2;
}

/* Run argv; its stderr to log when not NULL. */
static int spawn(char *const argv[], const char *log)
{
	pid_t pid;
	int st, fd;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (log) {
			fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0 || dup2(fd, 2) < 0)
				_exit(126);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], fxemu[PATH_MAX + 16], dir[] = "/tmp/fx-usbfs-XXXXXX";
	char paths[3][PATH_MAX + 64], cmd[PATH_MAX + 64], log[PATH_MAX + 64];
	ssize_t n;
	int failed = 0;

	if (argc == 3 && !strcmp(argv[1], "--scenario"))
		return run_scenario(argv[2]);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	/* BUILD/tests/usbfs/test_libusb -> BUILD/fxemu */
	snprintf(fxemu, sizeof(fxemu), "%s", self);
	for (int up = 0; up < 3; up++)
		*strrchr(fxemu, '/') = '\0';
	snprintf(fxemu + strlen(fxemu), sizeof(fxemu) - strlen(fxemu), "/fxemu");
	if (access(fxemu, X_OK) != 0) {
		printf("SKIP: %s not built (make %s)\n", fxemu, fxemu);
		return 77;
	}
	if (!mkdtemp(dir))
		return 1;
	for (size_t i = 0; i < N(scenarios); i++) {
		const struct scenario *s = &scenarios[i];
		int (*check)(const char *log);
		char *args[16], show[PATH_MAX + 96];
		int k = 0, rc;

		args[k++] = fxemu;
		/* "batch" compares bus times with host round trips: real time */
		args[k++] = (char *)(strcmp(s->name, "batch") ? "--realtime=" SCALE : "--realtime=1");
		check = log_check(s->name);
		if (check)
			args[k++] = (char *)"-vv";
		for (int b = 0; b < 3 && s->boards[b]; b++) {
			snprintf(paths[b], sizeof(paths[b]), "--board=%s/%s", dir, s->boards[b]);
			args[k++] = paths[b];
		}
		args[k++] = (char *)"--";
		snprintf(cmd, sizeof(cmd), "%s", self);
		args[k++] = cmd;
		args[k++] = (char *)"--scenario";
		args[k++] = (char *)s->name;
		args[k] = NULL;
		snprintf(log, sizeof(log), "%s/%s.log", dir, s->name);
		rc = spawn(args, check ? log : NULL);
		if (rc == 0 && check && check(log)) {
			snprintf(show, sizeof(show), "cat '%s'", log);
			if (system(show) != 0)
				fprintf(stderr, "could not show %s\n", log);
			rc = 1;
		}
		printf("scenario %s: %s (exit %d)\n", s->name, rc == 0 ? "ok" : "FAILED", rc);
		failed |= rc != 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return failed;
}
