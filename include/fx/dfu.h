/* dfu.h - host side DFU 1.1 + ST DfuSe engine over the fx_usb seam.
 *
 * Every wait and retry is bounded: control transfers use
 * FX_DFU_CTRL_TIMEOUT_MS, bwPollTimeout is honoured (capped at
 * FX_DFU_POLL_CAP_MS), busy polling gives up after FX_DFU_BUSY_LIMIT_MS,
 * error recovery (CLRSTATUS/ABORT) is tried at most 3 times.
 * The struct fx_dfu borrows the fx_usb handle; it never closes it.
 * Errors: like every layer above it (prog, seq), each function takes a
 * struct fx_err *err (may be NULL) that it fills on failure: code,
 * dfu_state/dfu_status of the last GETSTATUS, a message naming the
 * request and the address. The handle keeps no error of its own, only
 * whether the next operation must first bring the device back to dfuIDLE.
 */
#ifndef FX_FX_DFU_H
#define FX_FX_DFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/dfu_wire.h"
#include "fx/err.h"
#include "fx/usb.h"

#define FX_DFU_CTRL_TIMEOUT_MS 5000u /* dfu-util DFU_TIMEOUT (spec 1.1) */
#define FX_DFU_POLL_CAP_MS 30000u /* > the slowest honest operation (slow-erase knob), < the busy limit */
#define FX_DFU_BUSY_LIMIT_MS 60000u
#define FX_DFU_MAX_ALTS 8
#define FX_DFU_MAX_SEGS 8

/* Parsed GETSTATUS reply (spec 1.2). */
struct fx_dfu_status {
	uint8_t bStatus;
	uint32_t bwPollTimeout; /* ms */
	uint8_t bState;
	uint8_t iString;
};

/* One run of equal pages in a DfuSe memory layout (spec 1.9). */
struct fx_dfuse_seg {
	uint32_t start;     /* first address */
	uint32_t end;       /* last address + 1 */
	uint32_t page_size; /* bytes */
	uint8_t type;       /* DFUSE_READABLE | DFUSE_ERASABLE | DFUSE_WRITEABLE */
};
#define DFUSE_READABLE 1
#define DFUSE_ERASABLE 2
#define DFUSE_WRITEABLE 4

struct fx_dfuse_layout {
	char name[64];      /* trimmed ("Internal Flash") */
	size_t nsegs;
	struct fx_dfuse_seg segs[FX_DFU_MAX_SEGS];
};

/* Parse an alternate-setting string "@name/0xSTART/N*SIZEmT[,..][/0x../..]".
 * Returns 0 or FX_E_PROTO with the offending text in err. Pure function. */
int fx_dfuse_layout_parse(const char *s, struct fx_dfuse_layout *out,
			  struct fx_err *err);
/* The segment holding addr, or NULL. */
const struct fx_dfuse_seg *fx_dfuse_layout_find(const struct fx_dfuse_layout *l,
					       uint32_t addr);

/* What fx_dfu_open() learns about the device. */
struct fx_dfu_info {
	uint16_t vid, pid, bcd_device;
	uint16_t bcd_dfu;        /* 0x011A for DfuSe */
	uint8_t attributes;      /* functional descriptor bmAttributes */
	uint16_t detach_timeout; /* ms */
	uint16_t transfer_size;  /* wTransferSize */
	char serial[64];
	char product[64];
	size_t nalts;
	char alt_name[FX_DFU_MAX_ALTS][128];
	struct fx_dfuse_layout layout[FX_DFU_MAX_ALTS]; /* per alt; nsegs 0 if unparsable */
};

struct fx_dfu;

/* Read descriptors and strings of the bound device, parse the functional
 * descriptor (from the config blob) and alt layouts, select alt 0 and bring
 * the device to dfuIDLE (bounded recovery). Returns NULL on failure with
 * err filled (FX_E_NOTSUP when the device is not DFU). */
struct fx_dfu *fx_dfu_open(struct fx_usb *usb, struct fx_err *err);
void fx_dfu_free(struct fx_dfu *d);
const struct fx_dfu_info *fx_dfu_get_info(const struct fx_dfu *d);
/* The handle's transport (borrowed). */
struct fx_usb *fx_dfu_usb(struct fx_dfu *d);
/* After fx_usb_reopen(): re-read everything like fx_dfu_open() does. */
int fx_dfu_rebind(struct fx_dfu *d, struct fx_err *err);

/* Progress callback for long transfers: done/total bytes. */
typedef void (*fx_dfu_progress_fn)(void *user, const char *what, size_t done,
				   size_t total);
void fx_dfu_set_progress(struct fx_dfu *d, fx_dfu_progress_fn fn, void *user);

/* Raw DFU 1.1 requests. */
int fx_dfu_get_status(struct fx_dfu *d, struct fx_dfu_status *st, struct fx_err *err);
int fx_dfu_clear_status(struct fx_dfu *d, struct fx_err *err);
int fx_dfu_abort(struct fx_dfu *d, struct fx_err *err);
int fx_dfu_get_state(struct fx_dfu *d, uint8_t *state, struct fx_err *err);
/* Bring the device to dfuIDLE/OK: CLRSTATUS in dfuERROR, ABORT in
 * DNLOAD-IDLE/UPLOAD-IDLE; at most 3 rounds. */
