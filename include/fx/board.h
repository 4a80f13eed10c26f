/* board.h - emulated STM32G474xE boards built in code: the one builder
 * behind `fixturectl emu create` (src/cli/cmd_emu.c) and the station's
 * demo boards (fx_seq_demo_board_new, fx/seq.h). A factory-fresh chip
 * (fx_emu_new), then, through the emulator's back doors (fx/emu.h), the
 * option bytes, the flash content, the corruption and the protection, in
 * that order (src/seq/board_build.c).
 */
#ifndef FX_FX_BOARD_H
#define FX_FX_BOARD_H

#include <stdbool.h>

#include "fx/clock.h"
#include "fx/emu.h"
#include "fx/err.h"
#include "fx/image.h"
#include "fx/stm32g4.h"

/* What the board holds; every pointer is borrowed for the call. */
struct fx_board_spec {
	const struct fx_emu_identity *id; /* NULL: fx_emu_new()'s default */
	const struct fx_g4_ob *ob;        /* both option-byte blocks; NULL =
					   * factory (DBANK=1) */
	const struct fx_image *img;       /* programmed in the bank mode of ob;
					   * NULL = flash erased */
	const char *img_name;             /* the image in messages ("fw.hex");
					   * NULL = "firmware" */
	bool corrupt;                     /* the first 4 KiB of flash noise with
					   * an even reset vector: not blank, and
					   * no plausible vector table (nothing
					   * starts) */
	bool rdp1;                        /* RDP level 1 (0xBB), written last */
};

/* A new board as spec says on clk (borrowed, must outlive the board).
 * NULL with err: FX_E_RANGE "image 'NAME': segment at 0x... cannot be
 * placed in flash", FX_E_NOMEM, or the back door's error naming the
 * option-byte block. Free with fx_emu_free(). */
struct fx_emu *fx_board_build(const struct fx_board_spec *spec,
			      const struct fx_clock *clk, struct fx_err *err);

#endif
