/* emu_dfu.c - the ROM's DFU 1.1 state machine with the ST DfuSe extensions
 * (spec 1.1-1.8, 6.1, 8).
 *
 * Two-step execution (spec 1.4): a DNLOAD is stored (dfuDNLOAD-SYNC); the
 * first GETSTATUS runs it and answers dfuDNBUSY with the spec-8
 * bwPollTimeout; once the device time has passed, the state is
 * dfuDNLOAD-SYNC again (or dfuERROR) and the next GETSTATUS reports
 * dfuDNLOAD-IDLE. A host must send that GETSTATUS: DNLOAD before it
 * STALLs (DFU 1.1), ABORT is fine.
 * DECISION (spec 1.4 vs 5.1): errors found before the operation starts
 * (bad address, RDP, misalignment, malformed command) are reported by the
 * first GETSTATUS (dfuERROR instead of dfuDNBUSY, as dfu-util's "Wrong state
 * after command" describes); errors found while programming (errPROG,
 * errWRITE) by the GETSTATUS after the operation. Knob errors=late
 * (spec 1.4 step 3) moves the first kind to the GETSTATUS after one
 * dfuDNBUSY (poll 1 ms).
 */
#include <string.h>

#include "emu_priv.h"
#include "fx/bytes.h"
#include "fx/log.h"

#define LOG_PREFIX "emu"

static const uint8_t dfuse_commands[4] = {
	DFUSE_CMD_GET_COMMANDS, DFUSE_CMD_SET_ADDRESS, DFUSE_CMD_ERASE,
	DFUSE_CMD_READ_UNPROTECT,
};

/* A fresh enumeration of the ROM. */
void emu_dfu_usb_reset(struct fx_emu *e)
{
	e->config = 0;
	e->alt = 0;
	e->state = dfuIDLE;
	e->status = DFU_STATUS_OK;
	e->ptr = G4_FLASH_BASE; /* spec 1.5 default pointer */
	e->busy_until = 0;
	e->have_pending = false;
	e->mute = false;
	e->status_fault_armed = false;
}

/* The operation is over: DFU 1.1 returns to dfuDNLOAD-SYNC, and the next
 * GETSTATUS reports dfuDNLOAD-IDLE (ST Cube class does the same); an error
 * goes straight to dfuERROR, which is sticky. */
void emu_dfu_settle(struct fx_emu *e, uint64_t t)
{
	if (e->state == dfuDNBUSY && t >= e->busy_until) {
		e->state = e->after_state == dfuERROR ? dfuERROR : dfuDNLOAD_SYNC;
		e->status = e->after_status;
		e->have_pending = false;
	}
}

/* Illegal request in this state (DFU 1.1): STALL, dfuERROR/errSTALLEDPKT.
 * Already in dfuERROR, the first error's status is kept for the host. */
static int stall(struct fx_emu *e)
{
	if (e->state != dfuERROR) {
		e->state = dfuERROR;
		e->status = DFU_STATUS_errSTALLEDPKT;
	}
	return FX_E_STALL;
}

static void put_status(uint8_t *data, size_t cap, size_t *actual,
		       uint8_t status, uint32_t poll_ms, uint8_t state)
{
	uint8_t b[DFU_GETSTATUS_LEN];

	b[0] = status;
	fx_put_le24(b + 1, poll_ms);
	b[4] = state;
	b[5] = 0;
	*actual = cap < sizeof(b) ? cap : sizeof(b);
	memcpy(data, b, *actual);
}

