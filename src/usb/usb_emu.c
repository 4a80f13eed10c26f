/* usb_emu.c - in-process USB backend bound to an emulated board
 * (include/fx/usb_emu.h). Each control transfer takes the modelled time:
 * the emulator answers at once with done_at_us and this backend sleeps the
 * injected clock until then (bounded by the transfer timeout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx/bytes.h"
#include "fx/log.h"
#include "fx/usb_emu.h"

#define LOG_PREFIX "usb-emu"
#define EMU_OPEN_WAIT_MS 5000u /* the board was just powered: boot delay */
#define EMU_LOOK_US 1000u /* port waits look at least this often */

struct emu_usb {
	struct fx_usb base; /* first: fx_usb_* wrappers see only this */
	struct fx_emu *board;
	char *path;         /* board file (owned boards only) */
	bool owned;
	bool any_device;
	bool bound;          /* a device is bound (false: unbound handle) */
	uint32_t bound_enum; /* enumeration the handle is bound to */
	bool expect_reset;   /* fx_usb_expect_reset() */
	/* enumerations seen since the last EMPTY port wait (port_wait) */
	unsigned nold;
	uint32_t old[16];
	struct fx_usb_emu_bus *bus; /* shared single-TT bus, NULL = own TT */
};

static struct emu_usb *to_emu(struct fx_usb *u)
{
	return (struct emu_usb *)u;
}

static const char *bus_name(enum fx_emu_bus b)
{
	switch (b) {
	case FX_EMU_BUS_DFU:
		return "bootloader";
	case FX_EMU_BUS_APP:
		return "application";
	case FX_EMU_BUS_NONE:
		break;
	}
	return "nothing";
}

/* FX_E_NODEV when the bound device is no longer on the bus (unbound, the
 * board dropped, or a new enumeration since the bind), else 0. */
static int gone(struct emu_usb *eu, const struct fx_usb_setup *setup,
		struct fx_err *err)
{
	if (!eu->bound)
		return fx_err_set(err, FX_E_NODEV, "control request 0x%02x: no device "
				  "bound (it left the bus)", setup->bRequest);
	if (fx_emu_poll(eu->board) == FX_EMU_BUS_NONE ||
	    fx_emu_enum_count(eu->board) != eu->bound_enum)
		return fx_err_set(err, FX_E_NODEV, "device left the bus%s",
				  eu->expect_reset ? " (expected reset)" : "");
	return 0;
}

/* The end of a transfer the emulator answered (rc, done_at) within limit:
 * sleep until it completed (or until limit: FX_E_TIMEOUT), then its
 * outcome as an error. */
static int finish(struct emu_usb *eu, const struct fx_usb_setup *setup, int rc,
		  uint64_t done_at, uint64_t limit, size_t *actual,
		  unsigned timeout_ms, struct fx_err *err)
{
	const struct fx_clock *clk = eu->base.clock;

	if (done_at > limit) {
		fx_clock_sleep_until(clk, limit);
		*actual = 0;
		return fx_err_set(err, FX_E_TIMEOUT,
				  "control request 0x%02x timed out after %u ms",
				  setup->bRequest, timeout_ms);
	}
	fx_clock_sleep_until(clk, done_at);
	if (rc == FX_E_STALL)
		return fx_err_set(err, FX_E_STALL, "control request 0x%02x stalled",
				  setup->bRequest);
	if (rc == FX_E_NODEV)
		return fx_err_set(err, FX_E_NODEV, "device left the bus%s",
				  eu->expect_reset ? " (expected reset)" : "");
	if (rc < 0)
		return fx_err_set(err, rc, "control request 0x%02x: %s",
				  setup->bRequest, fx_strerror(rc));
	return 0;
}

/* A control transfer straight to the emulator, waiting for completion. */
static int emu_xfer(struct emu_usb *eu, const struct fx_usb_setup *setup,
		    uint8_t *data, size_t *actual, unsigned timeout_ms,
		    struct fx_err *err)
{
	const struct fx_clock *clk = eu->base.clock;
	uint64_t now, done_at = 0, limit;
	int rc;

	rc = gone(eu, setup, err);
	if (rc)
		return rc;
	now = fx_clock_now(clk);
	*actual = 0;
	rc = fx_emu_control(eu->board, setup, data, actual, &done_at);
	limit = now + (uint64_t)timeout_ms * 1000u;
	return finish(eu, setup, rc, done_at, limit, actual, timeout_ms, err);
}

