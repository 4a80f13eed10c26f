/* host_fix.h - fixture for tests of the real host stack (usb_emu -> dfu ->
 * prog) against an emulated STM32G474 in virtual time: bring a board up
 * with spec-8 knobs, attach the in-process transport, open the DFU engine.
 * Failures end the running cmocka test with the error text.
 * Ownership: everything in struct fxt_host is freed by fxt_host_down(). */
#ifndef FX_TESTS_HOST_FIX_H
#define FX_TESTS_HOST_FIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/dfu.h"
#include "fx/emu.h"
#include "fx/usb.h"

struct fxt_host {
	struct fx_vclock vc;
	struct fx_emu *board;
	struct fx_usb *usb;
	struct fx_dfu *d;      /* NULL after fxt_host_attach() */
	uint32_t base_req;     /* requests the board had seen when d opened */
};

/* Default knobs, then the knob string (NULL or "" = none); *boot0 gets
 * the BOOT0 level the string asks for ("boot0=0"), true otherwise. */
void fxt_host_knobs(struct fx_emu_knobs *k, bool *boot0, const char *knobs);
/* A new board on a new virtual clock with knobs k (NULL = as created),
 * BOOT0 at boot0, NRST released, powered, and h->usb attached to it
 * (waiting up to 5 s of model time for the ROM). No DFU engine yet. */
void fxt_host_attach(struct fxt_host *h, const struct fx_emu_knobs *k, bool boot0);
/* fxt_host_attach() + fx_dfu_open() into h->d + h->base_req. */
void fxt_host_open(struct fxt_host *h, const struct fx_emu_knobs *k, bool boot0);
/* fxt_host_knobs() + fxt_host_open() with the BOOT0 the string asks for. */
void fxt_host_up(struct fxt_host *h, const char *knobs);
void fxt_host_down(struct fxt_host *h);

/* Let the board's scheduled events run for ms of model time; returns
 * what is on the bus then. */
enum fx_emu_bus fxt_host_settle(struct fxt_host *h, unsigned ms);
/* Assert the board's flash at addr holds data[0..len) (backdoor read). */
void fxt_host_assert_flash(struct fxt_host *h, uint32_t addr, const uint8_t *data,
			   size_t len);

/* Deterministic pseudo-random bytes from seed (an LCG). */
void fxt_fill(uint8_t *p, size_t n, uint32_t seed);

#endif
