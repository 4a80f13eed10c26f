/* steps_io.c - helpers of the steps: pins, NRST pulse, the slot's USB
 * device (emulated board or real port), the safe end state. */
#include <stdio.h>
#include <string.h>

#include "fx/dfu_wire.h"
#include "fx/emu.h"
#include "fx/log.h"
#include "fx/usb_emu.h"
#include "seq_priv.h"

#define LOG_PREFIX "seq"

int seq_pin(struct seq_run *r, struct fx_gpio_line *l, int value)
{
	if (!l)
		return 0;
	return fx_gpio_set(l, value, &r->err);
}

int seq_nrst_pulse(struct seq_run *r)
{
	const struct fx_station_timing *t = &r->slot->cfg->timing;
	int rc;

	rc = seq_pin(r, r->slot->nrst, 0);
	if (rc)
		return rc;
	fx_clock_sleep(r->clock, (uint64_t)t->nrst_pulse_ms * 1000u);
	return seq_pin(r, r->slot->nrst, 1);
}

void seq_close_dev(struct seq_run *r)
{
	fx_dfu_free(r->dfu);
	r->dfu = NULL;
	fx_usb_close(r->usb);
	r->usb = NULL;
}

int seq_open_dev(struct seq_run *r, const struct fx_usb_open_opts *o)
{
	struct fx_seq_slot *sl = r->slot;

	seq_close_dev(r);
	if (sl->board)
		return fx_usb_emu_attach_bus(sl->board, r->clock,
					     sl->station->have_bus ? &sl->station->bus : NULL,
					     o, &r->usb, &r->err);
	return fx_usb_open(sl->cfg->device, r->clock, o, &r->usb, &r->err);
}

static bool seen_before(const struct seq_reset *rs, const struct fx_usb_info *in)
{
	unsigned i;

	for (i = 0; i < rs->ignored && i < SEQ_SEEN_MAX; i++)
		if (rs->seen[i].bus == in->busnum && rs->seen[i].dev == in->devnum)
			return true;
	return false;
}

/* Is anything on the slot's port now? 1 = yes (the device remembered in
 * rs, its description in what), 0 = empty, or a negative FX_E_NOMEM /
 * FX_E_CONFIG / FX_E_INVAL (r->err). Never waits for a device. A device
 * not seen before stays bound (r->usb) so that its leaving can be watched
 * without a new host context per look; one seen before (it stopped
 * answering, but the host still lists it) is closed again. */
static int port_busy(struct seq_run *r, const struct fx_usb_open_opts *o,
		     struct seq_reset *rs, char *what, size_t cap)
{
	struct fx_usb_open_opts now = *o;
	const struct fx_usb_info *in;
	int rc;

	now.wait_ms = 0;
	now.any_device = true;
	rc = seq_open_dev(r, &now);
	if (rc == FX_E_NOTFOUND || rc == FX_E_TIMEOUT) {
		fx_err_clear(&r->err);
		return 0;
	}
	if (rc == FX_E_NOMEM || rc == FX_E_CONFIG || rc == FX_E_INVAL)
		return rc; /* r->err says why */
	if (rc) {
		/* listed but not usable (leaving, busy, two matches): still
		 * there as far as this step is concerned */
		snprintf(what, cap, "%.*s", (int)cap - 1, r->err.msg);
		fx_err_clear(&r->err);
		return 1;
	}
	in = fx_usb_get_info(r->usb);
	snprintf(what, cap, "%04x:%04x", in->vid, in->pid);
	if (!seen_before(rs, in)) {
		if (rs->ignored < SEQ_SEEN_MAX) {
			rs->seen[rs->ignored].bus = in->busnum;
			rs->seen[rs->ignored].dev = in->devnum;
		}
		rs->ignored++;
		return 1;
	}
	seq_close_dev(r);
	return 1;
}

/* Does the bound device still answer (GET_DESCRIPTOR device, USB 2.0
 * 9.4.3)? A STALL is an answer; NODEV, I/O errors and timeouts (a chip in
 * reset never answers) are not. */
static bool still_answers(struct seq_run *r)
{
	struct fx_usb_setup s = {
		.bmRequestType = USB_DIR_IN,
		.bRequest = USB_REQ_GET_DESCRIPTOR,
		.wValue = (uint16_t)(USB_DT_DEVICE << 8),
		.wIndex = 0,
		.wLength = 18,
	};
	uint8_t dd[18];
	size_t n = 0;
	int rc;

	rc = fx_usb_control(r->usb, &s, dd, &n, SEQ_ANSWER_TIMEOUT_MS, &r->err);
	fx_err_clear(&r->err);
	return rc == 0 || rc == FX_E_STALL;
}

int seq_reset_wait(struct seq_run *r, const struct fx_usb_open_opts *o,
		   struct seq_reset *rs)
{
	const struct fx_station_timing *t = &r->slot->cfg->timing;
	struct fx_usb_open_opts w = *o;
	uint64_t t_low, t_rel, gone_by, enum_by, now;
	char what[160] = "";
	unsigned step, wait, empty;
	int rc, busy, tries;