/* Single-TT hub (fx_usb_emu_bus): a transfer starts only when the shared
 * full-speed bus is free, and holds it until it completes, so the
 * transfers of all boards are serialized (spec 8 transfer model); the
 * emulator is asked at the time the bus is granted. */
static int bus_xfer(struct emu_usb *eu, const struct fx_usb_setup *setup,
		    uint8_t *data, size_t *actual, unsigned timeout_ms,
		    struct fx_err *err)
{
	const struct fx_clock *clk = eu->base.clock;
	struct fx_usb_emu_bus *b = eu->bus;
	uint64_t now, done_at = 0, limit, t0 = fx_clock_now(clk);
	int rc;

	limit = t0 + (uint64_t)timeout_ms * 1000u;
	for (;;) {
		uint64_t free_at;

		pthread_mutex_lock(&b->lock);
		now = fx_clock_now(clk);
		free_at = b->free_at;
		if (free_at <= now)
			break; /* granted: the lock is held */
		pthread_mutex_unlock(&b->lock);
		if (free_at >= limit) {
			fx_clock_sleep_until(clk, limit);
			*actual = 0;
			return fx_err_set(err, FX_E_TIMEOUT,
					  "control request 0x%02x timed out after %u ms "
					  "(the shared bus stayed busy)",
					  setup->bRequest, timeout_ms);
		}
		fx_clock_sleep_until(clk, free_at);
	}
	rc = gone(eu, setup, err);
	if (rc) {
		pthread_mutex_unlock(&b->lock);
		return rc;
	}
	*actual = 0;
	rc = fx_emu_control(eu->board, setup, data, actual, &done_at);
	/* never answered: the bus carried the SETUP and its NAKs */
	b->free_at = done_at > limit ? now + 500u : done_at;
	if (done_at > now)
		b->busy_us += (done_at > limit ? limit : done_at) - now;
	pthread_mutex_unlock(&b->lock);
	return finish(eu, setup, rc, done_at, limit, actual, timeout_ms, err);
}

static int emu_control(struct fx_usb *u, const struct fx_usb_setup *setup,
		       uint8_t *data, size_t *actual, unsigned timeout_ms,
		       struct fx_err *err)
{
	if (to_emu(u)->bus)
		return bus_xfer(to_emu(u), setup, data, actual, timeout_ms, err);
	return emu_xfer(to_emu(u), setup, data, actual, timeout_ms, err);
}

#define EMU_STRING_TIMEOUT_MS 1000u

/* String index, its GET_DESCRIPTOR given timeout_ms. */
static int read_string(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
		       unsigned timeout_ms, struct fx_err *err)
{
	struct fx_usb_setup s = {
		.bmRequestType = USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE,
		.bRequest = USB_REQ_GET_DESCRIPTOR,
		.wValue = (uint16_t)((USB_DT_STRING << 8) | index),
		.wIndex = 0x0409,
		.wLength = 255,
	};
	uint8_t raw[255];
	size_t n = 0;
	int rc;

	rc = emu_control(u, &s, raw, &n, timeout_ms, err);
	if (rc)
		return rc;
	if (!fx_usb_string_decode(raw, n, buf, cap))
		return fx_err_set(err, FX_E_PROTO, "string %u: malformed descriptor",
				  index);
	return 0;
}

static int emu_string(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
		      struct fx_err *err)
{
	return read_string(u, index, buf, cap, EMU_STRING_TIMEOUT_MS, err);
}

static int emu_set_alt(struct fx_usb *u, uint8_t intf, uint8_t alt,
		       struct fx_err *err)
{
	struct fx_usb_setup s = {
		.bmRequestType = USB_TYPE_STANDARD | USB_RECIP_INTERFACE,
		.bRequest = USB_REQ_SET_INTERFACE,
		.wValue = alt,
		.wIndex = intf,
		.wLength = 0,
	};
	size_t n;

	return emu_control(u, &s, NULL, &n, 1000, err);
}

