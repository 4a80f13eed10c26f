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
	seq_sleep(r, (uint64_t)t->nrst_pulse_ms * 1000u);
	return seq_pin(r, r->slot->nrst, 1);
}

void seq_close_dev(struct seq_run *r)
{
	fx_dfu_free(r->dfu);
	r->dfu = NULL;
	fx_usb_close(r->usb);
	r->usb = NULL;
}

/* The open's own wait (wait_ms) is bounded by the step's deadline like
 * every later call, which goes through the wrapper (seq_usb.c). */
int seq_open_dev(struct seq_run *r, const struct fx_usb_open_opts *o)
{
	struct fx_seq_slot *sl = r->slot;
	struct fx_usb_open_opts b = *o;
	struct fx_usb *in = NULL;
	enum seq_bound bound = seq_bound_ms(r, &b.wait_ms);
	int rc;

	seq_close_dev(r);
	if (bound == SEQ_BOUND_PAST) {
		r->deadline_cut = true;
		return fx_err_set(&r->err, FX_E_TIMEOUT,
				  "step deadline reached before the device was opened");
	}
	if (sl->board)
		rc = fx_usb_emu_attach_bus(sl->board, r->clock,
					   sl->station->have_bus ? &sl->station->bus : NULL,
					   &b, &in, &r->err);
	else
		rc = fx_usb_open(sl->cfg->device, r->clock, &b, &in, &r->err);
	if (rc) {
		if (bound == SEQ_BOUND_CUT && (rc == FX_E_TIMEOUT || rc == FX_E_NOTFOUND))
			r->deadline_cut = true;
		return rc;
	}
	seq_usb_wrap(r, in);
	return 0;
}

/* Milliseconds from now until deadline_us, 0 when it has passed. */
static unsigned ms_until(const struct seq_run *r, uint64_t deadline_us)
{
	uint64_t now = fx_clock_now(r->clock);

	return now >= deadline_us ? 0u : (unsigned)((deadline_us - now + 999u) / 1000u);
}

/* The port waits are the transport's (fx_usb_port_wait): driven by its
 * plug events, they return when the port empties or a new device comes,
 * and every device listed on the port while NRST is low is "old" and
 * never bound (a hub listing the leaving device late, the power-on boot
 * of a board that was still booting). */
int seq_reset_wait(struct seq_run *r, const struct fx_usb_open_opts *o,
		   struct seq_reset *rs)
{
	const struct fx_station_timing *t = &r->slot->cfg->timing;
	struct fx_usb_port_seen seen;
	uint64_t t_low, t_rel, gone_by;
	int rc, gone;

	memset(rs, 0, sizeof(*rs));
	fx_dfu_free(r->dfu);
	r->dfu = NULL;
	if (!r->usb) { /* a handle that follows the slot, nothing bound */
		struct fx_usb_open_opts f = *o;

		f.unbound = true;
		rc = seq_open_dev(r, &f);
		if (rc)
			return rc;
	}
	rc = seq_pin(r, r->slot->nrst, 0);
	if (rc)
		return rc;
	t_low = fx_clock_now(r->clock);
	gone_by = t_low + ((uint64_t)t->nrst_pulse_ms + SEQ_GONE_MAX_MS) * 1000u;
	seq_sleep(r, (uint64_t)t->nrst_pulse_ms * 1000u);
	gone = fx_usb_port_wait(r->usb, FX_USB_PORT_EMPTY, ms_until(r, gone_by),
				&seen, &r->err);
	rs->ignored = seen.old;
	if (gone && gone != FX_E_TIMEOUT) {
		/* keep the cause: releasing NRST must not overwrite it */
		struct fx_err keep = r->err;

		seq_close_dev(r);
		seq_pin(r, r->slot->nrst, 1);
		r->err = keep;
		rs->held_us = fx_clock_now(r->clock) - t_low;
		return gone;
	}
	rc = seq_pin(r, r->slot->nrst, 1);
	t_rel = fx_clock_now(r->clock);
	rs->held_us = t_rel - t_low;
	if (!rc && gone)
		rc = fx_err_set(&r->err, FX_E_STATE,
				"%s still on the port %llu ms after NRST went low "
				"(NRST not reaching the board, or another device "
				"on the slot's port?)", seen.what[0] ? seen.what : "a device",
				(unsigned long long)(rs->held_us / 1000u));
	/* the first device after the release that was not seen before */
	if (!rc)
		rc = fx_usb_port_wait(r->usb, FX_USB_PORT_NEW, o->wait_ms, &seen,
				      &r->err);
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

unsigned seq_ms_left(const struct seq_run *r)
{
	unsigned ms = ms_until(r, r->deadline_us);

	return ms ? ms : 1u;
}

enum seq_bound seq_bound_ms(const struct seq_run *r, unsigned *wait_ms)
{
	uint64_t now = fx_clock_now(r->clock);
	unsigned left;

	if (r->deadline_us == SEQ_NO_DEADLINE)
		return SEQ_BOUND_ASIS;
	if (now >= r->deadline_us)
		return SEQ_BOUND_PAST;
	left = ms_until(r, r->deadline_us);
	if (left < *wait_ms) {
		*wait_ms = left;
		return SEQ_BOUND_CUT;
	}
	return SEQ_BOUND_ASIS;
}

void seq_sleep(struct seq_run *r, uint64_t us)
{
	uint64_t now = fx_clock_now(r->clock);

	if (r->deadline_us != SEQ_NO_DEADLINE && now + us > r->deadline_us) {
		r->deadline_cut = true;
		us = now < r->deadline_us ? r->deadline_us - now : 0;
	}
	if (us)
		fx_clock_sleep(r->clock, us);
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
