/* steps_io.c - helpers of the steps: pins, NRST pulse, the slot's USB
 * device (emulated board or real port), the safe end state. */
#include <string.h>

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
		return fx_usb_emu_attach(sl->board, r->clock, o, &r->usb, &r->err);
	return fx_usb_open(sl->cfg->device, r->clock, o, &r->usb, &r->err);
}

void seq_bind_current(struct seq_run *r, const struct fx_usb_open_opts *o)
{
	struct fx_usb_open_opts now = *o;

	if (r->usb)
		return;
	now.wait_ms = 0;
	now.any_device = true;
	if (seq_open_dev(r, &now)) {
		fx_err_clear(&r->err);
		r->usb = NULL;
	}
}

int seq_wait_next(struct seq_run *r, const struct fx_usb_open_opts *o,
		  uint64_t *waited_us)
{
	const struct fx_usb_info *in;
	uint64_t t0 = fx_clock_now(r->clock);
	int rc;

	if (!r->usb) {
		rc = seq_open_dev(r, o);
	} else {
		fx_dfu_free(r->dfu);
		r->dfu = NULL;
		rc = fx_usb_reopen(r->usb, o->wait_ms, NULL, &r->err);
		if (!rc && !o->any_device && !fx_usb_get_info(r->usb)->is_dfu) {
			in = fx_usb_get_info(r->usb);
			rc = fx_err_set(&r->err, FX_E_NOTFOUND,
					"%04x:%04x is running, not the DFU bootloader",
					in->vid, in->pid);
		}
		if (rc)
			seq_close_dev(r); /* never keep a handle on a stale device */
	}
	if (waited_us)
		*waited_us = fx_clock_now(r->clock) - t0;
	return rc;
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
