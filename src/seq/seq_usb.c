/* seq_usb.c - the slot's transport as the steps see it: the backend's
 * handle wrapped so that every control transfer, reopen and port wait of
 * a step is bounded by the step's deadline (shortened to the time left,
 * refused once it has passed), and the DFU engine's poll sleeps, which
 * run on the handle's clock, too (fx/seq.h "Timeouts"). Between steps
 * (SEQ_NO_DEADLINE) every call passes through unchanged. */
#include <stdio.h>

#include "seq_priv.h"

static struct seq_usb *to_bounded(struct fx_usb *u)
{
	return (struct seq_usb *)u;
}

/* What the inner handle has bound now is what the steps see. */
static void sync_info(struct seq_usb *b)
{
	b->base.info = b->in->info;
}

static int refuse(struct seq_usb *b, const char *what, struct fx_err *err)
{
	b->run->deadline_cut = true;
	return fx_err_set(err, FX_E_TIMEOUT, "step deadline reached before %s", what);
}

/* A wait the deadline shortened that then timed out was cut by it. */
static int note_cut(struct seq_usb *b, int rc, enum seq_bound bound)
{
	if (rc == FX_E_TIMEOUT && bound == SEQ_BOUND_CUT)
		b->run->deadline_cut = true;
	sync_info(b);
	return rc;
}

static int b_control(struct fx_usb *u, const struct fx_usb_setup *setup,
		     uint8_t *data, size_t *actual, unsigned timeout_ms,
		     struct fx_err *err)
{
	struct seq_usb *b = to_bounded(u);
	enum seq_bound bound = seq_bound_ms(b->run, &timeout_ms);
	char what[48];

	if (bound == SEQ_BOUND_PAST) {
		snprintf(what, sizeof(what), "control request 0x%02x", setup->bRequest);
		return refuse(b, what, err);
	}
	return note_cut(b, fx_usb_control(b->in, setup, data, actual, timeout_ms, err),
			bound);
}

/* The backends time descriptor reads and SET_INTERFACE themselves (1 s
 * each, usb_emu.c and usb_libusb.c). Within the step's deadline they go
 * to the backend as before; when less time is left, the same standard
 * request (USB 2.0 9.4.3, 9.4.10: what both backends send) goes out as a
 * control transfer bounded by what is left; after the deadline, nothing. */
#define SELF_TIMED_MS 1000u

static int std_request(struct seq_usb *b, uint8_t bmrt, uint8_t breq,
		       uint16_t wvalue, uint16_t windex, uint8_t *data,
		       size_t cap, size_t *actual, unsigned ms, struct fx_err *err)
{
	struct fx_usb_setup s = {
		.bmRequestType = bmrt, .bRequest = breq, .wValue = wvalue,
		.wIndex = windex, .wLength = (uint16_t)(cap > 0xffff ? 0xffff : cap),
	};

	return note_cut(b, fx_usb_control(b->in, &s, data, actual, ms, err),
			SEQ_BOUND_CUT);
}

static int b_set_alt(struct fx_usb *u, uint8_t intf, uint8_t alt,
		     struct fx_err *err)
{
	struct seq_usb *b = to_bounded(u);
	unsigned ms = SELF_TIMED_MS;
	enum seq_bound bound = seq_bound_ms(b->run, &ms);
	size_t n;

	if (bound == SEQ_BOUND_PAST)
		return refuse(b, "SET_INTERFACE", err);
	if (bound == SEQ_BOUND_ASIS)
		return fx_usb_set_alt(b->in, intf, alt, err);
	return std_request(b, USB_TYPE_STANDARD | USB_RECIP_INTERFACE,
			   USB_REQ_SET_INTERFACE, alt, intf, NULL, 0, &n, ms, err);
}

static int b_config_desc(struct fx_usb *u, uint8_t *buf, size_t cap,
			 size_t *len, struct fx_err *err)
{
	struct seq_usb *b = to_bounded(u);
	unsigned ms = SELF_TIMED_MS;
	enum seq_bound bound = seq_bound_ms(b->run, &ms);

	if (bound == SEQ_BOUND_PAST)
		return refuse(b, "the configuration descriptor", err);
	if (bound == SEQ_BOUND_ASIS)
		return fx_usb_config_desc(b->in, buf, cap, len, err);
	return std_request(b, USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE,
			   USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, buf, cap,
			   len, ms, err);
}