/* Run the stored DNLOAD (spec 1.4, 1.5). */
static void execute(struct fx_emu *e, struct emu_result *r)
{
	const struct emu_pending *p = &e->pending;
	uint32_t addr;

	memset(r, 0, sizeof(*r));
	r->dev_us = EMU_T_CMD;
	r->poll_ms = EMU_POLL_CMD;
	if (p->block >= 2) {
		addr = e->ptr + (uint32_t)(p->block - 2) * e->knobs.transfer_size;
		emu_mem_write(e, addr, p->data, p->len, r);
		return;
	}
	/* wValue 0: command byte + arguments (spec 1.4) */
	if (p->data[0] == DFUSE_CMD_SET_ADDRESS && p->len == 5) {
		addr = fx_get_le32(p->data + 1);
		if (!emu_mem_pointer_ok(e, addr)) {
			r->status = emu_rdp_level(e) ? DFU_STATUS_errVENDOR
						     : DFU_STATUS_errTARGET;
			r->early = true;
			return;
		}
		e->ptr = addr;
	} else if (p->data[0] == DFUSE_CMD_ERASE && p->len == 5) {
		emu_mem_erase_page(e, fx_get_le32(p->data + 1), r);
	} else if (p->data[0] == DFUSE_CMD_ERASE && p->len == 1) {
		emu_mem_mass_erase(e, r);
	} else if (p->data[0] == DFUSE_CMD_READ_UNPROTECT && p->len == 1) {
		/* spec 3.6: flash and RAM erased, OB back to factory, reset.
		 * DECISION: without protection only RAM is cleared (AN3156),
		 * the reset happens all the same */
		memset(e->ram, 0, EMU_RAM_SIZE);
		if (emu_rdp_level(e)) {
			emu_flash_erase_all(e);
			emu_ob_factory(e->ob);
			r->dev_us = (uint32_t)((double)EMU_T_MASS_ERASE *
					       e->knobs.erase_scale) + EMU_T_OB_PROG;
			r->poll_ms = EMU_POLL_MASS + EMU_POLL_OB;
		}
		r->reset = true;
	} else {
		/* malformed command (spec 8): errTARGET */
		r->status = DFU_STATUS_errTARGET;
		r->early = true;
	}
}

static uint32_t lying(uint32_t poll_ms)
{
	uint32_t p = poll_ms / 10u;

	return p ? p : 1u;
}

/* busy=stall (spec 4.2, L4 ROM): "a poll timeout that is too short",
 * no figure given; the evidence (dfu-util 0.10 "Workaround for STM32L4
 * page erase stalls", only in its special-command path) is about DfuSe
 * commands. DECISION: commands (wValue 0: erases) report half the true
 * poll timeout (at least 1 ms), so a host sleeping it is STALLed once and
 * dfu-util's workaround (at most 3 STALLs, reusing the last poll timeout)
 * completes as it does on the L4; memory writes report the true one (an
 * early GETSTATUS is STALLed all the same). */
static uint32_t stall_short(uint32_t poll_ms)
{
	uint32_t p = poll_ms / 2u;

	return p ? p : 1u;
}

