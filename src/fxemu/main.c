/* main.c - build/fxemu: run any program with emulated STM32G474 boards on
 * an emulated USB bus (umockdev usbfs bridge, fxemu.h).
 *
 *   fxemu [--board FILE[?KNOBS]]... [--realtime[=SCALE]] [--app-vid VID:PID]
 *         [--hub multi-tt|single-tt] [-v] -- CMD [ARGS...]
 *   fxemu --ctl REQUEST       (inside CMD: ask the running fxemu, ctl.c)
 *
 * Time: the boards run on a scaled real clock. External programs sleep in
 * real time (dfu-util sleeps bwPollTimeout), so a virtual clock advanced
 * "as fast as possible" is impossible here: the default is the spec's
 * timings in real time (scale 1.0); --realtime=0.05 runs the device 20
 * times faster (poll timeouts the board reports shrink with it).
 *
 * Environment: umockdev needs libumockdev-preload in LD_PRELOAD of the
 * testbed process itself (usbfs-emulation.md), so fxemu re-executes itself
 * with it when $LD_PRELOAD lacks it, and puts build/libfxemu-preload.so
 * before it (one uevent socket per client process: several concurrent
 * clients each hear every plug); CMD inherits LD_PRELOAD and
 * UMOCKDEV_DIR. FXEMU_PORTS lists the boards' port paths for CMD
 * ("1-1 1-2"), FXEMU_SCALE the --realtime scale ("0.05"), FXEMU_CTL the
 * pin control socket (ctl.c: the station's BOOT0/NRST/POWER lines of
 * each port, as a jig would drive them). ASAN_OPTIONS gets verify_asan_link_order=0 so ASan builds
 * run under the preload.
 *
 * Exit status: CMD's (128+N when killed by signal N); 64 usage, 66 a board
 * file unreadable, 70 the testbed could not be built, 74 a board file could
 * not be saved, 127 CMD not found. --ctl: 0 "ok ...", 1 "err ...", 69 no
 * fxemu to ask ($FXEMU_CTL unset or not answering).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fx/log.h"
#include "fxemu.h"

#define PRELOAD_LIB "libumockdev-preload.so.0"
#define COMPANION_LIB "libfxemu-preload.so"

#if defined(__SANITIZE_ADDRESS__)
/* glib/umockdev keep type and thread data until exit: not our leaks */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libglib-2.0.so\nleak:libgobject-2.0.so\nleak:libgio-2.0.so\n"
	       "leak:libumockdev.so\nleak:g_type_\nleak:g_thread_\n";
}
#endif

static const char usage_text[] =
	"usage: fxemu [--board FILE[?KNOBS]]... [--realtime[=SCALE]] [--app-vid VID:PID]\n"
	"             [--hub multi-tt|single-tt] [-v] -- CMD [ARGS...]\n"
	"       fxemu --ctl REQUEST\n"
	"\n"
	"Run CMD with one emulated STM32G474 board per --board on an emulated USB\n"
	"bus (ports 1-1, 1-2, ...). Any libusb program works unmodified, e.g.\n"
	"  fxemu --board b.fxb -- dfu-util -l\n"
	"The board files are created factory-fresh when missing and saved when CMD\n"
	"exits. KNOBS: the emulator knobs of an emu: URI (boot0=0, xfer=2048, ...).\n"
	"CMD gets FXEMU_PORTS (the boards' ports), FXEMU_SCALE and FXEMU_CTL, a\n"
	"socket that drives the boards' BOOT0/NRST/POWER pins ('pin 1-1 nrst 0'):\n"
	"a station file with 'emulator = fxemu' uses it for its sim: lines.\n"
	"\n"
	"  --board FILE[?KNOBS]  add a board (at most 8)\n"
	"  --realtime[=SCALE]    real time = device time x SCALE (default 1.0: the\n"
	"                        spec's timings; 0.05 = 20 times faster)\n"
	"  --app-vid VID:PID     application USB identity of new boards (hex)\n"
	"  --hub multi-tt|single-tt  multi-tt (default): every board has its own\n"
	"                        full-speed transaction translator; single-tt: all\n"
	"                        boards share one 12 Mbit/s bus, transfers in turn\n"
	"  -v, --verbose         log plug/unplug (twice: every control transfer)\n"
	"  --ctl REQUEST         inside CMD: send REQUEST to this fxemu's pin socket\n"
	"                        ($FXEMU_CTL) and print the answer: 'pins 1-1' (the\n"
	"                        board's BOOT0/NRST/POWER), 'state 1-1', 'pin 1-1 nrst 0'\n"
	"\n"
	"Limit: the boards' device nodes are FIFOs, not character devices. A program\n"
	"that opens the node itself and hands libusb the file descriptor\n"
	"(libusb_wrap_sys_device, e.g. fwupd/fwupdtool) cannot open an fxemu board:\n"
	"libusb's lseek on the FIFO fails with ESPIPE (\"lseek failed, errno=29\").\n"
	"Programs that find devices by enumeration (libusb_get_device_list: dfu-util,\n"
	"pyusb, node-usb, fixturectl) work unmodified.\n"
	"\n"
	"exit status: CMD's; 64 usage, 66 bad board file, 70 testbed error,\n"
	"74 board not saved, 127 CMD not found; --ctl: 0 ok, 1 refused, 69 no fxemu\n";