	memset(rs, 0, sizeof(*rs));
	seq_close_dev(r);
	rc = seq_pin(r, r->slot->nrst, 0);
	if (rc)
		return rc;
	t_low = fx_clock_now(r->clock);
	gone_by = t_low + ((uint64_t)t->nrst_pulse_ms + SEQ_GONE_MAX_MS) * 1000u;
	fx_clock_sleep(r->clock, (uint64_t)t->nrst_pulse_ms * 1000u);
	/* the port must look empty twice in a row (a host may list a device
	 * half-removed or half-added for a moment) */
	for (step = SEQ_GONE_POLL_MS, empty = 0;;) {
		if (r->usb && !still_answers(r))
			seq_close_dev(r); /* left: is it still listed? */
		busy = r->usb ? 1 : port_busy(r, o, rs, what, sizeof(what));
		now = fx_clock_now(r->clock);
		if (busy < 0)
			break;
		empty = busy ? 0 : empty + 1;
		if (empty >= 2 || now >= gone_by)
			break;
		if (empty) {
			wait = SEQ_GONE_POLL_MS;
		} else {
			wait = step;
			step = step * 2 > SEQ_GONE_POLL_MAX_MS ? SEQ_GONE_POLL_MAX_MS : step * 2;
		}
		if (now + (uint64_t)wait * 1000u > gone_by)
			fx_clock_sleep_until(r->clock, gone_by);
		else
			fx_clock_sleep(r->clock, (uint64_t)wait * 1000u);
	}
	seq_close_dev(r);
	if (busy < 0) {
		/* keep the cause: releasing NRST must not overwrite it */
		struct fx_err keep = r->err;

		seq_pin(r, r->slot->nrst, 1);
		r->err = keep;
		rs->held_us = fx_clock_now(r->clock) - t_low;
		return busy;
	}
	rc = seq_pin(r, r->slot->nrst, 1);
	t_rel = fx_clock_now(r->clock);
	rs->held_us = t_rel - t_low;
	if (rc)
		return rc;
	if (busy)
		return fx_err_set(&r->err, FX_E_STATE,
				  "%s still on the port %llu ms after NRST went low "
				  "(NRST not reaching the board, or another device "
				  "on the slot's port?)", what,
				  (unsigned long long)(rs->held_us / 1000u));
	/* the first device after the release; one seen while NRST was low
	 * (listed late) is passed over for the next */
	enum_by = t_rel + (uint64_t)o->wait_ms * 1000u;
	w.any_device = true;
	for (;;) {
		rc = seq_open_dev(r, &w);
		/* listed but not usable yet or any more: a device node that
		 * udev has not finished (EACCES, ENOENT: real hosts and fxemu's
		 * plug alike) or one still leaving; look again until the wait
		 * is over */
		if (rc != FX_E_NODEV && rc != FX_E_IO && rc != FX_E_BUSY)
			break;
		now = fx_clock_now(r->clock);
		if (now + (uint64_t)SEQ_GONE_POLL_MS * 1000u >= enum_by)
			break;
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "slot %u: %s; looking again",
		       r->slot->cfg->index, r->err.msg);
		fx_clock_sleep(r->clock, (uint64_t)SEQ_GONE_POLL_MS * 1000u);
		w.wait_ms = (unsigned)((enum_by - now) / 1000u) - SEQ_GONE_POLL_MS;
	}
	for (tries = 0; !rc && tries < SEQ_SEEN_MAX &&
	     seen_before(rs, fx_usb_get_info(r->usb)); tries++) {
		now = fx_clock_now(r->clock);
		fx_dfu_free(r->dfu);
		r->dfu = NULL;
		rc = fx_usb_reopen(r->usb, now >= enum_by ? 0u :
				   (unsigned)((enum_by - now + 999u) / 1000u), NULL,
				   &r->err);
	}
	if (!rc && seen_before(rs, fx_usb_get_info(r->usb)))
		rc = fx_err_set(&r->err, FX_E_TIMEOUT,
				"only devices seen while NRST was low on the port");
	if (rc)
		seq_close_dev(r); /* never keep a handle on a stale device */
	rs->enum_us = fx_clock_now(r->clock) - t_rel;
	return rc;
}

void seq_reset_text(const struct seq_reset *rs, char *buf, size_t cap)
{
	if (rs->ignored)
		snprintf(buf, cap, " (NRST held %llu ms until the port was empty; "
			 "%u device%s seen while NRST was low ignored)",
			 (unsigned long long)(rs->held_us / 1000u), rs->ignored,
			 rs->ignored == 1 ? "" : "s");
	else
		snprintf(buf, cap, " (NRST held %llu ms)",
			 (unsigned long long)(rs->held_us / 1000u));
}

unsigned seq_ms_left(const struct seq_run *r, uint64_t deadline_us)
{
	uint64_t now = fx_clock_now(r->clock);

	if (now >= deadline_us)
		return 1;
	return (unsigned)((deadline_us - now + 999u) / 1000u);
}

void seq_safe_state(struct seq_run *r)
{
	const struct fx_station_slot *cfg = r->slot->cfg;
	struct fx_err err;

	seq_close_dev(r);
	fx_err_clear(&err);
	if (r->slot->boot0 && fx_gpio_set(r->slot->boot0, 0, &err))
		fx_log(FX_LOG_ERR, LOG_PREFIX, "slot %u: BOOT0 not released: %s",
		       cfg->index, err.msg);
	if (r->slot->nrst && fx_gpio_set(r->slot->nrst, 1, &err))
		fx_log(FX_LOG_ERR, LOG_PREFIX, "slot %u: NRST not released: %s",
		       cfg->index, err.msg);
	if (r->slot->power && cfg->power_off_at_end) {
		if (fx_gpio_set(r->slot->power, 0, &err))
			fx_log(FX_LOG_ERR, LOG_PREFIX, "slot %u: power not off: %s",
			       cfg->index, err.msg);
		else
			fx_clock_sleep(r->clock, (uint64_t)cfg->timing.power_off_ms * 1000u);
	}
}
