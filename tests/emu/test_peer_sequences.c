/* test_peer_sequences.c - two DFU clients that are not Debian packages,
 * reproduced request by request against the emulated STM32G474 through
 * the USB seam (usb_emu, virtual time), flashing the odd-sized objcopy
 * .bin of issue 9 section 2 item 1 (3660 bytes: the last DNLOAD is 588
 * bytes, not a multiple of 8) on the default tail=pad:
 *
 *   pydfu   MicroPython tools/pydfu.py (pyusb). Never selects an alt
 *           setting; erases the page holding each write from the alt-0
 *           layout string, then SET_ADDRESS before every chunk
 *           (wBlockNum 2); every DfuSe step is one GETSTATUS that must
 *           say dfuDNBUSY and, *at once*, one that must say
 *           dfuDNLOAD-IDLE: it never sleeps bwPollTimeout, so it works
 *           only where a GETSTATUS asked while busy is answered when the
 *           work is done (spec 8 busy=wait, the default); leaves with a
 *           zero-length DNLOAD with wValue 0 and wants dfuMANIFEST.
 *   webdfu  npm `dfu` (flipperdevices/webdfu, WebUSB/node-usb). Selects
 *           the alt; erases every sector of the range first; per chunk
 *           SET_ADDRESS + DNLOAD(wBlockNum 2) and polls (sleeping
 *           bwPollTimeout) until dfuDNLOAD-IDLE; leaves like pydfu; reads
 *           with GETSTATE and ABORT-to-idle around the uploads, the last
 *           upload short (588 bytes at wBlockNum 5).
 *
 * Where the clients differ from dfu-util, the emulator must agree with
 * the clients on the default knobs; the knobs that make them fail say
 * which decision they depend on (busy=stall/lying for pydfu, tail=reject
 * and tail=drop for both), and pydfu's erase-as-you-go loses the first
 * 2 KiB on a single-bank board whose ROM keeps the 2 KiB string
 * (alt0=constant).
 * Descriptions of the public sources, not copies of their code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fx/bytes.h"
#include "fx/dfu.h"
#include "fx/emu.h"
#include "fx/prog.h"
#include "host_fix.h"

#define ODD_LEN 3660u /* objcopy -O binary of the firmware */
#define FLASH 0x08000000u
#define BAD_STATE 1   /* a client's own check failed (not a transport error) */

struct peer {
	struct fxt_host h;
	struct fx_err err;
	uint16_t xfer;                 /* wTransferSize from the config blob */
	uint8_t alt0_string;           /* iInterface of alt 0 */
	struct fx_dfuse_layout layout; /* parsed alt-0 string */
	uint8_t st[6];                 /* last GETSTATUS reply */
	uint8_t img[ODD_LEN];
};

static struct peer P;

/* The issue's .bin: a plausible vector table (SP 0x20020000, reset
 * 0x08000101), then deterministic bytes. */
static void make_image(uint8_t *img)
{
	fxt_fill(img, ODD_LEN, 3660u);
	memcpy(img, "\x00\x00\x02\x20\x01\x01\x00\x08", 8);
}

/* ---- the wire, as both clients use it --------------------------------- */

static int ctl(struct peer *p, bool in, uint8_t req, uint16_t wvalue,
	       uint8_t *data, uint16_t len, size_t *got)
{
	struct fx_usb_setup s = {
		.bmRequestType = (uint8_t)((in ? USB_DIR_IN : 0) | USB_TYPE_CLASS |
					   USB_RECIP_INTERFACE),
		.bRequest = req,
		.wValue = wvalue,
		.wIndex = 0,
		.wLength = len,
	};
	size_t n = 0;

	fx_err_clear(&p->err);
	/* pydfu: 4 s for requests, 20 s for GETSTATUS; webdfu: none */
	return fx_usb_control(p->h.usb, &s, data, got ? got : &n,
			      req == DFU_GETSTATUS ? 20000u : 5000u, &p->err);
}

