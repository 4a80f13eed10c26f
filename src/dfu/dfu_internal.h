/* dfu_internal.h - the struct fx_dfu shared by dfu.c and dfuse.c
 * (module-private, STYLE 1). */
#ifndef FX_DFU_DFU_INTERNAL_H
#define FX_DFU_DFU_INTERNAL_H

#include "fx/dfu.h"

struct fx_dfu {
	struct fx_usb *usb;     /* borrowed */
	struct fx_dfu_info info;
	uint8_t intf;           /* DFU interface number */
	int alt;                /* selected alt, -1 unknown */
	bool need_recover;      /* a request failed: recover before the next op */
	bool blocknum_increment; /* see fx_dfu_set_safe_addressing() */
	uint32_t last_poll_ms;
	struct fx_dfu_busy_times busy; /* fx_dfu_set_busy_times(), 0 = unknown */
	fx_dfu_progress_fn progress;
	void *progress_user;
};


/* One DFU class request on the DFU interface; on failure err says
 * "<REQUEST>: <transport message>". */
int fx_dfu_request(struct fx_dfu *d, uint8_t req, uint16_t wValue,
		   uint8_t *data, uint16_t len, size_t *actual, struct fx_err *err);
/* n DFU class requests queued at once (fx_usb_control_batch): the
 * caller sets each x[i].setup.bRequest, .wValue, .wLength and .data; the
 * rest is filled here. Errors as fx_dfu_request() for the first that
 * failed; *ok (may be NULL) = how many completed before it. */
int fx_dfu_request_batch(struct fx_dfu *d, struct fx_usb_xfer *x, size_t n,
			 size_t *ok, struct fx_err *err);
/* The n-byte GETSTATUS reply buf into st (recorded in err and d as
 * fx_dfu_get_status_raw() does); FX_E_PROTO when short. */
int fx_dfu_status_parse(struct fx_dfu *d, const uint8_t *buf, size_t n,
			struct fx_dfu_status *st, struct fx_err *err);
/* GETSTATUS without clearing err (records state/status in it). */
int fx_dfu_get_status_raw(struct fx_dfu *d, struct fx_dfu_status *st, struct fx_err *err);
/* Map a device-reported bStatus to an FX_E_* code (dfu.h). */
int fx_dfu_status_code(uint8_t bStatus);
/* Wait bwPollTimeout (capped) on the handle's clock. */
void fx_dfu_poll_sleep(struct fx_dfu *d, uint32_t ms);

/* Public entry points accept err == NULL: point it at a local then. */
#define DFU_ERR_LOCAL(err, local)                                           \
	do {                                                                 \
		if (!(err)) {                                                \
			fx_err_clear(&(local));                              \
			(err) = &(local);                                    \
		}                                                            \
	} while (0)

#endif
