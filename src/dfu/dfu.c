/* dfu.c - DFU 1.1 requests over the fx_usb seam: GETSTATUS parse, bounded
 * recovery, descriptor reading (include/fx/dfu.h). Section numbers refer to
 * ../shared/spec/stm32g474-bootloader.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu_internal.h"
#include "fx/bytes.h"
#include "fx/log.h"

#define LOG_PREFIX "dfu"
#define RECOVER_ROUNDS 3
#define CONFIG_MAX 1024

const char *fx_dfu_state_name(int state)
{
	static const char *const names[] = {
		"appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC",
		"dfuDNBUSY", "dfuDNLOAD-IDLE", "dfuMANIFEST-SYNC",
		"dfuMANIFEST", "dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE",
		"dfuERROR",
	};

	if (state < 0)
		return "unknown";
	if ((size_t)state < sizeof(names) / sizeof(names[0]))
		return names[state];
	return "invalid";
}

const char *fx_dfu_status_name(int status)
{
	static const char *const names[] = {
		"OK", "errTARGET", "errFILE", "errWRITE", "errERASE",
		"errCHECK_ERASED", "errPROG", "errVERIFY", "errADDRESS",
		"errNOTDONE", "errFIRMWARE", "errVENDOR", "errUSBR", "errPOR",
		"errUNKNOWN", "errSTALLEDPKT",
	};

	if (status < 0)
		return "unknown";
	if ((size_t)status < sizeof(names) / sizeof(names[0]))
		return names[status];
	return "invalid";
}

static const char *req_name(uint8_t req)
{
	switch (req) {
	case DFU_DETACH:
		return "DFU_DETACH";
	case DFU_DNLOAD:
		return "DFU_DNLOAD";
	case DFU_UPLOAD:
		return "DFU_UPLOAD";
	case DFU_GETSTATUS:
		return "DFU_GETSTATUS";
	case DFU_CLRSTATUS:
		return "DFU_CLRSTATUS";
	case DFU_GETSTATE:
		return "DFU_GETSTATE";
	case DFU_ABORT:
		return "DFU_ABORT";
	default:
		return "DFU_?";
	}
}

int fx_dfu_status_code(uint8_t bStatus)
{
	switch (bStatus) {
	case DFU_STATUS_errVENDOR:
		return FX_E_PROTECTED; /* read protection (spec 1.3) */
	case DFU_STATUS_errTARGET:
	case DFU_STATUS_errADDRESS:
		return FX_E_RANGE;
	default:
		return FX_E_DFU;
	}
}

void fx_dfu_poll_sleep(struct fx_dfu *d, uint32_t ms)
{
	if (ms > FX_DFU_POLL_CAP_MS)
		ms = FX_DFU_POLL_CAP_MS;
	if (ms)
		fx_clock_sleep(d->usb->clock, (uint64_t)ms * 1000u);
}

/* A request req failed: err says which, and the last GETSTATUS of this
 * operation for the reader. */
static void failed(uint8_t req, struct fx_err *err)
{
	fx_err_prefix(err, "%s", req_name(req));
	if (err->dfu_state >= 0) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n,
			 " (last reply %s, status %s)",
			 fx_dfu_state_name(err->dfu_state),
			 fx_dfu_status_name(err->dfu_status));
	}
}

int fx_dfu_request(struct fx_dfu *d, uint8_t req, uint16_t wValue,
		   uint8_t *data, uint16_t len, size_t *actual, struct fx_err *err)
{
	bool in = req == DFU_UPLOAD || req == DFU_GETSTATUS || req == DFU_GETSTATE;
	struct fx_usb_setup s = {
		.bmRequestType = (uint8_t)((in ? USB_DIR_IN : 0) | USB_TYPE_CLASS |
					   USB_RECIP_INTERFACE),
		.bRequest = req,
		.wValue = wValue,
		.wIndex = d->intf,
		.wLength = len,
	};
	size_t got = 0;
	int rc;

	rc = fx_usb_control(d->usb, &s, data, &got, FX_DFU_CTRL_TIMEOUT_MS,
			    err);
	if (rc) {
		if (rc != FX_E_NODEV)
			d->need_recover = true;
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "%s wValue=%u len=%u: %s",
		       req_name(req), wValue, len, err->msg);
		failed(req, err);
		return rc;
	}
	if (actual)
		*actual = got;
	return 0;
}

