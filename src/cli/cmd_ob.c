/* cmd_ob.c - `fixturectl ob`: write option bytes by name, expect the reset
 * that follows, wait for the bootloader to re-enumerate and report the new
 * values (the field failure done right). */
#include <stdio.h>
#include <string.h>

#include "cmd_dev.h"
#include "fx/prog.h"
#include "ob_sets.h"

static const char ob_usage[] =
	"usage: fixturectl ob --device URI [--set NAME=VALUE]... [--timeout MS]\n"
	"\n"
	"Without --set: print the option bytes. With --set: read-modify-write the\n"
	"option bytes (value + complement), expect the chip's reset, wait for the\n"
	"bootloader to re-enumerate (BOOT0 must be held high), re-read and check.\n"
	"\n"
	"  --device URI        emu:FILE[?KNOBS] | usb: | usb:PORTPATH | usb:serial=S\n"
	"  --set NAME=VALUE    e.g. DBANK=0, nSWBOOT0=1, RDP=0xAA (see 'fixturectl info')\n"
	"  --timeout MS        re-enumeration timeout (default 5000)\n"
	"  --realtime[=SCALE]  emu: run the board in real time\n"
	"  -v, --verbose       log the DFU requests\n"
	"\n"
	"exit codes: 0 ok, 64 usage (bad option, malformed device URI, one field\n"
	"            set to two values), 65 unknown field, bad value or emu: FILE\n"
	"            not a board file, 66 emu: FILE unreadable, 69 no device or\n"
	"            the board did not come back as the bootloader, 74 I/O,\n"
	"            76 device error or values not as requested\n";

struct ob_opts {
	struct fx_cli_ob_sets sets;
	uint32_t timeout_ms;
};

static int ob_opt(void *ctx, int c, const char *arg)
{
	struct ob_opts *r = ctx;

	switch (c) {
	case 's':
		return fx_cli_ob_sets_add(&r->sets, "ob", arg);
	case 't':
		if (!fx_cli_parse_u32(arg, 600000, &r->timeout_ms) || !r->timeout_ms)
			return fx_cli_usage_error("ob", "--timeout: expected 1 .. 600000 ms, got '%s'", arg);
		return 0;
	default:
		return fx_cli_usage_error("ob", "unknown option");
	}
}

int fx_cmd_ob(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "set", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct ob_opts r = { .timeout_ms = 5000 };
	struct fx_cli_devopts o;
	struct fx_cli_dev dev;
	struct fx_g4_ob before, want;
	struct fx_prog_ob_result res;
	struct fx_err err;
	int rc;

	rc = fx_cli_devopts_parse_ex(&o, "ob", ob_usage, argc, argv, extra, ob_opt, &r);
	if (rc >= 0)
		return rc;
	if (o.nargs)
		return fx_cli_usage_error("ob", "unexpected argument '%s'", o.args[0]);
	/* validate every assignment before touching the device */
	rc = fx_cli_ob_sets_check(&r.sets, "ob");
	if (rc)
		return rc;
	fx_err_clear(&err);
	rc = fx_cli_dev_open(&dev, "ob", o.device, o.scale);
	if (rc)
		return rc;
	rc = fx_prog_ob_read(dev.dfu, &before, &err);
	if (rc)
		goto fail;
	if (!r.sets.n) {
		fx_cli_print_ob(&before);
		fx_cli_dev_close(&dev);
		return 0;
	}
	want = before;
	fx_cli_ob_sets_apply(&r.sets, &want);
	if (!memcmp(&want, &before, sizeof(want))) {
		printf("option bytes already as requested, nothing written\n");
		fx_cli_print_ob(&before);
		fx_cli_dev_close(&dev);
		return 0;
	}
	printf("writing option bytes: OPTR 0x%08X -> 0x%08X; expecting the reset\n",
	       fx_g4_ob_optr(&before), fx_g4_ob_optr(&want));
	rc = fx_prog_ob_write_from(dev.dfu, &before, &want, r.timeout_ms, &res, &err);
	if (rc)
		goto fail;
	printf("reset seen, bootloader back after %.1f ms\n", (double)res.reenum_us / 1000.0);
	fx_cli_print_ob(&res.after);
	fx_cli_dev_close(&dev);
	return 0;
fail:
	fx_cli_dev_close(&dev);
	return fx_cli_fail("ob", &err);
}
