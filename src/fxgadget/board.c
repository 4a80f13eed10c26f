/* board.c - one emulated board (libfxemu) behind one gadget: what the
 * board shows on USB becomes a plug or an unplug of the gadget, every
 * control request FunctionFS passes up is answered by fx_emu_control() at
 * the model time it says (done_at), and BOOT0/NRST/POWER follow the
 * gpio-sim lines the station drives (kernel-tier.md: gpio-sim raises no
 * notification when a consumer changes an output, so the values are
 * polled).
 *
 * Limits of the kernel interfaces (kernel-tier.md, f_fs.c 6.1), each
 * handled where the comment says "limit":
 * - the composite layer answers the standard requests (GET_DESCRIPTOR of
 *   device, configuration and strings, SET_CONFIGURATION, SET_INTERFACE)
 *   from the descriptors written at plug time; FunctionFS does not pass
 *   the alternate setting up. The emulator decides by address, never by
 *   alt (emu.h), so nothing is lost but GET_INTERFACE's answer.
 * - an OUT request with a data stage completes its status stage when the
 *   data is read, before the emulator has seen it: a STALL the emulator
 *   decides from the data cannot be given (logged).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fx/bytes.h"
#include "fx/emu.h"
#include "fx/log.h"
#include "fxgadget.h"

#define LOG_PREFIX "fxgadget"
/* a request the emulator never answers (fault=timeout): longer than any
 * host's control timeout, then the request is given up */
#define ABANDON_REAL_US 15000000u

/* spec 8 "Boot delay (reset released -> enumerated)": 300 ms of USB
 * connection time + 100 ms of host enumeration. The emulated tiers have
 * no host that enumerates, so libfxemu counts both; here usbcore does the
 * enumeration for real (debounce, reset, address: ~330 ms measured under
 * TCG), so the gadget connects when the ROM would, the host's share left
 * out of the knob. */
#define HOST_ENUM_US 100000u

static const char *const pin_names[FXG_PIN_N] = { "boot0", "nrst", "power" };

static int read_level(int fd)
{
	char c[4];

	if (fd < 0 || pread(fd, c, sizeof(c), 0) < 1)
		return -1;
	return c[0] == '1';
}

/* Open DIR/value (and DIR/pull for NRST) of one gpio-sim line. */
static int open_pin(struct fxg_board *b, enum fxg_pin p, const char *dir,
		    struct fx_err *err)
{
	char path[1000];

	if ((size_t)snprintf(path, sizeof(path), "%s/value", dir) >= sizeof(path))
		return fx_err_set(err, FX_E_CONFIG, "board %u: %s line: path too long",
				  b->index, pin_names[p]);
	b->pin_fd[p] = open(path, O_RDONLY | O_CLOEXEC);
	if (b->pin_fd[p] < 0)
		return fx_err_set(err, FX_E_CONFIG, "board %u: %s line '%s': %s",
				  b->index, pin_names[p], path, strerror(errno));
	if (p == FXG_PIN_NRST) {
		snprintf(path, sizeof(path), "%s/pull", dir);
		b->nrst_pull_fd = open(path, O_WRONLY | O_CLOEXEC);
		if (b->nrst_pull_fd < 0)
			return fx_err_set(err, FX_E_CONFIG, "board %u: nrst line '%s': %s",
					  b->index, path, strerror(errno));
	}
	return 0;
}

/* The G474's NRST has an internal pull-up (RM0440 "NRST pin"): a station
 * that releases an open-drain NRST leaves the line to it, so the board
 * model sets the sim line's pull to pull-up. gpiolib emulates open drain
 * on gpio-sim by switching the line to input; the stock 6.1 gpio-sim then
 * keeps the last driven value (tests/kernel/gpio-sim-od.patch makes an
 * input read its pull, as a pin does). */
static void nrst_pull_up(struct fxg_board *b)
{
	static const char up[] = "pull-up";

	if (b->nrst_pull_fd >= 0 &&
	    pwrite(b->nrst_pull_fd, up, sizeof(up) - 1, 0) < 0)
		fx_log(FX_LOG_WARN, LOG_PREFIX, "board %u: nrst pull-up: %s", b->index,
		       strerror(errno));
}

