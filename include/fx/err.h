/* err.h - error codes and the sticky error object.
 *
 * Every function in src/ that can fail returns int: 0 on success, a negative
 * FX_E_* code on failure. Functions returning pointers return NULL and fill a
 * struct fx_err. The codes are defined once, in FX_ERRORS, so the enum,
 * fx_strerror() and fx_err_name() cannot drift (STYLE 3).
 */
#ifndef FX_FX_ERR_H
#define FX_FX_ERR_H

#include <stddef.h>

/* X(symbol, value, text) */
#define FX_ERRORS(X)                                                         \
	X(FX_OK, 0, "success")                                               \
	X(FX_E_INVAL, -1, "invalid argument")                                \
	X(FX_E_NOMEM, -2, "out of memory")                                   \
	X(FX_E_IO, -3, "input/output error")                                 \
	X(FX_E_TIMEOUT, -4, "timed out")                                     \
	X(FX_E_STALL, -5, "request stalled by the device")                   \
	X(FX_E_NODEV, -6, "device disconnected")                             \
	X(FX_E_NOTSUP, -7, "operation not supported")                        \
	X(FX_E_PROTO, -8, "protocol error")                                  \
	X(FX_E_DFU, -9, "device reported an error status")                   \
	X(FX_E_VERIFY, -10, "verification failed")                           \
	X(FX_E_IMAGE, -11, "bad firmware image")                             \
	X(FX_E_RANGE, -12, "address out of range")                           \
	X(FX_E_PROTECTED, -13, "read protection active")                     \
	X(FX_E_NOTFOUND, -14, "not found")                                   \
	X(FX_E_AMBIGUOUS, -15, "more than one match")                        \
	X(FX_E_CONFIG, -16, "configuration error")                           \
	X(FX_E_DB, -17, "database error")                                    \
	X(FX_E_BUSY, -18, "resource busy")                                   \
	X(FX_E_STATE, -19, "board in an unexpected state")                   \
	X(FX_E_HASH, -20, "hash mismatch")                                   \
	X(FX_E_ABORTED, -21, "aborted")                                      \
	X(FX_E_GPIO, -22, "gpio error")                                      \
	X(FX_E_FILE, -23, "file error")                                      \
	X(FX_E_EXHAUSTED, -24, "no serial numbers left")                     \
	X(FX_E_DUPLICATE, -25, "duplicate serial")

enum fx_errcode {
#define FX_ERR_ENUM(sym, val, text) sym = (val),
	FX_ERRORS(FX_ERR_ENUM)
#undef FX_ERR_ENUM
};

/* The error sticks to the context that failed (like sqlite3_errmsg()).
 * Library messages are copied at once into msg. */
struct fx_err {
	int code;         /* FX_E_* or FX_OK */
	int sys_errno;    /* errno at failure, 0 if none */
	int usb_rc;       /* backend return code (e.g. libusb), 0 if none */
	int dfu_state;    /* last DFU bState seen, -1 if none */
	int dfu_status;   /* last DFU bStatus seen, -1 if none */
	char msg[256];    /* lowercase, no full stop, subject in quotes */
};

/* Text for a code ("timed out"); never NULL. */
const char *fx_strerror(int code);
/* Symbol for a code ("FX_E_TIMEOUT"); never NULL. */
const char *fx_err_name(int code);

/* Reset to FX_OK with an empty message. err may be NULL. */
void fx_err_clear(struct fx_err *err);
/* Set code and a printf-style message; returns code so callers can write
 * `return fx_err_set(err, FX_E_IO, "...")`. err may be NULL. Keeps the
 * dfu_state/dfu_status/usb_rc/sys_errno fields as they were. */
int fx_err_set(struct fx_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the existing message with "context: " (keeps the code). */
int fx_err_prefix(struct fx_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