static int dnload(struct peer *p, uint16_t blk, const uint8_t *data, uint16_t len)
{
	return ctl(p, false, DFU_DNLOAD, blk, (uint8_t *)(uintptr_t)data, len, NULL);
}

static int getstatus(struct peer *p)
{
	size_t n = 0;
	int rc = ctl(p, true, DFU_GETSTATUS, 0, p->st, 6, &n);

	return rc ? rc : n == 6 ? 0 : FX_E_PROTO;
}

#define ST_STATE(p) ((p)->st[4])
#define ST_STATUS(p) ((p)->st[0])
#define ST_POLL_MS(p) fx_get_le24((p)->st + 1)

static void sleep_ms(struct peer *p, uint32_t ms)
{
	fx_clock_sleep(p->h.usb->clock, (uint64_t)ms * 1000u);
}

/* Both clients read wTransferSize from the functional descriptor in the
 * configuration blob and the alt-0 layout from iInterface of alt 0. */
static void learn_device(struct peer *p)
{
	uint8_t cfg[512];
	size_t len = 0, i;
	char name[128];

	assert_int_equal(fx_usb_config_desc(p->h.usb, cfg, sizeof(cfg), &len, &p->err), 0);
	for (i = 0; i + 2 <= len && cfg[i] >= 2; i += cfg[i]) {
		if (cfg[i + 1] == USB_DT_INTERFACE && cfg[i + 3] == 0)
			p->alt0_string = cfg[i + 8];
		if (cfg[i + 1] == USB_DT_DFU_FUNCTIONAL)
			p->xfer = (uint16_t)fx_get_le16(cfg + i + 5);
	}
	assert_int_equal(p->xfer, 1024);
	assert_int_equal(fx_usb_string(p->h.usb, p->alt0_string, name, sizeof(name), &p->err), 0);
	assert_int_equal(fx_dfuse_layout_parse(name, &p->layout, &p->err), 0);
}

/* A board with knobs; single_bank: DBANK set to 0 first (option-byte
 * write, reset, re-enumeration) by fixturectl's own stack. */
static void peer_up_bank(struct peer *p, const char *knobs, bool single_bank)
{
	memset(p, 0, sizeof(*p));
	make_image(p->img);
	fxt_host_up(&p->h, knobs);
	if (single_bank) {
		struct fx_g4_ob want;

		assert_int_equal(fx_prog_ob_read(p->h.d, &want, &p->err), 0);
		assert_int_equal(fx_g4_ob_apply(&want, "DBANK=0", &p->err), 0);
		assert_int_equal(fx_prog_ob_write(p->h.d, &want, 5000, NULL, &p->err), 0);
	}
	/* the clients talk to the device themselves: only the transport */
	fx_dfu_free(p->h.d);
	p->h.d = NULL;
	learn_device(p);
}

static void peer_up(struct peer *p, const char *knobs)
{
	peer_up_bank(p, knobs, false);
}

/* ---- pydfu --------------------------------------------------------------- */

/* check_status(): one GETSTATUS whose state must be want. */
static int pd_check(struct peer *p, uint8_t want)
{
	int rc = getstatus(p);

	if (rc)
		return rc;
	return ST_STATE(p) == want ? 0 : BAD_STATE;
}

/* A DfuSe command, then dfuDNBUSY and dfuDNLOAD-IDLE back to back. */
static int pd_command(struct peer *p, uint8_t cmd, uint32_t addr, bool with_addr)
{
	uint8_t b[5] = { cmd };
	int rc;

	fx_put_le32(b + 1, addr);
	if ((rc = dnload(p, 0, b, with_addr ? 5 : 1)) ||
	    (rc = pd_check(p, dfuDNBUSY)))
		return rc;
	return pd_check(p, dfuDNLOAD_IDLE);
}

