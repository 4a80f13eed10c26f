/* bytes.h - little/big-endian access and a bounded read cursor.
 * Bytes from the wire or a file are parsed through these, never by memcpy
 * into a struct (STYLE 4). */
#ifndef FX_FX_BYTES_H
#define FX_FX_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (0-9, a-f, A-F), -1 for any other char. */
static inline int fx_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline uint16_t fx_get_le16(const uint8_t *p)
{
	return (uint16_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8));
}

static inline uint32_t fx_get_le24(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}

static inline uint32_t fx_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint32_t fx_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void fx_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fx_put_le24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}

static inline void fx_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Bounded cursor: every take checks the remaining length. */
struct fx_cursor {
	const uint8_t *p;
	size_t left;
	bool bad; /* set once a take ran past the end; sticky */
};

static inline void fx_cursor_init(struct fx_cursor *c, const uint8_t *p, size_t n)
{
	c->p = p;
	c->left = n;
	c->bad = false;
}

/* Returns a pointer to n bytes and advances, or NULL (and sets bad). */
const uint8_t *fx_cursor_take(struct fx_cursor *c, size_t n);
uint8_t fx_cursor_u8(struct fx_cursor *c);
uint16_t fx_cursor_le16(struct fx_cursor *c);
uint32_t fx_cursor_le32(struct fx_cursor *c);

#endif
