/* emu_uri.c - the one parser of the emulated device URI "emu:FILE?KNOBS"
 * (fx/emu.h): the CLI's --device, the station file's device key, the
 * in-process USB backend, the station sequence and fxemu's board
 * arguments all split it here. */
#include <stdlib.h>
#include <string.h>

#include "fx/emu.h"

int fx_emu_uri_parse(const char *spec, struct fx_emu_uri *u, struct fx_err *err)
{
	const char *q;
	size_t n;

	memset(u, 0, sizeof(*u));
	fx_emu_knobs_default(&u->knobs);
	u->boot0 = true;
	if (!spec)
		spec = "";
	q = strchr(spec, '?');
	n = q ? (size_t)(q - spec) : strlen(spec);
	if (!n)
		return fx_err_set(err, FX_E_CONFIG, "expected emu:FILE[?KNOBS], got 'emu:%s'", spec);
	u->path = strndup(spec, n);
	if (!u->path)
		return fx_err_set(err, FX_E_NOMEM, "out of memory");
	u->query = q ? q + 1 : NULL;
	/* path kept on a knob error: the caller's message may name it */
	if (q && fx_emu_knobs_parse(&u->knobs, &u->boot0, q + 1, err))
		return FX_E_CONFIG;
	return 0;
}

void fx_emu_uri_release(struct fx_emu_uri *u)
{
	if (!u)
		return;
	free(u->path);
	u->path = NULL;
}