/* init(): up to four rounds to dfuIDLE; no SET_INTERFACE (alt 0 as it is). */
static int pd_init(struct peer *p)
{
	int i, rc;

	for (i = 0; i < 4; i++) {
		if ((rc = getstatus(p)))
			return rc;
		if (ST_STATE(p) == dfuIDLE)
			return 0;
		if (ST_STATE(p) == dfuDNLOAD_IDLE || ST_STATE(p) == dfuUPLOAD_IDLE)
			rc = ctl(p, false, DFU_ABORT, 0, NULL, 0, NULL);
		else
			rc = ctl(p, false, DFU_CLRSTATUS, 0, NULL, 0, NULL);
		if (rc)
			return rc;
	}
	return BAD_STATE;
}

/* write_memory(): SET_ADDRESS before every wTransferSize chunk. */
static int pd_write_memory(struct peer *p, uint32_t addr, const uint8_t *d, size_t len)
{
	size_t off;
	int rc;

	for (off = 0; off < len; off += p->xfer) {
		uint16_t n = (uint16_t)(len - off < p->xfer ? len - off : p->xfer);

		if ((rc = pd_command(p, DFUSE_CMD_SET_ADDRESS, addr + (uint32_t)off, true)) ||
		    (rc = dnload(p, 2, d + off, n)) ||
		    (rc = pd_check(p, dfuDNBUSY)) ||
		    (rc = pd_check(p, dfuDNLOAD_IDLE)))
			return rc;
	}
	return 0;
}

/* write_elements(): unless mass-erased, erase the page holding addr and
 * write up to that page's end, page by page. */
static int pd_write_elements(struct peer *p, uint32_t addr, const uint8_t *d,
			     size_t len, bool mass_erased)
{
	int rc;

	while (len > 0) {
		size_t n = len;

		if (!mass_erased) {
			const struct fx_dfuse_seg *g = fx_dfuse_layout_find(&p->layout, addr);
			uint32_t page;

			assert_non_null(g);
			page = addr & ~(g->page_size - 1u);
			if (addr + n > page + g->page_size)
				n = page + g->page_size - addr;
			if ((rc = pd_command(p, DFUSE_CMD_ERASE, page, true)))
				return rc;
		}
		if ((rc = pd_write_memory(p, addr, d, n)))
			return rc;
		addr += (uint32_t)n;
		d += n;
		len -= n;
	}
	return 0;
}

/* exit_dfu(): SET_ADDRESS 0x08000000, zero-length DNLOAD with wValue 0,
 * one GETSTATUS that should say dfuMANIFEST. */
static int pd_exit(struct peer *p)
{
	int rc;

	if ((rc = pd_command(p, DFUSE_CMD_SET_ADDRESS, FLASH, true)) ||
	    (rc = dnload(p, 0, NULL, 0)))
		return rc;
	return pd_check(p, dfuMANIFEST);
}

/* ---- webdfu -------------------------------------------------------------- */

/* poll_until(): GETSTATUS, and while the predicate is false and the state
 * is not dfuERROR, sleep bwPollTimeout and ask again. */
static int wd_poll_until(struct peer *p, bool (*done)(uint8_t))
{
	int rc = getstatus(p);

	while (!rc && !done(ST_STATE(p)) && ST_STATE(p) != dfuERROR) {
		sleep_ms(p, ST_POLL_MS(p));
		rc = getstatus(p);
	}
	return rc;
}

static bool not_busy(uint8_t s) { return s != dfuDNBUSY; }
static bool dnload_idle(uint8_t s) { return s == dfuDNLOAD_IDLE; }
static bool manifest(uint8_t s) { return s == dfuMANIFEST; }

/* dfuseCommand(): DNLOAD wValue 0 [cmd, addr LE32], poll until not busy,
 * the status must be OK. */
static int wd_command(struct peer *p, uint8_t cmd, uint32_t addr)
{
	uint8_t b[5] = { cmd };
	int rc;

	fx_put_le32(b + 1, addr);
	if ((rc = dnload(p, 0, b, 5)) || (rc = wd_poll_until(p, not_busy)))
		return rc;
	return ST_STATUS(p) == DFU_STATUS_OK ? 0 : BAD_STATE;
}