int fx_dfu_request_batch(struct fx_dfu *d, struct fx_usb_xfer *x, size_t n,
			 size_t *ok, struct fx_err *err)
{
	size_t i, dummy;
	int rc;

	if (!ok)
		ok = &dummy;
	for (i = 0; i < n; i++) {
		uint8_t req = x[i].setup.bRequest;
		bool in = req == DFU_UPLOAD || req == DFU_GETSTATUS || req == DFU_GETSTATE;

		x[i].setup.bmRequestType = (uint8_t)((in ? USB_DIR_IN : 0) | USB_TYPE_CLASS |
						     USB_RECIP_INTERFACE);
		x[i].setup.wIndex = d->intf;
	}
	rc = fx_usb_control_batch(d->usb, x, n, FX_DFU_CTRL_TIMEOUT_MS, ok, err);
	if (rc) {
		const struct fx_usb_setup *s = &x[*ok < n ? *ok : 0].setup;

		if (rc != FX_E_NODEV)
			d->need_recover = true;
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "%s wValue=%u len=%u (queued with %zu): %s",
		       req_name(s->bRequest), s->wValue, s->wLength, n - 1, err->msg);
		failed(s->bRequest, err);
	}
	return rc;
}

/* --- raw requests ------------------------------------------------------ */

int fx_dfu_get_status_raw(struct fx_dfu *d, struct fx_dfu_status *st, struct fx_err *err)
{
	uint8_t buf[DFU_GETSTATUS_LEN];
	size_t n = 0;
	int rc;

	rc = fx_dfu_request(d, DFU_GETSTATUS, 0, buf, sizeof(buf), &n, err);
	if (rc)
		return rc;
	return fx_dfu_status_parse(d, buf, n, st, err);
}

int fx_dfu_status_parse(struct fx_dfu *d, const uint8_t *buf, size_t n,
			struct fx_dfu_status *st, struct fx_err *err)
{
	if (n != DFU_GETSTATUS_LEN) {
		d->need_recover = true;
		return fx_err_set(err, FX_E_PROTO,
				  "DFU_GETSTATUS: short reply, %zu of %u bytes", n,
				  DFU_GETSTATUS_LEN);
	}
	/* spec 1.2: bStatus, bwPollTimeout (24-bit LE), bState, iString */
	st->bStatus = buf[0];
	st->bwPollTimeout = fx_get_le24(buf + 1);
	st->bState = buf[4];
	st->iString = buf[5];
	err->dfu_state = st->bState;
	err->dfu_status = st->bStatus;
	d->last_poll_ms = st->bwPollTimeout;
	fx_log(FX_LOG_DEBUG, LOG_PREFIX, "GETSTATUS: %s, %s, poll %u ms",
	       fx_dfu_state_name(st->bState), fx_dfu_status_name(st->bStatus),
	       st->bwPollTimeout);
	return 0;
}

int fx_dfu_get_status(struct fx_dfu *d, struct fx_dfu_status *st, struct fx_err *err)
{
	struct fx_err local;

	DFU_ERR_LOCAL(err, local);
	fx_err_clear(err);
	return fx_dfu_get_status_raw(d, st, err);
}

int fx_dfu_clear_status(struct fx_dfu *d, struct fx_err *err)
{
	struct fx_err local;

	DFU_ERR_LOCAL(err, local);
	fx_err_clear(err);
	return fx_dfu_request(d, DFU_CLRSTATUS, 0, NULL, 0, NULL, err);
}

