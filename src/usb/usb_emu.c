/* usb_emu.c - in-process backend bound to an emulated board (placeholder). */
#include "fx/usb_emu.h"

const struct fx_usb_ops fx_usb_emu_ops = {
	.scheme = "emu",
};