/* abortToIdle(): ABORT, GETSTATE, CLRSTATUS + GETSTATE in dfuERROR, then
 * the state must be dfuIDLE. */
static int wd_abort_to_idle(struct peer *p)
{
	uint8_t s = 0;
	size_t n = 0;
	int rc;

	if ((rc = ctl(p, false, DFU_ABORT, 0, NULL, 0, NULL)) ||
	    (rc = ctl(p, true, DFU_GETSTATE, 0, &s, 1, &n)))
		return rc;
	if (s == dfuERROR &&
	    ((rc = ctl(p, false, DFU_CLRSTATUS, 0, NULL, 0, NULL)) ||
	     (rc = ctl(p, true, DFU_GETSTATE, 0, &s, 1, &n))))
		return rc;
	return s == dfuIDLE ? 0 : BAD_STATE;
}

/* open(): claim and SET_INTERFACE to the alt (0: the flash). */
static void wd_open(struct peer *p)
{
	assert_int_equal(fx_usb_set_alt(p->h.usb, 0, 0, &p->err), 0);
}

/* do_write() of the DfuSe driver: every sector of [start, start+len)
 * erased first, then per chunk SET_ADDRESS + DNLOAD(2) + poll until
 * dfuDNLOAD-IDLE with status OK; then the manifestation: SET_ADDRESS
 * start, zero-length DNLOAD wValue 0, poll until dfuMANIFEST (an error
 * there is only logged by webdfu; here it is returned). */
static int wd_write(struct peer *p, uint32_t start, const uint8_t *d, size_t len)
{
	const struct fx_dfuse_seg *g = fx_dfuse_layout_find(&p->layout, start);
	uint32_t a, end;
	size_t sent = 0;
	int rc;

	assert_non_null(g);
	a = g->start + (start - g->start) / g->page_size * g->page_size;
	end = start + (uint32_t)len;
	end = g->start + ((end - 1u - g->start) / g->page_size + 1u) * g->page_size;
	for (; a < end; a += g->page_size)
		if ((rc = wd_command(p, DFUSE_CMD_ERASE, a)))
			return rc;
	while (sent < len) {
		uint16_t n = (uint16_t)(len - sent < p->xfer ? len - sent : p->xfer);

		if ((rc = wd_command(p, DFUSE_CMD_SET_ADDRESS, start + (uint32_t)sent)) ||
		    (rc = dnload(p, 2, d + sent, n)) ||
		    (rc = wd_poll_until(p, dnload_idle)))
			return rc;
		if (ST_STATUS(p) != DFU_STATUS_OK)
			return BAD_STATE;
		sent += n;
	}
	if ((rc = wd_command(p, DFUSE_CMD_SET_ADDRESS, start)) ||
	    (rc = dnload(p, 0, NULL, 0)))
		return rc;
	return wd_poll_until(p, manifest);
}

/* do_read() of the DfuSe driver: GETSTATE (abortToIdle unless dfuIDLE),
 * SET_ADDRESS, abortToIdle, UPLOADs from wBlockNum 2 of min(xfer, what is
 * left) until a short one or max, abortToIdle when max was read. */
static int wd_read(struct peer *p, uint32_t start, uint8_t *buf, size_t max)
{
	uint16_t blk = 2;
	size_t done = 0, want, got;
	uint8_t s = 0;
	size_t n = 0;
	int rc;

	if ((rc = ctl(p, true, DFU_GETSTATE, 0, &s, 1, &n)))
		return rc;
	if (s != dfuIDLE && (rc = wd_abort_to_idle(p)))
		return rc;
	if ((rc = wd_command(p, DFUSE_CMD_SET_ADDRESS, start)) ||
	    (rc = wd_abort_to_idle(p)))
		return rc;
	do {
		want = max - done < p->xfer ? max - done : p->xfer;
		got = 0;
		if ((rc = ctl(p, true, DFU_UPLOAD, blk++, buf + done, (uint16_t)want, &got)))
			return rc;
		done += got;
	} while (done < max && got == want);
	if (done != max)
		return BAD_STATE;
	return wd_abort_to_idle(p);
}

