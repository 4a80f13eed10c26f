/* recipe_serial.h - module-private: the [serial_number] section of a
 * recipe (format in fx/serial.h), hooked into recipe.c. */
#ifndef FX_CONF_RECIPE_SERIAL_H
#define FX_CONF_RECIPE_SERIAL_H

#include "fx/conf.h"
#include "ini_reader.h"

/* Defaults of r->serial_number (disabled until the section is seen). */
void fx_recipe_serial_defaults(struct fx_recipe *r);
/* One key of [serial_number]; problems reported with fx_ini_error(). */
void fx_recipe_serial_key(struct fx_ini *ini, struct fx_recipe *r,
			  const char *key, const char *value);
/* The checks that need the whole file (after every other section is
 * parsed; firmware_ok = r->firmware names a file whose hash matched). */
void fx_recipe_serial_check(struct fx_ini *ini, struct fx_recipe *r,
			    bool firmware_ok);

#endif
