/* err.c - error table and the sticky error object. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fx/err.h"

const char *fx_strerror(int code)
{
	switch (code) {
#define FX_ERR_TEXT(sym, val, text) \
	case (val):                 \
		return text;
		FX_ERRORS(FX_ERR_TEXT)
#undef FX_ERR_TEXT
	default:
		return "unknown error";
	}
}

const char *fx_err_name(int code)
{
	switch (code) {
#define FX_ERR_NAME(sym, val, text) \
	case (val):                 \
		return #sym;
		FX_ERRORS(FX_ERR_NAME)
#undef FX_ERR_NAME
	default:
		return "FX_E_UNKNOWN";
	}
}

void fx_err_clear(struct fx_err *err)
{
	if (!err)
		return;
	err->code = FX_OK;
	err->sys_errno = 0;
	err->usb_rc = 0;
	err->dfu_state = -1;
	err->dfu_status = -1;
	err->msg[0] = '\0';
}

int fx_err_set(struct fx_err *err, int code, const char *fmt, ...)
{
	char msg[sizeof(((struct fx_err *)0)->msg)];
	va_list ap;

	if (!err)
		return code;
	/* format aside first: an argument may be err->msg itself */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err->code = code;
	memcpy(err->msg, msg, sizeof(msg));
	return code;
}

int fx_err_prefix(struct fx_err *err, const char *fmt, ...)
{
	char head[128];
	char old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return FX_E_INVAL;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* a message too long for msg is cut: that is the documented bound */
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", head, old) < 0)
		err->msg[0] = '\0';
	return err->code;
}
