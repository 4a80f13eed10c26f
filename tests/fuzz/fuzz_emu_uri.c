/* fuzz_emu_uri.c - libFuzzer harness: an "emu:PATH?KNOBS" device URI
 * through a full emulated open (fx_usb_open: URI split, knob parser, board
 * load, power-up, enumeration, binding), then the DFU engine's open and a
 * GETSTATUS on whatever the knobs made of the board, and the close (which
 * saves the board). Virtual time. The input is the text after "emu:"; its
 * path part is confined to the harness's directory (only [A-Za-z0-9._-],
 * at most 32 characters) and the board file is removed after each input,
 * so inputs do not depend on each other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "fx/clock.h"
#include "fx/dfu.h"
#include "fx/usb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fx_usb_open_opts opts = { .wait_ms = 3000 };
	char name[40], uri[1400], board[256], tmp[264];
	struct fx_vclock vc;
	struct fx_usb *u = NULL;
	struct fx_dfu *d;
	struct fx_dfu_status ds;
	struct fx_err err;
	size_t i = 0, n = 0;
	int rc;

	fz_quiet();
	if (size > 1024)
		return 0;
	for (; i < size && data[i] != '?'; i++) {
		char c = (char)data[i];

		if (n < 32 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			name[n++] = c;
	}
	if (n == 0 || (n <= 2 && name[0] == '.'))
		name[n++] = 'b';
	name[n] = '\0';
	snprintf(board, sizeof(board), "%s/%s", fz_dir(), name);
	n = (size_t)snprintf(uri, sizeof(uri), "emu:%s", board);
	/* the query as given, up to a NUL */
	for (; i < size && data[i] && n + 1 < sizeof(uri); i++)
		uri[n++] = (char)data[i];
	uri[n] = '\0';

	fx_vclock_init(&vc);
	fx_err_clear(&err);
	rc = fx_usb_open(uri, &vc.base, &opts, &u, &err);
	if (rc == 0) {
		d = fx_dfu_open(u, &err);
		if (d) {
			(void)fx_dfu_get_status(d, &ds, NULL);
			fx_dfu_free(d);
		}
		fx_usb_close(u);
	} else if (u) {
		abort(); /* out written on failure */
	}
	unlink(board);
	snprintf(tmp, sizeof(tmp), "%s.tmp", board);
	unlink(tmp);
	return 0;
}
