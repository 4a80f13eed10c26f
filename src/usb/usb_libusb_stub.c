/* usb_libusb_stub.c - placeholder until the libusb backend lands (issue
 * "Real USB"): a NULL open makes fx_usb_open() answer FX_E_NOTSUP. */
#include "fx/usb.h"

const struct fx_usb_ops fx_usb_libusb_ops = {
	.scheme = "usb",
};
