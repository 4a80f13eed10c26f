/* usb_emu.h - in-process USB backend bound to an emulated board.
 *
 * fx_usb_open("emu:PATH?KNOBS") loads (or creates) the board file, powers
 * the board with BOOT0 high (boot0=0 in the query reproduces the field
 * report), releases NRST, waits for the enumeration and binds; closing the
 * handle saves the board file. Control transfers take the modelled time
 * (the backend sleeps the injected clock until the emulator's done_at).
 *
 * fx_usb_emu_attach() binds a handle to a board someone else owns (the
 * station, whose emulated GPIO drives the board's pins); closing such a
 * handle neither saves nor frees the board.
 */
#ifndef FX_FX_USB_EMU_H
#define FX_FX_USB_EMU_H

#include <pthread.h>
#include <stdint.h>

#include "fx/emu.h"
#include "fx/usb.h"

int fx_usb_emu_attach(struct fx_emu *board, const struct fx_clock *clk,
		      const struct fx_usb_open_opts *opts, struct fx_usb **out,
		      struct fx_err *err);
/* Hub model of a gang of emulated boards ([station] hub, fx/conf.h). With
 * a multi-TT hub (the default, fx_usb_emu_attach) each board has its own
 * full-speed transaction translator: boards do not slow each other down.
 * A single-TT hub gives all boards one 12 Mbit/s full-speed bus: handles
 * attached with the same fx_usb_emu_bus serialize their control
 * transfers on it (spec 8 transfer model: a transfer waits until the bus
 * is free, then holds it until it completes; a transfer the device never
 * answers holds it 0.5 ms). Thread-safe (the slots of a station use it
 * from their threads); init before, release after every handle on it.
 * busy_us = model time the bus was held (for benchmarks). */
struct fx_usb_emu_bus {
	pthread_mutex_t lock;
	uint64_t free_at;   /* model time the bus is free again */
	uint64_t busy_us;
};
int fx_usb_emu_bus_init(struct fx_usb_emu_bus *b); /* 0 or FX_E_NOMEM */
void fx_usb_emu_bus_release(struct fx_usb_emu_bus *b); /* NULL is fine */
/* fx_usb_emu_attach() on a shared bus (bus borrowed: outlives the
 * handle; NULL = own transaction translator). */
int fx_usb_emu_attach_bus(struct fx_emu *board, const struct fx_clock *clk,
			  struct fx_usb_emu_bus *bus,
			  const struct fx_usb_open_opts *opts, struct fx_usb **out,
			  struct fx_err *err);
/* The board behind an emu handle (borrowed), NULL for other backends. */
struct fx_emu *fx_usb_emu_board(struct fx_usb *u);

#endif
