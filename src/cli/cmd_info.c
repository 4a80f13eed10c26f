/* cmd_info.c - `fixturectl info`: chip, bootloader, memory map, option
 * bytes decoded by name. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cmd_dev.h"
#include "fx/stm32g4.h"

static const char info_usage[] =
	"usage: fixturectl info --device URI [--realtime[=SCALE]] [-v]\n"
	"\n"
	"Show the DFU device: identity, bootloader version, memory map of each\n"
	"alternate setting and the option bytes decoded by name.\n"
	"\n"
	"  --device URI        emu:FILE[?KNOBS] | usb: | usb:PORTPATH | usb:serial=S\n"
	"  --realtime[=SCALE]  emu: run the board in real time (default: virtual time)\n"
	"  -v, --verbose       log the DFU requests (twice: more)\n"
	"\n"
	"exit codes: 0 ok, 64 usage (bad option or malformed device URI),\n"
	"            65 emu: FILE is not a board file, 66 emu: FILE unreadable,\n"
	"            69 no device, 70 internal error, 74 I/O, 76 device error\n";

static void type_text(uint8_t t, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", (t & DFUSE_READABLE) ? "r" : "-",
		 (t & DFUSE_ERASABLE) ? "e" : "-", (t & DFUSE_WRITEABLE) ? "w" : "-");
}

void fx_cli_print_layouts(const struct fx_dfu_info *in)
{
	size_t a, s;

	for (a = 0; a < in->nalts; a++) {
		const struct fx_dfuse_layout *l = &in->layout[a];

		printf("  alt %zu  %-16s", a, l->name);
		if (!l->nsegs)
			printf(" (unparsed: \"%s\")", in->alt_name[a]);
		for (s = 0; s < l->nsegs; s++) {
			const struct fx_dfuse_seg *g = &l->segs[s];
			char t[4];

			type_text(g->type, t, sizeof(t));
			printf("%s0x%08x-0x%08x %u x %u B %s",
			       s ? "\n                         " : " ", g->start,
			       g->end - 1, (g->end - g->start) / (g->page_size ? g->page_size : 1),
			       g->page_size, t);
		}
		printf("\n");
	}
}

void fx_cli_print_ob(const struct fx_g4_ob *ob)
{
	const struct fx_g4_ob_field *f;
	uint32_t optr = fx_g4_ob_optr(ob);
	int rdp = fx_g4_rdp_level(optr);

	printf("option bytes: OPTR 0x%08X (RDP level %d, %s bank)\n", optr, rdp,
	       fx_g4_dual_bank(optr) ? "dual" : "single");
	for (f = fx_g4_ob_fields(); f->name; f++) {
		uint32_t v = fx_g4_ob_get(ob, f);

		if (f->width >= 8)
			printf("  %-12s = 0x%0*X  %s\n", f->name, (f->width + 3) / 4, v, f->help);
		else
			printf("  %-12s = %-*u  %s\n", f->name, (f->width + 3) / 4 + 2, v, f->help);
	}
}

int fx_cmd_info(int argc, char **argv)
{
	struct fx_cli_devopts o;
	struct fx_cli_dev dev;
	const struct fx_dfu_info *in;
	struct fx_g4_ob ob;
	struct fx_err err, e;
	uint8_t blid[2];
	char ver[16];
	int rc;

	rc = fx_cli_devopts_parse(&o, "info", info_usage, argc, argv);
	if (rc >= 0)
		return rc;
	if (o.nargs)
		return fx_cli_usage_error("info", "unexpected argument '%s'", o.args[0]);
	rc = fx_cli_dev_open(&dev, "info", o.device, o.scale);
	if (rc)
		return rc;
	in = fx_dfu_get_info(dev.dfu);
	printf("device:      %s  %04x:%04x bcdDevice 0x%04x serial %s\n", o.device,
	       in->vid, in->pid, in->bcd_device, in->serial[0] ? in->serial : "(none)");
	printf("product:     %s\n", in->product);
	fx_err_clear(&e);
	if (fx_dfu_set_alt(dev.dfu, 0, &e) == 0 &&
	    fx_dfuse_read(dev.dfu, G4_BL_ID_ADDR, blid, sizeof(blid), &e) == 0) {
		fx_g4_bl_version(blid[0], ver, sizeof(ver));
		printf("bootloader:  V%s (ID 0x%02X at 0x%08X)\n", ver, blid[0], G4_BL_ID_ADDR);
	} else {
		printf("bootloader:  version not readable (%s)\n", e.msg);
		fx_dfu_recover(dev.dfu, NULL);
	}
	printf("dfu:         DFU %x.%02x, transfer size %u, attributes 0x%02x\n",
	       in->bcd_dfu >> 8, in->bcd_dfu & 0xff, in->transfer_size, in->attributes);
	printf("memory map:\n");
	fx_cli_print_layouts(in);
	fx_err_clear(&err);
	rc = fx_cli_read_ob(&dev, &ob, &err);
	if (rc) {
		fx_cli_dev_close(&dev);
		return fx_cli_fail("info", &err);
	}
	printf("chip:        STM32G474xE (device ID 0x%03X), 512 KiB flash, %s bank, %u KiB pages\n",
	       FX_G4_DEVICE_ID, fx_g4_dual_bank(fx_g4_ob_optr(&ob)) ? "dual" : "single",
	       fx_g4_page_size(fx_g4_ob_optr(&ob)) / 1024);
	fx_cli_print_ob(&ob);
	fx_cli_dev_close(&dev);
	return 0;
}