static int getstatus(struct fx_emu *e, const struct fx_usb_setup *s,
		     uint8_t *data, size_t *actual, uint64_t t)
{
	uint64_t done = t + emu_usb_us(DFU_GETSTATUS_LEN);
	struct emu_result r;
	bool cmd;

	if (!(s->bmRequestType & USB_DIR_IN))
		return stall(e);
	if (e->status_fault_armed) {
		/* injected: report fault_status and enter dfuERROR */
		e->status_fault_armed = false;
		e->have_pending = false;
		e->state = dfuERROR;
		e->status = e->knobs.fault_status;
		put_status(data, s->wLength, actual, e->status, 0, e->state);
		return 0;
	}
	switch (e->state) {
	case dfuDNLOAD_SYNC:
		if (!e->have_pending) {
			/* the operation finished: report its result */
			e->state = dfuDNLOAD_IDLE;
			put_status(data, s->wLength, actual, e->status, 0, e->state);
			return 0;
		}
		cmd = e->pending.block == 0;
		execute(e, &r);
		e->have_pending = false;
		if (r.early && !e->knobs.errors_late) {
			e->state = dfuERROR;
			e->status = r.status;
			put_status(data, s->wLength, actual, e->status, 0, e->state);
			fx_log(FX_LOG_DEBUG, LOG_PREFIX, "command refused, status 0x%02x",
			       r.status);
			return 0;
		}
		if (r.early) {
			/* errors=late (spec 1.4 step 3): the refusal comes
			 * with the GETSTATUS after one dfuDNBUSY */
			r.dev_us = EMU_T_CMD;
			r.poll_ms = EMU_POLL_CMD;
			r.reset = false;
		}
		e->stats.device_us += r.dev_us;
		e->state = dfuDNBUSY;
		e->status = DFU_STATUS_OK;
		e->busy_until = done + r.dev_us;
		e->after_state = r.status == DFU_STATUS_OK ? dfuDNLOAD_IDLE : dfuERROR;
		e->after_status = r.status;
		if (r.reset) {
			/* spec 8 "After an OB write": DNBUSY (or STALL), off
			 * the bus 10 ms later, reset when the work is done */
			uint64_t t_reset = done + r.dev_us;

			if (t_reset < done + EMU_T_DROP_AFTER)
				t_reset = done + EMU_T_DROP_AFTER;
			emu_schedule_reset(e, done + EMU_T_DROP_AFTER, t_reset);
			if (e->knobs.ob_reset_stall)
				return FX_E_STALL;
		}
		/* busy=lying and busy=stall (spec 4.2: the L4 ROM "reports a
		 * poll timeout that is too short and then STALLs GETSTATUS
		 * while busy") both report a too-short bwPollTimeout */
		put_status(data, s->wLength, actual, DFU_STATUS_OK,
			   e->knobs.busy == FX_EMU_BUSY_LYING ? lying(r.poll_ms) :
			   e->knobs.busy == FX_EMU_BUSY_STALL && cmd ? stall_short(r.poll_ms) :
								r.poll_ms,
			   dfuDNBUSY);
		return 0;
	case dfuDNBUSY: {
		/* still busy (busy=lying): DNBUSY again, lying about the rest */
		uint64_t left = e->busy_until > t ? e->busy_until - t : 0;

		put_status(data, s->wLength, actual, DFU_STATUS_OK,
			   lying((uint32_t)((left + 999u) / 1000u)), dfuDNBUSY);
		return 0;
	}
	case dfuMANIFEST_SYNC:
		/* spec 1.7: the GETSTATUS reports dfuMANIFEST, then the ROM
		 * detaches and jumps (not manifestation tolerant) */
		e->state = dfuMANIFEST;
		e->stats.device_us += EMU_T_CMD;
		put_status(data, s->wLength, actual, DFU_STATUS_OK, EMU_POLL_CMD,
			   dfuMANIFEST);
		emu_schedule_leave(e, done + EMU_T_CMD);
		return 0;
	default:
		put_status(data, s->wLength, actual, e->status, 0, e->state);
		return 0;
	}
}

static int dnload(struct fx_emu *e, const struct fx_usb_setup *s,
		  const uint8_t *data)
{
	if (s->bmRequestType & USB_DIR_IN)
		return stall(e);
	if (e->state != dfuIDLE && e->state != dfuDNLOAD_IDLE)
		return stall(e);
	if (s->wLength == 0) {
		/* leave (spec 1.7): dfu-util sends wValue 2, Betaflight 0 */
		e->state = dfuMANIFEST_SYNC;
		return 0;
	}
	if (s->wValue == 1 || s->wLength > e->knobs.transfer_size)
		return stall(e); /* spec 1.5, 1.10 (2048 B on a 1024 ROM) */
	if (s->wValue == 0 && e->knobs.malformed_stall) {
		bool ok = (data[0] == DFUSE_CMD_SET_ADDRESS && s->wLength == 5) ||
			  (data[0] == DFUSE_CMD_ERASE &&
			   (s->wLength == 5 || s->wLength == 1)) ||
			  (data[0] == DFUSE_CMD_READ_UNPROTECT && s->wLength == 1);

		if (!ok)
			return stall(e);
	}
	e->pending.block = s->wValue;
	e->pending.len = s->wLength;
	memcpy(e->pending.data, data, s->wLength);
	e->have_pending = true;
	e->state = dfuDNLOAD_SYNC;
	return 0;
}

