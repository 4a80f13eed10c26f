/* image.h - firmware images: raw .bin (+ address), Intel HEX, Motorola
 * S-record, ELF (PT_LOAD by physical address, libelf), DfuSe .dfu (suffix
 * CRC checked). All become one address-sorted list of non-overlapping
 * segments. Errors carry "FILE:LINE: ..." for the text formats. An Intel
 * HEX file must end with its EOF record (a missing one means a truncated
 * file); an S-record file without S7/S8/S9 is accepted with a warning
 * (srec_info does the same). */
#ifndef FX_FX_IMAGE_H
#define FX_FX_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/err.h"

enum fx_image_format {
	FX_IMAGE_AUTO = 0, /* by extension, then by content */
	FX_IMAGE_BIN,
	FX_IMAGE_IHEX,
	FX_IMAGE_SREC,
	FX_IMAGE_ELF,
	FX_IMAGE_DFUSE,
};

struct fx_image_seg {
	uint32_t addr;
	uint32_t len;
	uint8_t alt;    /* DfuSe target alt setting; 0 for other formats */
	uint8_t *data;  /* owned by the image */
};

struct fx_image {
	enum fx_image_format format;
	size_t nsegs;
	struct fx_image_seg *segs; /* sorted by addr, never overlapping;
				    * adjacent runs are merged */
	uint32_t entry;            /* ELF e_entry / S-record S7 / HEX 05, 0 if none */
	/* "" or what the loader accepted with a warning, naming the file
	 * (also logged at FX_LOG_WARN): an S-record file without a
	 * termination record, as `srec_cat ... -o out.srec` writes */
	char warning[256];
};

/* Load path. A raw binary needs have_addr (its load address); for other
 * formats have_addr is an error (FX_E_INVAL). Returns NULL with err on
 * failure: FX_E_FILE (cannot read), FX_E_IMAGE (bad content: checksum,
 * overlap, syntax, CRC, truncated). */
struct fx_image *fx_image_load(const char *path, enum fx_image_format fmt,
			       bool have_addr, uint32_t addr,
			       struct fx_err *err);
void fx_image_free(struct fx_image *img);

/* Every byte of img inside [start, end) on alt 0? Otherwise FX_E_RANGE
 * naming the first byte outside and the window. */
int fx_image_check_range(const struct fx_image *img, uint32_t start,
			 uint32_t end, struct fx_err *err);
/* Copy the len bytes at addr (alt 0) into buf when one segment holds all
 * of them: 0, else FX_E_RANGE (buf untouched). */
int fx_image_read(const struct fx_image *img, uint32_t addr, uint8_t *buf,
		  size_t len);
/* Total payload bytes. */
size_t fx_image_size(const struct fx_image *img);
const char *fx_image_format_name(enum fx_image_format fmt);
/* Name ("bin", "hex", "ihex", "srec", "elf", "dfu") -> format; -1 unknown. */
int fx_image_format_parse(const char *name);

#endif
