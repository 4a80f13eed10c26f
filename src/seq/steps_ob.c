/* steps_ob.c - option bytes: read_ob, write_ob (expect the disconnect,
 * BOOT0 held high, re-read and require the recipe values), rdp (raised
 * last, confirmed after the reset). Spec 2.6, 3.2-3.6. */
#include <stdio.h>
#include <string.h>

#include "fx/dfu_wire.h"
#include "fx/log.h"
#include "seq_priv.h"

#define LOG_PREFIX "seq"

static uint32_t optr_of(const struct fx_g4_ob *ob)
{
	return fx_g4_ob_optr(ob);
}

/* Append "NAME a->b" for every recipe option byte that differs between
 * have and want to buf. Returns how many differ. */
static unsigned describe_diff(const struct fx_recipe *rcp,
			      const struct fx_g4_ob *have, char *buf, size_t cap)
{
	unsigned n = 0;
	size_t i, len = strlen(buf);

	for (i = 0; i < rcp->n_ob; i++) {
		const struct fx_g4_ob_field *f = fx_g4_ob_field_find(rcp->ob[i].name);
		uint32_t v;

		if (!f)
			continue;
		v = fx_g4_ob_get(have, f);
		if (v == rcp->ob[i].value)
			continue;
		if (len < cap)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s %u->%u",
						n ? ", " : "", f->name, (unsigned)v,
						(unsigned)rcp->ob[i].value);
		n++;
	}
	return n;
}

int seq_step_read_ob(struct seq_run *r)
{
	char diff[160] = "";
	int rc;

	/* read once per cycle: identify read them (and read them again
	 * after an unprotect) */
	if (r->have_ident) {
		r->ob_cur = r->ident.ob;
	} else {
		rc = fx_prog_ob_read(r->dfu, &r->ob_cur, &r->err);
		if (rc)
			return rc;
	}
	rc = fx_recipe_ob_want(r->recipe, &r->ob_cur, &r->ob_want,
			       &r->ob_differs, &r->dbank_changes, &r->err);
	if (rc)
		return rc;
	r->have_ob = true;
	describe_diff(r->recipe, &r->ob_cur, diff, sizeof(diff));
	snprintf(r->detail, sizeof(r->detail), "optr 0x%08X; %s%s",
		 (unsigned)optr_of(&r->ob_cur),
		 r->ob_differs ? "differs: " : "matches the recipe",
		 r->ob_differs ? diff : "");
	return 0;
}

int seq_step_write_ob(struct seq_run *r)
{
	struct fx_prog_ob_result res;
	char diff[160] = "";
	int rc;

	if (!r->ob_differs) {
		snprintf(r->detail, sizeof(r->detail),
			 "option bytes match the recipe (optr 0x%08X)",
			 (unsigned)optr_of(&r->ob_cur));
		return SEQ_SKIPPED;
	}
	/* the option-byte reload resets the chip: only BOOT0 high brings the
	 * bootloader back (an app entry switches to the pin here) */
	rc = seq_pin(r, r->slot->boot0, 1);
	if (rc)
		return rc;
	memset(&res, 0, sizeof(res));
	rc = fx_prog_ob_write_from(r->dfu, &r->ob_cur, &r->ob_want,
				   seq_ms_left(r), &res, &r->err);
	if (rc == FX_E_VERIFY)
		r->fail_class = FX_STORE_FAIL;
	if (rc)
		return rc;
	r->ob_written = true;
	/* require the recipe values ourselves, whatever prog checked */
	if (describe_diff(r->recipe, &res.after, diff, sizeof(diff))) {
		r->fail_class = FX_STORE_FAIL;
		return fx_err_set(&r->err, FX_E_VERIFY,
				  "option bytes after the reset differ from the recipe: %s",
				  diff);
	}
	snprintf(r->detail, sizeof(r->detail),
		 "optr 0x%08X -> 0x%08X, bootloader back after %llu ms%s",
		 (unsigned)optr_of(&r->ob_cur), (unsigned)optr_of(&res.after),
		 (unsigned long long)(res.reenum_us / 1000u),
		 r->entered_by_app ? " (BOOT0 raised for the write)" : "");
	r->ob_cur = res.after;
	return 0;
}

/* Spec 3.6: some ROMs refuse even the option-byte read once RDP 1 is
 * active (Betaflight's observation). The bootloader came back and refuses
 * to read flash: that is the confirmation. */
static int rdp_confirm_by_refusal(struct seq_run *r, uint32_t before)
{
	struct fx_err e2;
	uint8_t b[8];
	int rc;

	fx_err_clear(&e2);
	rc = fx_prog_read(r->dfu, G4_FLASH_BASE, b, sizeof(b), &e2);
	if (rc != FX_E_PROTECTED)
		return fx_err_prefix(&r->err, "RDP not confirmed (flash read %s)",
				     rc ? fx_err_name(rc) : "allowed");
	fx_err_clear(&r->err);
	snprintf(r->detail, sizeof(r->detail),
		 "optr 0x%08X -> RDP level 1, confirmed after the reset: reads refused",
		 (unsigned)before);
	return 0;
}

int seq_step_rdp(struct seq_run *r)
{
	const struct fx_g4_ob_field *f = fx_g4_ob_field_find("RDP");
	struct fx_prog_ob_result res;
	struct fx_g4_ob want, cur;
	uint32_t before;
	int rc;

	if (!f)
		return fx_err_set(&r->err, FX_E_CONFIG, "no RDP field in the G4 table");
	if (r->have_ob) {
		want = r->ob_cur; /* read this cycle (or the re-read after write_ob) */
	} else {
		rc = fx_prog_ob_read(r->dfu, &want, &r->err);
		if (rc)
			return rc;
	}
	cur = want;
	before = optr_of(&want);
	rc = fx_g4_ob_set(&want, f, FX_G4_RDP_LEVEL1, &r->err);
	if (rc)
		return rc;
	rc = seq_pin(r, r->slot->boot0, 1);
	if (rc)
		return rc;
	memset(&res, 0, sizeof(res));
	rc = fx_prog_ob_write_from(r->dfu, &cur, &want, seq_ms_left(r),
				   &res, &r->err);
	if (rc == FX_E_PROTECTED)
		return rdp_confirm_by_refusal(r, before);
	if (rc == FX_E_VERIFY)
		r->fail_class = FX_STORE_FAIL;
	if (rc)
		return rc;
	if (fx_g4_ob_rdp_level(&res.after) != 1) {
		r->fail_class = FX_STORE_FAIL;
		return fx_err_set(&r->err, FX_E_VERIFY,
				  "RDP level %d after the reset, expected 1 (optr 0x%08X)",
				  fx_g4_ob_rdp_level(&res.after),
				  (unsigned)optr_of(&res.after));
	}
	snprintf(r->detail, sizeof(r->detail),
		 "optr 0x%08X -> 0x%08X (RDP level 1), confirmed after %llu ms",
		 (unsigned)before, (unsigned)optr_of(&res.after),
		 (unsigned long long)(res.reenum_us / 1000u));
	return 0;
}
