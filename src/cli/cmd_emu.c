/* cmd_emu.c - `fixturectl emu`: make and inspect emulated board files
 * (demo, training, recipe dry-runs, CI). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"
#include "cmd_emu.h"
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

static int parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(s) != n * 2)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned v;
		char two[3] = { s[2 * i], s[2 * i + 1], 0 };
		char *end;

		v = (unsigned)strtoul(two, &end, 16);
		if (*end)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int set_optr_field(struct fx_emu *e, const char *assign, struct fx_err *err)
{
	struct fx_g4_ob ob;
	uint8_t raw[48];
	int rc;

	rc = fx_emu_backdoor_ob(e, 0, raw, false);
	if (!rc)
		rc = fx_g4_ob_decode(&ob, 0, raw, err);
	if (!rc)
		rc = fx_g4_ob_apply(&ob, assign, err);
	if (rc)
		return rc;
	fx_g4_ob_encode(&ob, 0, raw);
	return fx_emu_backdoor_ob(e, 0, raw, true);
}

static int emu_create(int argc, char **argv)
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
	struct fx_emu_identity id = { .app_vid = 0x1209, .app_pid = 0x0001 };
	bool have_uid = false, single = false, corrupt = false, rdp1 = false;
	bool force = false, have_addr = false;
	const char *image = NULL, *path;
	uint32_t addr = 0;
	struct fx_vclock vc;
	struct fx_emu *e = NULL;
	struct fx_image *img = NULL;
	struct fx_err err;
	int c, rc = 0, before;
	size_t i;

	fx_err_clear(&err);
	optind = 1;
	opterr = 0;
	while ((before = optind, c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (parse_hex_bytes(optarg, id.uid, 12))
				return fx_cli_usage_error("emu", "--uid: expected 24 hex digits, got '%s'", optarg);
			have_uid = true;
			break;
		case 'a': {
			unsigned v, p;
			char tail;

			if (sscanf(optarg, "%4x:%4x%c", &v, &p, &tail) != 2)
				return fx_cli_usage_error("emu", "--app: expected VID:PID in hex, got '%s'", optarg);
			id.app_vid = (uint16_t)v;
			id.app_pid = (uint16_t)p;
			break;
		}
		case 's':
			single = true;
			break;
		case 'i':
			image = optarg;
			break;
		case 'A':
			if (!fx_cli_parse_u32(optarg, UINT32_MAX, &addr))
				return fx_cli_usage_error("emu", "--address: expected a number, got '%s'", optarg);
			have_addr = true;
			break;
		case 'c':
			corrupt = true;
			break;
		case 'r':
			rdp1 = true;
			break;
		case 'f':
			force = true;
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
	path = argv[optind];
	if (!force && access(path, F_OK) == 0)
		return fx_cli_usage_error("emu", "'%s' exists (use --force to overwrite)", path);

	fx_vclock_init(&vc);
	if (!have_uid) {
		/* the UID a fresh board file at this path gets (an existing file
		 * overwritten with --force keeps its UID: the same chip) */
		struct fx_emu *tmp = fx_emu_load(path, &vc.base, &err);

		if (!tmp)
			return fx_cli_fail("emu", &err);
		fx_emu_uid(tmp, id.uid);
		fx_emu_free(tmp);
	}
	e = fx_emu_new(&id, &vc.base, &err);
	if (!e)
		return fx_cli_fail("emu", &err);
	if (single && (rc = set_optr_field(e, "DBANK=0", &err)))
		goto fail;
	if (image) {
		img = fx_image_load(image, FX_IMAGE_AUTO, have_addr, addr, &err);
		if (!img) {
			rc = err.code;
			goto fail;
		}
		for (i = 0; i < img->nsegs; i++) {
			rc = fx_emu_backdoor_flash_write(e, img->segs[i].addr,
							 img->segs[i].data,
							 img->segs[i].len);
			if (rc) {
				fx_err_set(&err, rc, "image '%s': segment at 0x%08x cannot be placed in flash",
					   image, img->segs[i].addr);
				goto fail;
			}
		}
	}
	if (corrupt) {
		uint8_t junk[4096];
		uint32_t x = 0x2545F491u;

		for (i = 0; i < sizeof(junk); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			junk[i] = (uint8_t)x;
		}
		/* an even reset vector: never a plausible vector table */
		junk[4] &= 0xFE;
		rc = fx_emu_backdoor_flash_write(e, G4_FLASH_BASE, junk, sizeof(junk));
		if (rc) {
			fx_err_set(&err, rc, "cannot write garbage into flash");
			goto fail;
		}
	}
	if (rdp1 && (rc = set_optr_field(e, "RDP=0xBB", &err)))
		goto fail;
	rc = fx_emu_save(e, path, &err);
	if (rc)
		goto fail;
	printf("%s: emulated STM32G474xE, %s bank%s%s%s\n", path,
	       single ? "single" : "dual", image ? ", image " : "",
	       image ? image : "", corrupt ? ", corrupted" : "");
	fx_image_free(img);
	fx_emu_free(e);
	return 0;
fail:
	fx_image_free(img);
	fx_emu_free(e);
	return fx_cli_fail("emu", &err);
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