static int emu_config_desc(struct fx_usb *u, uint8_t *buf, size_t cap,
			   size_t *len, struct fx_err *err)
{
	struct emu_usb *eu = to_emu(u);
	int n;

	if (!eu->bound || fx_emu_enum_count(eu->board) != eu->bound_enum)
		return fx_err_set(err, FX_E_NODEV, "device left the bus");
	n = fx_emu_config_descriptor(eu->board, buf, cap);
	if (n < 0)
		return fx_err_set(err, n, "configuration descriptor: %s",
				  fx_strerror(n));
	*len = (size_t)n;
	return 0;
}

/* A string read's timeout: EMU_STRING_TIMEOUT_MS, or the time left until
 * deadline when less (at least 1 ms). */
static unsigned ms_left(const struct emu_usb *eu, uint64_t deadline)
{
	uint64_t now = fx_clock_now(eu->base.clock), ms;

	if (now >= deadline)
		return 1;
	ms = (deadline - now + 999u) / 1000u;
	return ms < EMU_STRING_TIMEOUT_MS ? (unsigned)ms : EMU_STRING_TIMEOUT_MS;
}

/* Bind the handle to what is on the bus now and fill info; the string
 * reads end by the waiting caller's deadline (clock time), so a wait of
 * N ms that binds takes N ms at most (+1 ms when the device came at the
 * deadline itself). */
static int bind_current(struct emu_usb *eu, uint64_t deadline, struct fx_err *err)
{
	struct fx_usb_info *in = &eu->base.info;
	uint8_t dd[18], cfg[512];
	int n, rc;

	eu->bound_enum = fx_emu_enum_count(eu->board);
	eu->bound = true;
	eu->expect_reset = false;
	eu->nold = 0;
	n = fx_emu_device_descriptor(eu->board, dd, sizeof(dd));
	if (n < 18)
		return fx_err_set(err, FX_E_NODEV, "no device descriptor");
	memset(in, 0, sizeof(*in));
	in->vid = fx_get_le16(dd + 8);
	in->pid = fx_get_le16(dd + 10);
	in->bcd_device = fx_get_le16(dd + 12);
	in->busnum = 1;
	in->devnum = (uint8_t)(1 + eu->bound_enum % 126);
	snprintf(in->port_path, sizeof(in->port_path), "emu");
	n = fx_emu_config_descriptor(eu->board, cfg, sizeof(cfg));
	/* first interface descriptor: class FE / subclass 01 is DFU */
	for (int i = 0; n > 0 && i + 8 < n && cfg[i] >= 2; i += cfg[i]) {
		if (cfg[i + 1] == USB_DT_INTERFACE) {
			in->is_dfu = cfg[i + 5] == USB_CLASS_APP_SPEC &&
				     cfg[i + 6] == DFU_SUBCLASS;
			break;
		}
	}
	rc = read_string(&eu->base, dd[16], in->serial, sizeof(in->serial),
			 ms_left(eu, deadline), err);
	if (!rc)
		rc = read_string(&eu->base, dd[15], in->product, sizeof(in->product),
				 ms_left(eu, deadline), err);
	return rc;
}

/* Wait until a device other than enumeration `old` is on the bus (or, with
 * old == UINT32_MAX, any device), then bind it. */
static int wait_and_bind(struct emu_usb *eu, uint32_t old, unsigned timeout_ms,
			 uint64_t *waited_us, struct fx_err *err)
{
	const struct fx_clock *clk = eu->base.clock;
	uint64_t t0 = fx_clock_now(clk);
	uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000u;

	for (;;) {
		enum fx_emu_bus bus = fx_emu_poll(eu->board);
		uint64_t next;

		if (bus != FX_EMU_BUS_NONE &&
		    (old == UINT32_MAX || fx_emu_enum_count(eu->board) != old)) {
			if (waited_us)
				*waited_us = fx_clock_now(clk) - t0;
			fx_log(FX_LOG_DEBUG, LOG_PREFIX, "%s enumerated after %llu us",
			       bus_name(bus),
			       (unsigned long long)(fx_clock_now(clk) - t0));
			return bind_current(eu, deadline, err);
		}
		next = fx_emu_next_event_us(eu->board);
		if (next == UINT64_MAX || next > deadline) {
			fx_clock_sleep_until(clk, deadline);
			if (waited_us)
				*waited_us = fx_clock_now(clk) - t0;
			return fx_err_set(err, FX_E_TIMEOUT,
					  "no device enumerated within %u ms",
					  timeout_ms);
		}
		fx_clock_sleep_until(clk, next);
	}
}

