/* log.c - module log with one installable handler. The handler is process
 * configuration set once at start-up: the library's one piece of mutable
 * file-scope state (usb_libusb.c's parked[] handles went with the
 * SET_INTERFACE control request; the programs' signal flags in src/cli
 * and src/fxgadget belong to the programs). */
#include <stdarg.h>
#include <stdio.h>

#include "fx/log.h"

static fx_log_fn log_fn;
static void *log_user;
static enum fx_log_level log_max = FX_LOG_WARN;

void fx_log_set_handler(fx_log_fn fn, void *user, enum fx_log_level max)
{
	log_fn = fn;
	log_user = user;
	log_max = max;
}

enum fx_log_level fx_log_get_level(void)
{
	return log_max;
}

void fx_log(enum fx_log_level lvl, const char *module, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log_fn || lvl > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(lvl, module, msg, log_user);
}
