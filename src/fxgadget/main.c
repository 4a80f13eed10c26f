/* main.c - build/fxgadget: emulated STM32G474 boards as real USB devices
 * through the Linux gadget stack (configfs + FunctionFS on a UDC, normally
 * dummy_hcd in the kernel test VM: tests/kernel/). fxgadget.h has the
 * model; ../shared/spec/kernel-tier.md the measured kernel facts.
 *
 *   fxgadget [--board FILE[?KNOBS] [--pins BOOT0,NRST,POWER]]...
 *            [--realtime[=SCALE]] [--run-dir DIR] [-v]
 *
 * Runs until SIGINT/SIGTERM, then unplugs every board, removes the
 * gadgets and saves the board files. Board N uses the N-th UDC (sorted);
 * it prints "fxgadget: board N 'FILE' on UDC, port usb:B-1" per board,
 * then "fxgadget: ready" on stdout.
 *
 * Exit status: 0; 64 usage; 65 bad knobs or pins; 66 a board file
 * unreadable; 69 no UDC for a board; 70 the gadget could not be made;
 * 74 a board file could not be saved.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fx/emu.h"
#include "fx/log.h"
#include "fxgadget.h"

#define PIN_POLL_US 2000u /* real time between two reads of the pins */

static const char usage_text[] =
	"usage: fxgadget [--board FILE[?KNOBS] [--pins BOOT0,NRST,POWER]]...\n"
	"                [--realtime[=SCALE]] [--run-dir DIR] [-v]\n"
	"\n"
	"Serve one emulated STM32G474 board per --board as a real USB device\n"
	"(configfs gadget + FunctionFS, one UDC per board: dummy_hcd num=N) until\n"
	"SIGINT/SIGTERM, then save the board files. KNOBS: the emulator knobs of an\n"
	"emu: URI. --pins: the gpio-sim line directories (sim_gpioK) of the board's\n"
	"BOOT0, NRST and POWER, polled: the board follows what the station drives;\n"
	"without it BOOT0 is high (boot0=0: low), NRST released, power on.\n"
	"\n"
	"  --board FILE[?KNOBS]  add a board (at most 8)\n"
	"  --pins B,N,P          wire the last --board to gpio-sim lines\n"
	"  --realtime[=SCALE]    real time = device time x SCALE (default 1.0)\n"
	"  --run-dir DIR         FunctionFS mount points (default /run/fxgadget)\n"
	"  -v, --verbose         log plug/unplug and pins (twice: every request)\n"
	"\n"
	"exit status: 0; 64 usage, 65 bad knobs/pins, 66 bad board file, 69 no UDC,\n"
	"70 gadget error, 74 board not saved\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void log_stderr(enum fx_log_level lvl, const char *module,
		       const char *msg, void *user)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	struct timespec ts;

	(void)user;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "[%5ld.%03ld] %s: %s: %s\n", (long)ts.tv_sec,
		ts.tv_nsec / 1000000L, module, names[lvl], msg);
}

static int exit_code(int rc)
{
	switch (rc) {
	case FX_E_CONFIG: return 65;
	case FX_E_FILE: return 66;
	case FX_E_NOTFOUND: return 69;
	default: return 70;
	}
}

