/* cmd_flash.c - `fixturectl flash`: erase, program, verify, leave. Exit 0
 * only when the image was verified by readback (or --no-verify was asked). */
#include <stdio.h>
#include <string.h>

#include "cmd_dev.h"
#include "fx/emu.h"
#include "fx/image.h"
#include "fx/prog.h"
#include "fx/usb_emu.h"
#include "ob_sets.h"

static const char flash_usage[] =
	"usage: fixturectl flash --device URI FILE [--address A] [--format F]\n"
	"                        [--mass-erase] [--no-verify] [--no-leave] [--stats]\n"
	"                        [--set NAME=VALUE]... [--ob-timeout MS]\n"
	"\n"
	"Program FILE (raw .bin with --address, Intel HEX, S-record, ELF, DfuSe .dfu)\n"
	"into the device: erase exactly the touched pages (or mass erase), program,\n"
	"verify by readback, then leave DFU and start the application.\n"
	"With --set: first read-modify-write the option bytes as 'fixturectl ob'\n"
	"does (expect the chip's reset, wait for the bootloader, BOOT0 held high),\n"
	"then program against the new layout, all in one open of the device.\n"
	"\n"
	"  --device URI        emu:FILE[?KNOBS] | usb: | usb:PORTPATH | usb:serial=S\n"
	"  --address A         load address of a raw binary (e.g. 0x08000000)\n"
	"  --format F          bin|hex|srec|elf|dfu (default: by extension, then content)\n"
	"  --mass-erase        erase the whole flash instead of the touched pages\n"
	"  --no-verify         skip the readback verify (exit 0 means: programmed)\n"
	"  --no-leave          stay in the bootloader afterwards\n"
	"  --stats             print timing figures (emu: with the device-bound figures)\n"
	"  --set NAME=VALUE    option byte to set first, e.g. DBANK=0 (see 'fixturectl info')\n"
	"  --ob-timeout MS     re-enumeration timeout after --set (default 5000)\n"
	"  --realtime[=SCALE]  emu: run the board in real time\n"
	"  -v, --verbose       log the DFU requests\n"
	"\n"
	"exit codes: 0 programmed and verified, 1 verify mismatch, 64 usage (bad\n"
	"            option, malformed device URI, one field set to two values),\n"
	"            65 bad image, image outside flash, unknown option-byte field\n"
	"            or bad value, emu: FILE not a board file, 66 FILE or emu: FILE\n"
	"            unreadable, 69 no device or the board did not come back as\n"
	"            the bootloader after --set, 70 internal error, 74 I/O,\n"
	"            76 device error (e.g. read protection) or option bytes not as\n"
	"            requested\n";

struct flash_opts {
	uint32_t addr;
	bool have_addr, mass, no_verify, no_leave, stats;
	int format;
	struct fx_cli_ob_sets sets;
	uint32_t ob_timeout_ms;
};

static int flash_opt(void *ctx, int c, const char *arg)
{
	struct flash_opts *f = ctx;

	switch (c) {
	case 'a':
		if (!fx_cli_parse_u32(arg, UINT32_MAX, &f->addr))
			return fx_cli_usage_error("flash", "--address: expected a number, got '%s'", arg);
		f->have_addr = true;
		return 0;
	case 'f':
		f->format = fx_image_format_parse(arg);
		if (f->format < 0)
			return fx_cli_usage_error("flash", "--format: expected bin, hex, srec, elf or dfu, got '%s'", arg);
		return 0;
	case 'm':
		f->mass = true;
		return 0;
	case 'n':
		f->no_verify = true;
		return 0;
	case 'L':
		f->no_leave = true;
		return 0;
	case 'S':
		f->stats = true;
		return 0;
	case 's':
		return fx_cli_ob_sets_add(&f->sets, "flash", arg);
	case 'T':
		if (!fx_cli_parse_u32(arg, 600000, &f->ob_timeout_ms) || !f->ob_timeout_ms)
			return fx_cli_usage_error("flash", "--ob-timeout: expected 1 .. 600000 ms, got '%s'",
						  arg);
		return 0;
	default:
		return fx_cli_usage_error("flash", "unknown option");
	}
}

