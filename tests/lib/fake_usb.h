/* fake_usb.h - a scripted fx_usb backend for unit tests of the DFU engine.
 *
 * Standard requests are answered from a descriptor set (configuration
 * blob, strings); DFU class requests are answered from a script, one step
 * per request, in order. Each step names the bRequest it expects; a
 * mismatch or an empty script answers FX_E_IO and counts in
 * f->unexpected. Every request is logged with the clock time at which it
 * was issued, so tests can check poll timeouts were honoured.
 * Ownership: fake_usb_new() returns a handle freed by fx_usb_close().
 */
#ifndef FX_TESTS_FAKE_USB_H
#define FX_TESTS_FAKE_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/dfu.h"
#include "fx/usb.h"

#define FAKE_MAX_STEPS 4096
#define FAKE_MAX_LOG 4096

struct fake_step {
	uint8_t bRequest;
	int rc;               /* 0 or FX_E_* returned by the transport */
	uint8_t reply[64];    /* IN data */
	size_t reply_len;
	const uint8_t *reply_ptr; /* IN data if non-NULL (borrowed) */
	uint64_t delay_us;    /* the transfer takes this long */
};

struct fake_req {
	struct fx_usb_setup setup;
	uint64_t t_us;        /* clock time when issued */
	uint8_t out[16];      /* first bytes of OUT data */
	size_t out_len;
};

struct fake_usb {
	struct fx_usb base; /* first */
	uint8_t config[512];
	size_t config_len;
	char strings[16][128];
	struct fake_step steps[FAKE_MAX_STEPS];
	size_t nsteps, next;
	struct fake_req log[FAKE_MAX_LOG];
	size_t nlog;
	int unexpected;
	int set_alt_rc;
	int reopen_rc;
	int reopens;
	uint8_t last_alt;
	/* optional: DNLOAD data sink (full payloads, in order) */
	uint8_t *sink;
	size_t sink_cap, sink_len;
};

/* A fake with the STM32G474 ROM descriptors of spec 2.2 / 1.10:
 * 3 alts, functional descriptor {9,0x21,0x0B,255,xfer,0x011A}. */
struct fake_usb *fake_usb_new(const struct fx_clock *clk, uint16_t xfer);
/* Replace the alt-0 string (string index 4). */
void fake_usb_set_string(struct fake_usb *f, uint8_t index, const char *s);

/* Script steps. */
void fake_push(struct fake_usb *f, uint8_t bRequest, int rc);
void fake_push_status(struct fake_usb *f, uint8_t state, uint8_t status,
		      uint32_t poll_ms);
void fake_push_upload(struct fake_usb *f, const uint8_t *data, size_t len);
/* The last pushed step takes delay_us. */
void fake_delay_last(struct fake_usb *f, uint64_t delay_us);
/* Common sequences: a DfuSe command that completes (DNLOAD, DNBUSY with
 * poll_ms, DNLOAD-IDLE). */
void fake_push_cmd_ok(struct fake_usb *f, uint32_t poll_ms);
/* The recovery after a device error (spec 6.2 step 2): GETSTATUS answers
 * dfuERROR with status, CLRSTATUS, GETSTATUS answers dfuIDLE. */
void fake_push_clear_error(struct fake_usb *f, uint8_t status);

/* Steps not consumed. */
size_t fake_left(const struct fake_usb *f);
/* Index in the log of the n-th request with bRequest (from 0), or -1. */
int fake_find(const struct fake_usb *f, uint8_t bRequest, int n);
/* Number of logged requests with bRequest. */
int fake_count(const struct fake_usb *f, uint8_t bRequest);

/* The usual fixture: a new virtual clock vc, a new fake *f with transfer
 * size xfer whose one scripted GETSTATUS answers dfuIDLE, and the DFU
 * engine opened on it, that step consumed (else the test fails). */
struct fx_dfu *fake_dfu_up(struct fx_vclock *vc, struct fake_usb **f, uint16_t xfer);
/* fx_dfu_open() on f with the script as it stands; the test fails with
 * the error text if it does not open. */
struct fx_dfu *fake_dfu_open(struct fake_usb *f);
/* Free d (may be NULL), f's DNLOAD sink and f. */
void fake_dfu_down(struct fx_dfu *d, struct fake_usb *f);

#endif