static int emu_reopen(struct fx_usb *u, unsigned timeout_ms, uint64_t *waited_us,
		      struct fx_err *err)
{
	struct emu_usb *eu = to_emu(u);

	return wait_and_bind(eu, eu->bound_enum, timeout_ms, waited_us, err);
}

static void emu_expect_reset(struct fx_usb *u, bool expected)
{
	to_emu(u)->expect_reset = expected;
}

static bool emu_is_old(const struct emu_usb *eu, uint32_t en)
{
	for (unsigned i = 0; i < eu->nold; i++)
		if (eu->old[i] == en)
			return true;
	return false;
}

static void emu_remember(struct emu_usb *eu, uint32_t en)
{
	if (!emu_is_old(eu, en) && eu->nold < sizeof(eu->old) / sizeof(eu->old[0]))
		eu->old[eu->nold++] = en;
}

/* Exact: the board says when its bus changes next (its event time). */
static int emu_port_wait(struct fx_usb *u, enum fx_usb_port_want want,
			 unsigned timeout_ms, struct fx_usb_port_seen *seen,
			 struct fx_err *err)
{
	struct emu_usb *eu = to_emu(u);
	const struct fx_clock *clk = u->clock;
	uint64_t t0 = fx_clock_now(clk);
	uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000u;
	int rc;

	if (want == FX_USB_PORT_EMPTY && eu->bound) {
		emu_remember(eu, eu->bound_enum);
		eu->bound = false;
	}
	for (;;) {
		enum fx_emu_bus bus = fx_emu_poll(eu->board);
		uint32_t en = fx_emu_enum_count(eu->board);
		uint64_t next, now;

		if (want == FX_USB_PORT_EMPTY) {
			if (bus == FX_EMU_BUS_NONE) {
				rc = 0;
				break;
			}
			emu_remember(eu, en);
		} else if (bus != FX_EMU_BUS_NONE && !emu_is_old(eu, en)) {
			seen->old = eu->nold;
			rc = bind_current(eu, deadline, err);
			seen->waited_us = fx_clock_now(clk) - t0;
			return rc;
		}
		now = fx_clock_now(clk);
		if (now >= deadline) {
			uint8_t dd[18];

			if (want == FX_USB_PORT_NEW) {
				rc = fx_err_set(err, FX_E_TIMEOUT,
						"no new device on port emu within %u ms",
						timeout_ms);
				break;
			}
			if (fx_emu_device_descriptor(eu->board, dd, sizeof(dd)) >= 12)
				snprintf(seen->what, sizeof(seen->what), "%04x:%04x",
					 fx_get_le16(dd + 8), fx_get_le16(dd + 10));
			rc = fx_err_set(err, FX_E_TIMEOUT, "%s still on port emu",
					seen->what[0] ? seen->what : "a device");
			break;
		}
		/* the board's own next event, but look at least every
		 * EMU_LOOK_US: pins may change from outside the board's
		 * schedule (a jig whose NRST reaches the board late) */
		next = fx_emu_next_event_us(eu->board);
		if (next > now + EMU_LOOK_US)
			next = now + EMU_LOOK_US;
		fx_clock_sleep_until(clk, next < deadline ? next : deadline);
	}
	seen->old = eu->nold;
	seen->waited_us = fx_clock_now(clk) - t0;
	return rc;
}

static void emu_close(struct fx_usb *u)
{
	struct emu_usb *eu = to_emu(u);
	struct fx_err err;

	if (!u)
		return;
	if (eu->owned) {
		fx_err_clear(&err);
		if (fx_emu_save(eu->board, eu->path, &err))
			fx_log(FX_LOG_ERR, LOG_PREFIX, "board '%s' not saved: %s",
			       eu->path, err.msg);
		fx_emu_free(eu->board);
	}
	free(eu->path);
	free(eu);
}

static int attach(struct fx_emu *board, const struct fx_clock *clk,
		  const struct fx_usb_open_opts *opts, bool owned,
		  const char *path, struct fx_usb_emu_bus *bus,
		  struct fx_usb **out, struct fx_err *err)
{
	static const struct fx_usb_open_opts none;
	struct emu_usb *eu;
	unsigned wait_ms;
	int rc;

