/* steps_serial.c - the serial number steps of a run (steps_serial.h,
 * rules in fx/serial.h): the value is reserved in the database before
 * anything is written, flash fields ride with the image, the OTP record
 * is written after the verify and read back. */
#include <stdio.h>
#include <string.h>

#include "fx/dfu_wire.h"
#include "fx/log.h"
#include "fx/prog.h"
#include "steps_serial.h"

#define LOG_PREFIX "serial"

void seq_serial_init(struct seq_serial *s, const struct fx_serial_conf *conf,
		     struct fx_store *st, int64_t run_id)
{
	memset(s, 0, sizeof(*s));
	s->conf = conf && conf->enabled ? conf : NULL;
	s->st = st;
	s->run_id = run_id;
	s->otp_off = -1;
}

void seq_serial_release(struct seq_serial *s)
{
	fx_image_free(s->merged);
	s->merged = NULL;
}

bool seq_serial_active(const struct seq_serial *s)
{
	return s->conf != NULL;
}

bool seq_serial_has_otp(const struct seq_serial *s)
{
	return s->conf && fx_serial_otp_record_size(s->conf) > 0;
}

/* The flash alt again after an OTP access (the next steps assume it). */
static int flash_alt(struct fx_dfu *d, struct fx_err *err)
{
	int alt = fx_dfu_alt_for(d, G4_FLASH_BASE);

	return fx_dfu_set_alt(d, (uint8_t)(alt < 0 ? 0 : alt), err);
}

static int read_otp(struct seq_serial *s, struct fx_dfu *d, struct fx_err *err)
{
	int rc = fx_prog_read(d, FX_SERIAL_OTP_BASE, s->otp, sizeof(s->otp), err);

	if (!rc)
		rc = flash_alt(d, err);
	if (rc)
		return fx_err_prefix(err, "OTP read");
	s->have_otp = true;
	return 0;
}

static int merge_flash(struct seq_serial *s, const struct fx_image *img, struct fx_err *err)
{
	struct fx_serial_patch p[1 + FX_SERIAL_MAX_FIELDS];
	uint8_t bytes[1 + FX_SERIAL_MAX_FIELDS][FX_SERIAL_ASCII_MAX];
	const struct fx_serial_conf *c = s->conf;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < c->n_fields; i++) {
		const struct fx_serial_field *f = &c->fields[i];

		if (f->where != FX_SERIAL_WRITE_FLASH)
			continue;
		memset(bytes[n], 0xFF, sizeof(bytes[n]));
		rc = fx_serial_encode(&f->enc, i < s->a.n_cols ? s->a.cols[i] : "", bytes[n], err);
		if (rc)
			return fx_err_prefix(err, "serial field '%s'", f->column);
		p[n].addr = f->addr;
		p[n].len = f->enc.size;
		p[n].data = bytes[n];
		n++;
	}
	s->n_flash = (unsigned)n;
	if (!n)
		return 0;
	return fx_serial_image_merge(img, p, n, &s->merged, err);
}

int seq_serial_allocate(struct seq_serial *s, struct fx_dfu *d, const struct fx_image *img,
			const char *uid, const char *scan, const char *station, int64_t now_us,
			bool *fail, char *detail, size_t cap, struct fx_err *err)
{
	const struct fx_serial_conf *c = s->conf;
	struct fx_serial_request rq;
	char found[FX_SERIAL_VALUE_MAX] = "";
	unsigned need = c ? fx_serial_otp_record_size(c) : 0;
	int rc;

	*fail = false;
	if (!c)
		return 0;
	if (!uid || !*uid)
		return fx_err_set(err, FX_E_STATE, "no chip UID: a serial number is bound to the UID");
	/* OTP first: what the board carries, and room for the record */
	if (need) {
		rc = read_otp(s, d, err);
		if (rc)
			return rc;
		fx_serial_otp_find(c, s->otp, sizeof(s->otp), station, found, sizeof(found), NULL);
	}
	memset(&rq, 0, sizeof(rq));
	rq.conf = c;
	rq.chip_uid = uid;
	rq.run_id = s->run_id;
	rq.found = found[0] ? found : NULL;
	rq.scan = scan;
	rq.station = station;
	rq.now_us = now_us;
	rc = fx_serial_alloc(s->st, &rq, &s->a, err);
	if (rc == FX_E_DUPLICATE)
		*fail = true;
	if (rc)
		return rc;
	s->allocated = true;
	if (need) {
		rc = fx_serial_otp_record(c, &s->a, s->rec, &s->rec_len, err);
		if (rc)
			return rc;
		/* the record is on the board: the serial found is this one, or
		 * the bytes are there (a list's serial behind another record) */
		s->on_otp = (found[0] && !strcmp(found, s->a.value)) ||
			    fx_serial_otp_holds(s->otp, sizeof(s->otp), s->rec, s->rec_len);
		if (!s->on_otp) {
			s->otp_off = fx_serial_otp_free_offset(s->otp, sizeof(s->otp), s->rec_len);
			if (s->otp_off < 0) {
				*fail = true;
				return fx_err_set(err, FX_E_RANGE,
						  "OTP full: no %u free bytes after the last written double word"
						  " for serial '%s' (nothing written)",
						  s->rec_len, s->a.value);
			}
		}
	}
	rc = merge_flash(s, img, err);
	if (rc)
		return rc;
	{
		char n[32] = "", left[32] = "unlimited";

		if (s->a.n >= 0)
			snprintf(n, sizeof(n), "n %lld, ", (long long)s->a.n);
		if (s->a.remaining != UINT64_MAX)
			snprintf(left, sizeof(left), "%llu", (unsigned long long)s->a.remaining);
		snprintf(detail, cap, "%s %s (%s%s left in pool '%s')", s->a.value,
			 s->a.kept ? "kept: already bound to this chip UID" :
			 s->a.adopted ? "found on the board, bound to it" : "reserved",
			 n, left, c->pool);
	}
	return 0;
}

