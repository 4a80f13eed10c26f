/* cmd_read.c - `fixturectl read`: read memory back (flash, option bytes,
 * OTP) for failure analysis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_dev.h"
#include "fx/file.h"

static const char read_usage[] =
	"usage: fixturectl read --device URI --address A --length N -o FILE\n"
	"\n"
	"Read N bytes at address A (flash, option bytes or OTP: the alternate\n"
	"setting is chosen from the device's memory map) into FILE.\n"
	"\n"
	"  --device URI        emu:FILE[?KNOBS] | usb: | usb:PORTPATH | usb:serial=S\n"
	"  --address A         start address (decimal or 0x hex)\n"
	"  --length N          bytes to read (1 .. 16 MiB)\n"
	"  -o, --output FILE   where to write the bytes ('-' = stdout)\n"
	"  --realtime[=SCALE]  emu: run the board in real time\n"
	"  -v, --verbose       log the DFU requests\n"
	"\n"
	"exit codes: 0 ok, 64 usage (bad option or malformed device URI),\n"
	"            65 address outside the memory map or emu: FILE is not a board\n"
	"            file, 66 cannot write FILE or emu: FILE unreadable, 69 no\n"
	"            device, 70 internal error, 74 I/O, 76 device error\n";

struct read_opts {
	uint32_t addr, len;
	bool have_addr, have_len;
	const char *out;
};

static int read_opt(void *ctx, int c, const char *arg)
{
	struct read_opts *r = ctx;

	switch (c) {
	case 'a':
		if (!fx_cli_parse_u32(arg, UINT32_MAX, &r->addr))
			return fx_cli_usage_error("read", "--address: expected a number, got '%s'", arg);
		r->have_addr = true;
		return 0;
	case 'l':
		if (!fx_cli_parse_u32(arg, 16u << 20, &r->len) || r->len == 0)
			return fx_cli_usage_error("read", "--length: expected 1 .. 16777216, got '%s'", arg);
		r->have_len = true;
		return 0;
	case 'o':
		r->out = arg;
		return 0;
	default:
		return fx_cli_usage_error("read", "unknown option");
	}
}

int fx_cmd_read(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "length", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct read_opts r = { 0 };
	struct fx_cli_devopts o;
	struct fx_cli_dev dev;
	struct fx_err err;
	uint8_t *buf;
	int rc, alt;

	rc = fx_cli_devopts_parse_ex(&o, "read", read_usage, argc, argv, extra, read_opt, &r);
	if (rc >= 0)
		return rc;
	if (!r.have_addr || !r.have_len || !r.out)
		return fx_cli_usage_error("read", "--address, --length and -o are required");
	if (o.nargs)
		return fx_cli_usage_error("read", "unexpected argument '%s'", o.args[0]);
	if ((uint64_t)r.addr + r.len > 0x100000000ull)
		return fx_cli_usage_error("read", "address range wraps past 0xFFFFFFFF");
	buf = malloc(r.len);
	if (!buf) {
		fprintf(stderr, "fixturectl read: out of memory\n");
		return FX_EXIT_SOFTWARE;
	}
	rc = fx_cli_dev_open(&dev, "read", o.device, o.scale);
	if (rc) {
		free(buf);
		return rc;
	}
	fx_err_clear(&err);
	alt = fx_dfu_alt_for(dev.dfu, r.addr);
	if (alt < 0 || fx_dfu_alt_for(dev.dfu, r.addr + r.len - 1) != alt) {
		fx_err_set(&err, FX_E_RANGE,
			   "0x%08X-0x%08X is not inside one memory area of the device (see 'fixturectl info')",
			   r.addr, r.addr + r.len - 1);
		goto fail;
	}
	if (fx_dfu_set_alt(dev.dfu, (uint8_t)alt, &err) ||
	    fx_dfuse_read(dev.dfu, r.addr, buf, r.len, &err))
		goto fail;
	rc = fx_file_write_atomic(r.out, buf, r.len, &err);
	if (rc)
		goto fail;
	fx_cli_dev_close(&dev);
	free(buf);
	if (strcmp(r.out, "-"))
		printf("read %u bytes at 0x%08X (alt %d) into %s\n", r.len, r.addr, alt, r.out);
	return 0;
fail:
	fx_cli_dev_close(&dev);
	free(buf);
	return fx_cli_fail("read", &err);
}