/* ---- the checks ------------------------------------------------------- */

/* The flash holds the image, the padded tail double word reads 0xFF
 * (erased), and after the leave the application booted. */
static void assert_flashed_and_booted(struct peer *p)
{
	static const uint8_t ff[4] = { 0xFF, 0xFF, 0xFF, 0xFF };

	fxt_host_assert_flash(&p->h, FLASH, p->img, ODD_LEN);
	fxt_host_assert_flash(&p->h, FLASH + ODD_LEN, ff, sizeof(ff));
	assert_int_equal(fxt_host_settle(&p->h, 200), FX_EMU_BUS_APP);
}

static void test_pydfu_odd_bin(void **state)
{
	struct peer *p = &P;

	(void)state;
	peer_up(p, NULL);
	assert_int_equal(p->layout.segs[0].page_size, 2048); /* factory DBANK=1 */
	assert_int_equal(pd_init(p), 0);
	/* 2 pages: 2048 bytes (2 chunks), 1612 bytes (1024 + 588) */
	assert_int_equal(pd_write_elements(p, FLASH, p->img, ODD_LEN, false), 0);
	assert_int_equal(pd_exit(p), 0);
	assert_flashed_and_booted(p);
	fxt_host_down(&p->h);
}

/* pydfu erases the page holding each write just before writing it, page
 * by page, with the page size of the alt-0 string; dfu-util >= 0.10 and
 * webdfu erase everything first. On a single-bank board (4 KiB pages)
 * with the default string ("128*04Kg") that is right; with a ROM that
 * keeps the 2 KiB string (knob alt0=constant, spec 8 and 7 item 2) the
 * erase of 0x08000800 clears the 4 KiB page again and the first 2 KiB
 * just written are lost: only a readback shows it. */
static void test_pydfu_single_bank(void **state)
{
	struct peer *p = &P;
	uint8_t back[ODD_LEN];
	size_t i;

	(void)state;
	peer_up_bank(p, NULL, true);
	assert_int_equal(p->layout.segs[0].page_size, 4096);
	assert_int_equal(pd_init(p), 0);
	assert_int_equal(pd_write_elements(p, FLASH, p->img, ODD_LEN, false), 0);
	assert_int_equal(pd_exit(p), 0);
	assert_flashed_and_booted(p);
	fxt_host_down(&p->h);
	peer_up_bank(p, "alt0=constant", true);
	assert_int_equal(p->layout.segs[0].page_size, 2048);
	assert_int_equal(pd_init(p), 0);
	assert_int_equal(pd_write_elements(p, FLASH, p->img, ODD_LEN, false), 0);
	assert_int_equal(fx_emu_backdoor_flash_read(p->h.board, FLASH, back, ODD_LEN), 0);
	for (i = 0; i < 2048 && back[i] == 0xFF; i++)
		;
	assert_int_equal(i, 2048); /* the first page's bytes: erased again */
	assert_memory_equal(back + 2048, p->img + 2048, ODD_LEN - 2048);
	fxt_host_down(&p->h);
}

static void test_pydfu_mass_erase(void **state)
{
	struct peer *p = &P;

	(void)state;
	peer_up(p, NULL);
	assert_int_equal(pd_init(p), 0);
	assert_int_equal(pd_command(p, DFUSE_CMD_ERASE, 0, false), 0); /* pydfu -m */
	assert_int_equal(pd_write_elements(p, FLASH, p->img, ODD_LEN, true), 0);
	assert_int_equal(pd_exit(p), 0);
	assert_flashed_and_booted(p);
	fxt_host_down(&p->h);
}

/* pydfu never waits bwPollTimeout: it depends on the spec-8 default
 * busy=wait. An L4-style ROM (busy=stall) STALLs its second GETSTATUS, a
 * lying one (busy=lying) answers dfuDNBUSY again, which pydfu's
 * check_status refuses. */
