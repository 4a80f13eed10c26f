/* emu.c - libfxemu: board object, control-request dispatch with the USB
 * timing model and fault injection (spec 8), standard requests.
 * The DFU class lives in emu_dfu.c, descriptors in emu_desc.c. */
#include <stdlib.h>
#include <string.h>

#include "emu_priv.h"
#include "fx/bytes.h"
#include "fx/log.h"

#define LOG_PREFIX "emu"

/* Spec 8 USB full-speed model: 0.5 ms per control transfer plus 0.06 ms
 * per 64-byte data packet. */
uint64_t emu_usb_us(size_t bytes)
{
	return 500u + 60u * (uint64_t)((bytes + 63u) / 64u);
}

/* UID from a seed: FNV-1a then splitmix64, so different paths give
 * different, stable chips. */
void emu_uid_from_seed(const void *seed, size_t n, uint8_t uid[12])
{
	const uint8_t *p = seed;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	for (i = 0; i < 12; i++) {
		uint64_t z;

		if (i % 8 == 0) {
			h += 0x9e3779b97f4a7c15ull;
		}
		z = h;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		uid[i] = (uint8_t)(z >> (8 * (i % 8)));
	}
}

struct fx_emu *emu_alloc(const struct fx_emu_identity *id,
			 const struct fx_clock *clk, struct fx_err *err)
{
	static const char seed[] = "fixturectl-emu-default-chip";
	struct fx_emu *e;

	e = calloc(1, sizeof(*e));
	if (!e)
		goto err_nomem;
	e->flash = malloc(G4_FLASH_SIZE);
	e->tag = calloc(EMU_NDW, 1);
	e->ram = calloc(EMU_RAM_SIZE, 1);
	if (!e->flash || !e->tag || !e->ram)
		goto err_free;
	memset(e->flash, 0xFF, G4_FLASH_SIZE);
	memset(e->otp, 0xFF, sizeof(e->otp));
	emu_ob_factory(e->ob);
	e->clk = clk;
	fx_emu_knobs_default(&e->knobs);
	if (id) {
		e->id = *id;
	} else {
		emu_uid_from_seed(seed, sizeof(seed) - 1, e->id.uid);
		e->id.app_vid = 0x1209;
		e->id.app_pid = 0x0001;
	}
	if (!e->id.app_vid && !e->id.app_pid) {
		e->id.app_vid = 0x1209;
		e->id.app_pid = 0x0001;
	}
	e->nrst = true;
	e->t_drop = e->t_reset = e->t_enum = EMU_NEVER;
	emu_ob_reload(e);
	emu_dfu_usb_reset(e);
	return e;

err_free:
	fx_emu_free(e);
err_nomem:
	fx_err_set(err, FX_E_NOMEM, "emulated board: out of memory");
	return NULL;
}

struct fx_emu *fx_emu_new(const struct fx_emu_identity *id,
			  const struct fx_clock *clk, struct fx_err *err)
{
	return emu_alloc(id, clk, err);
}

void fx_emu_free(struct fx_emu *e)
{
	if (!e)
		return;
	free(e->flash);
	free(e->tag);
	free(e->ram);
	free(e);
}

void fx_emu_set_knobs(struct fx_emu *e, const struct fx_emu_knobs *k)
{
	e->knobs = *k;
	if (e->knobs.transfer_size != 2048)
		e->knobs.transfer_size = 1024;
	if (!(e->knobs.erase_scale > 0))
		e->knobs.erase_scale = 1.0;
}

const struct fx_emu_knobs *fx_emu_get_knobs(const struct fx_emu *e)
{
	return &e->knobs;
}

uint32_t fx_emu_request_count(const struct fx_emu *e)
{
	return e->requests;
}

void fx_emu_get_stats(const struct fx_emu *e, struct fx_emu_stats *st)
{
	*st = e->stats;
}

uint32_t fx_emu_optr(const struct fx_emu *e)
{
	return e->opt[0][0];
}

void fx_emu_uid(const struct fx_emu *e, uint8_t uid[12])
{
	memcpy(uid, e->id.uid, 12);
}

