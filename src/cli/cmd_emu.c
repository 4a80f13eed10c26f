/* cmd_emu.c - `fixturectl emu`: make and inspect emulated board files
 * (demo, training, recipe dry-runs, CI). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"
#include "cmd_emu.h"
#include "fx/board.h"
#include "fx/emu.h"
#include "fx/bytes.h"
#include "fx/image.h"
#include "fx/stm32g4.h"

static const char emu_usage[] =
	"usage: fixturectl emu create FILE [options]\n"
	"       fixturectl emu show FILE\n"
	"\n"
	"Create an emulated STM32G474xE board file (a factory-fresh chip unless\n"
	"options say otherwise) or show what one holds.\n"
	"\n"
	"create options:\n"
	"  --uid HEX24         96-bit UID as 24 hex digits (default: derived from FILE)\n"
	"  --app VID:PID       USB ID of the modelled application (default 1209:0001)\n"
	"  --single-bank       option bytes with DBANK=0 (default: factory DBANK=1)\n"
	"  --image FILE        preload this firmware into flash (in the board's bank mode)\n"
	"  --address A         load address of a raw .bin image\n"
	"  --corrupt           fill the start of flash with garbage (a corrupted board)\n"
	"  --rdp1              read protection level 1\n"
	"  --force             overwrite an existing FILE\n"
	"\n"
	"exit codes: 0 ok, 64 usage, 65 bad image, or (show) FILE is not a board\n"
	"            file, 66 FILE missing, unreadable or not writable\n";

/* What `emu create` was asked for. */
struct create_opts {
	struct fx_emu_identity id;
	bool have_uid, single, corrupt, rdp1, force, have_addr;
	const char *image, *path;
	uint32_t addr;
};

static int parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(s) != n * 2)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = fx_hex_digit(s[2 * i]), lo = fx_hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* One value option of create; 0 or the usage error's exit code. */
static int create_value(struct create_opts *o, int c, const char *v)
{
	unsigned vid, pid;
	char tail;

	switch (c) {
	case 'u':
		if (parse_hex_bytes(v, o->id.uid, 12))
			return fx_cli_usage_error("emu", "--uid: expected 24 hex digits, got '%s'", v);
		o->have_uid = true;
		return 0;
	case 'a':
		if (sscanf(v, "%4x:%4x%c", &vid, &pid, &tail) != 2)
			return fx_cli_usage_error("emu", "--app: expected VID:PID in hex, got '%s'", v);
		o->id.app_vid = (uint16_t)vid;
		o->id.app_pid = (uint16_t)pid;
		return 0;
	case 'i':
		o->image = v;
		return 0;
	default: /* 'A' */
		if (!fx_cli_parse_u32(v, UINT32_MAX, &o->addr))
			return fx_cli_usage_error("emu", "--address: expected a number, got '%s'", v);
		o->have_addr = true;
		return 0;
	}
}

/* argv into o: -1 to go on, else the exit code (usage error, --help). */
static int create_args(int argc, char **argv, struct create_opts *o)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "app", required_argument, NULL, 'a' },
		{ "single-bank", no_argument, NULL, 's' },
		{ "image", required_argument, NULL, 'i' },
		{ "address", required_argument, NULL, 'A' },
		{ "corrupt", no_argument, NULL, 'c' },
		{ "rdp1", no_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc, before;

	memset(o, 0, sizeof(*o));
	o->id.app_vid = 0x1209;
	o->id.app_pid = 0x0001;
	optind = 1;
	opterr = 0;
	while ((before = optind, c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
		case 'a':
		case 'i':
		case 'A':
			rc = create_value(o, c, optarg);
			if (rc)
				return rc;
			break;
		case 's':
			o->single = true;
			break;
		case 'c':
			o->corrupt = true;
			break;
		case 'r':
			o->rdp1 = true;
			break;
		case 'f':
			o->force = true;
			break;
		case 'h':
			fputs(emu_usage, stdout);
			return 0;
		case ':':
		default:
			return fx_cli_option_error("emu", c, argv, before);
		}
	}
	if (optind + 1 != argc)
		return fx_cli_usage_error("emu", "create needs exactly one FILE");
	o->path = argv[optind];
	if (!o->force && access(o->path, F_OK) == 0)
		return fx_cli_usage_error("emu", "'%s' exists (use --force to overwrite)", o->path);
	return -1;
}

/* Without --uid: the UID a fresh board file at this path gets (an
 * existing file overwritten with --force keeps its UID: the same chip). */
