/* usb_libusb.h - extras of the libusb backend (src/usb/usb_libusb.c), the
 * production transport behind "usb:" URIs (include/fx/usb.h).
 *
 * The backend is the only file that includes <libusb.h>. Devices are found
 * by VID:PID (0483:df11 plus the VID:PID of the open options) and named by
 * their USB port path ("1-1.4": bus 1, hub port 1, port 4), the slot
 * identity of a jig; serial strings can collide (spec 2.1).
 *
 * Waiting for a device (open with wait_ms, reopen) is event-driven through
 * libusb hotplug where the platform has it, else a rescan every 25 ms.
 * The environment variable FX_USB_NO_HOTPLUG (any value) forces the
 * rescan, for diagnostics and for testing that path.
 *
 * Threads: one libusb context per process, made at the first open or
 * list and shared by every handle (one per slot thread; a handle itself
 * is used by one thread at a time); released at process exit.
 */
#ifndef FX_FX_USB_LIBUSB_H
#define FX_FX_USB_LIBUSB_H

#include <stddef.h>

#include "fx/usb.h"

/* One device found by fx_usb_libusb_list(). */
struct fx_usb_found {
	char uri[48];             /* "usb:1-1.4", opens exactly this device */
	struct fx_usb_info info;  /* serial/product "" when the device could
				   * not be opened (see open_error) */
	char open_error[96];      /* "" or why the strings could not be read */
};

/* List the DFU devices on the system (0483:df11 plus opts->vid:pid), sorted
 * by port path. Fills at most cap entries of out and sets *n to the number
 * found (which may exceed cap). Opens each device briefly to read its
 * strings. Returns 0, or FX_E_IO when libusb cannot be initialised. */
int fx_usb_libusb_list(const struct fx_usb_open_opts *opts,
		       struct fx_usb_found *out, size_t cap, size_t *n,
		       struct fx_err *err);

/* How many libusb contexts this process has made: 0 before the first
 * open or list, 1 after, whatever the number of handles, slots, port
 * waits and closes (issue 14 item 1; for tests). Thread-safe. */
unsigned fx_usb_libusb_contexts(void);

/* Parse a port path "B-P[.P...]" (bus 1..255, ports 1..255, at most 7
 * levels). Returns true when well formed. Pure function. */
bool fx_usb_port_path_valid(const char *s);

#endif
