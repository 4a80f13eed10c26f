/* fake_usb.c - scripted fx_usb backend (tests/lib/fake_usb.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_usb.h"
#include "fx/bytes.h"

static struct fake_usb *to_fake(struct fx_usb *u)
{
	return (struct fake_usb *)u;
}

static void log_req(struct fake_usb *f, const struct fx_usb_setup *s,
		    const uint8_t *data)
{
	struct fake_req *r;

	if (f->nlog == FAKE_MAX_LOG)
		return;
	r = &f->log[f->nlog++];
	r->setup = *s;
	r->t_us = fx_clock_now(f->base.clock);
	r->out_len = 0;
	if (!(s->bmRequestType & USB_DIR_IN) && data) {
		r->out_len = s->wLength < sizeof(r->out) ? s->wLength : sizeof(r->out);
		memcpy(r->out, data, r->out_len);
	}
}

static int fake_control(struct fx_usb *u, const struct fx_usb_setup *s,
			uint8_t *data, size_t *actual, unsigned timeout_ms,
			struct fx_err *err)
{
	struct fake_usb *f = to_fake(u);
	struct fake_step *st;
	size_t n;

	log_req(f, s, data);
	*actual = 0;
	if ((s->bmRequestType & 0x60) != USB_TYPE_CLASS) {
		/* standard: only the functional descriptor by itself */
		f->unexpected++;
		return fx_err_set(err, FX_E_STALL, "fake: standard request 0x%02x stalled",
				  s->bRequest);
	}
	if (f->next == f->nsteps || f->steps[f->next].bRequest != s->bRequest) {
		f->unexpected++;
		return fx_err_set(err, FX_E_IO, "fake: unexpected request 0x%02x (step %zu)",
				  s->bRequest, f->next);
	}
	st = &f->steps[f->next++];
	if (st->delay_us > (uint64_t)timeout_ms * 1000u) {
		fx_clock_sleep(u->clock, (uint64_t)timeout_ms * 1000u);
		return fx_err_set(err, FX_E_TIMEOUT,
				  "control request 0x%02x timed out after %u ms",
				  s->bRequest, timeout_ms);
	}
	if (st->delay_us)
		fx_clock_sleep(u->clock, st->delay_us);
	switch (st->rc) {
	case 0:
		break;
	case FX_E_STALL:
		return fx_err_set(err, FX_E_STALL, "control request 0x%02x stalled",
				  s->bRequest);
	case FX_E_NODEV:
		return fx_err_set(err, FX_E_NODEV, "device left the bus");
	case FX_E_TIMEOUT:
		fx_clock_sleep(u->clock, (uint64_t)timeout_ms * 1000u);
		return fx_err_set(err, FX_E_TIMEOUT,
				  "control request 0x%02x timed out after %u ms",
				  s->bRequest, timeout_ms);
	default:
		return fx_err_set(err, st->rc, "control request 0x%02x: %s",
				  s->bRequest, fx_strerror(st->rc));
	}
	if (s->bmRequestType & USB_DIR_IN) {
		const uint8_t *src = st->reply_ptr ? st->reply_ptr : st->reply;

		n = st->reply_len < s->wLength ? st->reply_len : s->wLength;
		if (n)
			memcpy(data, src, n);
		*actual = n;
	} else {
		if (f->sink && s->bRequest == DFU_DNLOAD && s->wValue >= 2 &&
		    f->sink_len + s->wLength <= f->sink_cap) {
			memcpy(f->sink + f->sink_len, data, s->wLength);
			f->sink_len += s->wLength;
		}
		*actual = s->wLength;
	}
	return 0;
}

static int fake_set_alt(struct fx_usb *u, uint8_t intf, uint8_t alt,
			struct fx_err *err)
{
	struct fake_usb *f = to_fake(u);

	(void)intf;
	if (f->set_alt_rc)
		return fx_err_set(err, f->set_alt_rc, "fake: set alt failed");
	f->last_alt = alt;
	return 0;
}

static int fake_config(struct fx_usb *u, uint8_t *buf, size_t cap, size_t *len,
		       struct fx_err *err)
{
	struct fake_usb *f = to_fake(u);

	if (cap < f->config_len)
		return fx_err_set(err, FX_E_INVAL, "fake: config buffer too small");
	memcpy(buf, f->config, f->config_len);
	*len = f->config_len;
	return 0;
}

static int fake_string(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
		       struct fx_err *err)
{
	struct fake_usb *f = to_fake(u);

	(void)err;
	snprintf(buf, cap, "%s", index < 16 ? f->strings[index] : "");
	return 0;
}

static int fake_reopen(struct fx_usb *u, unsigned timeout_ms, uint64_t *waited_us,
		       struct fx_err *err)
{
	struct fake_usb *f = to_fake(u);

	f->reopens++;
	if (waited_us)
		*waited_us = 400000;
	if (f->reopen_rc) {
		fx_clock_sleep(u->clock, (uint64_t)timeout_ms * 1000u);
		return fx_err_set(err, f->reopen_rc, "no device enumerated within %u ms",
				  timeout_ms);
	}
	fx_clock_sleep(u->clock, 400000);
	return 0;
}

static void fake_close(struct fx_usb *u)
{
	free(u);
}

static const struct fx_usb_ops fake_ops = {
	.scheme = "fake",
	.control = fake_control,
	.set_alt = fake_set_alt,
	.config_desc = fake_config,
	.string = fake_string,
	.reopen = fake_reopen,
	.close = fake_close,
};

struct fake_usb *fake_usb_new(const struct fx_clock *clk, uint16_t xfer)
{
	static const uint8_t cfg_head[9] = { 9, USB_DT_CONFIG, 0, 0, 1, 1, 0, 0x80, 50 };
	struct fake_usb *f = calloc(1, sizeof(*f));
	uint8_t *p;
	int alt;