static int upload(struct fx_emu *e, const struct fx_usb_setup *s,
		  uint8_t *data, size_t *actual)
{
	uint32_t addr;
	uint8_t st;
	size_t n;

	if (!(s->bmRequestType & USB_DIR_IN))
		return stall(e);
	if (e->state != dfuIDLE && e->state != dfuUPLOAD_IDLE)
		return stall(e);
	if (s->wValue == 1 || s->wLength > e->knobs.transfer_size)
		return stall(e); /* spec 1.5 (ST Cube errSTALLEDPKT) */
	if (s->wValue == 0) {
		/* Get Commands (spec 1.4) */
		n = s->wLength < sizeof(dfuse_commands) ? s->wLength
							 : sizeof(dfuse_commands);
		memcpy(data, dfuse_commands, n);
	} else {
		addr = e->ptr + (uint32_t)(s->wValue - 2) * e->knobs.transfer_size;
		st = emu_mem_read(e, addr, data, s->wLength, &n);
		if (st != DFU_STATUS_OK) {
			e->state = dfuERROR;
			e->status = st;
			return FX_E_STALL;
		}
	}
	*actual = n;
	/* a short frame ends the upload (DFU 1.1 6.2) */
	e->state = n < s->wLength ? dfuIDLE : dfuUPLOAD_IDLE;
	return 0;
}

int emu_dfu_request(struct fx_emu *e, const struct fx_usb_setup *s,
		    uint8_t *data, size_t *actual, uint64_t t)
{
	bool in = s->bmRequestType & USB_DIR_IN;

	if (s->wIndex != 0)
		return FX_E_STALL; /* not our interface */
	switch (s->bRequest) {
	case DFU_DNLOAD:
		return dnload(e, s, data);
	case DFU_UPLOAD:
		return upload(e, s, data, actual);
	case DFU_GETSTATUS:
		return getstatus(e, s, data, actual, t);
	case DFU_GETSTATE:
		if (!in || s->wLength < 1)
			return stall(e);
		data[0] = e->state;
		*actual = 1;
		return 0;
	case DFU_CLRSTATUS:
		if (in)
			return stall(e);
		if (e->state == dfuERROR) {
			e->state = dfuIDLE;
			e->status = DFU_STATUS_OK;
			return 0;
		}
		/* spec 1.8/8: outside dfuERROR -> dfuERROR/errUNKNOWN (ST
		 * Cube), or STALL with the malformed=stall knob (C5 ROM) */
		if (e->knobs.malformed_stall)
			return FX_E_STALL;
		e->state = dfuERROR;
		e->status = DFU_STATUS_errUNKNOWN;
		return 0;
	case DFU_ABORT:
		if (in)
			return stall(e);
		switch (e->state) {
		case dfuIDLE:
		case dfuDNLOAD_SYNC:
		case dfuDNLOAD_IDLE:
		case dfuMANIFEST_SYNC:
		case dfuUPLOAD_IDLE:
			e->state = dfuIDLE;
			e->status = DFU_STATUS_OK;
			e->have_pending = false;
			return 0;
		case dfuERROR:
			/* spec 1.8 (ST Cube semantics, the default for the
			 * UNVERIFIED G474 behaviour): acknowledged, the state
			 * and the error stay until CLRSTATUS */
			return 0;
		default:
			return stall(e);
		}
	case DFU_DETACH:
		/* spec 1.1: "not meaningful in the case of the bootloader".
		 * DECISION: acknowledged and ignored in every state (the ROM
		 * is already in DFU mode: no detach, no reset), although the
		 * functional descriptor advertises bitWillDetach (0x0B, spec
		 * 1.10) */
		if (in)
			return stall(e);
		return 0;
	default:
		return stall(e);
	}
}