int fx_emu_device_descriptor(struct fx_emu *e, uint8_t *buf, size_t cap)
{
	emu_process_events(e, fx_clock_now(e->clk));
	return emu_desc_device(e, buf, cap);
}

int fx_emu_config_descriptor(struct fx_emu *e, uint8_t *buf, size_t cap)
{
	emu_process_events(e, fx_clock_now(e->clk));
	return emu_desc_config(e, buf, cap);
}

int fx_emu_set_alt(struct fx_emu *e, uint8_t intf, uint8_t alt)
{
	struct fx_usb_setup s = {
		.bmRequestType = USB_TYPE_STANDARD | USB_RECIP_INTERFACE,
		.bRequest = USB_REQ_SET_INTERFACE,
		.wValue = alt,
		.wIndex = intf,
		.wLength = 0,
	};
	uint64_t done;
	size_t n;

	return fx_emu_control(e, &s, NULL, &n, &done);
}

/* Standard requests of the ROM's DFU device (USB 2.0 ch. 9). */
static int std_request(struct fx_emu *e, const struct fx_usb_setup *s,
		       uint8_t *data, size_t *actual)
{
	bool in = s->bmRequestType & USB_DIR_IN;
	uint8_t recip = s->bmRequestType & 0x1f;
	int n;

	switch (s->bRequest) {
	case USB_REQ_GET_DESCRIPTOR:
		if (!in)
			return FX_E_STALL;
		n = emu_desc_get(e, s->wValue, data, s->wLength);
		if (n < 0)
			return FX_E_STALL;
		*actual = (size_t)n;
		return 0;
	case USB_REQ_GET_STATUS:
		if (!in || s->wLength < 2)
			return FX_E_STALL;
		/* self powered (bmAttributes 0xC0) for the device, 0 else */
		fx_put_le16(data, recip == USB_RECIP_DEVICE ? 1 : 0);
		*actual = 2;
		return 0;
	case USB_REQ_GET_CONFIGURATION:
		if (!in || s->wLength < 1)
			return FX_E_STALL;
		data[0] = e->config;
		*actual = 1;
		return 0;
	case USB_REQ_SET_CONFIGURATION:
		if (in || s->wValue > 1)
			return FX_E_STALL;
		e->config = (uint8_t)s->wValue;
		return 0;
	case USB_REQ_GET_INTERFACE:
		if (!in || s->wIndex != 0 || s->wLength < 1)
			return FX_E_STALL;
		data[0] = e->alt;
		*actual = 1;
		return 0;
	case USB_REQ_SET_INTERFACE:
		if (in || s->wIndex != 0 || s->wValue >= EMU_NUM_ALTS)
			return FX_E_STALL;
		e->alt = (uint8_t)s->wValue;
		return 0;
	case 0x01: /* CLEAR_FEATURE */
	case 0x03: /* SET_FEATURE */
	case 0x05: /* SET_ADDRESS (the host controller's business) */
		return in ? FX_E_STALL : 0;
	default:
		return FX_E_STALL;
	}
}

/* Fault injection (SQLite TestFaultInject style): does this request
 * match the filter, and is it the Nth (or later, persistent) match,
 * counting from 1 since the board was created or loaded? */
static enum fx_emu_fault_kind fault_due(struct fx_emu *e,
					const struct fx_usb_setup *s)
{
	const struct fx_emu_knobs *k = &e->knobs;

	uint32_t count;

	if (!k->fault_nth || k->fault_kind == FX_EMU_FAULT_NONE)
		return FX_EMU_FAULT_NONE;
	if (k->fault_request < 0) {
		count = e->requests;
	} else {
		if ((s->bmRequestType & 0x60) != USB_TYPE_CLASS ||
		    s->bRequest != (uint8_t)k->fault_request ||
		    (unsigned)k->fault_request >= EMU_NUM_CLASS_REQ)
			return FX_EMU_FAULT_NONE;
		count = e->class_requests[k->fault_request];
	}
	if (count == k->fault_nth || (k->fault_persistent && count > k->fault_nth))
		return k->fault_kind;
	return FX_EMU_FAULT_NONE;
}

