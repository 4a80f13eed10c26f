/* fuzz_dfu.c - libFuzzer harness: DfuSe .dfu files through
 * fx_image_load(). The suffix CRC (the last 4 bytes: the complement of
 * zlib's CRC-32 of everything before them, DFU 1.1 annex B) would stop
 * almost every input at the first check, so the harness writes the right
 * CRC over the input's last 4 bytes unless the input's first byte is 0xA5
 * (then the input goes in as it is, to reach the CRC check itself). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "fx/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	fz_quiet();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= 16 && data[0] != 0xA5) {
		uint32_t c = ~(uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(size - 4));

		buf[size - 4] = (uint8_t)c;
		buf[size - 3] = (uint8_t)(c >> 8);
		buf[size - 2] = (uint8_t)(c >> 16);
		buf[size - 1] = (uint8_t)(c >> 24);
	}
	fz_image("in.dfu", buf, size, FX_IMAGE_DFUSE);
	free(buf);
	return 0;
}