static int b_string(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
		    struct fx_err *err)
{
	struct seq_usb *b = to_bounded(u);
	unsigned ms = SELF_TIMED_MS;
	enum seq_bound bound = seq_bound_ms(b->run, &ms);
	uint8_t raw[255];
	size_t n = 0;
	int rc;

	if (bound == SEQ_BOUND_PAST)
		return refuse(b, "a string descriptor", err);
	if (bound == SEQ_BOUND_ASIS)
		return fx_usb_string(b->in, index, buf, cap, err);
	rc = std_request(b, USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE,
			 USB_REQ_GET_DESCRIPTOR, (uint16_t)((USB_DT_STRING << 8) | index),
			 0x0409, raw, sizeof(raw), &n, ms, err);
	if (rc)
		return rc;
	if (!fx_usb_string_decode(raw, n, buf, cap))
		return fx_err_set(err, FX_E_PROTO, "string %u: malformed descriptor", index);
	return 0;
}

static int b_reopen(struct fx_usb *u, unsigned timeout_ms, uint64_t *waited_us,
		    struct fx_err *err)
{
	struct seq_usb *b = to_bounded(u);
	enum seq_bound bound = seq_bound_ms(b->run, &timeout_ms);

	if (bound == SEQ_BOUND_PAST)
		return refuse(b, "the wait for the device to come back", err);
	return note_cut(b, fx_usb_reopen(b->in, timeout_ms, waited_us, err), bound);
}

static void b_expect_reset(struct fx_usb *u, bool expected)
{
	fx_usb_expect_reset(to_bounded(u)->in, expected);
}

static int b_port_wait(struct fx_usb *u, enum fx_usb_port_want want,
		       unsigned timeout_ms, struct fx_usb_port_seen *seen,
		       struct fx_err *err)
{
	struct seq_usb *b = to_bounded(u);
	enum seq_bound bound = seq_bound_ms(b->run, &timeout_ms);

	if (bound == SEQ_BOUND_PAST)
		return refuse(b, want == FX_USB_PORT_EMPTY ?
			      "the wait for the port to empty" :
			      "the wait for a device on the port", err);
	return note_cut(b, fx_usb_port_wait(b->in, want, timeout_ms, seen, err),
			bound);
}

static void b_close(struct fx_usb *u)
{
	struct seq_usb *b = to_bounded(u);

	fx_usb_close(b->in);
	b->in = NULL;
}

static const struct fx_usb_ops bounded_ops = {
	.scheme = "seq",
	.control = b_control,
	.set_alt = b_set_alt,
	.config_desc = b_config_desc,
	.string = b_string,
	.reopen = b_reopen,
	.expect_reset = b_expect_reset,
	.port_wait = b_port_wait,
	.close = b_close,
};

static const struct seq_clock *to_clock(const struct fx_clock *c)
{
	return (const struct seq_clock *)c;
}

static uint64_t c_now(const struct fx_clock *c)
{
	return fx_clock_now(to_clock(c)->in);
}

/* The DFU engine's poll sleeps (bwPollTimeout, up to FX_DFU_POLL_CAP_MS)
 * end at the deadline; the request after them is refused. */
static void c_sleep(const struct fx_clock *c, uint64_t us)
{
	const struct seq_clock *sc = to_clock(c);
	struct seq_run *r = sc->run;
	uint64_t now = fx_clock_now(sc->in);

	if (r->deadline_us != SEQ_NO_DEADLINE && now + us > r->deadline_us) {
		r->deadline_cut = true;
		us = now < r->deadline_us ? r->deadline_us - now : 0;
	}
	if (us)
		fx_clock_sleep(sc->in, us);
}

static void c_join(const struct fx_clock *c)
{
	fx_clock_join(to_clock(c)->in);
}

static void c_leave(const struct fx_clock *c)
{
	fx_clock_leave(to_clock(c)->in);
}

void seq_usb_wrap(struct seq_run *r, struct fx_usb *in)
{
	struct seq_usb *b = &r->bounded;

	b->in = in;
	b->run = r;
	b->clock.base.now_us = c_now;
	b->clock.base.sleep_us = c_sleep;
	b->clock.base.join = c_join;
	b->clock.base.leave = c_leave;
	b->clock.in = r->clock;
	b->clock.run = r;
	b->base.ops = &bounded_ops;
	b->base.clock = &b->clock.base;
	sync_info(b);
	r->usb = &b->base;
}
