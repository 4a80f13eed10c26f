/* fuzz_board.c - libFuzzer harness: emulated board files through
 * fx_emu_load(), then a power-up into the ROM and the descriptors, so the
 * option bytes, tags and identity a file carries are all exercised. A
 * board file is 590980 bytes with a CRC-32 at the end, which the fuzzer
 * would never get right, so by default the input becomes the file's
 * content after the magic and version (identity, option bytes, OTP, bank
 * tags, the flash start), the rest erased (0xFF, tags 0), the CRC fixed.
 * An input whose first byte is 0xA5 goes in raw (the header, size and CRC
 * checks themselves). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "fx/clock.h"
#include "fx/emu.h"

#define FILE_SIZE 590980u
#define OFF_TAG 1152u
#define OFF_FLASH (OFF_TAG + 65536u)
#define OFF_CRC (FILE_SIZE - 4u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fx_vclock vc;
	struct fx_emu *e;
	struct fx_err err;
	uint8_t *buf, desc[512];
	const char *path;
	size_t n = size;

	fz_quiet();
	if (size && data[0] == 0xA5) {
		path = fz_file("raw.fxb", data + 1, size - 1);
	} else {
		uint32_t c;

		buf = malloc(FILE_SIZE);
		if (!buf)
			return 0;
		memset(buf, 0, OFF_FLASH);
		memset(buf + OFF_FLASH, 0xFF, FILE_SIZE - OFF_FLASH);
		memcpy(buf, "FXEMUBRD\x01\0\0\0\0\0\0\0", 16);
		if (n > OFF_CRC - 16u)
			n = OFF_CRC - 16u;
		memcpy(buf + 16, data, n);
		c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, OFF_CRC);
		buf[OFF_CRC] = (uint8_t)c;
		buf[OFF_CRC + 1] = (uint8_t)(c >> 8);
		buf[OFF_CRC + 2] = (uint8_t)(c >> 16);
		buf[OFF_CRC + 3] = (uint8_t)(c >> 24);
		path = fz_file("b.fxb", buf, FILE_SIZE);
		free(buf);
	}
	fx_vclock_init(&vc);
	fx_err_clear(&err);
	e = fx_emu_load(path, &vc.base, &err);
	if (!e) {
		if (err.code != FX_E_FILE && err.code != FX_E_NOMEM)
			abort();
		return 0;
	}
	(void)fx_emu_optr(e);
	fx_emu_set_boot0(e, true);
	fx_emu_set_power(e, true);
	fx_clock_sleep(&vc.base, 2000000);
	if (fx_emu_poll(e) != FX_EMU_BUS_NONE) {
		(void)fx_emu_device_descriptor(e, desc, sizeof(desc));
		(void)fx_emu_config_descriptor(e, desc, sizeof(desc));
	}
	fx_emu_free(e);
	return 0;
}