static void log_stderr(enum fx_log_level lvl, const char *module,
		       const char *msg, void *user)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	(void)user;
	fprintf(stderr, "fxemu: %s: %s: %s\n", names[lvl], module, msg);
}

static bool has_preload(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "libumockdev-preload");
}

/* fxemu's own preload companion next to the binary (Makefile:
 * build/libfxemu-preload.so, src/fxemu/preload/): "" when missing. */
static void companion(char *buf, size_t cap)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	buf[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	if ((size_t)snprintf(buf, cap, "%s/%s", exe, COMPANION_LIB) >= cap ||
	    access(buf, R_OK) != 0)
		buf[0] = '\0';
}

/* Re-execute with the umockdev preload (the testbed process needs it),
 * and before it the companion that gives every client process its own
 * uevent socket (src/fxemu/preload/fxemu_preload.c). */
static int reexec(char **argv)
{
	const char *old = getenv("LD_PRELOAD");
	const char *asan = getenv("ASAN_OPTIONS");
	char pre[4096], ao[4096], comp[PATH_MAX];

	companion(comp, sizeof(comp));
	if (!comp[0])
		fprintf(stderr, "fxemu: warning: %s not found next to fxemu: "
			"concurrent client processes may miss plug events\n",
			COMPANION_LIB);
	if ((size_t)snprintf(pre, sizeof(pre), "%s%s%s%s%s", comp, comp[0] ? ":" : "",
			     PRELOAD_LIB, old && *old ? ":" : "",
			     old ? old : "") >= sizeof(pre) ||
	    (size_t)snprintf(ao, sizeof(ao), "%s%sverify_asan_link_order=0",
			     asan ? asan : "", asan && *asan ? ":" : "") >= sizeof(ao)) {
		fprintf(stderr, "fxemu: LD_PRELOAD or ASAN_OPTIONS too long\n");
		return 70;
	}
	setenv("LD_PRELOAD", pre, 1);
	setenv("ASAN_OPTIONS", ao, 1);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "fxemu: cannot re-execute with %s: %s\n", PRELOAD_LIB,
		strerror(errno));
	return 70;
}

static bool parse_vidpid(const char *s, uint16_t *vid, uint16_t *pid)
{
	unsigned v, p;
	char tail;

	if (sscanf(s, "%x:%x%c", &v, &p, &tail) != 2 || v > 0xffff || p > 0xffff ||
	    !v)
		return false;
	*vid = (uint16_t)v;
	*pid = (uint16_t)p;
	return true;
}

static int run_child(char **cmd)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fxemu: fork: %s\n", strerror(errno));
		return 70;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(cmd[0], cmd);
		fprintf(stderr, "fxemu: cannot run '%s': %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "fxemu: waitpid: %s\n", strerror(errno));
			return 70;
		}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 70;
}

/* Identity of board argument arg (FILE[?KNOBS]): "@dev:ino" of an
 * existing file, else its directory resolved + its name, else the path
 * with "//" and "/./" squeezed out. Two boards on one file would save over
 * each other's programming. */