static void print_stats(struct fx_cli_dev *dev, const struct fx_prog_flash_result *res,
			uint64_t total_us)
{
	struct fx_emu *board = fx_usb_emu_board(dev->usb);
	struct fx_emu_stats st;

	printf("stats: total_us=%llu ob_us=%llu erase_us=%llu program_us=%llu verify_us=%llu "
	       "bytes=%zu pages_erased=%zu\n",
	       (unsigned long long)total_us, (unsigned long long)res->ob_us,
	       (unsigned long long)res->erase_us,
	       (unsigned long long)res->program_us, (unsigned long long)res->verify_us,
	       res->bytes_written, res->pages_erased);
	if (board) {
		fx_emu_get_stats(board, &st);
		printf("stats: emu_device_us=%llu emu_usb_us=%llu emu_requests=%u\n",
		       (unsigned long long)st.device_us, (unsigned long long)st.usb_us,
		       st.requests);
	}
}

/* --set: the option bytes the chip holds (before) and the ones asked for
 * (want); po gets both when they differ (fx_prog_flash writes them first,
 * in this open), else only before (the page size without a re-read). */
static int ob_plan(struct fx_cli_dev *dev, const struct flash_opts *f,
		   struct fx_prog_flash_opts *po, struct fx_g4_ob *before,
		   struct fx_g4_ob *want, struct fx_err *err)
{
	int rc = fx_prog_ob_read(dev->dfu, before, err);

	if (rc)
		return fx_err_prefix(err, "flash: --set");
	*want = *before;
	fx_cli_ob_sets_apply(&f->sets, want);
	po->ob_have = before;
	if (!memcmp(want, before, sizeof(*want))) {
		printf("option bytes already as requested, nothing written\n");
		return 0;
	}
	printf("writing option bytes: OPTR 0x%08X -> 0x%08X; expecting the reset\n",
	       fx_g4_ob_optr(before), fx_g4_ob_optr(want));
	po->ob_want = want;
	po->ob_timeout_ms = f->ob_timeout_ms;
	return 0;
}

int fx_cmd_flash(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "mass-erase", no_argument, NULL, 'm' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "no-leave", no_argument, NULL, 'L' },
		{ "stats", no_argument, NULL, 'S' },
		{ "set", required_argument, NULL, 's' },
		{ "ob-timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct flash_opts f = { .format = FX_IMAGE_AUTO, .ob_timeout_ms = 5000 };
	struct fx_g4_ob before, want;
	struct fx_prog_flash_opts po = { 0 };
	struct fx_prog_flash_result res = { 0 };
	struct fx_cli_devopts o;
	struct fx_cli_dev dev;
	struct fx_image *img;
	struct fx_err err;
	uint64_t t0;
	int rc;

	rc = fx_cli_devopts_parse_ex(&o, "flash", flash_usage, argc, argv, extra, flash_opt, &f);
	if (rc >= 0)
		return rc;
	if (o.nargs != 1)
		return fx_cli_usage_error("flash", "expected exactly one FILE");
	/* every assignment valid before the image is read or the device touched */
	rc = fx_cli_ob_sets_check(&f.sets, "flash");
	if (rc)
		return rc;
	fx_err_clear(&err);
	img = fx_image_load(o.args[0], (enum fx_image_format)f.format, f.have_addr, f.addr, &err);
	if (!img)
		return fx_cli_fail("flash", &err);
	rc = fx_cli_dev_open(&dev, "flash", o.device, o.scale);
	if (rc) {
		fx_image_free(img);
		return rc;
	}
	po.mass_erase = f.mass;
	po.verify = !f.no_verify;
	po.leave = !f.no_leave;
	t0 = fx_clock_now(dev.clock);
	if (f.sets.n) {
		rc = ob_plan(&dev, &f, &po, &before, &want, &err);
		if (rc)
			goto fail;
	}
	rc = fx_prog_flash(dev.dfu, img, &po, &res, &err);
	if (po.ob_want && res.ob.reenum_us)
		printf("reset seen, bootloader back after %.1f ms\n",
		       (double)res.ob.reenum_us / 1000.0);
	if (rc)
		goto fail;
	printf("%s: %zu bytes programmed%s, %zu pages erased%s%s\n", o.args[0],
	       res.bytes_written, po.verify ? " and verified" : " (not verified)",
	       res.pages_erased, f.mass ? " (mass erase)" : "",
	       po.leave ? ", left DFU (jump to the application requested)" : "");
	if (f.stats)
		print_stats(&dev, &res, fx_clock_now(dev.clock) - t0);
	fx_cli_dev_close(&dev);
	fx_image_free(img);
	return 0;
fail:
	fx_cli_dev_close(&dev);
	fx_image_free(img);
	return fx_cli_fail("flash", &err);
}
