/* steps_flash.c - firmware check, erase, program, verify. Each is its own
 * step so the record names the phase that failed; erase and program are
 * the flash job of fx/prog.h (the CLI's flash runs the same code), which
 * checks the step's deadline between device operations; each operation's
 * own waits end at the deadline too (r->usb, seq_usb.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx/dfu_wire.h"
#include "fx/log.h"
#include "seq_priv.h"

#define LOG_PREFIX "seq"
#define FIRMWARE_MAX (64u << 20)

static int read_file(const char *path, uint8_t **out, size_t *len,
		     struct fx_err *err)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return fx_err_set(err, FX_E_FILE, "firmware '%s': %s", path,
				  strerror(errno));
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > FIRMWARE_MAX) {
				free(buf);
				fclose(f);
				return fx_err_set(err, FX_E_FILE,
						  "firmware '%s': larger than %u bytes",
						  path, FIRMWARE_MAX);
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return fx_err_set(err, FX_E_NOMEM, "out of memory");
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return fx_err_set(err, FX_E_FILE, "firmware '%s': read error", path);
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

/* The option bytes the chip runs with now: read once per cycle (identify),
 * the recipe's after write_ob. */
static uint32_t current_optr(const struct seq_run *r)
{
	return fx_g4_ob_optr(r->have_ob ? &r->ob_cur : &r->ident.ob);
}

static bool mass_erase(const struct seq_run *r)
{
	return r->recipe->erase == FX_RECIPE_ERASE_MASS || r->dbank_changes;
}

/* The flash job of this cycle (fx/prog.h: one implementation with the CLI
 * `flash`); built per step, it is cheap and holds no device state. */
static int job_init(struct seq_run *r, struct fx_prog_job *j)
{
	int rc = fx_prog_job_init(j, r->dfu, r->job->image, mass_erase(r), &r->err);

	if (rc)
		return rc;
	j->have_optr = r->have_ob || r->have_ident;
	j->optr = current_optr(r);
	return 0;
}

/* The file may have changed since the recipe was loaded (spec: a SHA-256
 * mismatch refuses to program); the image must fit the flash of the
 * device. Both before anything changes the board. */
int seq_step_firmware(struct seq_run *r)
{
	struct fx_prog_job j;
	uint8_t *data = NULL, vt[8];
	size_t len = 0;
	int rc;

	rc = read_file(r->recipe->firmware, &data, &len, &r->err);
	if (rc)
		return rc;
	rc = fx_recipe_check_firmware(r->recipe, data, len, &r->err);
	free(data);
	if (rc)
		return rc;
	if (r->dfu) {
		rc = job_init(r, &j);
		fx_prog_job_release(&j);
		if (rc)
			return rc;
	}
	snprintf(r->detail, sizeof(r->detail), "sha256 %.16s... %zu bytes file, %zu bytes image%s",
		 r->recipe->firmware_sha256, len, fx_image_size(r->job->image),
		 fx_image_read(r->job->image, G4_FLASH_BASE, vt, sizeof(vt)) == 0 &&
		 fx_g4_vectors_plausible(vt, G4_FLASH_BASE, G4_FLASH_SIZE) ? "" :
		 "; no plausible vector table at 0x08000000: the application will not start");
	return 0;
}

/* skip_identical (pyOCD smart flash, probe-rs preverify): a programmed
 * board whose option bytes already match and whose image range reads back
 * as the image needs no erase and no program. */
static bool check_identical(struct seq_run *r)
{
	struct fx_err e;

	if (!r->recipe->skip_identical || r->ob_differs || r->ob_written ||
	    r->board != FX_STORE_BOARD_PROGRAMMED)
		return false;
	fx_err_clear(&e);
	if (fx_prog_verify(r->dfu, r->job->image, &e) == 0)
		return true;
	fx_log(FX_LOG_INFO, LOG_PREFIX, "not identical: %s", e.msg);
	return false;
}

int seq_step_erase(struct seq_run *r)
{
	struct fx_prog_job j;
	int rc;

	if (check_identical(r)) {
		r->identical = true;
		snprintf(r->detail, sizeof(r->detail),
			 "identical: the image range already reads back as the image (%zu bytes)",
			 fx_image_size(r->job->image));
		return SEQ_SKIPPED;
	}
	rc = job_init(r, &j);
	if (!rc)
		rc = fx_prog_job_erase(&j, r->deadline_us, &r->err);
	if (!rc && j.mass_erase)
		snprintf(r->detail, sizeof(r->detail), "mass erase%s",
			 r->dbank_changes ? " (DBANK changed)" : "");
	else if (!rc)
		snprintf(r->detail, sizeof(r->detail), "%zu pages of %u bytes", j.pages_erased,
			 (unsigned)fx_g4_page_size(current_optr(r)));
	fx_prog_job_release(&j);
	return rc;
}

int seq_step_program(struct seq_run *r)
{
	const struct fx_image *img = r->job->image;
	struct fx_prog_job j;
	int rc;

	if (r->identical) {
		snprintf(r->detail, sizeof(r->detail), "identical: nothing to program");
		return SEQ_SKIPPED;
	}
	rc = job_init(r, &j);
	if (!rc)
		rc = fx_prog_job_program(&j, r->deadline_us, &r->err);
	if (!rc)
		snprintf(r->detail, sizeof(r->detail),
			 "bytes %zu sent for %zu image bytes in %zu segments",
			 j.bytes_sent, fx_image_size(img), img->nsegs);
	fx_prog_job_release(&j);
	return rc;
}

/* Bounded like every step: the readback's transfers go through r->usb,
 * which ends them at the deadline. */
int seq_step_verify(struct seq_run *r)
{
	int rc;

	if (r->identical) {
		snprintf(r->detail, sizeof(r->detail),
			 "readback of %zu bytes matched before the erase (identical)",
			 fx_image_size(r->job->image));
		return 0;
	}
	if (r->recipe->verify == FX_RECIPE_VERIFY_NONE) {
		snprintf(r->detail, sizeof(r->detail), "verify = none in the recipe");
		return SEQ_SKIPPED;
	}
	rc = fx_prog_verify(r->dfu, r->job->image, &r->err);
	if (rc == FX_E_VERIFY)
		r->fail_class = FX_STORE_FAIL;
	if (rc)
		return rc;
	snprintf(r->detail, sizeof(r->detail), "readback of %zu bytes matches",
		 fx_image_size(r->job->image));
	return 0;
}
