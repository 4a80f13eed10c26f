/* image_dfuse.c - DfuSe .dfu files (ST UM0391; spec 1.11): an 11-byte
 * prefix ("DfuSe", bVersion 1, DFUImageSize, bTargets), per target a
 * 274-byte prefix ("Target", bAlternateSetting, bTargetNamed, szTargetName,
 * dwTargetSize, dwNbElements) and its elements (dwElementAddress,
 * dwElementSize, data), then the 16-byte DFU suffix with "UFD" and the
 * CRC-32 over everything before it. The suffix CRC is the reflected
 * CRC-32 with init 0xFFFFFFFF and no final XOR, i.e. the complement of
 * zlib's crc32(). DFUImageSize is not checked: dfuse-pack.py writes the
 * length without the suffix and dfu-util ignores it. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "fx/bytes.h"
#include "image_priv.h"

#define DFUSE_PREFIX_LEN 11
#define DFUSE_TARGET_LEN 274
#define DFUSE_ELEMENT_LEN 8
#define DFU_SUFFIX_LEN 16
#define DFUSE_BCD_DFU 0x011a

static uint32_t dfu_crc(const uint8_t *p, size_t n)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	while (n) {
		uInt chunk = n > 0x40000000u ? 0x40000000u : (uInt)n;

		crc = crc32(crc, p, chunk);
		p += chunk;
		n -= chunk;
	}
	return ~(uint32_t)crc;
}

static int check_suffix(struct img_build *b, const uint8_t *data, size_t len)
{
	const uint8_t *s = data + len - DFU_SUFFIX_LEN;
	uint32_t want, got;

	if (memcmp(s + 8, "UFD", 3))
		return img_fail(b, 0, "DFU suffix signature is not 'UFD'");
	if (s[11] != DFU_SUFFIX_LEN)
		return img_fail(b, 0, "DFU suffix length %u, expected %u", s[11], DFU_SUFFIX_LEN);
	if (fx_get_le16(s + 6) != DFUSE_BCD_DFU)
		return img_fail(b, 0, "DFU suffix bcdDFU 0x%04x, expected 0x%04x (DfuSe)",
				fx_get_le16(s + 6), DFUSE_BCD_DFU);
	got = fx_get_le32(s + 12);
	want = dfu_crc(data, len - 4);
	if (got != want)
		return img_fail(b, 0, "DFU suffix CRC mismatch: file says 0x%08x, computed 0x%08x",
				got, want);
	return 0;
}

/* Record numbers: target in the top 8 bits, element below (an element
 * takes at least 8 bytes of a file of at most 64 MiB: < 2^24 of them). */
#define DFUSE_REC(t, e) ((uint32_t)(t) << 24 | ((e) & 0xffffffu))

void img_dfuse_rec_name(uint32_t line, char *buf, size_t n)
{
	snprintf(buf, n, "target %u element %u", (unsigned)(line >> 24),
		 (unsigned)(line & 0xffffffu));
}

int img_read_dfuse(struct img_build *b, const uint8_t *data, size_t len)
{
	struct fx_cursor c;
	const uint8_t *p;
	unsigned t, ntargets;
	int rc;

	if (len < DFUSE_PREFIX_LEN + DFU_SUFFIX_LEN)
		return img_fail(b, 0, "DfuSe file truncated: %zu bytes, expected at least %u",
				len, DFUSE_PREFIX_LEN + DFU_SUFFIX_LEN);
	if (memcmp(data, "DfuSe", 5))
		return img_fail(b, 0, "DfuSe prefix signature is not 'DfuSe'");
	if ((rc = check_suffix(b, data, len)))
		return rc;
	fx_cursor_init(&c, data, len - DFU_SUFFIX_LEN);
	p = fx_cursor_take(&c, DFUSE_PREFIX_LEN);
	if (p[5] != 1)
		return img_fail(b, 0, "DfuSe version %u, expected 1", p[5]);
	ntargets = p[10];
	for (t = 0; t < ntargets; t++) {
		uint32_t tsize, nelem, e, used = 0;
		uint8_t alt;

		p = fx_cursor_take(&c, DFUSE_TARGET_LEN);
		if (!p)
			return img_fail(b, 0, "target %u: prefix truncated (%zu bytes left, "
					"expected %u)", t, c.left, DFUSE_TARGET_LEN);
		if (memcmp(p, "Target", 6))
			return img_fail(b, 0, "target %u: signature is not 'Target'", t);
		alt = p[6];
		tsize = fx_get_le32(p + 266);
		nelem = fx_get_le32(p + 270);
		for (e = 0; e < nelem; e++) {
			uint32_t addr, size;

			p = fx_cursor_take(&c, DFUSE_ELEMENT_LEN);
			if (!p)
				return img_fail(b, 0, "target %u element %u: header truncated", t, e);
			addr = fx_get_le32(p);
			size = fx_get_le32(p + 4);
			p = fx_cursor_take(&c, size);
			if (!p)
				return img_fail(b, 0, "target %u element %u: %u bytes at 0x%08x run "
						"past the end of the data (%zu bytes left)", t, e,
						size, addr, c.left);
			if ((rc = img_add(b, DFUSE_REC(t, e), alt, addr, p, size)))
				return rc;
			used += DFUSE_ELEMENT_LEN + size;
		}
		if (used != tsize)
			return img_fail(b, 0, "target %u: dwTargetSize %u, but its %u elements take %u "
					"bytes", t, tsize, nelem, used);
	}
	if (c.left)
		return img_fail(b, 0, "%zu unexpected bytes after the last target", c.left);
	return 0;
}
