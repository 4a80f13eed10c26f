/* fxgadget.h - private to src/fxgadget/: emulated STM32G474 boards
 * (libfxemu, include/fx/emu.h) served as real USB devices through the
 * Linux gadget stack: one configfs gadget with one FunctionFS function per
 * board, bound to its own UDC (dummy_hcd in the kernel test VM, see
 * ../shared/spec/kernel-tier.md), so the host side of the same kernel
 * enumerates it like a board plugged into a port.
 *
 * gadget.c is the only file that knows configfs and FunctionFS; board.c
 * is the only one that talks to libfxemu and reads the gpio-sim lines.
 * Everything runs on one thread (main.c's poll loop).
 */
#ifndef FX_FXGADGET_FXGADGET_H
#define FX_FXGADGET_FXGADGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/err.h"

#define FXG_MAX_BOARDS 8
#define FXG_MAX_STRINGS 8
#define FXG_STR_MAX 127

/* What one enumeration shows, in neutral form (board.c builds it from the
 * emulator's descriptors; gadget.c turns it into configfs attributes and
 * FunctionFS descriptors). */
struct fxg_usbdev {
	uint16_t bcd_usb, vid, pid, bcd_device;
	uint8_t dev_class, dev_subclass, dev_protocol, mps0;
	char manufacturer[FXG_STR_MAX + 1];
	char product[FXG_STR_MAX + 1];
	char serial[FXG_STR_MAX + 1];
	uint8_t cfg_attributes;  /* bmAttributes */
	uint8_t cfg_max_power;   /* bMaxPower, 2 mA units */
	/* the configuration's descriptors after its 9-byte header, with each
	 * iInterface already an index (1-based) into strings[] */
	uint8_t intf[512];
	size_t intf_len;
	char strings[FXG_MAX_STRINGS][FXG_STR_MAX + 1];
	unsigned nstrings;
};

/* One control request from the host (a FUNCTIONFS_SETUP event). */
struct fxg_setup {
	uint8_t bmRequestType, bRequest;
	uint16_t wValue, wIndex, wLength;
};

enum fxg_event_kind {
	FXG_EV_NONE = 0,  /* nothing (yet) */
	FXG_EV_SETUP,     /* a request to answer: see setup */
	FXG_EV_OTHER,     /* bind, enable, disable, suspend ...: logged */
};

/* One gadget: configfs directory, FunctionFS mount, UDC. */
struct fxg_gadget {
	char name[32];     /* "fxg1": configfs gadget and ffs instance name */
	char cfs[160];     /* /sys/kernel/config/usb_gadget/NAME */
	char mnt[160];     /* FunctionFS mount point */
	char udc[64];      /* UDC it binds to */
	int ep0;           /* FunctionFS ep0, -1 when closed */
	bool made, mounted, bound;
};

/* Pick the index-th UDC (0-based, names sorted) of /sys/class/udc.
 * FX_E_NOTFOUND "only N UDCs in /sys/class/udc (index I wanted)". */
int fxg_udc_pick(unsigned index, char *udc, size_t cap, struct fx_err *err);
/* The host-side port path ("B-1") of the device that the dummy_hcd UDC
 * name ("dummy_udc.K") connects: dummy_hcd.K's root hub bus B, port 1.
 * FX_E_NOTFOUND when udc is not a dummy_udc or its bus is not found. */
int fxg_udc_host_port(const char *udc, char *port, size_t cap,
		      struct fx_err *err);

/* Create gadget NAME (configfs, function ffs.NAME in config c.1) and
 * mount its FunctionFS at run_dir/NAME. A leftover gadget of the same
 * name is removed first. FX_E_IO with the path and errno. */
int fxg_gadget_create(struct fxg_gadget *g, const char *name,
		      const char *udc, const char *run_dir, struct fx_err *err);
/* Show d: write the identity to configfs, open ep0, write the FunctionFS
 * descriptors and strings, bind the UDC (the host sees a connect and
 * enumerates). The gadget must be unplugged. */
int fxg_gadget_plug(struct fxg_gadget *g, const struct fxg_usbdev *d,
		    struct fx_err *err);
/* Unbind the UDC (the host sees a disconnect) and close ep0. Safe when
 * not plugged. */
