/* steps_flash.c - firmware check, erase, program, verify. Each is its own
 * step so the record names the phase that failed; every loop checks the
 * step's deadline between device operations (STYLE 3: every wait has a
 * bound). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx/dfu_wire.h"
#include "fx/log.h"
#include "seq_priv.h"

#define LOG_PREFIX "seq"
#define PROGRAM_CHUNK 16384u /* bytes per fx_dfuse_write between deadline checks */
#define FIRMWARE_MAX (64u << 20)

static int dfu_error(struct seq_run *r, int rc, const char *what)
{
	const struct fx_err *e = fx_dfu_err(r->dfu);

	if (e && e->code)
		r->err = *e;
	else
		fx_err_set(&r->err, rc, "%s", fx_strerror(rc));
	fx_err_prefix(&r->err, "%s", what);
	return r->err.code ? r->err.code : rc;
}

static int past_deadline(struct seq_run *r, uint64_t t0, uint64_t deadline_us,
			 const char *what)
{
	uint64_t now = fx_clock_now(r->clock);

	if (now <= deadline_us)
		return 0;
	return fx_err_set(&r->err, FX_E_TIMEOUT, "%s not done after %llu ms (limit %llu ms)",
			  what, (unsigned long long)((now - t0) / 1000u),
			  (unsigned long long)((deadline_us - t0) / 1000u));
}

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

/* The file may have changed since the recipe was loaded (spec: a SHA-256
 * mismatch refuses to program). Done before the erase. */
int seq_step_firmware(struct seq_run *r, uint64_t deadline_us)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	(void)deadline_us;
	rc = read_file(r->recipe->firmware, &data, &len, &r->err);
	if (rc)
		return rc;
	rc = fx_recipe_check_firmware(r->recipe, data, len, &r->err);
	free(data);
	if (rc)
		return rc;
	snprintf(r->detail, sizeof(r->detail), "sha256 %.16s... %zu bytes file, %zu bytes image",
		 r->recipe->firmware_sha256, len, fx_image_size(r->job->image));
	return 0;
}

static int select_flash_alt(struct seq_run *r)
{
	int alt = fx_dfu_alt_for(r->dfu, G4_FLASH_BASE);
	int rc;

	if (alt < 0)
		return fx_err_set(&r->err, FX_E_PROTO,
				  "no alternate setting maps flash 0x%08X", G4_FLASH_BASE);
	rc = fx_dfu_set_alt(r->dfu, (uint8_t)alt);
	if (rc)
		return dfu_error(r, rc, "select the flash alternate setting");
	return 0;
}

static uint32_t current_optr(const struct seq_run *r)
{
	if (r->have_ob)
		return r->ob_cur.word[0][0];
	return r->ident.optr;
}

int seq_step_erase(struct seq_run *r, uint64_t deadline_us)
{
	const struct fx_image *img = r->job->image;
	uint64_t t0 = fx_clock_now(r->clock);
	uint32_t page = fx_g4_page_size(current_optr(r));
	uint32_t last = UINT32_MAX;
	size_t i, pages = 0;
	bool mass = r->recipe->erase == FX_RECIPE_ERASE_MASS || r->dbank_changes;
	int rc;

	rc = select_flash_alt(r);
	if (rc)
		return rc;
	if (mass) {
		rc = fx_dfuse_mass_erase(r->dfu);
		if (rc)
			return dfu_error(r, rc, "mass erase");
		rc = past_deadline(r, t0, deadline_us, "mass erase");
		if (rc)
			return rc;
		snprintf(r->detail, sizeof(r->detail), "mass erase%s",
			 r->dbank_changes ? " (DBANK changed)" : "");
		return 0;
	}
	for (i = 0; i < img->nsegs; i++) {
		const struct fx_image_seg *sg = &img->segs[i];
		uint32_t a, end;

		if (sg->len == 0 || sg->addr < G4_FLASH_BASE)
			continue;
		a = G4_FLASH_BASE + (sg->addr - G4_FLASH_BASE) / page * page;
		end = sg->addr + sg->len;
		for (; a < end; a += page) {
			if (a == last)
				continue;
			rc = past_deadline(r, t0, deadline_us, "page erase");
			if (rc)
				return rc;
			rc = fx_dfuse_erase_page(r->dfu, a);
			if (rc)
				return dfu_error(r, rc, "page erase");
			last = a;
			pages++;
		}
	}
	rc = past_deadline(r, t0, deadline_us, "page erase");
	if (rc)
		return rc;
	snprintf(r->detail, sizeof(r->detail), "%zu pages of %u bytes", pages,
		 (unsigned)page);
	return 0;
}

int seq_step_program(struct seq_run *r, uint64_t deadline_us)
{
	const struct fx_image *img = r->job->image;
	uint64_t t0 = fx_clock_now(r->clock);
	uint32_t flash_end = G4_FLASH_BASE +
			     (r->ident.flash_kib ? r->ident.flash_kib * 1024u : G4_FLASH_SIZE);
	uint32_t lo, off;
	uint8_t *buf;
	size_t len, bytes = 0;
	int rc;

	rc = fx_image_check_range(img, G4_FLASH_BASE, flash_end, &r->err);
	if (rc)
		return rc;
	rc = select_flash_alt(r);
	if (rc)
		return rc;
	/* one 0xFF-filled run (fx_prog_flatten): segments that share a double
	 * word are programmed once, all-0xFF chunks are skipped */
	rc = fx_prog_flatten(img, PROGRAM_CHUNK, &lo, &buf, &len, &r->err);
	if (rc)
		return rc;
	for (off = 0; off < len; off += PROGRAM_CHUNK) {
		uint32_t n = len - off < PROGRAM_CHUNK ? (uint32_t)(len - off) : PROGRAM_CHUNK;
		size_t sent = 0;

		rc = past_deadline(r, t0, deadline_us, "program");
		if (!rc && fx_dfuse_write_ex(r->dfu, lo + off, buf + off, n, true, &sent))
			rc = dfu_error(r, fx_dfu_err(r->dfu)->code, "program");
		if (rc)
			break;
		bytes += sent;
	}
	free(buf);
	if (rc)
		return rc;
	rc = past_deadline(r, t0, deadline_us, "program");
	if (rc)
		return rc;
	snprintf(r->detail, sizeof(r->detail), "bytes %zu sent for %zu image bytes in %zu segments",
		 bytes, fx_image_size(img), img->nsegs);
	return 0;
}

int seq_step_verify(struct seq_run *r, uint64_t deadline_us)
{
	uint64_t t0 = fx_clock_now(r->clock);
	int rc;

	if (r->recipe->verify == FX_RECIPE_VERIFY_NONE) {
		snprintf(r->detail, sizeof(r->detail), "verify = none in the recipe");
		return SEQ_SKIPPED;
	}
	rc = fx_prog_verify(r->dfu, r->job->image, &r->err);
	if (rc == FX_E_VERIFY)
		r->fail_class = FX_STORE_FAIL;
	if (rc)
		return rc;
	rc = past_deadline(r, t0, deadline_us, "verify");
	if (rc)
		return rc;
	snprintf(r->detail, sizeof(r->detail), "readback of %zu bytes matches",
		 fx_image_size(r->job->image));
	return 0;
}
