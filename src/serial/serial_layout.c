/* serial_layout.c - where serial fields go in the OTP area (fx/serial.h):
 * the record is the otp fields in order, each padded with 0xFF to whole
 * double words (the OTP's write unit, spec 2.5), after the last written
 * double word. */
#include <stdio.h>
#include <string.h>

#include "fx/serial.h"

unsigned fx_serial_otp_record_size(const struct fx_serial_conf *c)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < c->n_fields; i++)
		if (c->fields[i].where == FX_SERIAL_WRITE_OTP)
			n += (c->fields[i].enc.size + 7u) & ~7u;
	return n;
}

int fx_serial_otp_free_offset(const uint8_t *otp, size_t otp_len, unsigned need)
{
	size_t end = otp_len & ~(size_t)7, i, k;

	/* after the last double word holding any 0 bit */
	for (i = end; i >= 8; i -= 8) {
		bool erased = true;

		for (k = 0; k < 8; k++)
			if (otp[i - 8 + k] != 0xFF)
				erased = false;
		if (!erased)
			break;
	}
	if (i + need > end)
		return -1;
	return (int)i;
}

int fx_serial_otp_record(const struct fx_serial_conf *c, const struct fx_serial_alloc *a,
			 uint8_t *out, unsigned *len, struct fx_err *err)
{
	unsigned n = 0;
	size_t i;
	int rc;

	for (i = 0; i < c->n_fields; i++) {
		const struct fx_serial_field *f = &c->fields[i];
		unsigned sz = (f->enc.size + 7u) & ~7u;

		if (f->where != FX_SERIAL_WRITE_OTP)
			continue;
		if (n + sz > FX_SERIAL_OTP_SIZE)
			return fx_err_set(err, FX_E_RANGE, "the OTP record takes more than %u bytes",
					  FX_SERIAL_OTP_SIZE);
		memset(out + n, 0xFF, sz);
		rc = fx_serial_encode(&f->enc, i < a->n_cols ? a->cols[i] : "", out + n, err);
		if (rc)
			return rc;
		n += sz;
	}
	*len = n;
	return 0;
}

/* min_digits for decoding an integer encoding of a counter's values */
static unsigned int_digits(const struct fx_serial_conf *c)
{
	return c->source == FX_SERIAL_COUNTER && fx_serial_fmt_numeric(&c->fmt) ?
	       (unsigned)fx_serial_fmt_max_len(&c->fmt, c->first, 0) : 0;
}

bool fx_serial_otp_find(const struct fx_serial_conf *c, const uint8_t *otp, size_t otp_len,
			const char *station, char *value, size_t cap, unsigned *off)
{
	const struct fx_serial_field *f = &c->fields[0];
	size_t i;
	uint64_t n;

	if (f->where != FX_SERIAL_WRITE_OTP)
		return false;
	for (i = 0; i + f->enc.size <= otp_len; i += 8) {
		if (!fx_serial_decode(&f->enc, otp + i, int_digits(c), value, cap))
			continue;
		if (c->source == FX_SERIAL_COUNTER &&
		    (!fx_serial_fmt_match(&c->fmt, value, station, &n) ||
		     (!c->central && (n < c->first || n > c->last))))
			continue;
		if (off)
			*off = (unsigned)i;
		return true;
	}
	value[0] = '\0';
	return false;
}

bool fx_serial_otp_holds(const uint8_t *otp, size_t otp_len, const uint8_t *rec, unsigned len)
{
	size_t i;

	for (i = 0; len && i + len <= otp_len; i += 8)
		if (!memcmp(otp + i, rec, len))
			return true;
	return false;
}