	if (!f)
		return NULL;
	f->base.ops = &fake_ops;
	f->base.clock = clk;
	f->base.info.vid = ST_DFU_VID;
	f->base.info.pid = ST_DFU_PID;
	f->base.info.bcd_device = 0x0200;
	f->base.info.is_dfu = true;
	snprintf(f->base.info.serial, sizeof(f->base.info.serial), "206B30643138");
	snprintf(f->base.info.product, sizeof(f->base.info.product), "DFU in FS Mode");
	p = f->config;
	memcpy(p, cfg_head, 9);
	p += 9;
	for (alt = 0; alt < 3; alt++) {
		const uint8_t intf[9] = { 9, USB_DT_INTERFACE, 0, (uint8_t)alt, 0,
					  USB_CLASS_APP_SPEC, DFU_SUBCLASS,
					  DFU_PROTOCOL_DFU_MODE, (uint8_t)(4 + alt) };

		memcpy(p, intf, 9);
		p += 9;
	}
	p[0] = 9;
	p[1] = USB_DT_DFU_FUNCTIONAL;
	p[2] = 0x0B;
	fx_put_le16(p + 3, 255);
	fx_put_le16(p + 5, xfer);
	fx_put_le16(p + 7, DFU_VERSION_DFUSE);
	p += 9;
	f->config_len = (size_t)(p - f->config);
	fx_put_le16(f->config + 2, (uint16_t)f->config_len);
	snprintf(f->strings[4], sizeof(f->strings[4]), "@Internal Flash   /0x08000000/256*02Kg");
	snprintf(f->strings[5], sizeof(f->strings[5]),
		 "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e");
	snprintf(f->strings[6], sizeof(f->strings[6]), "@OTP Memory   /0x1FFF7000/01*1024 e");
	return f;
}

void fake_usb_set_string(struct fake_usb *f, uint8_t index, const char *s)
{
	snprintf(f->strings[index], sizeof(f->strings[index]), "%s", s);
}

static struct fake_step *push(struct fake_usb *f, uint8_t req, int rc)
{
	struct fake_step *st;

	if (f->nsteps == FAKE_MAX_STEPS)
		abort();
	st = &f->steps[f->nsteps++];
	memset(st, 0, sizeof(*st));
	st->bRequest = req;
	st->rc = rc;
	return st;
}

void fake_push(struct fake_usb *f, uint8_t bRequest, int rc)
{
	push(f, bRequest, rc);
}

void fake_push_status(struct fake_usb *f, uint8_t state, uint8_t status,
		      uint32_t poll_ms)
{
	struct fake_step *st = push(f, DFU_GETSTATUS, 0);

	st->reply[0] = status;
	fx_put_le24(st->reply + 1, poll_ms);
	st->reply[4] = state;
	st->reply[5] = 0;
	st->reply_len = 6;
}

void fake_push_upload(struct fake_usb *f, const uint8_t *data, size_t len)
{
	struct fake_step *st = push(f, DFU_UPLOAD, 0);

	st->reply_ptr = data;
	st->reply_len = len;
}

void fake_delay_last(struct fake_usb *f, uint64_t delay_us)
{
	if (f->nsteps)
		f->steps[f->nsteps - 1].delay_us = delay_us;
}

void fake_push_cmd_ok(struct fake_usb *f, uint32_t poll_ms)
{
	fake_push(f, DFU_DNLOAD, 0);
	fake_push_status(f, dfuDNBUSY, DFU_STATUS_OK, poll_ms);
	fake_push_status(f, dfuDNLOAD_IDLE, DFU_STATUS_OK, 0);
}

void fake_push_clear_error(struct fake_usb *f, uint8_t status)
{
	fake_push_status(f, dfuERROR, status, 0);
	fake_push(f, DFU_CLRSTATUS, 0);
	fake_push_status(f, dfuIDLE, DFU_STATUS_OK, 0);
}

size_t fake_left(const struct fake_usb *f)
{
	return f->nsteps - f->next;
}

int fake_find(const struct fake_usb *f, uint8_t bRequest, int n)
{
	size_t i;

	for (i = 0; i < f->nlog; i++)
		if ((f->log[i].setup.bmRequestType & 0x60) == USB_TYPE_CLASS &&
		    f->log[i].setup.bRequest == bRequest && n-- == 0)
			return (int)i;
	return -1;
}

int fake_count(const struct fake_usb *f, uint8_t bRequest)
{
	size_t i;
	int n = 0;

	for (i = 0; i < f->nlog; i++)
		if ((f->log[i].setup.bmRequestType & 0x60) == USB_TYPE_CLASS &&
		    f->log[i].setup.bRequest == bRequest)
			n++;
	return n;
}

struct fx_dfu *fake_dfu_open(struct fake_usb *f)
{
	struct fx_dfu *d;
	struct fx_err err;

	fx_err_clear(&err);
	d = fx_dfu_open(&f->base, &err);
	if (!d)
		fail_msg("fx_dfu_open: %s", err.msg);
	return d;
}

struct fx_dfu *fake_dfu_up(struct fx_vclock *vc, struct fake_usb **f, uint16_t xfer)
{
	struct fx_dfu *d;

	fx_vclock_init(vc);
	*f = fake_usb_new(&vc->base, xfer);
	assert_non_null(*f);
	fake_push_status(*f, dfuIDLE, DFU_STATUS_OK, 0);
	d = fake_dfu_open(*f);
	assert_int_equal(fake_left(*f), 0);
	return d;
}

void fake_dfu_down(struct fx_dfu *d, struct fake_usb *f)
{
	fx_dfu_free(d);
	free(f->sink);
	fx_usb_close(&f->base);
}