static int path_uid(struct create_opts *o, const struct fx_clock *clk,
		    struct fx_err *err)
{
	struct fx_emu *tmp;

	if (o->have_uid)
		return 0;
	tmp = fx_emu_load(o->path, clk, err);
	if (!tmp)
		return err->code;
	fx_emu_uid(tmp, o->id.uid);
	fx_emu_free(tmp);
	return 0;
}

/* The board as the options say (fx/board.h), saved to its file. */
static int build_and_save(const struct create_opts *o, const struct fx_clock *clk,
			  struct fx_err *err)
{
	struct fx_board_spec spec = { 0 };
	struct fx_image *img = NULL;
	struct fx_g4_ob ob;
	struct fx_emu *e;
	int rc;

	fx_g4_ob_factory(&ob);
	if (o->single && (rc = fx_g4_ob_apply(&ob, "DBANK=0", err)))
		return rc;
	if (o->image) {
		img = fx_image_load(o->image, FX_IMAGE_AUTO, o->have_addr, o->addr, err);
		if (!img)
			return err->code;
	}
	spec.id = &o->id;
	spec.ob = o->single ? &ob : NULL; /* NULL: fx_emu_new's factory bytes */
	spec.img = img;
	spec.img_name = o->image;
	spec.corrupt = o->corrupt;
	spec.rdp1 = o->rdp1;
	e = fx_board_build(&spec, clk, err);
	fx_image_free(img);
	if (!e)
		return err->code;
	rc = fx_emu_save(e, o->path, err);
	fx_emu_free(e);
	return rc;
}

static int emu_create(int argc, char **argv)
{
	struct create_opts o;
	struct fx_vclock vc;
	struct fx_err err;
	int rc = create_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	fx_err_clear(&err);
	fx_vclock_init(&vc);
	if (path_uid(&o, &vc.base, &err) || build_and_save(&o, &vc.base, &err))
		return fx_cli_fail("emu", &err);
	printf("%s: emulated STM32G474xE, %s bank%s%s%s\n", o.path,
	       o.single ? "single" : "dual", o.image ? ", image " : "",
	       o.image ? o.image : "", o.corrupt ? ", corrupted" : "");
	return 0;
}

static int emu_show(int argc, char **argv)
{
	struct fx_vclock vc;
	struct fx_emu *e;
	struct fx_err err;
	struct fx_g4_ob ob;
	uint8_t raw[48], uid[12], vt[8];
	char serial[16];
	uint32_t optr, sp, rv;

	if (argc != 2)
		return fx_cli_usage_error("emu", "show needs exactly one FILE");
	if (access(argv[1], F_OK) != 0) {
		fprintf(stderr, "fixturectl emu: '%s': no such board file\n", argv[1]);
		return FX_EXIT_NOINPUT;
	}
	fx_err_clear(&err);
	fx_vclock_init(&vc);
	e = fx_emu_load(argv[1], &vc.base, &err);
	/* a file we can read whole that does not load is bad data (65); one
	 * we cannot open or read stays 66 */
	if (!e && err.code == FX_E_FILE && fx_cli_file_readable(argv[1])) {
		fprintf(stderr, "fixturectl emu: %s\n", err.msg);
		return FX_EXIT_DATAERR;
	}
	if (!e)
		return fx_cli_fail("emu", &err);
	fx_emu_uid(e, uid);
	fx_g4_serial_from_uid(uid, serial, sizeof(serial));
	fx_emu_backdoor_ob(e, 0, raw, false);
	optr = fx_emu_optr(e);
	(void)fx_g4_ob_decode(&ob, 0, raw, &err);
	fx_emu_backdoor_flash_read(e, G4_FLASH_BASE, vt, sizeof(vt));
	sp = fx_get_le32(vt);
	rv = fx_get_le32(vt + 4);
	printf("board:   %s\nserial:  %s\nOPTR:    0x%08X (DBANK=%u, RDP level %d)\n"
	       "vectors: SP 0x%08X reset 0x%08X\n",
	       argv[1], serial, optr, fx_g4_dual_bank(optr) ? 1u : 0u,
	       fx_g4_rdp_level(optr), sp, rv);
	fx_emu_free(e);
	return 0;
}

int fx_cmd_emu(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(emu_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? FX_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "create"))
		return emu_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return emu_show(argc - 1, argv + 1);
	return fx_cli_usage_error("emu", "unknown subcommand '%s'", argv[1]);
}