static void apply(struct fxg_board *b, enum fxg_pin p, int v)
{
	if (v < 0 || v == b->level[p])
		return;
	b->level[p] = v;
	if (b->verbose)
		fx_log(FX_LOG_INFO, LOG_PREFIX, "board %u: %s %d", b->index,
		       pin_names[p], v);
	switch (p) {
	case FXG_PIN_BOOT0:
		fx_emu_set_boot0(b->emu, v);
		break;
	case FXG_PIN_NRST:
		fx_emu_set_nrst(b->emu, v);
		break;
	case FXG_PIN_POWER:
		fx_emu_set_power(b->emu, v);
		break;
	case FXG_PIN_N:
		break;
	}
}

void fxg_board_poll_pins(struct fxg_board *b)
{
	int v[FXG_PIN_N];

	if (!b->wired)
		return;
	v[FXG_PIN_NRST] = read_level(b->pin_fd[FXG_PIN_NRST]);
	v[FXG_PIN_BOOT0] = read_level(b->pin_fd[FXG_PIN_BOOT0]);
	v[FXG_PIN_POWER] = read_level(b->pin_fd[FXG_PIN_POWER]);
	/* changes seen in one poll: the order a jig uses (BOOT0 is set up
	 * while NRST is low, power comes before the reset is released) */
	apply(b, FXG_PIN_POWER, v[FXG_PIN_POWER]);
	if (v[FXG_PIN_NRST] == 0) {
		apply(b, FXG_PIN_NRST, 0);
		apply(b, FXG_PIN_BOOT0, v[FXG_PIN_BOOT0]);
	} else {
		apply(b, FXG_PIN_BOOT0, v[FXG_PIN_BOOT0]);
		apply(b, FXG_PIN_NRST, v[FXG_PIN_NRST]);
	}
}

/* A string descriptor of the device on the bus, as ASCII. */
static int get_string(struct fxg_board *b, uint8_t idx, char *out, size_t cap)
{
	struct fx_usb_setup s = {
		.bmRequestType = USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE,
		.bRequest = USB_REQ_GET_DESCRIPTOR,
		.wValue = (uint16_t)(USB_DT_STRING << 8 | idx),
		.wIndex = 0x0409,
		.wLength = 255,
	};
	uint8_t d[255];
	size_t n = 0, o = 0;
	uint64_t done;

	out[0] = '\0';
	if (!idx)
		return 0;
	if (fx_emu_control(b->emu, &s, d, &n, &done) || n < 2 || d[1] != USB_DT_STRING)
		return FX_E_PROTO;
	if (d[0] < n)
		n = d[0];
	for (size_t i = 2; i + 1 < n && o + 1 < cap; i += 2)
		out[o++] = d[i + 1] ? '?' : (char)d[i];
	out[o] = '\0';
	return 0;
}

/* What the board shows now, as the gadget layer wants it. */
static int describe(struct fxg_board *b, struct fxg_usbdev *u, struct fx_err *err)
{
	uint8_t dd[18], cfg[512], emu_idx[FXG_MAX_STRINGS];
	int nd, nc;
	size_t off;

	memset(u, 0, sizeof(*u));
	nd = fx_emu_device_descriptor(b->emu, dd, sizeof(dd));
	nc = fx_emu_config_descriptor(b->emu, cfg, sizeof(cfg));
	if (nd < 18 || nc < 9 || (size_t)nc - 9 > sizeof(u->intf))
		return fx_err_set(err, FX_E_PROTO, "board %u: no descriptors (%d, %d)",
				  b->index, nd, nc);
	u->bcd_usb = fx_get_le16(dd + 2);
	u->dev_class = dd[4];
	u->dev_subclass = dd[5];
	u->dev_protocol = dd[6];
	u->mps0 = dd[7];
	u->vid = fx_get_le16(dd + 8);
	u->pid = fx_get_le16(dd + 10);
	u->bcd_device = fx_get_le16(dd + 12);
	if (get_string(b, dd[14], u->manufacturer, sizeof(u->manufacturer)) ||
	    get_string(b, dd[15], u->product, sizeof(u->product)) ||
	    get_string(b, dd[16], u->serial, sizeof(u->serial)))
		return fx_err_set(err, FX_E_PROTO, "board %u: device strings unreadable",
				  b->index);
	u->cfg_attributes = cfg[7];
	u->cfg_max_power = cfg[8];
	u->intf_len = (size_t)nc - 9;
	memcpy(u->intf, cfg + 9, u->intf_len);
	/* limit: FunctionFS numbers its own strings from 1 and maps them to
	 * the gadget's ids (after the device strings: the ROM's 4, 5, 6) */
	for (off = 0; off + 2 <= u->intf_len && u->intf[off] >= 2; off += u->intf[off]) {
		uint8_t *d = u->intf + off;
		unsigned i;

		if (d[1] != USB_DT_INTERFACE || d[0] < 9 || !d[8])
			continue;
		for (i = 0; i < u->nstrings && emu_idx[i] != d[8]; i++)
			;
		if (i == u->nstrings) {
			if (i == FXG_MAX_STRINGS)
				return fx_err_set(err, FX_E_PROTO, "board %u: too many "
						  "interface strings", b->index);
			emu_idx[i] = d[8];
			if (get_string(b, d[8], u->strings[i], sizeof(u->strings[i])))
				return fx_err_set(err, FX_E_PROTO, "board %u: string %u "
						  "unreadable", b->index, d[8]);
			u->nstrings++;
		}
		d[8] = (uint8_t)(i + 1);
	}
	return 0;
}