int fx_dfu_abort(struct fx_dfu *d, struct fx_err *err)
{
	struct fx_err local;

	DFU_ERR_LOCAL(err, local);
	fx_err_clear(err);
	return fx_dfu_request(d, DFU_ABORT, 0, NULL, 0, NULL, err);
}

int fx_dfu_get_state(struct fx_dfu *d, uint8_t *state, struct fx_err *err)
{
	struct fx_err local;
	uint8_t b = 0;
	size_t n = 0;
	int rc;

	DFU_ERR_LOCAL(err, local);
	fx_err_clear(err);
	rc = fx_dfu_request(d, DFU_GETSTATE, 0, &b, 1, &n, err);
	if (rc)
		return rc;
	if (n != 1)
		return fx_err_set(err, FX_E_PROTO, "DFU_GETSTATE: empty reply");
	*state = b;
	return 0;
}

/* spec 6.2 step 2 and 1.8 (dfu-util status_again, bounded): CLRSTATUS in
 * dfuERROR, ABORT in the idle/sync states, wait out dfuDNBUSY. A STALLed
 * CLRSTATUS (STM32C5-style ROM) is tolerated: the next round looks again. */
int fx_dfu_recover(struct fx_dfu *d, struct fx_err *err)
{
	struct fx_err local;
	struct fx_dfu_status st = { 0 };
	int round, rc;

	DFU_ERR_LOCAL(err, local);
	fx_err_clear(err);
	for (round = 0; round <= RECOVER_ROUNDS; round++) {
		rc = fx_dfu_get_status_raw(d, &st, err);
		if (rc)
			return fx_err_prefix(err, "recover");
		if (st.bState == dfuIDLE && st.bStatus == DFU_STATUS_OK) {
			d->need_recover = false;
			return 0;
		}
		if (round == RECOVER_ROUNDS)
			break;
		switch (st.bState) {
		case appIDLE:
		case appDETACH:
			return fx_err_set(err, FX_E_STATE,
					  "recover: device in run-time mode (%s), not the DFU bootloader",
					  fx_dfu_state_name(st.bState));
		case dfuDNBUSY:
		case dfuMANIFEST:
			fx_dfu_poll_sleep(d, st.bwPollTimeout ? st.bwPollTimeout : 1);
			break;
		case dfuERROR:
		case dfuIDLE:
			rc = fx_dfu_request(d, DFU_CLRSTATUS, 0, NULL, 0, NULL, err);
			if (rc && rc != FX_E_STALL)
				return fx_err_prefix(err, "recover");
			break;
		case dfuDNLOAD_SYNC:
		case dfuDNLOAD_IDLE:
		case dfuMANIFEST_SYNC:
		case dfuUPLOAD_IDLE:
		case dfuMANIFEST_WAIT_RESET:
		default:
			rc = fx_dfu_request(d, DFU_ABORT, 0, NULL, 0, NULL, err);
			if (rc && rc != FX_E_STALL)
				return fx_err_prefix(err, "recover");
			break;
		}
	}
	return fx_err_set(err, FX_E_STATE,
			  "recover: DFU_GETSTATUS still reports %s, status %s after %d rounds of DFU_CLRSTATUS/DFU_ABORT",
			  fx_dfu_state_name(st.bState), fx_dfu_status_name(st.bStatus),
			  RECOVER_ROUNDS);
}

int fx_dfu_set_alt(struct fx_dfu *d, uint8_t alt, struct fx_err *err)
{
	struct fx_err local;
	int rc;

	DFU_ERR_LOCAL(err, local);
	fx_err_clear(err);
	if (alt >= d->info.nalts)
		return fx_err_set(err, FX_E_RANGE,
				  "alt setting %u: the device has %zu", alt,
				  d->info.nalts);
	if (d->alt == alt && !d->need_recover)
		return 0;
	rc = fx_usb_set_alt(d->usb, d->intf, alt, err);
	if (rc)
		return fx_err_prefix(err, "SET_INTERFACE %u alt %u", d->intf, alt);
	d->alt = alt;
	return 0;
}

