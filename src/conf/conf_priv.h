/* conf_priv.h - module-private: helpers recipe.c and station.c share on
 * top of the ini reader (defined in conf.c). */
#ifndef FX_CONF_CONF_PRIV_H
#define FX_CONF_CONF_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ini_reader.h"

/* A number of a recipe or station value: decimal, or hex after 0x/0X,
 * nothing else (no sign, no spaces), at most max. true with *out. */
bool fx_conf_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* One key of a table of numeric keys (timeouts, timings): its name and
 * the field its value goes to. */
struct fx_conf_uint_key {
	const char *name;
	unsigned *field;
};

/* If key names one of the n entries of keys, parse value into its field
 * with fx_ini_uint(ini, key, value, min, max, ...) (a bad value is
 * reported there and leaves the field untouched) and return true. Return
 * false, reporting nothing, when key is not in the table. */
bool fx_conf_uint_key_set(struct fx_ini *ini, const struct fx_conf_uint_key *keys,
			  size_t n, const char *key, const char *value,
			  unsigned min, unsigned max);

/* Checks that need the whole file, run once it has been parsed. */
typedef void (*fx_conf_whole_fn)(struct fx_ini *ini, void *user);

/* Load one recipe or station file: clear err, fx_ini_parse() path with sfn
 * and kfn, then (when the file was read) copy its SHA-256 into sha256
 * (NULL: not wanted) and run whole. Returns 0, the parse's FX_E_FILE or
 * FX_E_NOMEM, FX_E_NOMEM "out of memory loading 'PATH'" when an allocation
 * failed meanwhile, or FX_E_CONFIG when any problem was reported (the first
 * in err, all in diags). The reader is released in every case; what the
 * callbacks filled in user stays the caller's. */
int fx_conf_ini_load(const char *path, fx_ini_section_fn sfn, fx_ini_key_fn kfn,
		     fx_conf_whole_fn whole, void *user, char sha256[65],
		     struct fx_conf_diags *diags, struct fx_err *err);

#endif
