/* cli_common.c - device opening, errors, exit codes, progress. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "fx/log.h"

int fx_cli_exit_code(int fx_code)
{
	switch (fx_code) {
	case FX_OK:
		return FX_EXIT_OK;
	case FX_E_VERIFY:
	case FX_E_HASH:
	case FX_E_DUPLICATE:
		return FX_EXIT_FAIL;
	case FX_E_EXHAUSTED:
		return FX_EXIT_EXHAUSTED;
	case FX_E_INVAL:
		return FX_EXIT_USAGE;
	case FX_E_IMAGE:
	case FX_E_CONFIG:
	case FX_E_RANGE:
		return FX_EXIT_DATAERR;
	case FX_E_FILE:
		return FX_EXIT_NOINPUT;
	case FX_E_NOTFOUND:
	case FX_E_AMBIGUOUS:
	case FX_E_NODEV:
	case FX_E_TIMEOUT:
	case FX_E_STATE:
		return FX_EXIT_NODEV;
	case FX_E_IO:
	case FX_E_DB:
	case FX_E_GPIO:
		return FX_EXIT_IOERR;
	case FX_E_STALL:
	case FX_E_PROTO:
	case FX_E_DFU:
	case FX_E_PROTECTED:
	case FX_E_BUSY:
		return FX_EXIT_PROTOCOL;
	default:
		return FX_EXIT_SOFTWARE;
	}
}

int fx_cli_fail(const char *cmd, const struct fx_err *err)
{
	fprintf(stderr, "fixturectl %s: %s\n", cmd,
		err->msg[0] ? err->msg : fx_strerror(err->code));
	return fx_cli_exit_code(err->code);
}

int fx_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fixturectl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'fixturectl %s --help')\n", cmd);
	return FX_EXIT_USAGE;
}

static const char *bad_option(char **argv, int before, char *buf, size_t len)
{
	const char *prev = optind > 0 ? argv[optind - 1] : NULL;

	/* an unknown or ambiguous long option (optopt 0), or a long one
	 * getopt stepped over just now (missing or unwanted value): the
	 * argument itself; else a short option, named by optopt */
	if (prev && !strncmp(prev, "--", 2) && prev[2] && (!optopt || optind > before))
		return prev;
	snprintf(buf, len, "-%c", optopt > 0 && optopt < 128 ? optopt : '?');
	return buf;
}

int fx_cli_option_error(const char *cmd, int c, char **argv, int before)
{
	char buf[8];
	const char *name = bad_option(argv, before, buf, sizeof(buf));

	if (c == ':')
		return fx_cli_usage_error(cmd, "option '%s' needs a value", name);
	return fx_cli_usage_error(cmd, "unknown option '%s'", name);
}

bool fx_cli_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool fx_cli_parse_scale(const char *s, double *out)
{
	char *end;
	double v;

	if (!s) {
		*out = 1.0;
		return true;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1000)
		return false;
	*out = v;
	return true;
}

static void log_to_stderr(enum fx_log_level lvl, const char *module,
			  const char *msg, void *user)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	(void)user;
	fprintf(stderr, "%s: %s: %s\n", names[lvl], module, msg);
}

void fx_cli_log_init(int verbose)
{
	enum fx_log_level max = verbose >= 2 ? FX_LOG_DEBUG :
				verbose == 1 ? FX_LOG_INFO : FX_LOG_WARN;

	fx_log_set_handler(log_to_stderr, NULL, max);
}

void fx_cli_progress(void *user, const char *what, size_t done, size_t total)
{
	struct fx_cli_dev *dev = user;
	int pct, i;

	if (!dev->progress || total == 0)
		return;
	pct = (int)(done * 100 / total);
	fprintf(stderr, "\r%-8s [", what);
	for (i = 0; i < 40; i++)
		fputc(i < pct * 40 / 100 ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%% %zu/%zu", pct, done, total);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

bool fx_cli_file_readable(const char *path)
{
	char buf[4096];
	struct stat sb;
	bool ok;
	FILE *f;

	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		return false;
	f = fopen(path, "rb");
	if (!f)
		return false;
	while (fread(buf, 1, sizeof(buf), f) == sizeof(buf))
		;
	ok = !ferror(f);
	fclose(f);
	return ok;
}

/* emu:PATH?KNOBS whose PATH reads whole but does not load: bad data */
static bool emu_board_bad(const char *uri)
{
	char *path;
	bool bad;

	if (strncmp(uri, "emu:", 4))
		return false;
	path = strndup(uri + 4, strcspn(uri + 4, "?"));
	bad = path && fx_cli_file_readable(path);
	free(path);
	return bad;
}

int fx_cli_dev_open(struct fx_cli_dev *dev, const char *cmd, const char *uri,
		    double realtime_scale)
{
	struct fx_usb_open_opts opts = { 0 };
	struct fx_err err;
	int rc;

	memset(dev, 0, sizeof(*dev));
	fx_err_clear(&err);
	dev->uri = uri;
	if (!strncmp(uri, "emu:", 4) && realtime_scale <= 0) {
		fx_vclock_init(&dev->vclock);
		dev->clock = &dev->vclock.base;
	} else {
		fx_rclock_init(&dev->rclock, realtime_scale > 0 ? realtime_scale : 1.0);
		dev->clock = &dev->rclock.base;
	}
	dev->progress = isatty(STDERR_FILENO);
	rc = fx_usb_open(uri, dev->clock, &opts, &dev->usb, &err);
	/* FX_E_CONFIG from fx_usb_open is the URI's syntax (no scheme, a bad
	 * port path, an empty serial, an unknown emu knob): a bad command
	 * line, exit 64, not bad input data */
	if (rc == FX_E_CONFIG)
		return fx_cli_usage_error(cmd, "%s", err.msg);
	/* an emu: board file that reads whole but does not load (bad magic,
	 * checksum, size) is bad input data, 65; unreadable stays 66 */
	if (rc == FX_E_FILE && emu_board_bad(uri)) {
		fprintf(stderr, "fixturectl %s: %s\n", cmd, err.msg);
		return FX_EXIT_DATAERR;
	}
	if (rc)
		return fx_cli_fail(cmd, &err);
	dev->dfu = fx_dfu_open(dev->usb, &err);
	if (!dev->dfu) {
		fx_usb_close(dev->usb);
		dev->usb = NULL;
		return fx_cli_fail(cmd, &err);
	}
	fx_dfu_set_progress(dev->dfu, fx_cli_progress, dev);
	return 0;
}

void fx_cli_dev_close(struct fx_cli_dev *dev)
{
	fx_dfu_free(dev->dfu);
	dev->dfu = NULL;
	fx_usb_close(dev->usb);
	dev->usb = NULL;
}
