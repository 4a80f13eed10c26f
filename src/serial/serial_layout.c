/* serial_layout.c - where serial fields go in the OTP area (fx/serial.h):
 * the record is the otp fields in order, each padded with 0xFF to whole
 * double words (the OTP's write unit, spec 2.5), after the last written
 * double word. */
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
