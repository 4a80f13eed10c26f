/* emu_fix.c - see emu_fix.h */
#include <stdlib.h>
#include <string.h>

#include "emu_fix.h"
#include "fx/dfu_wire.h"

#define RT_OUT (USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define RT_IN (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)

void fxt_emu_sleep(struct fxt_emu *f, uint64_t us)
{
	fx_clock_sleep(&f->vc.base, us);
}

enum fx_emu_bus fxt_emu_wait_bus(struct fxt_emu *f, uint64_t limit_us)
{
	uint64_t end = f->vc.t + limit_us;

	for (;;) {
		enum fx_emu_bus b = fx_emu_poll(f->e);
		uint64_t next;

		if (b != FX_EMU_BUS_NONE)
			return b;
		next = fx_emu_next_event_us(f->e);
		if (next == UINT64_MAX || next > end) {
			f->vc.t = end;
			return fx_emu_poll(f->e);
		}
		if (next > f->vc.t)
			f->vc.t = next;
	}
}

void fxt_emu_init(struct fxt_emu *f, const struct fx_emu_knobs *k)
{
	memset(f, 0, sizeof(*f));
	fx_vclock_init(&f->vc);
	f->e = fx_emu_new(NULL, &f->vc.base, NULL);
	if (!f->e)
		abort();
	if (k)
		fx_emu_set_knobs(f->e, k);
	fx_emu_set_boot0(f->e, true);
	fx_emu_set_nrst(f->e, true);
	fx_emu_set_power(f->e, true);
	fxt_emu_wait_bus(f, 2000000);
}

void fxt_emu_release(struct fxt_emu *f)
{
	fx_emu_free(f->e);
	f->e = NULL;
}

int fxt_ctl(struct fxt_emu *f, uint8_t bmrt, uint8_t breq, uint16_t wvalue,
	    uint16_t windex, uint8_t *data, uint16_t wlength, size_t *actual)
{
	struct fx_usb_setup s = { bmrt, breq, wvalue, windex, wlength };
	uint64_t done = 0;
	size_t n = 0;
	int rc;

	rc = fx_emu_control(f->e, &s, data, &n, &done);
	if (done != UINT64_MAX && done > f->vc.t)
		f->vc.t = done;
	if (actual)
		*actual = n;
	return rc;
}

int fxt_getstatus(struct fxt_emu *f)
{
	size_t n;
	int rc;

	memset(f->st, 0xEE, sizeof(f->st));
	rc = fxt_ctl(f, RT_IN, DFU_GETSTATUS, 0, 0, f->st, 6, &n);
	if (!rc && n != 6)
		return -100;
	return rc;
}

int fxt_getstate(struct fxt_emu *f, uint8_t *state)
{
	return fxt_ctl(f, RT_IN, DFU_GETSTATE, 0, 0, state, 1, NULL);
}

int fxt_dnload(struct fxt_emu *f, uint16_t block, const uint8_t *data,
	       uint16_t len)
{
	return fxt_ctl(f, RT_OUT, DFU_DNLOAD, block, 0, (uint8_t *)data, len,
		       NULL);
}

int fxt_upload(struct fxt_emu *f, uint16_t block, uint8_t *buf, uint16_t len,
	       size_t *actual)
{
	return fxt_ctl(f, RT_IN, DFU_UPLOAD, block, 0, buf, len, actual);
}

int fxt_clrstatus(struct fxt_emu *f)
{
	return fxt_ctl(f, RT_OUT, DFU_CLRSTATUS, 0, 0, NULL, 0, NULL);
}

int fxt_abort(struct fxt_emu *f)
{
	return fxt_ctl(f, RT_OUT, DFU_ABORT, 0, 0, NULL, 0, NULL);
}

int fxt_run(struct fxt_emu *f, uint16_t block, const uint8_t *data,
	    uint16_t len)
{
	int rc, guard;

	rc = fxt_dnload(f, block, data, len);
	if (rc)
		return rc;
	rc = fxt_getstatus(f);
	for (guard = 0; !rc && FXT_STATE(f) == dfuDNBUSY && guard < 1000; guard++) {
		fxt_emu_sleep(f, (uint64_t)FXT_POLL(f) * 1000u);
		rc = fxt_getstatus(f);
	}
	return rc;
}

int fxt_set_address(struct fxt_emu *f, uint32_t addr)
{
	uint8_t c[5] = { DFUSE_CMD_SET_ADDRESS, (uint8_t)addr,
			 (uint8_t)(addr >> 8), (uint8_t)(addr >> 16),
			 (uint8_t)(addr >> 24) };

	return fxt_run(f, 0, c, 5);
}

int fxt_erase_page(struct fxt_emu *f, uint32_t addr)
{
	uint8_t c[5] = { DFUSE_CMD_ERASE, (uint8_t)addr, (uint8_t)(addr >> 8),
			 (uint8_t)(addr >> 16), (uint8_t)(addr >> 24) };

	return fxt_run(f, 0, c, 5);
}

int fxt_mass_erase(struct fxt_emu *f)
{
	uint8_t c[1] = { DFUSE_CMD_ERASE };

	return fxt_run(f, 0, c, 1);
}

static uint16_t xfer(struct fxt_emu *f)
{
	return fx_emu_get_knobs(f->e)->transfer_size;
}

int fxt_write(struct fxt_emu *f, uint32_t addr, const uint8_t *data, size_t len)
{
	size_t off = 0;
	int rc;

	while (off < len) {
		uint16_t n = (uint16_t)(len - off < xfer(f) ? len - off : xfer(f));

		rc = fxt_set_address(f, addr + (uint32_t)off);
		if (rc)
			return rc;
		if (FXT_STATUS(f))
			return FXT_STATUS(f);
		rc = fxt_run(f, 2, data + off, n);
		if (rc)
			return rc;
		if (FXT_STATUS(f))
			return FXT_STATUS(f);
		off += n;
	}
	return 0;
}

int fxt_read(struct fxt_emu *f, uint32_t addr, uint8_t *buf, size_t len)
{
	size_t off = 0, n;
	uint16_t block = 2;
	int rc;

	rc = fxt_set_address(f, addr);
	if (rc)
		return rc;
	if (FXT_STATUS(f))
		return FXT_STATUS(f);
	rc = fxt_abort(f);
	if (rc)
		return rc;
	while (off < len) {
		uint16_t want = (uint16_t)(len - off < xfer(f) ? len - off : xfer(f));

		rc = fxt_upload(f, block++, buf + off, want, &n);
		if (rc)
			return rc;
		off += n;
		if (n < want)
			break;
	}
	return fxt_abort(f);
}
