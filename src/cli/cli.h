/* cli.h - shared by the src/cli/ commands (the only code that prints and
 * exits). */
#ifndef FX_CLI_CLI_H
#define FX_CLI_CLI_H

#ifndef FX_VERSION
#define FX_VERSION "0.1.0"
#endif

/* Exit codes: one table for every command (documented in README). */
enum fx_exit {
	FX_EXIT_OK = 0,
	FX_EXIT_FAIL = 1,        /* the unit failed (verify mismatch, FAIL result) */
	FX_EXIT_USAGE = 64,      /* bad command line (EX_USAGE) */
	FX_EXIT_DATAERR = 65,    /* bad input file: image, recipe, station (EX_DATAERR) */
	FX_EXIT_NOINPUT = 66,    /* input file missing or unreadable (EX_NOINPUT) */
	FX_EXIT_NODEV = 69,      /* no device / device never came back (EX_UNAVAILABLE) */
	FX_EXIT_SOFTWARE = 70,   /* internal error (EX_SOFTWARE) */
	FX_EXIT_IOERR = 74,      /* USB or database I/O error (EX_IOERR) */
	FX_EXIT_EXHAUSTED = 75,  /* run: the serial-number pool is exhausted,
				  * the station stopped before the next board
				  * (EX_TEMPFAIL: refill the pool, run again) */
	FX_EXIT_PROTOCOL = 76,   /* device misbehaved or reported an error (EX_PROTOCOL) */
};

struct fx_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const char *summary;
};

#endif