static void test_pydfu_depends_on_busy_wait(void **state)
{
	struct peer *p = &P;

	(void)state;
	peer_up(p, "busy=stall");
	assert_int_equal(pd_init(p), 0);
	assert_int_equal(pd_write_elements(p, FLASH, p->img, ODD_LEN, false), FX_E_STALL);
	fxt_host_down(&p->h);
	peer_up(p, "busy=lying");
	assert_int_equal(pd_init(p), 0);
	assert_int_equal(pd_write_elements(p, FLASH, p->img, ODD_LEN, false), BAD_STATE);
	assert_int_equal(ST_STATE(p), dfuDNBUSY);
	fxt_host_down(&p->h);
}

static void test_webdfu_odd_bin(void **state)
{
	struct peer *p = &P;

	(void)state;
	peer_up(p, NULL);
	wd_open(p);
	assert_int_equal(wd_write(p, FLASH, p->img, ODD_LEN), 0);
	assert_int_equal(ST_STATE(p), dfuMANIFEST);
	assert_flashed_and_booted(p);
	fxt_host_down(&p->h);
}

/* webdfu's read of the image: GETSTATE, ABORT-to-idle, and a short last
 * UPLOAD (588 bytes at wBlockNum 5) after full ones. */
static void test_webdfu_read_back(void **state)
{
	struct peer *p = &P;
	struct fx_image_seg seg = { .addr = FLASH, .len = ODD_LEN };
	struct fx_image img = { .segs = &seg, .nsegs = 1 };
	struct fx_prog_flash_opts o = { .verify = true };
	uint8_t back[ODD_LEN];
	struct fx_dfu *d;

	(void)state;
	peer_up(p, NULL);
	seg.data = p->img;
	d = fx_dfu_open(p->h.usb, &p->err);
	assert_non_null(d);
	assert_int_equal(fx_prog_flash(d, &img, &o, NULL, &p->err), 0);
	fx_dfu_free(d);
	wd_open(p);
	memset(back, 0, sizeof(back));
	assert_int_equal(wd_read(p, FLASH, back, ODD_LEN), 0);
	assert_memory_equal(back, p->img, ODD_LEN);
	fxt_host_down(&p->h);
}

/* The other write-tail decisions (spec 2.4, 8): reject refuses the last
 * chunk with errADDRESS; drop acknowledges it but leaves the partial
 * double word unwritten, which only a readback finds. */
static void test_webdfu_other_tails(void **state)
{
	struct peer *p = &P;
	uint8_t back[ODD_LEN];
	size_t i;

	(void)state;
	peer_up(p, "tail=reject");
	wd_open(p);
	assert_int_equal(wd_write(p, FLASH, p->img, ODD_LEN), BAD_STATE);
	assert_int_equal(ST_STATE(p), dfuERROR);
	assert_int_equal(ST_STATUS(p), DFU_STATUS_errADDRESS);
	fxt_host_down(&p->h);
	peer_up(p, "tail=drop");
	wd_open(p);
	assert_int_equal(wd_write(p, FLASH, p->img, ODD_LEN), 0);
	assert_int_equal(fx_emu_backdoor_flash_read(p->h.board, FLASH, back, ODD_LEN), 0);
	for (i = 0; i < ODD_LEN && back[i] == p->img[i]; i++)
		;
	assert_int_equal(i, ODD_LEN & ~7u); /* 0x0E48: the dropped double word */
	fxt_host_down(&p->h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pydfu_odd_bin),
		cmocka_unit_test(test_pydfu_single_bank),
		cmocka_unit_test(test_pydfu_mass_erase),
		cmocka_unit_test(test_pydfu_depends_on_busy_wait),
		cmocka_unit_test(test_webdfu_odd_bin),
		cmocka_unit_test(test_webdfu_read_back),
		cmocka_unit_test(test_webdfu_other_tails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