const struct fx_image *seq_serial_image(const struct seq_serial *s, const struct fx_image *img)
{
	return s->merged ? s->merged : img;
}

int seq_serial_before_program(struct seq_serial *s, int64_t now_us, struct fx_err *err)
{
	if (!s->conf || !s->allocated || !s->n_flash || s->reached)
		return 0;
	s->reached = true;
	return fx_serial_reached(s->st, s->a.id, now_us, err);
}

int seq_serial_write_otp(struct seq_serial *s, struct fx_dfu *d, int64_t now_us, bool *fail,
			 char *detail, size_t cap, struct fx_err *err)
{
	uint8_t back[FX_SERIAL_OTP_SIZE];
	uint32_t addr;
	int rc, alt;

	*fail = false;
	if (!s->conf || !s->allocated || !s->rec_len)
		return 0;
	if (s->on_otp) {
		snprintf(detail, cap, "OTP already carries serial '%s': nothing written", s->a.value);
		return 1;
	}
	addr = FX_SERIAL_OTP_BASE + (uint32_t)s->otp_off;
	if (!s->reached) {
		rc = fx_serial_reached(s->st, s->a.id, now_us, err);
		if (rc)
			return rc;
		s->reached = true;
	}
	alt = fx_dfu_alt_for(d, FX_SERIAL_OTP_BASE);
	rc = fx_dfu_set_alt(d, (uint8_t)(alt < 0 ? 0 : alt), err);
	if (!rc)
		rc = fx_dfuse_write(d, addr, s->rec, s->rec_len, false, err);
	if (rc) {
		flash_alt(d, NULL);
		return fx_err_prefix(err, "OTP write of serial '%s' at 0x%08X", s->a.value, addr);
	}
	rc = fx_prog_read(d, addr, back, s->rec_len, err);
	if (!rc)
		rc = flash_alt(d, err);
	if (rc)
		return fx_err_prefix(err, "OTP readback of serial '%s'", s->a.value);
	if (memcmp(back, s->rec, s->rec_len)) {
		*fail = true;
		return fx_err_set(err, FX_E_VERIFY, "serial '%s' does not read back from OTP 0x%08X",
				  s->a.value, addr);
	}
	snprintf(detail, cap, "serial '%s' written to OTP 0x%08X (%u bytes), read back", s->a.value,
		 addr, s->rec_len);
	return 0;
}

void seq_serial_verify_note(const struct seq_serial *s, struct fx_dfu *d, struct fx_err *err)
{
	const struct fx_serial_conf *c = s->conf;
	uint8_t want[FX_SERIAL_ASCII_MAX], got[FX_SERIAL_ASCII_MAX];
	struct fx_err e;
	size_t i;

	if (!c || !s->allocated || !s->merged || !err || err->code != FX_E_VERIFY)
		return;
	for (i = 0; i < c->n_fields; i++) {
		const struct fx_serial_field *f = &c->fields[i];

		if (f->where != FX_SERIAL_WRITE_FLASH)
			continue;
		fx_err_clear(&e);
		if (fx_image_read(s->merged, f->addr, want, f->enc.size) ||
		    fx_prog_read(d, f->addr, got, f->enc.size, &e))
			continue;
		if (memcmp(want, got, f->enc.size)) {
			fx_err_prefix(err, "serial '%s' (%s at 0x%08X) does not read back",
				      s->a.value, f->column, f->addr);
			return;
		}
	}
}

int seq_serial_finish(struct seq_serial *s, bool pass, int64_t now_us,
		      enum fx_serial_state *state, struct fx_err *err)
{
	int rc;

	if (!s->conf || !s->allocated || s->finished)
		return 0;
	rc = fx_serial_finish(s->st, s->a.id, pass, now_us, state, err);
	if (!rc)
		s->finished = true;
	return rc;
}