int fxg_board_open(struct fxg_board *b, unsigned index, const char *path,
		   const char *knobs, const char *pins, const struct fx_clock *clk,
		   double scale, const char *run_dir, int verbose,
		   struct fx_err *err)
{
	struct fx_emu_knobs k;
	bool boot0 = true;
	char name[32], udc[64], dirs[3][300];
	int rc;

	memset(b, 0, sizeof(*b));
	b->index = index;
	b->clock = clk;
	b->scale = scale;
	b->verbose = verbose;
	b->g.ep0 = -1;
	b->nrst_pull_fd = -1;
	for (int p = 0; p < FXG_PIN_N; p++) {
		b->pin_fd[p] = -1;
		b->level[p] = -1;
	}
	if ((size_t)snprintf(b->path, sizeof(b->path), "%s", path) >= sizeof(b->path))
		return fx_err_set(err, FX_E_CONFIG, "board '%s': path too long", path);
	fx_emu_knobs_default(&k);
	if (knobs && fx_emu_knobs_parse(&k, &boot0, knobs, err))
		return fx_err_prefix(err, "board '%s'", path);
	if (pins) {
		const char *c1 = strchr(pins, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;

		if (!c1 || !c2 || strchr(c2 + 1, ',') || c1 == pins || c2 == c1 + 1 ||
		    !c2[1] || (size_t)(c1 - pins) >= sizeof(dirs[0]) ||
		    (size_t)(c2 - c1 - 1) >= sizeof(dirs[0]) ||
		    strlen(c2 + 1) >= sizeof(dirs[0]))
			return fx_err_set(err, FX_E_CONFIG, "board '%s': --pins: expected "
					  "BOOT0_DIR,NRST_DIR,POWER_DIR, got '%s'", path, pins);
		snprintf(dirs[0], sizeof(dirs[0]), "%.*s", (int)(c1 - pins), pins);
		snprintf(dirs[1], sizeof(dirs[1]), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
		snprintf(dirs[2], sizeof(dirs[2]), "%s", c2 + 1);
	}
	b->emu = fx_emu_load(path, clk, err);
	if (!b->emu)
		return err ? err->code : FX_E_FILE;
	if (k.boot_delay_us > HOST_ENUM_US)
		k.boot_delay_us -= HOST_ENUM_US;
	fx_emu_set_knobs(b->emu, &k);
	if (pins) {
		for (int p = 0; p < FXG_PIN_N; p++) {
			rc = open_pin(b, (enum fxg_pin)p, dirs[p], err);
			if (rc)
				return rc;
		}
		b->wired = true;
		/* before the station requests NRST: the board's pull-up */
		nrst_pull_up(b);
		fxg_board_poll_pins(b);
	} else {
		/* a bench: BOOT0 as the knobs say, NRST released, power on */
		fx_emu_set_boot0(b->emu, boot0);
		fx_emu_set_nrst(b->emu, true);
		fx_emu_set_power(b->emu, true);
	}
	snprintf(name, sizeof(name), "fxg%u", index);
	rc = fxg_udc_pick(index - 1, udc, sizeof(udc), err);
	if (!rc)
		rc = fxg_gadget_create(&b->g, name, udc, run_dir, err);
	if (rc)
		return rc;
	if (fxg_udc_host_port(udc, b->port, sizeof(b->port), NULL))
		b->port[0] = '\0';
	return 0;
}

/* Hosts sleep bwPollTimeout in real time (dfu-util, fixturectl): with a
 * scaled clock the GETSTATUS answer says the model's milliseconds times the
 * scale, rounded up, so the host waits what the scaled device needs. */
static void scale_poll(struct fxg_board *b)
{
	uint32_t ms;
	double v;

	if (b->scale == 1.0 || b->s.bRequest != DFU_GETSTATUS ||
	    (b->s.bmRequestType & 0x60) != USB_TYPE_CLASS || b->actual < 4)
		return;
	ms = fx_get_le24(b->buf + 1);
	v = (double)ms * b->scale;
	ms = (uint32_t)v;
	if ((double)ms < v)
		ms++;
	fx_put_le24(b->buf + 1, ms > 0xffffff ? 0xffffff : ms);
}

static void deliver(struct fxg_board *b)
{
	struct fx_err err;

	b->pending = false;
	fx_err_clear(&err);
	if (b->g.ep0 < 0)
		return;
	if (b->abandon) {
		/* the host timed out long ago: clears the cancelled setup */
		fxg_gadget_reply(&b->g, &b->s, NULL, 0, true, NULL);
		b->abandon = false;
		return;
	}
	if (fxg_gadget_reply(&b->g, &b->s, b->buf, b->actual, b->rc == FX_E_STALL,
			     &err))
		fx_log(FX_LOG_WARN, LOG_PREFIX, "board %u: %s", b->index, err.msg);
}

static void on_setup(struct fxg_board *b)
{
	struct fx_usb_setup s = {
		.bmRequestType = b->s.bmRequestType,
		.bRequest = b->s.bRequest,
		.wValue = b->s.wValue,
		.wIndex = b->s.wIndex,
		.wLength = b->s.wLength,
	};
	bool in = s.bmRequestType & USB_DIR_IN, out_data = !in && s.wLength;
	uint64_t done_at = 0;
	struct fx_err err;

	fx_err_clear(&err);
	b->actual = 0;
	if (s.wLength > sizeof(b->buf)) {
		b->rc = FX_E_STALL; /* longer than any DFU transfer size */
		b->done_at = fx_clock_now(b->clock);
		b->pending = !out_data;
		if (out_data)
			fx_log(FX_LOG_WARN, LOG_PREFIX, "board %u: %u-byte OUT request "
			       "refused", b->index, s.wLength);
		else
			deliver(b);
		return;
	}
	if (out_data && fxg_gadget_read_data(&b->g, b->buf, s.wLength, &err)) {
		fx_log(FX_LOG_WARN, LOG_PREFIX, "board %u: %s", b->index, err.msg);
		return;
	}
	b->rc = fx_emu_control(b->emu, &s, b->buf, &b->actual, &done_at);
	if (b->verbose >= 2)
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "board %u: %02x %02x %04x %04x %u -> "
		       "%d, %zu bytes, done at %llu us", b->index, s.bmRequestType,
		       s.bRequest, s.wValue, s.wIndex, s.wLength, b->rc, b->actual,
		       (unsigned long long)(done_at == UINT64_MAX ? 0 : done_at));
	if (b->rc == FX_E_NODEV) {
		/* the board is leaving the bus: it answers nothing more and the
		 * unplug ends the request. ep0 is not read again before that:
		 * FunctionFS takes a read() while an IN request is pending as
		 * "STALL it" (EL2HLT), and a host would see a STALL where a
		 * board that drops off gives a transfer error or no device
		 * (found by tests/kernel: GETSTATUS "stalled" mid-program) */
		b->leaving = true;
		return;
	}
	if (b->rc == 0 && in)
		scale_poll(b);
	if (out_data) {
		/* limit: the status stage went with the data */
		if (b->rc == FX_E_STALL)
			fx_log(FX_LOG_WARN, LOG_PREFIX, "board %u: request %02x %02x "
			       "should have stalled after its data stage", b->index,
			       s.bmRequestType, s.bRequest);
		b->hold_until = done_at == UINT64_MAX ? fx_clock_now(b->clock) : done_at;
		return;
	}
	b->pending = true;
	if (done_at == UINT64_MAX) {
		b->abandon = true;
		done_at = fx_clock_now(b->clock) + (uint64_t)(ABANDON_REAL_US / b->scale);
	}
	b->done_at = done_at;
	if (done_at <= fx_clock_now(b->clock))
		deliver(b);
}

bool fxg_board_listening(const struct fxg_board *b)
{
	return b->g.ep0 >= 0 && !b->pending && !b->leaving &&
	       fx_clock_now(b->clock) >= b->hold_until;
}

void fxg_board_on_ep0(struct fxg_board *b)
{
	while (fxg_board_listening(b)) {
		enum fxg_event_kind kind;
		const char *what = "";
		struct fx_err err;

		fx_err_clear(&err);
		if (fxg_gadget_event(&b->g, &kind, &b->s, &what, &err)) {
			fx_log(FX_LOG_WARN, LOG_PREFIX, "board %u: %s", b->index, err.msg);
			return;
		}
		if (kind == FXG_EV_NONE)
			return;
		if (kind == FXG_EV_OTHER) {
			if (b->verbose >= 2)
				fx_log(FX_LOG_DEBUG, LOG_PREFIX, "board %u: %s", b->index, what);
			continue;
		}
		on_setup(b);
	}
}

static void unplug(struct fxg_board *b)
{
	struct fx_err err;

	fx_err_clear(&err);
	b->pending = b->abandon = b->leaving = false;
	b->hold_until = 0;
	if (fxg_gadget_unplug(&b->g, &err))
		fx_log(FX_LOG_WARN, LOG_PREFIX, "board %u: %s", b->index, err.msg);
	if (b->verbose)
		fx_log(FX_LOG_INFO, LOG_PREFIX, "board %u: left the bus (port %s)",
		       b->index, b->port);
}

static void plug(struct fxg_board *b)
{
	struct fxg_usbdev u;
	struct fx_err err;

	fx_err_clear(&err);
	b->plugged_enum = fx_emu_enum_count(b->emu);
	if (describe(b, &u, &err) || fxg_gadget_plug(&b->g, &u, &err)) {
		fx_log(FX_LOG_ERR, LOG_PREFIX, "board %u: cannot plug: %s", b->index,
		       err.msg);
		fxg_gadget_unplug(&b->g, NULL);
		return;
	}
	b->plugs++;
	if (b->verbose)
		fx_log(FX_LOG_INFO, LOG_PREFIX, "board %u: %04x:%04x plugged on %s "
		       "(port %s, enumeration %u)", b->index, u.vid, u.pid, b->g.udc,
		       b->port, b->plugs);
}

uint64_t fxg_board_service(struct fxg_board *b)
{
	uint64_t next;
	enum fx_emu_bus bus;

	/* a reply the board finished before it left goes out first (the
	 * GETSTATUS answering dfuMANIFEST, then the ROM detaches) */
	if (b->pending && fx_clock_now(b->clock) >= b->done_at)
		deliver(b);
	bus = fx_emu_poll(b->emu);
	if (b->g.bound && (bus == FX_EMU_BUS_NONE ||
			   fx_emu_enum_count(b->emu) != b->plugged_enum))
		unplug(b);
	if (!b->g.bound && bus != FX_EMU_BUS_NONE &&
	    fx_emu_enum_count(b->emu) != b->plugged_enum)
		plug(b);
	next = fx_emu_next_event_us(b->emu);
	if (b->pending && b->done_at < next)
		next = b->done_at;
	if (b->hold_until > fx_clock_now(b->clock) && b->hold_until < next)
		next = b->hold_until;
	return next;
}

int fxg_board_close(struct fxg_board *b, struct fx_err *err)
{
	int rc = 0;

	fxg_gadget_destroy(&b->g);
	if (b->emu)
		rc = fx_emu_save(b->emu, b->path, err);
	fx_emu_free(b->emu);
	b->emu = NULL;
	for (int p = 0; p < FXG_PIN_N; p++)
		if (b->pin_fd[p] >= 0)
			close(b->pin_fd[p]);
	if (b->nrst_pull_fd >= 0)
		close(b->nrst_pull_fd);
	return rc;
}