static void board_key(const char *arg, char *key, size_t cap)
{
	char path[PATH_MAX], dir[PATH_MAX], *slash;
	struct fx_emu_uri u;
	struct stat sb;
	size_t i, o;

	/* a board argument that does not parse fails at fxe_bed_add_board */
	if (fx_emu_uri_parse(arg, &u, NULL) == 0)
		snprintf(path, sizeof(path), "%s", u.path);
	else
		snprintf(path, sizeof(path), "%s", arg);
	fx_emu_uri_release(&u);
	if (stat(path, &sb) == 0) {
		snprintf(key, cap, "@%llu:%llu", (unsigned long long)sb.st_dev,
			 (unsigned long long)sb.st_ino);
		return;
	}
	slash = strrchr(path, '/');
	if (realpath(slash ? (slash == path ? "/" : (*slash = '\0', path)) : ".",
		     dir)) {
		if (snprintf(key, cap, "%s/%s", dir, slash ? slash + 1 : path) >=
		    (int)cap)
			key[cap - 1] = '\0'; /* cut like any PATH_MAX path */
		return;
	}
	if (slash)
		*slash = '/';
	for (i = 0, o = 0; path[i] && o + 1 < cap; i++) {
		if (path[i] == '/' && o && key[o - 1] == '/')
			continue;
		if (path[i] == '.' && path[i + 1] == '/' && (!i || path[i - 1] == '/')) {
			i++;
			continue;
		}
		key[o++] = path[i];
	}
	key[o] = '\0';
}

/* 0, or 64 after naming the first board file given twice. */
static int check_duplicates(const char *const *boards, unsigned n)
{
	char keys[FXE_MAX_BOARDS][PATH_MAX + 8];

	for (unsigned i = 0; i < n; i++) {
		board_key(boards[i], keys[i], sizeof(keys[i]));
		for (unsigned j = 0; j < i; j++) {
			if (strcmp(keys[i], keys[j]))
				continue;
			fprintf(stderr, "fxemu: --board '%s': the same board file as "
				"--board '%s' (each board needs its own file)\n",
				boards[i], boards[j]);
			return 64;
		}
	}
	return 0;
}

/* What the command line asked for. */
struct fxemu_args {
	const char *boards[FXE_MAX_BOARDS];
	unsigned nboards;
	uint16_t app_vid, app_pid;
	double scale;
	enum fxe_hub hub;
	int verbose;
	const char *ctl;  /* --ctl REQUEST, else NULL */
	char **cmd;
};

/* -1 = go on, else the exit status (usage: 64, --help: 0). */
static int parse_args(int argc, char **argv, struct fxemu_args *a)
{
	static const struct option opts[] = {
		{ "board", required_argument, NULL, 'b' },
		{ "realtime", optional_argument, NULL, 'r' },
		{ "app-vid", required_argument, NULL, 'a' },
		{ "hub", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->scale = 1.0;
	a->hub = FXE_HUB_MULTI_TT;
	while ((c = getopt_long(argc, argv, "+b:va:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (a->nboards >= FXE_MAX_BOARDS) {
				fprintf(stderr, "fxemu: at most %d boards\n", FXE_MAX_BOARDS);
				return 64;
			}
			a->boards[a->nboards++] = optarg;
			break;
		case 'r': {
			char *end;

			a->scale = optarg ? strtod(optarg, &end) : 1.0;
			if (optarg && (end == optarg || *end || !(a->scale > 0) ||
				       a->scale > 1000)) {
				fprintf(stderr, "fxemu: --realtime: expected a scale > 0, "
					"got '%s'\n", optarg);
				return 64;
			}
			break;
		}
		case 'a':
			if (!parse_vidpid(optarg, &a->app_vid, &a->app_pid)) {
				fprintf(stderr, "fxemu: --app-vid: expected VID:PID in hex, "
					"got '%s'\n", optarg);
				return 64;
			}
			break;
		case 'H':
			if (!strcmp(optarg, "multi-tt")) {
				a->hub = FXE_HUB_MULTI_TT;
			} else if (!strcmp(optarg, "single-tt")) {
				a->hub = FXE_HUB_SINGLE_TT;
			} else {
				fprintf(stderr, "fxemu: --hub: expected multi-tt or single-tt, "
					"got '%s'\n", optarg);
				return 64;
			}
			break;
		case 'v':
			a->verbose++;
			break;
		case 'c':
			a->ctl = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 64;
		}
	}
	if (a->ctl) {
		if (optind < argc || a->nboards) {
			fprintf(stderr, "fxemu: --ctl REQUEST takes no boards and no CMD\n");
			return 64;
		}
		return -1;
	}
	if (optind >= argc) {
		fprintf(stderr, "fxemu: expected -- CMD [ARGS...]\n");
		fputs(usage_text, stderr);
		return 64;
	}
	a->cmd = argv + optind;
	return check_duplicates(a->boards, a->nboards) ? 64 : -1;
}

/* Logging, timer slack, signals of the testbed process. */
static void setup_process(const struct fxemu_args *a)
{
	fx_log_set_handler(log_stderr, NULL,
			   a->verbose >= 2 ? FX_LOG_DEBUG : a->verbose ? FX_LOG_INFO : FX_LOG_WARN);
	/* control transfers cost ~0.25 ms instead of ~0.4 ms with 1 ns timer
	 * slack (usbfs-emulation.md); children inherit it */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	signal(SIGPIPE, SIG_IGN);
}

/* The testbed with every board on its port; FXEMU_PORTS for CMD.
 * 0 or the exit status (bed released). */
static int build_bed(struct fxe_bed *bed, const struct fxemu_args *a)
{
	char ports[FXE_MAX_BOARDS * 6 + 1] = "";
	struct fx_err err;
	int rc;

	fx_err_clear(&err);
	rc = fxe_bed_init(bed, a->scale, a->verbose, &err);
	if (rc) {
		fprintf(stderr, "fxemu: %s\n", err.msg);
		fxe_bed_release(bed);
		return 70;
	}
	bed->hub = a->hub;
	for (unsigned i = 0; i < a->nboards; i++) {
		struct fx_emu_uri u;

		rc = fx_emu_uri_parse(a->boards[i], &u, &err);
		if (rc == FX_E_NOMEM) {
			fx_emu_uri_release(&u);
			fxe_bed_release(bed);
			return 70;
		}
		if (!rc)
			rc = fxe_bed_add_board(bed, u.path, u.query, a->app_vid, a->app_pid, &err);
		else if (u.path)
			fx_err_prefix(&err, "board '%s'", u.path);
		fx_emu_uri_release(&u);
		if (rc) {
			fprintf(stderr, "fxemu: %s\n", err.msg);
			fxe_bed_release(bed);
			return rc == FX_E_CONFIG ? 64 : 66;
		}
		snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports), "%s1-%u",
			 i ? " " : "", i + 1);
	}
	setenv("FXEMU_PORTS", ports, 1);
	return 0;
}