	if (!opts)
		opts = &none;
	eu = calloc(1, sizeof(*eu));
	if (!eu)
		return fx_err_set(err, FX_E_NOMEM, "out of memory");
	eu->base.ops = &fx_usb_emu_ops;
	eu->base.clock = clk;
	eu->board = board;
	eu->owned = owned;
	eu->any_device = opts->any_device;
	eu->bus = bus;
	if (path) {
		eu->path = strdup(path);
		if (!eu->path) {
			free(eu);
			return fx_err_set(err, FX_E_NOMEM, "out of memory");
		}
	}
	if (opts->unbound) {
		snprintf(eu->base.info.port_path, sizeof(eu->base.info.port_path), "emu");
		*out = &eu->base;
		return 0;
	}
	wait_ms = opts->wait_ms ? opts->wait_ms : (owned ? EMU_OPEN_WAIT_MS : 0);
	rc = wait_and_bind(eu, UINT32_MAX, wait_ms, NULL, err);
	if (rc == FX_E_TIMEOUT)
		rc = fx_err_set(err, FX_E_NOTFOUND,
				"board '%s': nothing enumerated within %u ms "
				"(blank or corrupted flash with BOOT0 low?)",
				path ? path : "emu", wait_ms);
	else if (!rc && !opts->any_device && !eu->base.info.is_dfu)
		rc = fx_err_set(err, FX_E_NOTFOUND,
				"board '%s': %04x:%04x (%s) is running, not the "
				"DFU bootloader (BOOT0 low?)",
				path ? path : "emu", eu->base.info.vid,
				eu->base.info.pid,
				bus_name(fx_emu_poll(board)));
	if (rc) {
		eu->owned = false; /* the caller still owns the board */
		free(eu->path);
		free(eu);
		return rc;
	}
	*out = &eu->base;
	return 0;
}

int fx_usb_emu_attach(struct fx_emu *board, const struct fx_clock *clk,
		      const struct fx_usb_open_opts *opts, struct fx_usb **out,
		      struct fx_err *err)
{
	return attach(board, clk, opts, false, NULL, NULL, out, err);
}

int fx_usb_emu_attach_bus(struct fx_emu *board, const struct fx_clock *clk,
			  struct fx_usb_emu_bus *bus,
			  const struct fx_usb_open_opts *opts, struct fx_usb **out,
			  struct fx_err *err)
{
	return attach(board, clk, opts, false, NULL, bus, out, err);
}

int fx_usb_emu_bus_init(struct fx_usb_emu_bus *b)
{
	memset(b, 0, sizeof(*b));
	return pthread_mutex_init(&b->lock, NULL) ? FX_E_NOMEM : 0;
}

void fx_usb_emu_bus_release(struct fx_usb_emu_bus *b)
{
	if (b)
		pthread_mutex_destroy(&b->lock);
}

struct fx_emu *fx_usb_emu_board(struct fx_usb *u)
{
	return (u && u->ops == &fx_usb_emu_ops) ? to_emu(u)->board : NULL;
}

/* spec: "PATH[?knobs]" (fx_emu_uri_parse) */
static int emu_open(const char *spec, const struct fx_clock *clk,
		    const struct fx_usb_open_opts *opts, struct fx_usb **out,
		    struct fx_err *err)
{
	struct fx_emu_uri u;
	struct fx_emu *board;
	int rc;

	rc = fx_emu_uri_parse(spec, &u, err);
	if (rc) {
		fx_emu_uri_release(&u);
		return rc;
	}
	board = fx_emu_load(u.path, clk, err);
	if (!board) {
		fx_emu_uri_release(&u);
		return err ? err->code : FX_E_FILE;
	}
	fx_emu_set_knobs(board, &u.knobs);
	/* the jig: BOOT0 held high (unless the URI says otherwise), power on
	 * with NRST released -> the chip boots */
	fx_emu_set_boot0(board, u.boot0);
	fx_emu_set_nrst(board, true);
	fx_emu_set_power(board, true);
	rc = attach(board, clk, opts, true, u.path, NULL, out, err);
	if (rc)
		fx_emu_free(board);
	fx_emu_uri_release(&u);
	return rc;
}

const struct fx_usb_ops fx_usb_emu_ops = {
	.scheme = "emu",
	.open = emu_open,
	.control = emu_control,
	.set_alt = emu_set_alt,
	.config_desc = emu_config_desc,
	.string = emu_string,
	.reopen = emu_reopen,
	.expect_reset = emu_expect_reset,
	.port_wait = emu_port_wait,
	.close = emu_close,
};
