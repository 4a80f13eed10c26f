/* emu_fix.h - test fixture for libfxemu unit tests: a board on a virtual
 * clock, and raw DFU/DfuSe request helpers that wait (in virtual time)
 * for each transfer's done_at like a real host. */
#ifndef FX_TESTS_EMU_FIX_H
#define FX_TESTS_EMU_FIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/emu.h"

struct fxt_emu {
	struct fx_vclock vc;
	struct fx_emu *e;
	uint8_t st[6];       /* last GETSTATUS reply */
};

/* New factory board with knobs k (NULL = defaults), powered with BOOT0
 * high; the clock runs until the ROM enumerates. */
void fxt_emu_init(struct fxt_emu *f, const struct fx_emu_knobs *k);
void fxt_emu_release(struct fxt_emu *f);
/* Advance virtual time until something is on the bus (or limit_us). */
enum fx_emu_bus fxt_emu_wait_bus(struct fxt_emu *f, uint64_t limit_us);
void fxt_emu_sleep(struct fxt_emu *f, uint64_t us);

/* One control request; sleeps until done_at (unless never answered).
 * Returns fx_emu_control's code. */
int fxt_ctl(struct fxt_emu *f, uint8_t bmrt, uint8_t breq, uint16_t wvalue,
	    uint16_t windex, uint8_t *data, uint16_t wlength, size_t *actual);
int fxt_getstatus(struct fxt_emu *f);      /* fills f->st */
int fxt_getstate(struct fxt_emu *f, uint8_t *state);
int fxt_dnload(struct fxt_emu *f, uint16_t block, const uint8_t *data,
	       uint16_t len);
int fxt_upload(struct fxt_emu *f, uint16_t block, uint8_t *buf, uint16_t len,
	       size_t *actual);
int fxt_clrstatus(struct fxt_emu *f);
int fxt_abort(struct fxt_emu *f);
/* DNLOAD then GETSTATUS; when DNBUSY, sleep bwPollTimeout and GETSTATUS
 * until not busy. Returns 0 when the requests went through; the final
 * status/state are in f->st. */
int fxt_run(struct fxt_emu *f, uint16_t block, const uint8_t *data,
	    uint16_t len);
int fxt_set_address(struct fxt_emu *f, uint32_t addr);
int fxt_erase_page(struct fxt_emu *f, uint32_t addr);
int fxt_mass_erase(struct fxt_emu *f);
/* SET_ADDRESS + DNLOAD(2) per transfer-size chunk; 0 or the first failing
 * DFU status (positive). */
int fxt_write(struct fxt_emu *f, uint32_t addr, const uint8_t *data, size_t len);
/* SET_ADDRESS, ABORT, UPLOAD 2.. ; 0 or a DFU status / negative rc */
int fxt_read(struct fxt_emu *f, uint32_t addr, uint8_t *buf, size_t len);

#define FXT_STATUS(f) ((f)->st[0])
#define FXT_STATE(f) ((f)->st[4])
#define FXT_POLL(f) ((uint32_t)(f)->st[1] | ((uint32_t)(f)->st[2] << 8) | \
		     ((uint32_t)(f)->st[3] << 16))

#endif