struct board_arg {
	char *file;
	const char *pins;
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "board", required_argument, NULL, 'b' },
		{ "pins", required_argument, NULL, 'p' },
		{ "realtime", optional_argument, NULL, 'r' },
		{ "run-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct fxg_board boards[FXG_MAX_BOARDS];
	struct board_arg args[FXG_MAX_BOARDS];
	const char *run_dir = "/run/fxgadget";
	unsigned n = 0, opened = 0;
	struct fx_rclock rclock;
	double scale = 1.0;
	int verbose = 0, c, rc = 0, status = 0;
	struct sigaction sa;
	struct fx_err err;

	while ((c = getopt_long(argc, argv, "b:p:d:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (n >= FXG_MAX_BOARDS) {
				fprintf(stderr, "fxgadget: at most %d boards\n", FXG_MAX_BOARDS);
				return 64;
			}
			args[n].file = optarg;
			args[n].pins = NULL;
			n++;
			break;
		case 'p':
			if (!n || args[n - 1].pins) {
				fprintf(stderr, "fxgadget: --pins '%s': %s\n", optarg,
					n ? "the last --board has its pins already" :
					"comes after the --board it wires");
				return 64;
			}
			args[n - 1].pins = optarg;
			break;
		case 'r': {
			char *end;

			scale = optarg ? strtod(optarg, &end) : 1.0;
			if (optarg && (end == optarg || *end || !(scale > 0) || scale > 1000)) {
				fprintf(stderr, "fxgadget: --realtime: expected a scale > 0, "
					"got '%s'\n", optarg);
				return 64;
			}
			break;
		}
		case 'd':
			run_dir = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 64;
		}
	}
	if (optind < argc || !n) {
		fprintf(stderr, "fxgadget: %s\n", n ? "unexpected argument" :
			"expected at least one --board");
		fputs(usage_text, stderr);
		return 64;
	}
	fx_log_set_handler(log_stderr, NULL,
			   verbose >= 2 ? FX_LOG_DEBUG : verbose ? FX_LOG_INFO : FX_LOG_WARN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fx_rclock_init(&rclock, scale);

	for (unsigned i = 0; i < n; i++) {
		struct fx_emu_uri u;

		fx_err_clear(&err);
		rc = fx_emu_uri_parse(args[i].file, &u, &err);
		if (rc) {
			fprintf(stderr, "fxgadget: --board '%s': %s\n", args[i].file, err.msg);
			fx_emu_uri_release(&u);
			status = exit_code(rc);
			goto out;
		}
		rc = fxg_board_open(&boards[i], i + 1, &u, args[i].pins, &rclock.base,
				    scale, run_dir, verbose, &err);
		opened = i + 1;
		if (rc) {
			fprintf(stderr, "fxgadget: %s\n", err.msg);
			fx_emu_uri_release(&u);
			status = exit_code(rc);
			goto out;
		}
		printf("fxgadget: board %u '%s' on %s, port usb:%s\n", i + 1, u.path,
		       boards[i].g.udc, boards[i].port[0] ? boards[i].port : "?");
		fx_emu_uri_release(&u);
	}
	printf("fxgadget: ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[FXG_MAX_BOARDS];
		unsigned idx[FXG_MAX_BOARDS], np = 0;
		uint64_t next = UINT64_MAX, now, wait_us;
		bool wired = false;

		for (unsigned i = 0; i < n; i++) {
			uint64_t t;

			fxg_board_poll_pins(&boards[i]);
			wired |= boards[i].wired;
			t = fxg_board_service(&boards[i]);
			if (t < next)
				next = t;
			if (fxg_board_listening(&boards[i])) {
				pfd[np].fd = boards[i].g.ep0;
				pfd[np].events = POLLIN;
				idx[np++] = i;
			}
		}
		now = fx_clock_now(&rclock.base);
		if (next == UINT64_MAX)
			wait_us = 1000000u;
		else if (next <= now)
			wait_us = 0;
		else
			wait_us = (uint64_t)((double)(next - now) * scale) + 1;
		if (wired && wait_us > PIN_POLL_US)
			wait_us = PIN_POLL_US;
		if (poll(pfd, np, (int)((wait_us + 999u) / 1000u)) < 0 && errno != EINTR) {
			fprintf(stderr, "fxgadget: poll: %s\n", strerror(errno));
			status = 70;
			break;
		}
		for (unsigned j = 0; j < np; j++)
			if (pfd[j].revents)
				fxg_board_on_ep0(&boards[idx[j]]);
	}
out:
	for (unsigned i = 0; i < opened; i++) {
		fx_err_clear(&err);
		if (fxg_board_close(&boards[i], &err)) {
			fprintf(stderr, "fxgadget: board '%s': %s\n", boards[i].path, err.msg);
			if (!status)
				status = 74;
		}
	}
	return status;
}
