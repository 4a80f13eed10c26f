/* usb.c - transport wrappers and the backend table (STYLE 2). */
#include <string.h>

#include "fx/usb.h"

static const struct fx_usb_ops *const backends[] = {
	&fx_usb_emu_ops,
	&fx_usb_libusb_ops,
};

int fx_usb_open(const char *uri, const struct fx_clock *clk,
		const struct fx_usb_open_opts *opts, struct fx_usb **out,
		struct fx_err *err)
{
	static const struct fx_usb_open_opts none;
	const char *colon = uri ? strchr(uri, ':') : NULL;
	size_t i;

	if (!colon)
		return fx_err_set(err, FX_E_CONFIG,
				  "device '%s': expected emu:PATH or usb:[PORT|serial=S]",
				  uri ? uri : "");
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		const struct fx_usb_ops *ops = backends[i];

		if (strlen(ops->scheme) == (size_t)(colon - uri) &&
		    !strncmp(ops->scheme, uri, (size_t)(colon - uri))) {
			if (!ops->open)
				return fx_err_set(err, FX_E_NOTSUP,
						  "device '%s': backend '%s' not built",
						  uri, ops->scheme);
			return ops->open(colon + 1, clk, opts ? opts : &none,
					 out, err);
		}
	}
	return fx_err_set(err, FX_E_CONFIG,
			  "device '%s': unknown scheme, expected 'emu:' or 'usb:'",
			  uri);
}

void fx_usb_close(struct fx_usb *u)
{
	if (u && u->ops->close)
		u->ops->close(u);
}

int fx_usb_control(struct fx_usb *u, const struct fx_usb_setup *setup,
		   uint8_t *data, size_t *actual, unsigned timeout_ms,
		   struct fx_err *err)
{
	size_t dummy;

	if (!u->ops->control)
		return fx_err_set(err, FX_E_NOTSUP, "control transfers not supported");
	return u->ops->control(u, setup, data, actual ? actual : &dummy,
			       timeout_ms, err);
}

int fx_usb_control_batch(struct fx_usb *u, struct fx_usb_xfer *x, size_t n,
			 unsigned timeout_ms, size_t *ok, struct fx_err *err)
{
	size_t i, dummy;
	int rc;

	if (!ok)
		ok = &dummy;
	*ok = 0;
	if (n > FX_USB_BATCH_MAX)
		return fx_err_set(err, FX_E_INVAL, "batch of %zu control transfers (at most %d)",
				  n, FX_USB_BATCH_MAX);
	for (i = 0; i < n; i++)
		x[i].actual = 0;
	if (!n)
		return 0;
	if (u->ops->control_batch)
		return u->ops->control_batch(u, x, n, timeout_ms, ok, err);
	for (i = 0; i < n; i++) {
		rc = fx_usb_control(u, &x[i].setup, x[i].data, &x[i].actual,
				    timeout_ms, err);
		if (rc)
			return rc;
		*ok = i + 1;
	}
	return 0;
}

int fx_usb_set_alt(struct fx_usb *u, uint8_t intf, uint8_t alt,
		   struct fx_err *err)
{
	if (!u->ops->set_alt)
		return fx_err_set(err, FX_E_NOTSUP, "set interface not supported");
	return u->ops->set_alt(u, intf, alt, err);
}

int fx_usb_config_desc(struct fx_usb *u, uint8_t *buf, size_t cap, size_t *len,
		       struct fx_err *err)
{
	if (!u->ops->config_desc)
		return fx_err_set(err, FX_E_NOTSUP, "descriptors not supported");
	return u->ops->config_desc(u, buf, cap, len, err);
}

int fx_usb_string(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
		  struct fx_err *err)
{
	if (!u->ops->string)
		return fx_err_set(err, FX_E_NOTSUP, "strings not supported");
	if (cap == 0)
		return fx_err_set(err, FX_E_INVAL, "string buffer of size 0");
	buf[0] = '\0';
	if (index == 0)
		return 0; /* no string */
	return u->ops->string(u, index, buf, cap, err);
}

bool fx_usb_string_decode(const uint8_t *raw, size_t n, char *buf, size_t cap)
{
	size_t i, o = 0;

	if (n < 2 || raw[1] != USB_DT_STRING || raw[0] > n)
		return false;
	for (i = 2; i + 1 < raw[0] && o + 1 < cap; i += 2) {
		uint16_t c = (uint16_t)(raw[i] | (raw[i + 1] << 8));

		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[o] = '\0';
	return true;
}

int fx_usb_reopen(struct fx_usb *u, unsigned timeout_ms, uint64_t *waited_us,
		  struct fx_err *err)
{
	if (!u->ops->reopen)
		return fx_err_set(err, FX_E_NOTSUP, "reopen not supported");
	return u->ops->reopen(u, timeout_ms, waited_us, err);
}

void fx_usb_expect_reset(struct fx_usb *u, bool expected)
{
	if (u && u->ops->expect_reset)
		u->ops->expect_reset(u, expected);
}

int fx_usb_port_wait(struct fx_usb *u, enum fx_usb_port_want want,
		     unsigned timeout_ms, struct fx_usb_port_seen *seen,
		     struct fx_err *err)
{
	struct fx_usb_port_seen dummy;

	if (!seen)
		seen = &dummy;
	memset(seen, 0, sizeof(*seen));
	if (!u->ops->port_wait)
		return fx_err_set(err, FX_E_NOTSUP, "port waits not supported");
	return u->ops->port_wait(u, want, timeout_ms, seen, err);
}

const struct fx_usb_info *fx_usb_get_info(const struct fx_usb *u)
{
	return &u->info;
}