int fx_emu_control(struct fx_emu *e, const struct fx_usb_setup *setup,
		   uint8_t *data, size_t *actual, uint64_t *done_at_us)
{
	uint64_t now = fx_clock_now(e->clk), t;
	bool in = setup->bmRequestType & USB_DIR_IN;
	uint8_t none[1];
	bool cls = (setup->bmRequestType & 0x60) == USB_TYPE_CLASS;
	size_t bytes;
	int rc;

	*actual = 0;
	emu_process_events(e, now);
	if (e->bus == FX_EMU_BUS_NONE) {
		*done_at_us = now;
		return FX_E_NODEV;
	}
	if (setup->wLength && !data) {
		*done_at_us = now;
		return FX_E_INVAL;
	}
	if (!data)
		data = none; /* no data stage: never memcpy to NULL */
	/* counted since creation/load, whatever the knobs say, so a fault
	 * armed later with an absolute fault_nth hits the right request */
	e->requests++;
	e->stats.requests++;
	if (cls && setup->bRequest < EMU_NUM_CLASS_REQ)
		e->class_requests[setup->bRequest]++;
	t = now > e->bus_free_at ? now : e->bus_free_at;

	/* dropping off the bus (after an OB write, Read Unprotect or the
	 * leave): nothing is answered, the host sees the device vanish */
	if (e->mute) {
		*done_at_us = e->t_drop;
		return FX_E_NODEV;
	}
	switch (fault_due(e, setup)) {
	case FX_EMU_FAULT_STALL:
		*done_at_us = e->bus_free_at = t + emu_usb_us(0);
		e->stats.usb_us += emu_usb_us(0);
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "fault: stall request %u",
		       e->requests);
		return FX_E_STALL;
	case FX_EMU_FAULT_TIMEOUT:
		*done_at_us = EMU_NEVER;
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "fault: request %u never answered",
		       e->requests);
		return 0;
	case FX_EMU_FAULT_DROP:
		/* off the bus until power cycle or NRST pulse */
		e->bus = FX_EMU_BUS_NONE;
		e->t_drop = e->t_reset = e->t_enum = EMU_NEVER;
		e->mute = false;
		*done_at_us = t;
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "fault: dropped off at request %u",
		       e->requests);
		return FX_E_NODEV;
	case FX_EMU_FAULT_STATUS:
		e->status_fault_armed = true;
		break;
	case FX_EMU_FAULT_NONE:
		break;
	}

	if (e->bus == FX_EMU_BUS_APP) {
		bytes = in ? 0 : setup->wLength;
		t += emu_usb_us(bytes);
		rc = emu_app_request(e, setup, data, actual, t);
		e->stats.usb_us += emu_usb_us(in ? *actual : bytes);
		*done_at_us = e->bus_free_at = t;
		return rc;
	}

	/* The ROM: an operation in progress delays, STALLs or lies (spec 8
	 * "Busy"). Standard requests wait in every mode: the CPU runs from
	 * the flash bank being worked on. */
	if (e->busy_until > t && e->state == dfuDNBUSY) {
		if (e->knobs.busy == FX_EMU_BUSY_WAIT || !cls)
			t = e->busy_until;
		else if (e->knobs.busy == FX_EMU_BUSY_STALL ||
			 setup->bRequest != DFU_GETSTATUS) {
			if (setup->bRequest != DFU_GETSTATE) {
				*done_at_us = e->bus_free_at = t + emu_usb_us(0);
				e->stats.usb_us += emu_usb_us(0);
				return FX_E_STALL;
			}
		}
	}
	emu_dfu_settle(e, t);
	if (cls && (setup->bmRequestType & 0x1f) == USB_RECIP_INTERFACE)
		rc = emu_dfu_request(e, setup, data, actual, t);
	else if ((setup->bmRequestType & 0x60) == USB_TYPE_STANDARD)
		rc = std_request(e, setup, data, actual);
	else
		rc = FX_E_STALL;
	bytes = in ? *actual : setup->wLength;
	if (rc == FX_E_STALL)
		bytes = 0;
	e->stats.usb_us += emu_usb_us(bytes);
	*done_at_us = e->bus_free_at = t + emu_usb_us(bytes);
	return rc;
}
