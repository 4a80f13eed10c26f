/* dfu_wire.h - USB/DFU 1.1/DfuSe wire constants, the one header the
 * emulator (src/emu/) and the host (src/dfu/) share (STYLE 1). Names follow
 * the specs; section numbers refer to ../shared/spec/stm32g474-bootloader.md. */
#ifndef FX_FX_DFU_WIRE_H
#define FX_FX_DFU_WIRE_H

#include <stdint.h>

/* A USB control setup packet, host byte order. */
struct fx_usb_setup {
	uint8_t bmRequestType;
	uint8_t bRequest;
	uint16_t wValue;
	uint16_t wIndex;
	uint16_t wLength;
};

/* bmRequestType (USB 2.0 9.3) */
#define USB_DIR_IN 0x80
#define USB_TYPE_STANDARD 0x00
#define USB_TYPE_CLASS 0x20
#define USB_RECIP_DEVICE 0x00
#define USB_RECIP_INTERFACE 0x01

/* Standard requests (USB 2.0 Table 9-4) */
#define USB_REQ_GET_STATUS 0x00
#define USB_REQ_GET_DESCRIPTOR 0x06
#define USB_REQ_GET_CONFIGURATION 0x08
#define USB_REQ_SET_CONFIGURATION 0x09
#define USB_REQ_GET_INTERFACE 0x0A
#define USB_REQ_SET_INTERFACE 0x0B

/* Descriptor types */
#define USB_DT_DEVICE 0x01
#define USB_DT_CONFIG 0x02
#define USB_DT_STRING 0x03
#define USB_DT_INTERFACE 0x04
#define USB_DT_ENDPOINT 0x05
#define USB_DT_HID 0x21
#define USB_DT_DFU_FUNCTIONAL 0x21 /* DFU 1.1 4.1.3 */

/* Interface class codes */
#define USB_CLASS_HID 0x03
#define USB_CLASS_APP_SPEC 0xFE
#define DFU_SUBCLASS 0x01
#define DFU_PROTOCOL_DFU_MODE 0x02

/* HID class request (HID 1.11 7.2) used for the software bootloader entry
 * of the modelled application (spec 8): SET_REPORT, feature report 0x01,
 * payload "BOOT". */
#define HID_REQ_SET_REPORT 0x09
#define HID_REPORT_TYPE_FEATURE 0x03
#define FX_APP_BOOT_REPORT_ID 0x01
#define FX_APP_BOOT_PAYLOAD "BOOT"

/* DFU class requests (spec 1.1) */
#define DFU_DETACH 0x00
#define DFU_DNLOAD 0x01
#define DFU_UPLOAD 0x02
#define DFU_GETSTATUS 0x03
#define DFU_CLRSTATUS 0x04
#define DFU_GETSTATE 0x05
#define DFU_ABORT 0x06

#define DFU_GETSTATUS_LEN 6 /* spec 1.2 */

/* DFU states (spec 1.3) */
enum dfu_state {
	appIDLE = 0,
	appDETACH = 1,
	dfuIDLE = 2,
	dfuDNLOAD_SYNC = 3,
	dfuDNBUSY = 4,
	dfuDNLOAD_IDLE = 5,
	dfuMANIFEST_SYNC = 6,
	dfuMANIFEST = 7,
	dfuMANIFEST_WAIT_RESET = 8,
	dfuUPLOAD_IDLE = 9,
	dfuERROR = 10,
};

/* DFU status codes (spec 1.3) */
enum dfu_status {
	DFU_STATUS_OK = 0x00,
	DFU_STATUS_errTARGET = 0x01,
	DFU_STATUS_errFILE = 0x02,
	DFU_STATUS_errWRITE = 0x03,
	DFU_STATUS_errERASE = 0x04,
	DFU_STATUS_errCHECK_ERASED = 0x05,
	DFU_STATUS_errPROG = 0x06,
	DFU_STATUS_errVERIFY = 0x07,
	DFU_STATUS_errADDRESS = 0x08,
	DFU_STATUS_errNOTDONE = 0x09,
	DFU_STATUS_errFIRMWARE = 0x0A,
	DFU_STATUS_errVENDOR = 0x0B,
	DFU_STATUS_errUSBR = 0x0C,
	DFU_STATUS_errPOR = 0x0D,
	DFU_STATUS_errUNKNOWN = 0x0E,
	DFU_STATUS_errSTALLEDPKT = 0x0F,
};

/* DfuSe commands, DNLOAD wValue = 0 (spec 1.4, AN3156 5.2-5.4) */
#define DFUSE_CMD_GET_COMMANDS 0x00
#define DFUSE_CMD_SET_ADDRESS 0x21
#define DFUSE_CMD_ERASE 0x41
#define DFUSE_CMD_READ_UNPROTECT 0x92

/* DFU functional descriptor bmAttributes (DFU 1.1 4.1.3) */
#define DFU_ATTR_CAN_DNLOAD 0x01
#define DFU_ATTR_CAN_UPLOAD 0x02
#define DFU_ATTR_MANIFEST_TOLERANT 0x04
#define DFU_ATTR_WILL_DETACH 0x08
#define DFU_VERSION_DFUSE 0x011A

/* Identity of the ST ROM bootloader (spec 2.1) */
#define ST_DFU_VID 0x0483
#define ST_DFU_PID 0xDF11

/* STM32G474 address map (spec 2.5, 3.1, 3.2) */
#define G4_FLASH_BASE 0x08000000u
#define G4_FLASH_SIZE 0x00080000u /* 512 KiB, xE */
#define G4_OB1_BASE 0x1FFF7800u
#define G4_OB2_BASE 0x1FFFF800u
#define G4_OB_BLOCK_SIZE 48u
#define G4_OTP_BASE 0x1FFF7000u
#define G4_OTP_SIZE 1024u
#define G4_SYSMEM_BASE 0x1FFF0000u
#define G4_BL_ID_ADDR 0x1FFF6FFEu
#define G4_UID_BASE 0x1FFF7590u
#define G4_SRAM_BASE 0x20000000u
#define G4_SRAM_TOP 0x20020000u

#endif
