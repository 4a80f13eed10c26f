/* fleet_int.h - private to src/fleet/: the connection object. */
#ifndef FX_FLEET_FLEET_INT_H
#define FX_FLEET_FLEET_INT_H

#include <libpq-fe.h>

#include "fx/fleet.h"

extern const char *const fx_fleet_migrations[FX_FLEET_SCHEMA_VERSION];

struct fx_fleet {
	PGconn *pg;
	char uri[512];    /* display form, no secret */
};

/* FX_E_IO (or code) with "server 'URI': <libpq message, one line>". */
int fx_fleet_pgerr(struct fx_fleet *f, const PGresult *res, int code, const char *what,
		   struct fx_err *err);
/* Run sql (no parameters); 0 or fx_fleet_pgerr. */
int fx_fleet_exec(struct fx_fleet *f, const char *sql, struct fx_err *err);

#endif
