/* image_srec.c - Motorola S-record (srec(5)): S0 header, S1/S2/S3 data with
 * 16/24/32-bit addresses, S5/S6 record count, S7/S8/S9 termination with
 * the start address. Checksum: ones' complement of the low byte of the sum
 * of the count, address and data bytes. */
#include <stdio.h>

#include "fx/bytes.h"
#include "fx/log.h"
#include "image_priv.h"

/* count(1) then up to 255 bytes of address, data and checksum */
#define SREC_MAX_BYTES (1 + 255)

static int srec_fail_start(struct img_build *b, uint32_t line, const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];

	if (c == 'S' && n >= 2) {
		c = (unsigned char)s[1];
		if (c > 0x20 && c < 0x7f)
			return img_fail(b, line, "bad record type 'S%c'", c);
		return img_fail(b, line, "bad record type 'S' followed by 0x%02x", c);
	}
	if (c == 'S')
		return img_fail(b, line, "record truncated: 'S' without a type");
	if (c > 0x20 && c < 0x7f)
		return img_fail(b, line, "expected 'S' at the start of a record, got '%c'", c);
	return img_fail(b, line, "expected 'S' at the start of a record, got 0x%02x", c);
}

int img_read_srec(struct img_build *b, const uint8_t *data, size_t len)
{
	/* address bytes per type S0..S9; 0 = reserved (S4) */
	static const unsigned addr_len[10] = { 2, 2, 3, 4, 0, 2, 3, 4, 3, 2 };
	uint8_t rec[SREC_MAX_BYTES];
	uint32_t lineno = 0, ndata = 0;
	size_t pos = 0, llen, nbytes;
	const char *s;
	int rc;

	while ((s = img_next_line(data, len, &pos, &lineno, &llen))) {
		unsigned type, count, alen, sum = 0, i, dlen;
		uint32_t addr = 0;

		if (llen == 0)
			continue;
		if (llen < 2 || s[0] != 'S' || s[1] < '0' || s[1] > '9' || s[1] == '4')
			return srec_fail_start(b, lineno, s, llen);
		type = (unsigned)(s[1] - '0');
		alen = addr_len[type];
		if (llen - 2 > 2 * SREC_MAX_BYTES)
			return img_fail(b, lineno, "record longer than %u bytes", SREC_MAX_BYTES);
		if ((rc = img_hex_decode(b, lineno, s + 2, llen - 2, 3, rec)))
			return rc;
		nbytes = (llen - 2) / 2;
		if (nbytes < 1)
			return img_fail(b, lineno, "record truncated: no byte count");
		count = rec[0];
		if (count < alen + 1)
			return img_fail(b, lineno, "byte count %u too small for an S%u record "
					"(at least %u)", count, type, alen + 1);
		if (nbytes < 1 + count)
			return img_fail(b, lineno, "record truncated: byte count %u needs %u bytes, "
					"got %zu", count, 1 + count, nbytes);
		if (nbytes > 1 + count)
			return img_fail(b, lineno, "record longer than its byte count %u: %zu bytes, "
					"expected %u", count, nbytes, 1 + count);
		for (i = 0; i < count; i++)
			sum += rec[i];
		if ((uint8_t)~sum != rec[count])
			return img_fail(b, lineno, "bad checksum: expected 0x%02x, got 0x%02x",
					(unsigned)(uint8_t)~sum, rec[count]);
		for (i = 0; i < alen; i++)
			addr = addr << 8 | rec[1 + i];
		dlen = count - alen - 1;
		switch (type) {
		case 0:
			break;
		case 1:
		case 2:
		case 3:
			if ((rc = img_add(b, lineno, 0, addr, rec + 1 + alen, dlen)))
				return rc;
			ndata++;
			break;
		case 5:
		case 6:
			if (dlen)
				return img_fail(b, lineno, "S%u count record with %u data bytes", type,
						dlen);
			if (addr != (ndata & (type == 5 ? 0xffffu : 0xffffffu)))
				return img_fail(b, lineno, "S%u record count says %u data records, "
						"counted %u", type, (unsigned)addr, (unsigned)ndata);
			break;
		case 7:
		case 8:
		case 9:
			if (dlen)
				return img_fail(b, lineno, "S%u termination record with %u data bytes",
						type, dlen);
			b->entry = addr;
			while ((s = img_next_line(data, len, &pos, &lineno, &llen)))
				if (llen)
					return img_fail(b, lineno, "data after the termination record");
			return 0;
		default:
			return srec_fail_start(b, lineno, s, llen);
		}
	}
	/* srec_cat writes no termination record unless asked to (-execution-
	 * start-address); srec_info accepts such files with a warning. A file
	 * without any data record is still refused: nothing says it is whole */
	if (!ndata)
		return img_fail(b, lineno, "missing termination record (S7, S8 or S9)");
	snprintf(b->warning, sizeof(b->warning),
		 "%s: no termination record (S7, S8 or S9): accepted, no start address",
		 b->path);
	fx_log(FX_LOG_WARN, "image", "%s", b->warning);
	return 0;
}
