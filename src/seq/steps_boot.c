/* steps_boot.c - steps that move the board between application,
 * bootloader and nothing: power, probe, enter_boot, identify, unprotect,
 * release, app_check (fx/seq.h for the order and the rules). */
#include <stdio.h>
#include <string.h>

#include "fx/dfu_wire.h"
#include "fx/log.h"
#include "seq_priv.h"

#define LOG_PREFIX "seq"
#define SET_REPORT_TIMEOUT_MS 1000u

int seq_step_power(struct seq_run *r)
{
	const struct fx_station_slot *cfg = r->slot->cfg;
	int rc;

	rc = seq_pin(r, r->slot->boot0, 0);
	if (!rc)
		rc = seq_pin(r, r->slot->nrst, 1);
	if (!rc)
		rc = seq_pin(r, r->slot->power, 1);
	if (rc)
		return rc;
	seq_sleep(r, (uint64_t)cfg->timing.power_on_ms * 1000u);
	snprintf(r->detail, sizeof(r->detail), "power on, settled %u ms",
		 cfg->timing.power_on_ms);
	return 0;
}

/* BOOT0 to boot0 (after boot0_setup_ms), then the NRST reset and the
 * wait for what enumerates (seq_reset_wait); held gets its text. A GPIO
 * error comes back as it is. */
static int boot0_reset(struct seq_run *r, int boot0, const struct fx_usb_open_opts *o,
		       struct seq_reset *rs, char *held, size_t cap)
{
	int rc;

	memset(rs, 0, sizeof(*rs));
	held[0] = '\0';
	seq_close_dev(r);
	rc = seq_pin(r, r->slot->boot0, boot0);
	if (rc)
		return rc;
	seq_sleep(r, (uint64_t)r->slot->cfg->timing.boot0_setup_ms * 1000u);
	rc = seq_reset_wait(r, o, rs);
	seq_reset_text(rs, held, cap);
	return rc;
}

/* Plain reset with BOOT0 low: the application appearing = programmed. */
int seq_step_probe(struct seq_run *r)
{
	const struct fx_recipe *rc_ = r->recipe;
	struct fx_usb_open_opts o = { 0 };
	const struct fx_usb_info *in;
	struct seq_reset rs;
	char held[128];
	int rc;

	if (!rc_->probe) {
		snprintf(r->detail, sizeof(r->detail), "probe = off in the recipe");
		return SEQ_SKIPPED;
	}
	if (rc_->probe_mode == FX_RECIPE_PROBE_FLASH) {
		/* no reset, no wait for an application that may not come:
		 * identify reads the vector table in the bootloader */
		snprintf(r->detail, sizeof(r->detail),
			 "probe = flash: the bootloader's view of the flash tells (identify)");
		return SEQ_SKIPPED;
	}
	o.wait_ms = rc_->timeouts.probe_ms;
	o.any_device = true;
	if (rc_->app.enabled) {
		o.vid = rc_->app.vid;
		o.pid = rc_->app.pid;
	}
	rc = boot0_reset(r, 0, &o, &rs, held, sizeof(held));
	if (rc == FX_E_NOTFOUND || rc == FX_E_TIMEOUT || rc == FX_E_NODEV) {
		fx_err_clear(&r->err);
		r->probe = SEQ_PROBE_NOTHING;
		snprintf(r->detail, sizeof(r->detail),
			 "nothing enumerated within %u ms: blank or corrupted%s",
			 rc_->timeouts.probe_ms, held);
		return 0;
	}
	if (rc)
		return rc;
	in = fx_usb_get_info(r->usb);
	r->probe_vid = in->vid;
	r->probe_pid = in->pid;
	if (in->is_dfu) {
		r->probe = SEQ_PROBE_BOOTLOADER;
		snprintf(r->detail, sizeof(r->detail),
			 "bootloader %04x:%04x with BOOT0 low after %llu ms "
			 "(option bytes select the ROM)%s", in->vid, in->pid,
			 (unsigned long long)(rs.enum_us / 1000u), held);
		return 0;
	}
	r->probe = SEQ_PROBE_APP;
	snprintf(r->detail, sizeof(r->detail), "application %04x:%04x after %llu ms%s%s",
		 in->vid, in->pid, (unsigned long long)(rs.enum_us / 1000u),
		 rc_->app.enabled && (in->vid != rc_->app.vid || in->pid != rc_->app.pid) ?
		 " (not the recipe's application)" : "", held);
	return 0;
}