/* Boards enumerated, pin socket served; FXEMU_SCALE and FXEMU_CTL set.
 * 0 or the exit status (bed released). */
static int start_bed(struct fxe_bed *bed, const struct fxemu_args *a)
{
	struct fx_err err;
	char scale_s[32];
	int rc;

	fx_err_clear(&err);
	snprintf(scale_s, sizeof(scale_s), "%g", a->scale);
	setenv("FXEMU_SCALE", scale_s, 1);
	rc = fxe_bed_start(bed, &err);
	if (!rc)
		rc = fxe_ctl_start(bed, &err);
	if (rc) {
		fprintf(stderr, "fxemu: %s\n", err.msg);
		fxe_bed_release(bed);
		return 70;
	}
	setenv("FXEMU_CTL", bed->ctl_path, 1);
	return 0;
}

/* Save the boards, free the bed: CMD's status, or 74 when CMD succeeded
 * but a board file was not saved. */
static int finish(struct fxe_bed *bed, int cmd_status)
{
	struct fx_err err;
	int rc;

	fx_err_clear(&err);
	rc = fxe_bed_stop_save(bed, &err);
	if (rc)
		fprintf(stderr, "fxemu: %s\n", err.msg);
	fxe_bed_release(bed);
	return rc && cmd_status == 0 ? 74 : cmd_status;
}

/* fxemu --ctl REQUEST: the answer of the fxemu whose CMD runs us. */
static int ctl_client(const char *req)
{
	const char *path = getenv("FXEMU_CTL");
	char ans[512];
	struct fx_err err;

	fx_err_clear(&err);
	if (!path || !*path) {
		fprintf(stderr, "fxemu: --ctl: FXEMU_CTL is not set (run inside "
			"fxemu ... -- CMD)\n");
		return 69;
	}
	if (fxe_ctl_request(path, req, ans, sizeof(ans), &err)) {
		fprintf(stderr, "fxemu: --ctl: %s\n", err.msg);
		return err.code == FX_E_INVAL ? 64 : 69;
	}
	puts(ans);
	return strncmp(ans, "ok", 2) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct fxemu_args a;
	struct fxe_bed bed;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (a.ctl)
		return ctl_client(a.ctl);
	if (!has_preload())
		return reexec(argv);
	setup_process(&a);
	rc = build_bed(&bed, &a);
	if (!rc)
		rc = start_bed(&bed, &a);
	if (rc)
		return rc;
	/* the terminal's ^C goes to CMD; fxemu saves the boards after it */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	return finish(&bed, run_child(a.cmd));
}
