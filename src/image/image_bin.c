/* image_bin.c - raw binary at a caller-given load address. */
#include "image_priv.h"

int img_read_bin(struct img_build *b, const uint8_t *data, size_t len, uint32_t addr)
{
	return img_add(b, 1, 0, addr, data, len);
}
