/* fxemu.h - private to src/fxemu/: the umockdev usbfs bridge that shows
 * emulated boards (libfxemu, include/fx/emu.h) to unmodified libusb
 * programs. Written from ../shared/spec/usbfs-emulation.md.
 *
 * One bed = one umockdev testbed with a root hub (bus 1, devnum 1) and one
 * board per port (1-1, 1-2, ...). A bridge thread owns the boards' model
 * time: it processes the emulator's scheduled events, completes URBs when
 * their modelled time has come and turns bus changes into a real remove +
 * add (new device number, never reused). usbfs ioctls of the clients are
 * answered on umockdev's worker thread; both threads serialise on bed->lock
 * (an fx_emu is not thread-safe).
 */
#ifndef FX_FXEMU_FXEMU_H
#define FX_FXEMU_FXEMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/emu.h"
#include "fx/err.h"

#define FXE_MAX_BOARDS 8

/* How the boards reach the host (issue 14 item 11). multi-tt: each board
 * behind its own full-speed transaction translator, transfers of
 * different boards overlap. single-tt: one 12 Mbit/s full-speed bus for
 * all: a control transfer occupies it for its bus time (spec section 8
 * transfer model: 0.5 ms + 0.06 ms per 64-byte packet) and the next one,
 * of any board, reaches its device only when the bus is free. */
enum fxe_hub {
	FXE_HUB_MULTI_TT = 0,
	FXE_HUB_SINGLE_TT,
};

struct fxe_dev;
struct fxe_bed;

struct fxe_board {
	struct fxe_bed *bed;
	struct fx_emu *emu;
	char path[512];       /* board file */
	unsigned port;        /* 1-based port on the root hub */
	struct fxe_dev *cur;  /* plugged device, NULL when off the bus */
	uint32_t plugged_enum;
	unsigned plugs;       /* how many times it enumerated */
	uint16_t cur_vid, cur_pid; /* of cur (valid while cur != NULL) */
	/* the jig's NRST and POWER levels as last set through the pin
	 * socket (ctl.c; fxe_bed_add_board leaves them high and on) */
	bool nrst_high, power_on;
};

struct fxe_bed {
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* CLOCK_MONOTONIC */
	struct fx_rclock rclock; /* model time = real time / scale */
	const struct fx_clock *clock;
	void *testbed;           /* UMockdevTestbed * */
	char root[256];          /* testbed root dir */
	struct fxe_board boards[FXE_MAX_BOARDS];
	unsigned nboards;
	struct fxe_dev *devs;    /* every device ever plugged (kept) */
	unsigned next_devnum;
	bool stop;
	bool running;
	unsigned kicks;          /* bumped by every change from another thread
				  * (URB, pin): the bridge thread re-plans */
	pthread_t thread;
	int verbose;
	enum fxe_hub hub;
	uint64_t bus_free_at;    /* single-tt: model time the bus is free */
	/* pin control channel (ctl.c) */
	char ctl_path[300];      /* ROOT/ctl, exported as FXEMU_CTL */
	int ctl_fd;              /* listening socket, -1 if none */
	int ctl_wake[2];         /* pipe: stops the control thread */
	pthread_t ctl_thread;
	bool ctl_running;
};

/* Create the testbed (needs libumockdev-preload in LD_PRELOAD of this
 * process: see main.c) with the root hub. scale: model time per real time
 * (1.0 = the spec's timings in real time). */
int fxe_bed_init(struct fxe_bed *bed, double scale, int verbose,
		 struct fx_err *err);
/* Load (or create) the board file path with the knobs query (may be NULL),
 * power it with BOOT0 high unless the knobs say boot0=0, on the next port. */
int fxe_bed_add_board(struct fxe_bed *bed, const char *path, const char *knobs,
		      uint16_t app_vid, uint16_t app_pid, struct fx_err *err);
/* Start the bridge thread and wait (bounded) until every board that is
 * going to enumerate has done so. */
int fxe_bed_start(struct fxe_bed *bed, struct fx_err *err);
/* Stop the bridge thread, save every board file. Returns 0 or the first
 * save error. */
int fxe_bed_stop_save(struct fxe_bed *bed, struct fx_err *err);
/* Open the pin control socket ROOT/ctl (bed->ctl_path) and serve it on a
 * thread (protocol: ctl.c):
 *   pin PORT boot0|nrst|power 0|1   -> "ok" | "err MESSAGE"
 *   state PORT                      -> "ok VID:PID plugs N" | "ok none plugs N"
 *   pins PORT                       -> "ok boot0 B nrst N power P"
 * FX_E_IO with the reason when the socket or thread cannot be made. */
int fxe_ctl_start(struct fxe_bed *bed, struct fx_err *err);
/* Client side (fxemu --ctl): send the request line req (no newline) to the
 * pin socket ctl_path and put the answer line (no newline) in ans.
 * Blocks at most FXE_CTL_TIMEOUT_MS. 0, FX_E_CONFIG (path too long),
 * FX_E_IO (cannot connect, send or read), FX_E_TIMEOUT. */
#define FXE_CTL_TIMEOUT_MS 2000
int fxe_ctl_request(const char *ctl_path, const char *req, char *ans, size_t cap,
		    struct fx_err *err);
/* Stop serving, close and unlink the socket (safe if never started). */
void fxe_ctl_stop(struct fxe_bed *bed);
/* Free everything, remove the testbed directory. */
void fxe_bed_release(struct fxe_bed *bed);

#endif