/* Spec 8: HID class SET_REPORT, feature report 0x01, payload "BOOT"
 * (report ID first, HID 1.11 7.2.2). The application may leave the bus
 * while answering: FX_E_NODEV is the expected outcome too. */
static int app_jump(struct seq_run *r)
{
	uint8_t data[1 + sizeof(FX_APP_BOOT_PAYLOAD) - 1];
	struct fx_usb_setup s = {
		.bmRequestType = USB_TYPE_CLASS | USB_RECIP_INTERFACE,
		.bRequest = HID_REQ_SET_REPORT,
		.wValue = (uint16_t)((HID_REPORT_TYPE_FEATURE << 8) |
				     FX_APP_BOOT_REPORT_ID),
		.wIndex = 0,
		.wLength = sizeof(data),
	};
	size_t n = 0;
	int rc;

	data[0] = FX_APP_BOOT_REPORT_ID;
	memcpy(data + 1, FX_APP_BOOT_PAYLOAD, sizeof(data) - 1);
	rc = fx_usb_control(r->usb, &s, data, &n, SET_REPORT_TIMEOUT_MS, &r->err);
	if (rc == FX_E_NODEV) {
		fx_err_clear(&r->err);
		return 0;
	}
	if (rc)
		fx_err_prefix(&r->err, "application refused the bootloader request");
	return rc;
}

int seq_step_enter_boot(struct seq_run *r)
{
	const struct fx_recipe *rcp = r->recipe;
	struct fx_usb_open_opts o = { 0 };
	const struct fx_usb_info *in;
	const char *how = "gpio";
	struct seq_reset rs;
	char held[128] = "";
	uint64_t waited = 0, t0;
	uint16_t other_vid = 0, other_pid = 0;
	int rc;

	if (rcp->entry == FX_RECIPE_ENTRY_APP && r->probe == SEQ_PROBE_APP &&
	    r->usb) {
		how = "app";
		rc = app_jump(r);
		if (rc)
			return rc;
		rc = fx_usb_reopen(r->usb, rcp->timeouts.enter_ms, &waited, &r->err);
		if (rc == FX_E_TIMEOUT)
			return fx_err_set(&r->err, FX_E_TIMEOUT,
					  "no bootloader within %u ms of the "
					  "application's jump request",
					  rcp->timeouts.enter_ms);
		if (rc)
			return rc;
		if (!fx_usb_get_info(r->usb)->is_dfu)
			return fx_err_set(&r->err, FX_E_STATE,
					  "%04x:%04x came back instead of the bootloader",
					  fx_usb_get_info(r->usb)->vid,
					  fx_usb_get_info(r->usb)->pid);
		r->entered_by_app = true;
	} else {
		if (rcp->entry == FX_RECIPE_ENTRY_APP)
			how = "gpio (no application for the app entry)";
		o.wait_ms = rcp->timeouts.enter_ms;
		rc = boot0_reset(r, 1, &o, &rs, held, sizeof(held));
		waited = rs.enum_us;
		/* not the bootloader: a device the host listed late, or BOOT0
		 * not effective; the bootloader may still come within enter_ms */
		while (!rc && !fx_usb_get_info(r->usb)->is_dfu) {
			in = fx_usb_get_info(r->usb);
			other_vid = in->vid;
			other_pid = in->pid;
			if (waited >= (uint64_t)rcp->timeouts.enter_ms * 1000u) {
				rc = FX_E_TIMEOUT;
				break;
			}
			t0 = fx_clock_now(r->clock);
			rc = fx_usb_reopen(r->usb, rcp->timeouts.enter_ms -
					   (unsigned)(waited / 1000u), NULL, &r->err);
			waited += fx_clock_now(r->clock) - t0;
		}
		if ((rc == FX_E_TIMEOUT || rc == FX_E_NOTFOUND) && other_vid) {
			seq_close_dev(r);
			rc = fx_err_set(&r->err, FX_E_NOTFOUND,
					"%04x:%04x is running, not the DFU bootloader",
					other_vid, other_pid);
		}
		if (rc == FX_E_NOTFOUND || rc == FX_E_TIMEOUT)
			return fx_err_set(&r->err, FX_E_NODEV,
					  "no DFU bootloader within %u ms of the "
					  "BOOT0+NRST reset (%s)",
					  rcp->timeouts.enter_ms, r->err.msg);
		if (rc)
			return rc;
	}
	r->dfu = fx_dfu_open(r->usb, &r->err);
	if (!r->dfu)
		return r->err.code ? r->err.code : FX_E_PROTO;
	in = fx_usb_get_info(r->usb);
	snprintf(r->detail, sizeof(r->detail),
		 "entry %s: %04x:%04x serial %s after %llu ms%s", how, in->vid,
		 in->pid, in->serial, (unsigned long long)(waited / 1000u), held);
	return 0;
}

