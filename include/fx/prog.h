/* prog.h - programming operations on an STM32G4 in its ROM bootloader,
 * built on the DFU engine (fx/dfu.h) and the target data (fx/stm32g4.h).
 * Used by the CLI (info/ob/flash/read) and by the station sequence.
 *
 * Every function works on an open struct fx_dfu (borrowed) and fills err
 * on failure with a message naming the operation and the address.
 */
#ifndef FX_FX_PROG_H
#define FX_FX_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/dfu.h"
#include "fx/err.h"
#include "fx/image.h"
#include "fx/stm32g4.h"

/* Read both option-byte blocks (alt "Option Bytes") and decode them
 * (complements checked). FX_E_PROTECTED when RDP 1 refuses the read. */
int fx_prog_ob_read(struct fx_dfu *d, struct fx_g4_ob *ob, struct fx_err *err);

struct fx_prog_ob_result {
	uint64_t reenum_us;     /* option-byte write -> bootloader back */
	struct fx_g4_ob after;  /* after the reset: each written block re-read,
				 * the other as it was read before */
};

/* Write the option bytes that differ from what the chip holds
 * (read-modify-write of whole blocks), expect the option-byte reload
 * reset, wait up to timeout_ms for the bootloader to re-enumerate on the
 * same slot (fx_usb_reopen + fx_dfu_rebind), re-read the block written
 * and require every field of want. The caller holds BOOT0 high. FX_E_TIMEOUT when the
 * bootloader does not return (BOOT0 low: the app or nothing booted),
 * FX_E_VERIFY when the re-read values differ. */
int fx_prog_ob_write(struct fx_dfu *d, const struct fx_g4_ob *want,
		     unsigned timeout_ms, struct fx_prog_ob_result *res,
		     struct fx_err *err);
/* fx_prog_ob_write() when the caller already holds what the chip holds
 * (cur, read this cycle): no read before the write. */
int fx_prog_ob_write_from(struct fx_dfu *d, const struct fx_g4_ob *cur,
			  const struct fx_g4_ob *want, unsigned timeout_ms,
			  struct fx_prog_ob_result *res, struct fx_err *err);

/* --- erase, program, verify: one implementation for the CLI `flash` and
 * the station's erase/program/verify steps (issue 14 item 10) ---------- */

/* A flash job: the image checked against the device's flash layout and
 * flattened, before anything changes the board. Plain data: the caller may
 * read every field, and sets optr when it knows the option bytes (the
 * station read them once per cycle; after a DBANK change, the new value).
 * Release with fx_prog_job_release(). */
struct fx_prog_job {
	struct fx_dfu *dfu;            /* borrowed */
	const struct fx_image *img;    /* borrowed, outlives the job */
	int alt;                       /* the flash alt setting */
	bool mass_erase;               /* mass erase instead of the touched pages */
	bool have_optr;                /* optr known: page size from it, no OB read */
	uint32_t optr;
	uint32_t lo;                   /* flattened image: address, */
	uint8_t *buf;                  /* bytes (owned), */
	size_t len;                    /* length */
	size_t pages_erased, bytes_sent; /* set by erase / program */
};

/* Check every image segment lies in the writeable flash of the device's
 * current layout (FX_E_RANGE naming the first byte outside, FX_E_PROTO
 * without a flash alt) and flatten it to wTransferSize-aligned chunks.
 * Talks to nobody: nothing on the board changes. */
int fx_prog_job_init(struct fx_prog_job *j, struct fx_dfu *d,
		     const struct fx_image *img, bool mass_erase,
		     struct fx_err *err);
void fx_prog_job_release(struct fx_prog_job *j); /* NULL / zeroed is fine */

/* Erase what the image needs (mass, or every page it touches at the page
 * size of the current bank mode: the layout's, never less than OPTR's,
 * spec 8 "alt0 constant"). deadline_us: clock time after which it stops
 * between device operations with FX_E_TIMEOUT "page erase not done after
 * N ms (limit M ms)"; 0 = no deadline. Messages start "mass erase: " or
 * "page erase: ". */
int fx_prog_job_erase(struct fx_prog_job *j, uint64_t deadline_us,
		      struct fx_err *err);
