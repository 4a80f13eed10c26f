/* cmd_check.c - `fixturectl check FILE...`: validate station and recipe
 * files without hardware (the kind is told by the sections: [recipe] or
 * [station]/[slot N]). Every problem is printed as FILE:LINE: ..., not
 * only the first. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cmd_check.h"
#include "fx/bytes.h"
#include "fx/conf.h"
#include "fx/dfu_wire.h"
#include "fx/image.h"
#include "fx/stm32g4.h"

static const char check_usage[] =
	"usage: fixturectl check FILE...\n"
	"\n"
	"Validate station files (stations/*.ini) and recipes (config/*.ini)\n"
	"without touching hardware: syntax, unknown or duplicate sections and\n"
	"keys, values, gpio line names and flags, device URIs, option-byte\n"
	"names, the firmware file and its SHA-256. Prints one line per file:\n"
	"  FILE: ok (recipe NAME VERSION)\n"
	"  FILE: ok (station NAME, N slots, gpio BACKEND)\n"
	"or every problem found as FILE:LINE: key 'x': ... on stderr.\n"
	"\n"
	"exit codes: 0 all files ok, 64 usage, 65 a file is invalid,\n"
	"            66 a file cannot be read (and none is invalid)\n";

static void print_diags(const struct fx_conf_diags *d, const struct fx_err *err)
{
	size_t i;

	if (!d->n) {
		fprintf(stderr, "%s\n", err->msg[0] ? err->msg : fx_strerror(err->code));
		return;
	}
	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->msgs[i]);
}

/* The recipe's image as the station will load it: a file that does not
 * load is an error (FX_E_IMAGE / FX_E_FILE / FX_E_NOMEM, printed); one
 * that loads with a loader warning, or without a plausible vector table
 * at the flash base (every board would then fail app_check, spec 8), is
 * ok with a warning on stderr. */
static int check_image(const char *path, const struct fx_recipe *r)
{
	struct fx_image *img;
	struct fx_err err;
	uint8_t vt[8];

	fx_err_clear(&err);
	img = fx_image_load(r->firmware, FX_IMAGE_AUTO, r->firmware_raw, r->address, &err);
	if (!img) {
		fprintf(stderr, "%s: firmware: %s\n", path, err.msg);
		return err.code ? err.code : FX_E_IMAGE;
	}
	if (img->warning[0])
		fprintf(stderr, "%s: warning: firmware: %s\n", path, img->warning);
	if (fx_image_read(img, G4_FLASH_BASE, vt, sizeof(vt)))
		fprintf(stderr, "%s: warning: firmware '%s': no data at 0x%08X: no vector table, "
			"the application will not start (every board fails app_check)\n",
			path, r->firmware, G4_FLASH_BASE);
	else if (!fx_g4_vectors_plausible(vt, G4_FLASH_BASE, G4_FLASH_SIZE))
		fprintf(stderr, "%s: warning: firmware '%s': no plausible vector table at 0x%08X "
			"(initial SP 0x%08X, reset vector 0x%08X): the application will not "
			"start (every board fails app_check)\n",
			path, r->firmware, G4_FLASH_BASE, (unsigned)fx_get_le32(vt),
			(unsigned)fx_get_le32(vt + 4));
	fx_image_free(img);
	return 0;
}

/* 0, FX_E_CONFIG, FX_E_FILE or FX_E_NOMEM */
static int check_one(const char *path)
{
	struct fx_conf_diags d;
	enum fx_conf_kind kind;
	struct fx_err err;
	int rc;

	fx_err_clear(&err);
	fx_conf_diags_init(&d);
	rc = fx_conf_detect(path, &kind, &err);
	if (rc) {
		print_diags(&d, &err);
		return rc;
	}
	if (kind == FX_CONF_RECIPE) {
		struct fx_recipe *r = NULL;

		rc = fx_recipe_load(path, &r, &d, &err);
		if (!rc) {
			rc = check_image(path, r);
			if (!rc)
				printf("%s: ok (recipe %s %s)\n", path, r->name, r->version);
			else if (rc == FX_E_IMAGE)
				rc = FX_E_CONFIG; /* content invalid: 65 */
			fflush(stdout);
			fx_recipe_free(r);
			fx_conf_diags_release(&d);
			return rc; /* check_image printed what was wrong */
		}
		fx_recipe_free(r);
	} else {
		struct fx_station *st = NULL;

		rc = fx_station_load(path, &st, &d, &err);
		if (!rc)
			printf("%s: ok (station %s, %zu slot%s, gpio %s)\n", path, st->name,
			       st->n_slots, st->n_slots == 1 ? "" : "s", st->gpio_backend);
		fx_station_free(st);
	}
	fflush(stdout); /* keep ok lines and errors in file order */
	if (rc)
		print_diags(&d, &err);
	fx_conf_diags_release(&d);
	return rc;
}

int fx_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool invalid = false, unreadable = false, nomem = false;
	int c, i, before;

	optind = 1;
	opterr = 0;
	while ((before = optind, c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(check_usage, stdout);
			return FX_EXIT_OK;
		default:
			return fx_cli_option_error("check", c, argv, before);
		}
	}
	if (optind >= argc)
		return fx_cli_usage_error("check", "no FILE given (see --help)");
	for (i = optind; i < argc; i++) {
		switch (check_one(argv[i])) {
		case 0:
			break;
		case FX_E_FILE:
			unreadable = true;
			break;
		case FX_E_NOMEM:
			nomem = true;
			break;
		default:
			invalid = true;
			break;
		}
	}
	fflush(stdout);
	if (nomem)
		return FX_EXIT_SOFTWARE;
	if (invalid)
		return FX_EXIT_DATAERR;
	return unreadable ? FX_EXIT_NOINPUT : FX_EXIT_OK;
}
