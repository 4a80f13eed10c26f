/* image_hex.c - Intel HEX (Intel "Hexadecimal Object File Format
 * Specification" rev A, 1988): record types 00 data, 01 end of file,
 * 02 extended segment address, 03 start segment address, 04 extended
 * linear address, 05 start linear address. Also the line helpers shared
 * with image_srec.c. */
#include <string.h>

#include "fx/bytes.h"
#include "image_priv.h"

enum {
	IHEX_DATA = 0x00,
	IHEX_EOF = 0x01,
	IHEX_ESA = 0x02, /* extended segment address: base = USBA << 4 */
	IHEX_SSA = 0x03, /* start segment address: CS:IP */
	IHEX_ELA = 0x04, /* extended linear address: base = ULBA << 16 */
	IHEX_SLA = 0x05, /* start linear address: EIP */
};

/* ':' count(1) offset(2) type(1) data(count) checksum(1) */
#define IHEX_MAX_BYTES (1 + 2 + 1 + 255 + 1)

const char *img_next_line(const uint8_t *data, size_t len, size_t *pos,
			  uint32_t *lineno, size_t *llen)
{
	const uint8_t *nl;
	size_t start = *pos, n;

	if (start >= len)
		return NULL;
	nl = memchr(data + start, '\n', len - start);
	n = nl ? (size_t)(nl - (data + start)) : len - start;
	*pos = start + n + (nl ? 1 : 0);
	(*lineno)++;
	while (n && (data[start + n - 1] == '\r' || data[start + n - 1] == ' ' ||
		     data[start + n - 1] == '\t'))
		n--;
	*llen = n;
	return (const char *)data + start;
}

/* Decode the hex digits s[0..n) into out; col0 is the column of s[0].
 * Reports the first bad digit or an odd count. */
int img_hex_decode(struct img_build *b, uint32_t line, const char *s, size_t n,
		   size_t col0, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (fx_hex_digit((char)c) < 0) {
			if (c > 0x20 && c < 0x7f)
				return img_fail(b, line, "bad hex digit '%c' in column %zu", c,
						col0 + i);
			return img_fail(b, line, "bad hex digit 0x%02x in column %zu", c, col0 + i);
		}
		if (i & 1)
			out[i / 2] = (uint8_t)(fx_hex_digit(s[i - 1]) << 4 | fx_hex_digit(s[i]));
	}
	if (n & 1)
		return img_fail(b, line, "odd number of hex digits (%zu)", n);
	return 0;
}

static bool blank(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '\x1a'); /* DOS end-of-file mark */
}

int img_read_ihex(struct img_build *b, const uint8_t *data, size_t len)
{
	uint8_t rec[IHEX_MAX_BYTES];
	uint32_t lineno = 0, base = 0;
	size_t pos = 0, llen, nbytes;
	const char *s;
	int rc;

	while ((s = img_next_line(data, len, &pos, &lineno, &llen))) {
		unsigned count, type, sum = 0, i;
		uint16_t off;

		if (blank(s, llen))
			continue;
		if (s[0] != ':') {
			if ((unsigned char)s[0] > 0x20 && (unsigned char)s[0] < 0x7f)
				return img_fail(b, lineno, "expected ':' at the start of a record, got '%c'",
						s[0]);
			return img_fail(b, lineno, "expected ':' at the start of a record, got 0x%02x",
					(unsigned char)s[0]);
		}
		if (llen - 1 > 2 * IHEX_MAX_BYTES)
			return img_fail(b, lineno, "record longer than %u bytes", IHEX_MAX_BYTES);
		if ((rc = img_hex_decode(b, lineno, s + 1, llen - 1, 2, rec)))
			return rc;
		nbytes = (llen - 1) / 2;
		if (nbytes < 5)
			return img_fail(b, lineno, "record truncated: %zu bytes, a record has at least 5",
					nbytes);
		count = rec[0];
		off = (uint16_t)(rec[1] << 8 | rec[2]);
		type = rec[3];
		if (nbytes < 5 + count)
			return img_fail(b, lineno, "record truncated: byte count %u needs %u bytes, got %zu",
					count, 5 + count, nbytes);
		if (nbytes > 5 + count)
			return img_fail(b, lineno, "record longer than its byte count %u: %zu bytes, "
					"expected %u", count, nbytes, 5 + count);
		for (i = 0; i < 4 + count; i++)
			sum += rec[i];
		if ((uint8_t)(sum + rec[4 + count]) != 0)
			return img_fail(b, lineno, "bad checksum: expected 0x%02x, got 0x%02x",
					(unsigned)(uint8_t)(0x100 - (sum & 0xff)), rec[4 + count]);
		switch (type) {
		case IHEX_DATA:
			if ((rc = img_add(b, lineno, 0, base + off, rec + 4, count)))
				return rc;
			break;
		case IHEX_EOF:
			if (count)
				return img_fail(b, lineno, "end-of-file record with %u data bytes", count);
			while ((s = img_next_line(data, len, &pos, &lineno, &llen)))
				if (!blank(s, llen))
					return img_fail(b, lineno, "data after the end-of-file record");
			return 0;
		case IHEX_ESA:
		case IHEX_ELA:
			if (count != 2)
				return img_fail(b, lineno, "extended %s address record: expected 2 data "
						"bytes, got %u", type == IHEX_ESA ? "segment" : "linear",
						count);
			if (type == IHEX_ESA)
				base = (uint32_t)(rec[4] << 8 | rec[5]) << 4;
			else
				base = (uint32_t)(rec[4] << 8 | rec[5]) << 16;
			break;
		case IHEX_SSA:
		case IHEX_SLA:
			if (count != 4)
				return img_fail(b, lineno, "start %s address record: expected 4 data "
						"bytes, got %u", type == IHEX_SSA ? "segment" : "linear",
						count);
			if (type == IHEX_SSA)
				b->entry = ((uint32_t)(rec[4] << 8 | rec[5]) << 4) +
					   (uint32_t)(rec[6] << 8 | rec[7]);
			else
				b->entry = fx_get_be32(rec + 4);
			break;
		default:
			return img_fail(b, lineno, "bad record type 0x%02x", type);
		}
	}
	return img_fail(b, lineno, "missing end-of-file record (type 01)");
}