static void uid_hex(const uint8_t uid[12], char out[25])
{
	static const char hx[] = "0123456789ABCDEF";
	int i;

	for (i = 0; i < 12; i++) {
		out[2 * i] = hx[uid[i] >> 4];
		out[2 * i + 1] = hx[uid[i] & 15];
	}
	out[24] = '\0';
}

int seq_ident_uid_hex(const struct seq_run *r, char out[25])
{
	/* a UID the chip refused to give (RDP 1) is no UID: the record
	 * stays NULL until the unprotect re-identifies the board */
	if (!r->have_ident || !r->ident.uid_valid) {
		out[0] = '\0';
		return FX_E_STATE;
	}
	uid_hex(r->ident.uid, out);
	return 0;
}

/* probe = flash: what the first transfer-size block of the flash holds
 * (spec 8 "the application"): all 0xFF = blank, a plausible vector table
 * = programmed (it would boot), anything else = corrupted. The rest of
 * the flash is left to the erase and the verify to prove. */
static int classify_flash(struct seq_run *r, enum fx_store_board *board)
{
	uint8_t head[1024];
	size_t n = fx_dfu_get_info(r->dfu)->transfer_size, i;
	int rc;

	if (n > sizeof(head) || n < 8)
		n = sizeof(head);
	rc = fx_prog_read(r->dfu, G4_FLASH_BASE, head, n, &r->err);
	if (rc)
		return rc;
	for (i = 0; i < n && head[i] == 0xFF; i++)
		;
	if (i == n)
		*board = FX_STORE_BOARD_BLANK;
	else if (fx_g4_vectors_plausible(head, G4_FLASH_BASE,
					 r->ident.flash_kib ? r->ident.flash_kib * 1024u :
							      G4_FLASH_SIZE))
		*board = FX_STORE_BOARD_PROGRAMMED;
	else
		*board = FX_STORE_BOARD_CORRUPTED;
	return 0;
}

/* What the probe could not tell, from the flash as the bootloader sees it:
 * probe = app saw the application (programmed) or nothing (blank or
 * corrupted: the first block tells which). */
static int classify(struct seq_run *r)
{
	int rc;

	if (fx_g4_rdp_level(r->ident.optr) != 0) {
		r->board = FX_STORE_BOARD_PROTECTED;
		return 0;
	}
	if (r->probe == SEQ_PROBE_APP) {
		r->board = FX_STORE_BOARD_PROGRAMMED;
		return 0;
	}
	rc = classify_flash(r, &r->board);
	if (rc == FX_E_PROTECTED) {
		fx_err_clear(&r->err);
		r->board = FX_STORE_BOARD_PROTECTED;
		return 0;
	}
	if (rc || r->board == FX_STORE_BOARD_BLANK)
		return rc;
	if (!r->recipe->probe || r->probe == SEQ_PROBE_BOOTLOADER)
		r->board = FX_STORE_BOARD_UNKNOWN; /* not asked / the ROM booted:
						    * the application had no chance */
	else if (r->probe == SEQ_PROBE_NOTHING)
		r->board = FX_STORE_BOARD_CORRUPTED; /* did not start */
	return 0;
}

int seq_step_identify(struct seq_run *r)
{
	const struct fx_dfu_info *di = fx_dfu_get_info(r->dfu);
	int rc;

	rc = fx_prog_identify(r->dfu, &r->ident, &r->err);
	if (rc == FX_E_PROTECTED) {
		/* RDP 1: the bootloader refuses memory reads (spec 3.6); only
		 * the USB serial string identifies the chip */
		fx_err_clear(&r->err);
		memset(&r->ident, 0, sizeof(r->ident));
		snprintf(r->ident.serial, sizeof(r->ident.serial), "%.15s", di->serial);
		r->board = FX_STORE_BOARD_PROTECTED;
		snprintf(r->detail, sizeof(r->detail),
			 "serial %s; reads refused: read protection (RDP 1)",
			 di->serial);
		return 0;
	}
	if (rc)
		return rc;
	r->have_ident = true;
	rc = classify(r);
	if (rc)
		return rc;
	snprintf(r->detail, sizeof(r->detail),
		 "serial %s flash %u KiB bootloader %s optr 0x%08X %s board %s",
		 r->ident.serial, (unsigned)r->ident.flash_kib, r->ident.bl_version,
		 (unsigned)r->ident.optr, r->ident.dual_bank ? "dual-bank" : "single-bank",
		 fx_store_board_name(r->board));
	return 0;
}

