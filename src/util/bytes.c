/* bytes.c - bounded cursor. */
#include "fx/bytes.h"

const uint8_t *fx_cursor_take(struct fx_cursor *c, size_t n)
{
	const uint8_t *p;

	if (c->bad || n > c->left) {
		c->bad = true;
		return NULL;
	}
	p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

uint8_t fx_cursor_u8(struct fx_cursor *c)
{
	const uint8_t *p = fx_cursor_take(c, 1);

	return p ? p[0] : 0;
}

uint16_t fx_cursor_le16(struct fx_cursor *c)
{
	const uint8_t *p = fx_cursor_take(c, 2);

	return p ? fx_get_le16(p) : 0;
}

uint32_t fx_cursor_le32(struct fx_cursor *c)
{
	const uint8_t *p = fx_cursor_take(c, 4);

	return p ? fx_get_le32(p) : 0;
}
