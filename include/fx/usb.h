/* usb.h - the USB transport seam (STYLE 2: const ops table + instance with
 * the base struct first, callers use only the fx_usb_* wrappers).
 *
 * Backends are chosen at run time by the device URI:
 *   emu:PATH[?KNOBS]   an emulated board kept in the file PATH (usb_emu.c)
 *   usb:               the only DFU device on the system (usb_libusb.c)
 *   usb:1-1.4          the device on that port path (the slot identity)
 *   usb:serial=XXXX    the device with that serial string
 *
 * A handle follows one *slot*: after a reset the device leaves the bus and
 * a new device appears on the same port; fx_usb_reopen() waits for it and
 * rebinds the handle. Expected disconnects surface as FX_E_NODEV, never as
 * generic I/O errors (STYLE 3).
 */
#ifndef FX_FX_USB_H
#define FX_FX_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/dfu_wire.h"
#include "fx/err.h"

struct fx_usb;

/* What is bound to the handle now. */
struct fx_usb_info {
	uint16_t vid, pid, bcd_device;
	uint8_t busnum, devnum;
	char port_path[32];  /* "1-1.4"; "emu" for in-process boards */
	char serial[64];     /* iSerialNumber, "" if none */
	char product[64];    /* iProduct, "" if none */
	bool is_dfu;         /* interface 0 is class FE/01 (DFU) */
};

/* Options for fx_usb_open(). */
struct fx_usb_open_opts {
	unsigned wait_ms;        /* wait this long for a device to appear (0 = must be there now) */
	uint16_t vid, pid;       /* extra VID:PID to accept besides 0483:df11 (0 = none) */
	bool any_device;         /* bind whatever is on the slot, DFU or not */
	bool unbound;            /* bind nothing now: the handle follows the
				  * slot (usb:PORTPATH or an emu board) and
				  * fx_usb_port_wait() binds; wait_ms and
				  * any_device are not used */
};

/* What fx_usb_port_wait() waits for. */
enum fx_usb_port_want {
	/* release the bound device (if any); done when nothing is listed on
	 * the slot's port. Every device listed on the port meanwhile is
	 * remembered as "old" (a hub may still list one that is leaving) */
	FX_USB_PORT_EMPTY,
	/* done when a device that is not "old" is on the port: it is bound,
	 * DFU or not (info.is_dfu); o->vid/pid are not checked */
	FX_USB_PORT_NEW,
};

/* What fx_usb_port_wait() saw (filled in every case). */
struct fx_usb_port_seen {
	unsigned old;        /* distinct devices remembered as old so far */
	uint64_t waited_us;  /* clock time the call took */
	char what[96];       /* EMPTY timed out: "VID:PID" of what is still
			      * there; "" otherwise */
};

/* One control transfer of a batch (fx_usb_control_batch). */
struct fx_usb_xfer {
	struct fx_usb_setup setup;
	uint8_t *data;  /* setup.wLength bytes (borrowed) */
	size_t actual;  /* OUT: bytes moved */
};
#define FX_USB_BATCH_MAX 32