/* RDP 1 -> 0: Read Unprotect (spec 3.6) mass-erases the flash and resets
 * the option bytes to factory values; the bootloader comes back (BOOT0
 * held high). */
int seq_step_unprotect(struct seq_run *r)
{
	int rc;

	rc = seq_pin(r, r->slot->boot0, 1);
	if (rc)
		return rc;
	rc = fx_prog_unprotect(r->dfu, seq_ms_left(r), &r->err);
	if (rc)
		return rc;
	rc = fx_prog_identify(r->dfu, &r->ident, &r->err);
	if (rc)
		return fx_err_prefix(&r->err, "after read unprotect");
	r->have_ident = true;
	if (fx_g4_rdp_level(r->ident.optr) != 0) {
		r->fail_class = FX_STORE_FAIL;
		return fx_err_set(&r->err, FX_E_VERIFY,
				  "read protection still active after read "
				  "unprotect (optr 0x%08X)", (unsigned)r->ident.optr);
	}
	snprintf(r->detail, sizeof(r->detail),
		 "RDP 1 -> 0, flash mass-erased, option bytes factory (optr 0x%08X)",
		 (unsigned)r->ident.optr);
	return 0;
}

int seq_step_release(struct seq_run *r)
{
	const struct fx_station_slot *cfg = r->slot->cfg;
	int rc;

	fx_dfu_free(r->dfu);
	r->dfu = NULL;
	rc = seq_pin(r, r->slot->boot0, 0);
	if (rc)
		return rc;
	seq_sleep(r, (uint64_t)cfg->timing.boot0_setup_ms * 1000u);
	rc = seq_nrst_pulse(r);
	if (rc)
		return rc;
	r->released_at = fx_clock_now(r->clock);
	snprintf(r->detail, sizeof(r->detail), "BOOT0 low, NRST pulse %u ms",
		 cfg->timing.nrst_pulse_ms);
	return 0;
}

int seq_step_app_check(struct seq_run *r)
{
	const struct fx_recipe_app_check *ac = &r->recipe->app;
	const struct fx_usb_info *in;
	uint64_t waited = 0, appeared = UINT64_MAX;
	int rc;

	if (!ac->enabled) {
		snprintf(r->detail, sizeof(r->detail), "no [app_check] in the recipe");
		return SEQ_SKIPPED;
	}
	if (r->usb) {
		rc = fx_usb_reopen(r->usb, ac->within_ms, &appeared, &r->err);
	} else {
		struct fx_usb_open_opts o = {
			.wait_ms = ac->within_ms, .any_device = true,
			.vid = ac->vid, .pid = ac->pid,
		};
		rc = seq_open_dev(r, &o);
	}
	waited = fx_clock_now(r->clock) - r->released_at;
	/* a device came but did not answer its enumeration (a request never
	 * answered, it left the bus while bound): a device fault, ERROR with
	 * its cause; FAIL is for an application that never came */
	if (rc && !r->deadline_cut && appeared < (uint64_t)ac->within_ms * 1000u)
		return fx_err_prefix(&r->err, "a device enumerated after %llu ms, then",
				     (unsigned long long)(appeared / 1000u));
	if (rc == FX_E_TIMEOUT || rc == FX_E_NOTFOUND || rc == FX_E_NODEV) {
		r->fail_class = FX_STORE_FAIL;
		return fx_err_set(&r->err, FX_E_TIMEOUT,
				  "application %04x:%04x did not enumerate within %u ms",
				  ac->vid, ac->pid, ac->within_ms);
	}
	if (rc)
		return rc;
	in = fx_usb_get_info(r->usb);
	/* a DFU interface is a bootloader (the ROM, or the application's own
	 * DFU mode), never proof that the application runs */
	if (in->vid != ac->vid || in->pid != ac->pid || in->is_dfu) {
		r->fail_class = FX_STORE_FAIL;
		return fx_err_set(&r->err, FX_E_STATE,
				  "%s %04x:%04x enumerated, expected the application %04x:%04x",
				  in->is_dfu ? "the bootloader" : "device", in->vid,
				  in->pid, ac->vid, ac->pid);
	}
	snprintf(r->detail, sizeof(r->detail), "application %04x:%04x after %llu ms",
		 in->vid, in->pid, (unsigned long long)(waited / 1000u));
	return 0;
}