int fxg_gadget_unplug(struct fxg_gadget *g, struct fx_err *err);
/* Unplug, unmount and remove the configfs directories. NULL-safe. */
void fxg_gadget_destroy(struct fxg_gadget *g);

/* Read the next ep0 event (ep0 is non-blocking: FXG_EV_NONE when there is
 * none). *what names FXG_EV_OTHER events for the log. */
int fxg_gadget_event(struct fxg_gadget *g, enum fxg_event_kind *kind,
		     struct fxg_setup *s, const char **what, struct fx_err *err);
/* The OUT data stage of the pending request: wLength bytes (blocks until
 * the host sent them; the status stage follows at once). */
int fxg_gadget_read_data(struct fxg_gadget *g, uint8_t *buf, size_t len,
			 struct fx_err *err);
/* Complete the pending request: IN with len bytes, OUT without data
 * stage: acknowledge (len 0). stall: STALL it instead. */
int fxg_gadget_reply(struct fxg_gadget *g, const struct fxg_setup *s,
		     const uint8_t *buf, size_t len, bool stall,
		     struct fx_err *err);

/* ---- boards (board.c) ---- */

struct fx_emu;

enum fxg_pin { FXG_PIN_BOOT0 = 0, FXG_PIN_NRST, FXG_PIN_POWER, FXG_PIN_N };

/* One board: the emulator, its gadget, the gpio-sim lines it follows and
 * the control request in progress. */
struct fxg_board {
	struct fx_emu *emu;
	const struct fx_clock *clock;
	double scale;            /* real time per model time (GETSTATUS poll) */
	char path[512];          /* board file, saved at exit */
	unsigned index;          /* 1-based */
	struct fxg_gadget g;
	char port[32];           /* host-side port path, "" if unknown */
	int pin_fd[FXG_PIN_N];   /* gpio-sim sim_gpioK/value, -1 = not wired */
	int nrst_pull_fd;        /* sim_gpioK/pull of NRST: the board's pull-up */
	int level[FXG_PIN_N];    /* last level applied to the emulator */
	bool wired;              /* --pins given */
	uint32_t plugged_enum;   /* fx_emu_enum_count() of what is plugged */
	unsigned plugs;          /* enumerations so far */
	int verbose;
	/* the request being answered */
	bool pending;            /* reply due at done_at */
	bool abandon;            /* never answered: give up at done_at */
	bool leaving;            /* the emulator said NODEV: ep0 is not read
				  * again until the unplug (board.c) */
	struct fxg_setup s;
	uint8_t buf[4096 + 16];
	size_t actual;
	int rc;
	uint64_t done_at;        /* model time */
	uint64_t hold_until;     /* model time: no new request before */
};

/* Load (or create) the board file with the knobs query (may be NULL),
 * make its gadget on the index-th UDC. pins: NULL (BOOT0 per knobs, NRST
 * released, powered: a board on a bench supply) or three gpio-sim line
 * directories "BOOT0_DIR,NRST_DIR,POWER_DIR" (sim_gpioK of each line; its
 * value is what the station drives, polled). FX_E_CONFIG for bad knobs
 * or pins, FX_E_FILE for a bad board file, FX_E_IO/NOTFOUND for the
 * gadget. */
int fxg_board_open(struct fxg_board *b, unsigned index, const char *path,
		   const char *knobs, const char *pins, const struct fx_clock *clk,
		   double scale, const char *run_dir, int verbose,
		   struct fx_err *err);
/* Follow the pins (no-op unless wired). */
void fxg_board_poll_pins(struct fxg_board *b);
/* Deliver a reply that is due, plug/unplug what the board shows. Returns
 * the model time of the board's next deadline (UINT64_MAX: none). */
uint64_t fxg_board_service(struct fxg_board *b);
/* Can ep0 be read now (open, no reply pending, not held)? */
bool fxg_board_listening(const struct fxg_board *b);
/* Read and handle ep0 events until none is left or a reply is pending. */
void fxg_board_on_ep0(struct fxg_board *b);
/* Unplug, remove the gadget, save the board file, free. Returns 0 or the
 * save error. */
int fxg_board_close(struct fxg_board *b, struct fx_err *err);

#endif
