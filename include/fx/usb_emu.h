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

#include "fx/emu.h"
#include "fx/usb.h"

int fx_usb_emu_attach(struct fx_emu *board, const struct fx_clock *clk,
		      const struct fx_usb_open_opts *opts, struct fx_usb **out,
		      struct fx_err *err);
/* The board behind an emu handle (borrowed), NULL for other backends. */
struct fx_emu *fx_usb_emu_board(struct fx_usb *u);

#endif