int fx_dfu_alt_for(const struct fx_dfu *d, uint32_t addr)
{
	size_t a;

	for (a = 0; a < d->info.nalts; a++)
		if (fx_dfuse_layout_find(&d->info.layout[a], addr))
			return (int)a;
	return FX_E_RANGE;
}

/* --- descriptors --------------------------------------------------------- */

/* Standalone GET_DESCRIPTOR of the functional descriptor, for devices
 * whose configuration blob lacks it. */
static int read_func_desc(struct fx_dfu *d, uint8_t *buf, size_t *n, struct fx_err *err)
{
	struct fx_usb_setup s = {
		.bmRequestType = USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_INTERFACE,
		.bRequest = USB_REQ_GET_DESCRIPTOR,
		.wValue = USB_DT_DFU_FUNCTIONAL << 8,
		.wIndex = d->intf,
		.wLength = 9,
	};

	return fx_usb_control(d->usb, &s, buf, n, FX_DFU_CTRL_TIMEOUT_MS, err);
}

static void parse_func(struct fx_dfu_info *in, const uint8_t *p, size_t n)
{
	/* DFU 1.1 4.1.3: bLength, type, bmAttributes, wDetachTimeOut,
	 * wTransferSize, bcdDFUVersion (absent in DFU 1.0 = 7 bytes) */
	struct fx_cursor c;

	fx_cursor_init(&c, p, n);
	fx_cursor_take(&c, 2);
	in->attributes = fx_cursor_u8(&c);
	in->detach_timeout = fx_cursor_le16(&c);
	in->transfer_size = fx_cursor_le16(&c);
	in->bcd_dfu = n >= 9 ? fx_cursor_le16(&c) : 0x0100;
}