struct fx_usb_ops {
	const char *scheme; /* "emu", "usb" */
	/* Open the device named by spec (the URI after "scheme:"). Blocks up
	 * to opts->wait_ms. Returns 0 and *out (free with ops->close), or
	 * FX_E_NOTFOUND / FX_E_AMBIGUOUS / FX_E_IO / FX_E_CONFIG. */
	int (*open)(const char *spec, const struct fx_clock *clk,
		    const struct fx_usb_open_opts *opts, struct fx_usb **out,
		    struct fx_err *err);
	/* One control transfer. data holds setup->wLength bytes. Blocks until
	 * the transfer completes or timeout_ms passes. Returns 0 with
	 * *actual, or FX_E_STALL, FX_E_TIMEOUT, FX_E_NODEV, FX_E_IO. */
	int (*control)(struct fx_usb *u, const struct fx_usb_setup *setup,
		       uint8_t *data, size_t *actual, unsigned timeout_ms,
		       struct fx_err *err);
	/* n (1 .. FX_USB_BATCH_MAX) control transfers queued on endpoint 0
	 * at once, in order: the host controller runs them back to back, as
	 * a kernel queues URBs, without a host round trip between them (the
	 * device still answers one after the other). Blocks until every one
	 * ended (each bounded by timeout_ms). Returns 0 with every
	 * x[i].actual, or the error of the first that failed (the codes of
	 * control), *ok = how many completed before it; later ones may have
	 * run too. NULL: fx_usb_control_batch() sends them one by one. */
	int (*control_batch)(struct fx_usb *u, struct fx_usb_xfer *x, size_t n,
			     unsigned timeout_ms, size_t *ok, struct fx_err *err);
	/* SET_INTERFACE on interface intf (claimed at open). */
	int (*set_alt)(struct fx_usb *u, uint8_t intf, uint8_t alt,
		       struct fx_err *err);
	/* Copy the whole configuration descriptor blob of the bound device. */
	int (*config_desc)(struct fx_usb *u, uint8_t *buf, size_t cap,
			   size_t *len, struct fx_err *err);
	/* String descriptor index as ASCII (non-ASCII -> '?'). */
	/* Called with index > 0 and cap > 0 only: fx_usb_string() answers
	 * the rest. Backends decode with fx_usb_string_decode(). */
	int (*string)(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
		      struct fx_err *err);
	/* Wait up to timeout_ms for the *next* device on this slot (a device
	 * other than the one bound now, which may still be leaving), bind it
	 * and refresh info. *waited_us (may be NULL) gets the time waited.
	 * Binds DFU or not (check info.is_dfu). FX_E_TIMEOUT if none came. */
	int (*reopen)(struct fx_usb *u, unsigned timeout_ms, uint64_t *waited_us,
		      struct fx_err *err);
	/* The next request makes the device reset (DfuSe leave, option-byte
	 * write, Read Unprotect: spec 1.7, 2.6, 3.6), or, expected = false,
	 * it will not after all (the device reported dfuERROR instead). While
	 * a reset is expected, the backend reports every way a transfer can
	 * meet the leaving device (a STALL or an I/O error included) as
	 * FX_E_NODEV "(expected reset)". Cleared when a device is bound.
	 * Never blocks, never fails; NULL = nothing to adjust. */
	void (*expect_reset)(struct fx_usb *u, bool expected);
	/* Wait up to timeout_ms for the slot's port to reach want (enum
	 * fx_usb_port_want), driven by the backend's plug events (libusb
	 * hotplug, the emulator's event time), never by opening devices to
	 * look. The old-device memory lasts from an EMPTY wait to the next
	 * NEW wait that binds. Returns 0; FX_E_TIMEOUT (err says what is
	 * still there, or that nothing came); FX_E_CONFIG when the handle
	 * does not follow a port (usb: or usb:serial=S); a NEW wait can also
	 * give bind()'s errors after its deadline (FX_E_IO, FX_E_BUSY). */
	int (*port_wait)(struct fx_usb *u, enum fx_usb_port_want want,
			 unsigned timeout_ms, struct fx_usb_port_seen *seen,
			 struct fx_err *err);
	/* Release the interface and free the handle. Never fails. */
	void (*close)(struct fx_usb *u);
};

/* Base of every backend instance: backends embed it first. */
struct fx_usb {
	const struct fx_usb_ops *ops;
	const struct fx_clock *clock;
	struct fx_usb_info info;
};

/* Pick the backend by URI scheme and open. Unknown scheme: FX_E_CONFIG. */
int fx_usb_open(const char *uri, const struct fx_clock *clk,
		const struct fx_usb_open_opts *opts, struct fx_usb **out,
		struct fx_err *err);
void fx_usb_close(struct fx_usb *u); /* NULL is fine */

int fx_usb_control(struct fx_usb *u, const struct fx_usb_setup *setup,
		   uint8_t *data, size_t *actual, unsigned timeout_ms,
		   struct fx_err *err);
/* ops->control_batch (one by one without it, stopping at the first
 * failure); n > FX_USB_BATCH_MAX is FX_E_INVAL; ok may be NULL. */
int fx_usb_control_batch(struct fx_usb *u, struct fx_usb_xfer *x, size_t n,
			 unsigned timeout_ms, size_t *ok, struct fx_err *err);
int fx_usb_set_alt(struct fx_usb *u, uint8_t intf, uint8_t alt,
		   struct fx_err *err);
int fx_usb_config_desc(struct fx_usb *u, uint8_t *buf, size_t cap, size_t *len,
		       struct fx_err *err);
int fx_usb_string(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
		  struct fx_err *err);
/* fx_usb_string(): cap 0 is FX_E_INVAL; index 0 (no string) gives "". */

/* Decode the n bytes of a raw string descriptor into buf (cap > 0, always
 * terminated): each UTF-16LE unit outside printable ASCII becomes '?',
 * what does not fit is cut. False (buf untouched) when raw is no string
 * descriptor: shorter than 2 bytes, another type, or bLength beyond n. */
bool fx_usb_string_decode(const uint8_t *raw, size_t n, char *buf, size_t cap);
/* fx_usb_reopen(): *waited_us (may be NULL) is set before the new device
 * is bound: the time until a device appeared, or the whole wait when none
 * did; a bind that then fails (a request unanswered, the device gone
 * again) leaves it below timeout_ms, so callers can tell "nothing came"
 * from "something came and failed". */
int fx_usb_reopen(struct fx_usb *u, unsigned timeout_ms, uint64_t *waited_us,
		  struct fx_err *err);
const struct fx_usb_info *fx_usb_get_info(const struct fx_usb *u);
/* ops->expect_reset (nothing when the backend has none). */
void fx_usb_expect_reset(struct fx_usb *u, bool expected);
/* ops->port_wait; seen may be NULL. FX_E_NOTSUP without the op. */
int fx_usb_port_wait(struct fx_usb *u, enum fx_usb_port_want want,
		     unsigned timeout_ms, struct fx_usb_port_seen *seen,
		     struct fx_err *err);

/* Registered backends (usb.c holds the static table). */
extern const struct fx_usb_ops fx_usb_emu_ops;
extern const struct fx_usb_ops fx_usb_libusb_ops;

#endif
