/* image_priv.h - shared by the format readers in src/image/ (module-private).
 *
 * A reader parses the whole file (already in memory) and calls img_add()
 * once per data record, in file order. img_finish() then sorts the records,
 * reports the first overlap (in file order) naming both address ranges, and
 * merges adjacent runs into the segments of struct fx_image. */
#ifndef FX_IMAGE_IMAGE_PRIV_H
#define FX_IMAGE_IMAGE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/err.h"
#include "fx/image.h"

/* Largest payload an image may carry (the biggest G4 has 512 KiB; this is
 * a sanity bound, not a device limit). */
#define IMG_MAX_PAYLOAD (16u * 1024u * 1024u)
/* Largest input file read (a 16 MiB payload as Intel HEX is ~45 MiB). */
#define IMG_MAX_FILE (64u * 1024u * 1024u)

struct img_rec {
	uint32_t addr;
	uint32_t len;
	uint32_t off;  /* into img_build.buf; also the file order */
	uint32_t line; /* text formats: line; others: record number */
	uint8_t alt;
};

struct img_build {
	const char *path;
	bool text;           /* messages are "PATH:LINE: ..." */
	const char *what;    /* binary formats: what a record is ("program header") */
	/* binary formats, optional: name record number `line` into buf
	 * (DfuSe: "target T element E"); NULL gives "WHAT LINE" */
	void (*rec_name)(uint32_t line, char *buf, size_t n);
	uint8_t *buf;        /* every record's payload, in file order */
	size_t len, cap;
	struct img_rec *recs;
	size_t nrecs, cap_recs;
	uint32_t entry;
	char warning[256];   /* copied to fx_image.warning */
	struct fx_err *err;
};

/* FX_E_IMAGE with "PATH:LINE: " (text formats, line > 0) or "PATH: ".
 * Returns FX_E_IMAGE. */
int img_fail(struct img_build *b, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append one record. Checks address wraparound and the payload bound.
 * 0, FX_E_IMAGE or FX_E_NOMEM. len 0 is accepted and ignored. */
int img_add(struct img_build *b, uint32_t line, uint8_t alt, uint32_t addr,
	    const uint8_t *data, size_t len);

/* The readers: data/len is the whole file (borrowed). 0 or FX_E_*. */
int img_read_bin(struct img_build *b, const uint8_t *data, size_t len, uint32_t addr);
int img_read_ihex(struct img_build *b, const uint8_t *data, size_t len);
int img_read_srec(struct img_build *b, const uint8_t *data, size_t len);
int img_read_elf(struct img_build *b, const uint8_t *data, size_t len);
int img_read_dfuse(struct img_build *b, const uint8_t *data, size_t len);
/* "target T element E" for a DfuSe record number */
void img_dfuse_rec_name(uint32_t line, char *buf, size_t n);

/* Text-format helpers (image_hex.c). Split data into lines: returns the
 * next line (without "\r\n"/"\n") and its length, advancing *pos and
 * *lineno; NULL at the end. */
const char *img_next_line(const uint8_t *data, size_t len, size_t *pos,
			  uint32_t *lineno, size_t *llen);
/* Decode the n hex digits at s into out (n/2 bytes); col0 is the 1-based
 * column of s[0] for the message. 0 or FX_E_IMAGE (bad digit, odd count). */
int img_hex_decode(struct img_build *b, uint32_t line, const char *s, size_t n,
		   size_t col0, uint8_t *out);

#endif
