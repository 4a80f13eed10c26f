/* log.h - the only way modules report what they do (STYLE 3).
 * Modules never print; the CLI installs a handler. Each .c file defines
 * LOG_PREFIX ("dfu", "emu", ...) and calls fx_log(). */
#ifndef FX_FX_LOG_H
#define FX_FX_LOG_H

enum fx_log_level {
	FX_LOG_ERR = 0,
	FX_LOG_WARN = 1,
	FX_LOG_INFO = 2,
	FX_LOG_DEBUG = 3,
};

typedef void (*fx_log_fn)(enum fx_log_level lvl, const char *module,
			  const char *msg, void *user);

/* Install a handler (NULL = discard everything, the default) and the most
 * verbose level passed to it. Call once at start-up, before threads. */
void fx_log_set_handler(fx_log_fn fn, void *user, enum fx_log_level max);
enum fx_log_level fx_log_get_level(void);

void fx_log(enum fx_log_level lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