/* Program the flattened image (all-0xFF chunks skipped: the flash is
 * erased), deadline as for erase. Messages start "program: ". */
int fx_prog_job_program(struct fx_prog_job *j, uint64_t deadline_us,
			struct fx_err *err);

struct fx_prog_flash_opts {
	bool mass_erase; /* mass erase instead of the touched pages */
	bool verify;     /* read back and compare every byte */
	bool leave;      /* leave DFU (jump to 0x08000000) at the end */
	/* option bytes to set first (NULL = none), one job with the flash
	 * (no second process, open and descriptor read): written from
	 * ob_have, what the chip holds (NULL = read it first), as
	 * fx_prog_ob_write_from() does; the reset waited for up to
	 * ob_timeout_ms. The caller holds BOOT0 high. ob_have without
	 * ob_want: what the chip holds, the erase page size from it (no
	 * option-byte read). Borrowed. */
	const struct fx_g4_ob *ob_want, *ob_have;
	unsigned ob_timeout_ms;
};

struct fx_prog_flash_result {
	size_t bytes_written;   /* payload bytes sent (0xFF blocks skipped not counted) */
	size_t pages_erased;    /* 0 with mass erase */
	uint64_t ob_us, erase_us, program_us, verify_us; /* clock time per phase */
	struct fx_prog_ob_result ob; /* with ob_want: the reset and the re-read */
};

/* The CLI's whole job: the option bytes (with ob_want), fx_prog_job_init
 * against the layout the bootloader shows then, erase, program, verify,
 * leave. Returns 0 only when every byte was verified (or verify was off).
 * FX_E_VERIFY names the first differing address (or option byte),
 * FX_E_RANGE an image outside flash (found before anything was erased).
 * Messages start "flash: ". */
int fx_prog_flash(struct fx_dfu *d, const struct fx_image *img,
		  const struct fx_prog_flash_opts *opts,
		  struct fx_prog_flash_result *res, struct fx_err *err);

/* The image as one 0xFF-filled run starting at the first segment's
 * address rounded down to align (a power of two >= 8): what the
 * programming writes, so segments sharing a double word are written once.
 * OUT: *lo, *buf (malloc'd, the caller frees), *len. FX_E_RANGE when the
 * image spans more than FX_PROG_FLATTEN_MAX bytes. */
#define FX_PROG_FLATTEN_MAX (16u * 1024u * 1024u)
int fx_prog_flatten(const struct fx_image *img, uint32_t align, uint32_t *lo,
		    uint8_t **buf, size_t *len, struct fx_err *err);

/* Read back and compare img (no erase, no write). */
int fx_prog_verify(struct fx_dfu *d, const struct fx_image *img,
		   struct fx_err *err);

/* Read len bytes at addr from whichever alt setting maps addr (flash,
 * option bytes, OTP, system memory). */
int fx_prog_read(struct fx_dfu *d, uint32_t addr, uint8_t *buf, size_t len,
		 struct fx_err *err);

/* Identification through the bootloader (spec 2.1, 2.4). */
struct fx_prog_ident {
	uint8_t uid[12];
	char serial[16];       /* derived from the UID */
	uint32_t flash_kib;    /* flash size register */
	uint8_t bl_id;         /* byte at 0x1FFF6FFE */
	char bl_version[8];
	bool dual_bank;
	uint32_t optr;
	struct fx_g4_ob ob;    /* both option-byte blocks as read (optr's home) */
	bool uid_valid;        /* uid was read; false under RDP 1 (uid zeroed,
				* serial from the USB string): record no UID */
};
int fx_prog_identify(struct fx_dfu *d, struct fx_prog_ident *id,
		     struct fx_err *err);

/* Is the whole flash erased (all 0xFF)? *blank = true if so. Used by the
 * station to tell blank from corrupted (the G4 has no empty check). */
int fx_prog_flash_blank(struct fx_dfu *d, bool *blank, struct fx_err *err);

/* Read Unprotect: RDP 1 -> 0 with mass erase; waits for the bootloader to
 * come back (caller holds BOOT0 high). */
int fx_prog_unprotect(struct fx_dfu *d, unsigned timeout_ms, struct fx_err *err);

#endif