static int bind(struct fx_dfu *d, struct fx_err *err)
{
	const struct fx_usb_info *ui = fx_usb_get_info(d->usb);
	struct fx_dfu_info *in = &d->info;
	uint8_t cfg[CONFIG_MAX];
	uint8_t istr[FX_DFU_MAX_ALTS] = { 0 };
	size_t len = 0, i;
	bool have_intf = false, in_dfu = false, have_func = false;
	int rc;

	memset(in, 0, sizeof(*in));
	d->alt = -1;
	in->vid = ui->vid;
	in->pid = ui->pid;
	in->bcd_device = ui->bcd_device;
	snprintf(in->serial, sizeof(in->serial), "%s", ui->serial);
	snprintf(in->product, sizeof(in->product), "%s", ui->product);
	rc = fx_usb_config_desc(d->usb, cfg, sizeof(cfg), &len, err);
	if (rc)
		return fx_err_prefix(err, "configuration descriptor");
	for (i = 0; i + 2 <= len;) {
		uint8_t bl = cfg[i], type = cfg[i + 1];

		if (bl < 2 || i + bl > len)
			return fx_err_set(err, FX_E_PROTO,
					  "configuration descriptor: bad descriptor length %u at offset %zu",
					  bl, i);
		if (type == USB_DT_INTERFACE && bl >= 9) {
			bool dfu = cfg[i + 5] == USB_CLASS_APP_SPEC &&
				   cfg[i + 6] == DFU_SUBCLASS;

			in_dfu = false;
			if (dfu && (!have_intf || cfg[i + 2] == d->intf)) {
				uint8_t alt = cfg[i + 3];

				have_intf = true;
				in_dfu = true;
				d->intf = cfg[i + 2];
				if (alt < FX_DFU_MAX_ALTS) {
					istr[alt] = cfg[i + 8];
					if (alt + 1u > in->nalts)
						in->nalts = alt + 1u;
				}
			}
		} else if (type == USB_DT_DFU_FUNCTIONAL && in_dfu && bl >= 7 &&
			   !have_func) {
			parse_func(in, cfg + i, bl);
			have_func = true;
		}
		i += bl;
	}
	if (!have_intf)
		return fx_err_set(err, FX_E_NOTSUP,
				  "device %04x:%04x has no DFU interface (class 0xFE/0x01)",
				  in->vid, in->pid);
	if (!have_func) {
		uint8_t fd[9];
		size_t n = 0;

		rc = read_func_desc(d, fd, &n, err);
		if (rc || n < 7 || fd[1] != USB_DT_DFU_FUNCTIONAL)
			return fx_err_set(err, FX_E_PROTO,
					  "device %04x:%04x: no DFU functional descriptor",
					  in->vid, in->pid);
		parse_func(in, fd, n);
	}
	if (in->transfer_size < 8)
		return fx_err_set(err, FX_E_PROTO,
				  "DFU functional descriptor: wTransferSize %u is too small",
				  in->transfer_size);
	/* dfu-util clamps to 4096 on Linux (spec 1.10) */
	if (in->transfer_size > 4096)
		in->transfer_size = 4096;
	for (i = 0; i < in->nalts; i++) {
		struct fx_err perr;

		rc = fx_usb_string(d->usb, istr[i], in->alt_name[i],
				   sizeof(in->alt_name[i]), err);
		if (rc)
			return fx_err_prefix(err, "alt %zu name (string %u)", i,
					     istr[i]);
		fx_err_clear(&perr);
		if (fx_dfuse_layout_parse(in->alt_name[i], &in->layout[i], &perr)) {
			memset(&in->layout[i], 0, sizeof(in->layout[i]));
			fx_log(FX_LOG_WARN, LOG_PREFIX, "alt %zu: %s", i, perr.msg);
		}
	}
	fx_log(FX_LOG_INFO, LOG_PREFIX,
	       "%04x:%04x DFU %x.%02x, transfer size %u, %zu alt settings",
	       in->vid, in->pid, in->bcd_dfu >> 8, in->bcd_dfu & 0xFF,
	       in->transfer_size, in->nalts);
	if (!in->nalts)
		return fx_err_set(err, FX_E_PROTO, "DFU interface without alt settings");
	rc = fx_dfu_set_alt(d, 0, err);
	if (rc)
		return rc;
	return fx_dfu_recover(d, err);
}

int fx_dfu_rebind(struct fx_dfu *d, struct fx_err *err)
{
	struct fx_err local;

	DFU_ERR_LOCAL(err, local);
	fx_err_clear(err);
	d->need_recover = false;
	return bind(d, err);
}

struct fx_dfu *fx_dfu_open(struct fx_usb *usb, struct fx_err *err)
{
	struct fx_dfu *d = calloc(1, sizeof(*d));

	if (!d) {
		fx_err_set(err, FX_E_NOMEM, "out of memory");
		return NULL;
	}
	d->usb = usb;
	d->blocknum_increment = true;
	if (fx_dfu_rebind(d, err)) {
		free(d);
		return NULL;
	}
	return d;
}

void fx_dfu_free(struct fx_dfu *d)
{
	free(d);
}

const struct fx_dfu_info *fx_dfu_get_info(const struct fx_dfu *d)
{
	return &d->info;
}

struct fx_usb *fx_dfu_usb(struct fx_dfu *d)
{
	return d->usb;
}

void fx_dfu_set_progress(struct fx_dfu *d, fx_dfu_progress_fn fn, void *user)
{
	d->progress = fn;
	d->progress_user = user;
}

void fx_dfu_set_busy_times(struct fx_dfu *d, const struct fx_dfu_busy_times *t)
{
	static const struct fx_dfu_busy_times unknown;

	d->busy = t ? *t : unknown;
}

void fx_dfu_set_safe_addressing(struct fx_dfu *d, bool on)
{
	d->blocknum_increment = !on;
}