int fx_dfu_recover(struct fx_dfu *d, struct fx_err *err);
int fx_dfu_set_alt(struct fx_dfu *d, uint8_t alt, struct fx_err *err);
/* Index of the alt whose layout contains addr, or FX_E_RANGE. */
int fx_dfu_alt_for(const struct fx_dfu *d, uint32_t addr);

/* DfuSe (spec 1.4-1.7). Each command: DNLOAD, GETSTATUS must be DNBUSY
 * (or, tolerated, DNLOAD-IDLE), sleep bwPollTimeout, poll until not busy,
 * require DNLOAD-IDLE/OK. Device errors -> FX_E_DFU (errVENDOR ->
 * FX_E_PROTECTED, errTARGET/errADDRESS -> FX_E_RANGE). */
int fx_dfuse_get_commands(struct fx_dfu *d, uint8_t *cmds, size_t cap,
			  size_t *n, struct fx_err *err);
int fx_dfuse_set_address(struct fx_dfu *d, uint32_t addr, struct fx_err *err);
int fx_dfuse_erase_page(struct fx_dfu *d, uint32_t addr, struct fx_err *err);
int fx_dfuse_mass_erase(struct fx_dfu *d, struct fx_err *err);
/* Read Unprotect (0x92): sends the command; the device then mass-erases
 * and resets. Returns 0 once the command is accepted (the disconnect is
 * expected); the caller reopens. */
int fx_dfuse_read_unprotect(struct fx_dfu *d, struct fx_err *err);
/* Read len bytes at addr on the current alt (SET_ADDRESS, ABORT, UPLOAD
 * blocks of transfer_size, ABORT). */
int fx_dfuse_read(struct fx_dfu *d, uint32_t addr, uint8_t *buf, size_t len, struct fx_err *err);
/* Write len bytes at addr on the current alt in transfer_size chunks
 * (SET_ADDRESS + DNLOAD wBlockNum 2 per chunk, spec 1.5 safe practice),
 * each padded to 8 bytes with 0xFF. With skip_ff, chunks that are all 0xFF
 * are not sent (the flash is erased). */
int fx_dfuse_write(struct fx_dfu *d, uint32_t addr, const uint8_t *buf,
		   size_t len, bool skip_ff, struct fx_err *err);
/* fx_dfuse_write() is this with sent = NULL. With skip_ff, the leading
 * and trailing all-0xFF double words of each chunk are not sent either
 * (a shorter chunk gets its own SET_ADDRESS). OUT: *sent (may be NULL) =
 * payload bytes sent, padding included. */
int fx_dfuse_write_ex(struct fx_dfu *d, uint32_t addr, const uint8_t *buf,
		      size_t len, bool skip_ff, size_t *sent, struct fx_err *err);
/* Option-byte style write that resets the chip (spec 2.6): SET_ADDRESS,
 * DNLOAD, one GETSTATUS answered DNBUSY (or not answered). The disconnect
 * that follows is the expected result: returns 0 when the device accepted
 * the data and went away or is going away; FX_E_DFU if it reported an
 * error instead of resetting. The caller reopens. */
int fx_dfuse_write_expect_reset(struct fx_dfu *d, uint32_t addr,
				const uint8_t *buf, size_t len, struct fx_err *err);
/* Leave DFU (spec 1.7): SET_ADDRESS(addr), zero-length DNLOAD, one
 * GETSTATUS (MANIFEST expected; errors and disconnects tolerated). */
int fx_dfuse_leave(struct fx_dfu *d, uint32_t addr, struct fx_err *err);

/* Addressing of multi-block writes. Default (off): one SET_ADDRESS per
 * contiguous run of full wTransferSize blocks with wBlockNum 2, 3, ...
 * (Betaflight, spec 4.3; the address formula of spec 1.5 agrees for
 * constant full-size blocks), a fresh SET_ADDRESS for any shorter block.
 * On: SET_ADDRESS before every block, always wBlockNum 2 (dfu-util, the
 * spec 1.5 "safe host practice"). */
void fx_dfu_set_safe_addressing(struct fx_dfu *d, bool on);
/* Worst-case device times that the host may trust instead of a coarser
 * bwPollTimeout (a target quirk: the STM32G4 ROM reports whole
 * milliseconds rounded up, its datasheet guarantees less). The first
 * dfuDNBUSY of an operation is waited for this time instead of
 * bwPollTimeout when bwPollTimeout is its rounding up (longer by less
 * than 1 ms); a report longer than that is waited as reported (a slower
 * device). A device still busy after the shorter wait answers the next
 * GETSTATUS late, STALLs it or answers dfuDNBUSY again, and those are
 * handled as always (every later wait is the reported bwPollTimeout).
 * 0 = unknown: the reported value.
 * Copied; kept across fx_dfu_rebind(). NULL resets to all unknown. */
struct fx_dfu_busy_times {
	uint32_t write_ns_per_dw; /* programming, per 8 bytes of a DNLOAD */
	uint32_t mass_erase_us;   /* DfuSe mass erase */
};
void fx_dfu_set_busy_times(struct fx_dfu *d, const struct fx_dfu_busy_times *t);
/* Name of a DFU state / status for messages ("dfuDNBUSY", "errTARGET"). */
const char *fx_dfu_state_name(int state);
const char *fx_dfu_status_name(int status);

#endif
