/* cmd_devices.c - `fixturectl devices`: the DFU devices on the USB bus
 * (0483:df11 plus --vid-pid), each with the URI that opens exactly it (its
 * port path, the slot identity), serial, VID:PID and the decoded memory
 * layout of every alternate setting. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cmd_dev.h"
#include "cmd_devices.h"
#include "fx/usb_libusb.h"

#define MAX_FOUND 32

static const char devices_usage[] =
	"usage: fixturectl devices [--vid-pid VID:PID] [--no-layout] [-v]\n"
	"\n"
	"List the USB DFU devices (ST ROM bootloader 0483:df11, plus VID:PID):\n"
	"the URI naming each one by port path (use it as --device), serial,\n"
	"VID:PID, product, and the memory layout of each alternate setting.\n"
	"\n"
	"  --vid-pid VID:PID   also list devices with this VID:PID (hex)\n"
	"  --no-layout         do not open the devices for their memory layout\n"
	"  -v, --verbose       log the USB requests (twice: more)\n"
	"\n"
	"exit codes: 0 at least one device listed, 64 usage, 69 none found,\n"
	"            74 USB error\n";

static bool parse_vidpid(const char *s, uint16_t *vid, uint16_t *pid)
{
	unsigned v, p;
	char tail;

	if (sscanf(s, "%x:%x%c", &v, &p, &tail) != 2 || !v || v > 0xffff ||
	    p > 0xffff)
		return false;
	*vid = (uint16_t)v;
	*pid = (uint16_t)p;
	return true;
}

/* Open f->uri, bring up DFU and print the layouts (or why not). */
static void print_layout(const struct fx_usb_found *f,
			 const struct fx_usb_open_opts *opts)
{
	struct fx_usb_open_opts o = *opts;
	struct fx_rclock rc;
	struct fx_usb *u = NULL;
	struct fx_dfu *d;
	struct fx_err err;

	fx_rclock_init(&rc, 1.0);
	fx_err_clear(&err);
	o.wait_ms = 0;
	if (fx_usb_open(f->uri, &rc.base, &o, &u, &err)) {
		printf("  (layout not read: %s)\n", err.msg);
		return;
	}
	d = fx_dfu_open(u, &err);
	if (!d)
		printf("  (layout not read: %s)\n", err.msg);
	else
		fx_cli_print_layouts(fx_dfu_get_info(d));
	fx_dfu_free(d);
	fx_usb_close(u);
}

int fx_cmd_devices(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vid-pid", required_argument, NULL, 'p' },
		{ "no-layout", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fx_usb_found found[MAX_FOUND];
	struct fx_usb_open_opts uo = { 0 };
	bool layout = true;
	int verbose = 0, c, before;
	struct fx_err err;
	size_t n = 0, i;

	optind = 1;
	opterr = 0;
	while ((before = optind, c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_vidpid(optarg, &uo.vid, &uo.pid))
				return fx_cli_usage_error("devices", "--vid-pid: expected "
							  "VID:PID in hex, got '%s'", optarg);
			break;
		case 'n':
			layout = false;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(devices_usage, stdout);
			return 0;
		case ':':
		default:
			return fx_cli_option_error("devices", c, argv, before);
		}
	}
	if (optind < argc)
		return fx_cli_usage_error("devices", "unexpected argument '%s'",
					  argv[optind]);
	fx_cli_log_init(verbose);
	fx_err_clear(&err);
	if (fx_usb_libusb_list(&uo, found, MAX_FOUND, &n, &err))
		return fx_cli_fail("devices", &err);
	if (n == 0) {
		fprintf(stderr, "fixturectl devices: no DFU device (0483:df11%s) found\n",
			uo.vid ? " or --vid-pid" : "");
		return FX_EXIT_NODEV;
	}
	for (i = 0; i < n && i < MAX_FOUND; i++) {
		const struct fx_usb_found *f = &found[i];

		printf("%-12s %04x:%04x  serial %-14s bus %u dev %u  \"%s\"\n", f->uri,
		       f->info.vid, f->info.pid,
		       f->info.serial[0] ? f->info.serial : "(none)",
		       f->info.busnum, f->info.devnum, f->info.product);
		if (f->open_error[0])
			printf("  (%s)\n", f->open_error);
		else if (layout)
			print_layout(f, &uo);
	}
	if (n > MAX_FOUND)
		printf("(%zu more not shown)\n", n - MAX_FOUND);
	return 0;
}
