/* ctl.c - fxemu's pin control channel (fxemu.h): the jig's BOOT0, NRST and
 * POWER lines of the boards, for a station program running under fxemu
 * (its emulated GPIO forwards every set here: src/gpio/gpio_fxemu.c).
 *
 * A unix stream socket "ctl" in the testbed directory, exported to CMD as
 * FXEMU_CTL. One request per line, one answer line each:
 *   pin PORT boot0|nrst|power 0|1   -> "ok" | "err MESSAGE"
 *   state PORT                      -> "ok VID:PID plugs N" (on the bus) or
 *                                      "ok none plugs N" | "err ..."
 *   pins PORT                       -> "ok boot0 B nrst N power P" | "err ..."
 * (plugs = how many times the board enumerated since fxemu started; pins:
 * the board's BOOT0 level, and NRST and POWER as the jig last drove them,
 * high and on until a client sets them: what a test checks after a
 * station stopped, e.g. BOOT0 released and the power off)
 * PORT is the board's port path ("1-1"). A pin is applied under bed->lock
 * at model time now; the bridge thread then turns the bus change (reset,
 * power off, re-enumeration) into a remove + add like any other.
 * Several clients may be connected at once; a request line longer than
 * CTL_LINE_MAX closes that connection. fxe_ctl_request() is the client
 * of `fxemu --ctl REQUEST`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fx/log.h"
#include "fxemu.h"

#define LOG_PREFIX "fxemu"
#define CTL_LINE_MAX 256
#define CTL_MAX_CLIENTS 16

struct ctl_client {
	int fd;
	size_t n;
	char buf[CTL_LINE_MAX];
};

static struct fxe_board *find_port(struct fxe_bed *bed, const char *port)
{
	unsigned p;
	char tail;

	if (sscanf(port, "1-%u%c", &p, &tail) != 1 || p < 1 || p > bed->nboards)
		return NULL;
	return &bed->boards[p - 1];
}

static int sys_err(struct fx_err *err, const char *what, const char *path)
{
	int e = errno;

	fx_err_set(err, FX_E_IO, "control socket%s%s%s: %s: %s", path ? " '" : "",
		   path ? path : "", path ? "'" : "", what, strerror(e));
	if (err)
		err->sys_errno = e;
	return FX_E_IO;
}

/* Answer one request line (no newline) into reply. */
static void handle(struct fxe_bed *bed, char *line, char *reply, size_t cap)
{
	char *save = NULL, *cmd, *port, *pin, *val, *extra;
	struct fxe_board *b;

	cmd = strtok_r(line, " \t\r", &save);
	port = cmd ? strtok_r(NULL, " \t\r", &save) : NULL;
	if (!cmd || (strcmp(cmd, "pin") && strcmp(cmd, "state") && strcmp(cmd, "pins"))) {
		snprintf(reply, cap, "err unknown request '%s' (expected pin, pins or state)",
			 cmd ? cmd : "");
		return;
	}
	if (!port) {
		snprintf(reply, cap, "err %s: expected a port (1-1 .. 1-%u)", cmd,
			 bed->nboards);
		return;
	}
	b = find_port(bed, port);
	if (!b) {
		snprintf(reply, cap, "err port '%s': no board there (ports 1-1 .. 1-%u)",
			 port, bed->nboards);
		return;
	}
	if (strcmp(cmd, "pin")) {
		if (strtok_r(NULL, " \t\r", &save)) {
			snprintf(reply, cap, "err %s: expected '%s PORT'", cmd, cmd);
			return;
		}
		pthread_mutex_lock(&bed->lock);
		if (!strcmp(cmd, "pins"))
			snprintf(reply, cap, "ok boot0 %d nrst %d power %d",
				 fx_emu_get_boot0(b->emu), b->nrst_high, b->power_on);
		else if (b->cur)
			snprintf(reply, cap, "ok %04x:%04x plugs %u", b->cur_vid,
				 b->cur_pid, b->plugs);
		else
			snprintf(reply, cap, "ok none plugs %u", b->plugs);
		pthread_mutex_unlock(&bed->lock);
		return;
	}
	pin = strtok_r(NULL, " \t\r", &save);
	val = pin ? strtok_r(NULL, " \t\r", &save) : NULL;
	extra = val ? strtok_r(NULL, " \t\r", &save) : NULL;
	if (!val || extra || (strcmp(val, "0") && strcmp(val, "1"))) {
		snprintf(reply, cap, "err pin: expected 'pin PORT boot0|nrst|power 0|1'");
		return;
	}
	if (strcmp(pin, "boot0") && strcmp(pin, "nrst") && strcmp(pin, "power")) {
		snprintf(reply, cap, "err pin '%s': expected boot0, nrst or power", pin);
		return;
	}
	pthread_mutex_lock(&bed->lock);
	if (!strcmp(pin, "boot0"))
		fx_emu_set_boot0(b->emu, *val == '1');
	else if (!strcmp(pin, "nrst"))
		fx_emu_set_nrst(b->emu, b->nrst_high = *val == '1');
	else
		fx_emu_set_power(b->emu, b->power_on = *val == '1');
	bed->kicks++;
	pthread_cond_broadcast(&bed->cond); /* the bridge thread re-plans */
	pthread_mutex_unlock(&bed->lock);
	if (bed->verbose >= 2)
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "port %s: %s = %s", port, pin, val);
	snprintf(reply, cap, "ok");
}

/* Read what arrived; answer every complete line. false = drop the client. */
static bool serve(struct fxe_bed *bed, struct ctl_client *c)
{
	ssize_t got = read(c->fd, c->buf + c->n, sizeof(c->buf) - c->n);
	char *nl;

	if (got <= 0)
		return got < 0 && (errno == EINTR || errno == EAGAIN);
	c->n += (size_t)got;
	while ((nl = memchr(c->buf, '\n', c->n))) {
		char reply[CTL_LINE_MAX + 64];
		size_t len = (size_t)(nl - c->buf);
		int n;

		*nl = '\0';
		handle(bed, c->buf, reply, sizeof(reply) - 1);
		n = (int)strlen(reply);
		reply[n++] = '\n';
		if (write(c->fd, reply, (size_t)n) != n)
			return false;
		memmove(c->buf, nl + 1, c->n - len - 1);
		c->n -= len + 1;
	}
	return c->n < sizeof(c->buf); /* a line too long: drop */
}

static void *ctl_thread(void *arg)
{
	struct fxe_bed *bed = arg;
	struct ctl_client cl[CTL_MAX_CLIENTS];
	struct pollfd pf[CTL_MAX_CLIENTS + 2];
	size_t ncl = 0, i;

	for (;;) {
		pf[0].fd = bed->ctl_wake[0];
		pf[0].events = POLLIN;
		pf[1].fd = bed->ctl_fd;
		pf[1].events = ncl < CTL_MAX_CLIENTS ? POLLIN : 0;
		for (i = 0; i < ncl; i++) {
			pf[i + 2].fd = cl[i].fd;
			pf[i + 2].events = POLLIN;
		}
		if (poll(pf, ncl + 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fx_log(FX_LOG_ERR, LOG_PREFIX, "control socket: poll: %s",
			       strerror(errno));
			break;
		}
		if (pf[0].revents)
			break;
		for (i = ncl; i-- > 0;) {
			if (!pf[i + 2].revents || serve(bed, &cl[i]))
				continue;
			close(cl[i].fd);
			cl[i] = cl[--ncl];
		}
		if (pf[1].revents & POLLIN) {
			int fd = accept(bed->ctl_fd, NULL, NULL);

			if (fd >= 0) {
				fcntl(fd, F_SETFD, FD_CLOEXEC);
				cl[ncl].fd = fd;
				cl[ncl].n = 0;
				ncl++;
			}
		}
	}
	for (i = 0; i < ncl; i++)
		close(cl[i].fd);
	return NULL;
}

int fxe_ctl_start(struct fxe_bed *bed, struct fx_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	if ((size_t)snprintf(bed->ctl_path, sizeof(bed->ctl_path), "%s/ctl",
			     bed->root) >= sizeof(sa.sun_path))
		return fx_err_set(err, FX_E_IO, "control socket '%s/ctl': path too long",
				  bed->root);
	memcpy(sa.sun_path, bed->ctl_path, strlen(bed->ctl_path) + 1);
	for (unsigned i = 0; i < bed->nboards; i++) {
		/* as fxe_bed_add_board left them */
		bed->boards[i].nrst_high = true;
		bed->boards[i].power_on = true;
	}
	if (pipe(bed->ctl_wake) < 0) {
		bed->ctl_wake[0] = bed->ctl_wake[1] = -1;
		return sys_err(err, "pipe", NULL);
	}
	fcntl(bed->ctl_wake[0], F_SETFD, FD_CLOEXEC);
	fcntl(bed->ctl_wake[1], F_SETFD, FD_CLOEXEC);
	bed->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bed->ctl_fd < 0)
		return sys_err(err, "socket", NULL);
	if (bind(bed->ctl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(bed->ctl_fd, 8) < 0)
		return sys_err(err, "bind", bed->ctl_path);
	rc = pthread_create(&bed->ctl_thread, NULL, ctl_thread, bed);
	if (rc)
		return fx_err_set(err, FX_E_IO, "cannot start the control thread: %s",
				  strerror(rc));
	bed->ctl_running = true;
	return 0;
}

void fxe_ctl_stop(struct fxe_bed *bed)
{
	if (bed->ctl_running) {
		if (write(bed->ctl_wake[1], "x", 1) != 1)
			fx_log(FX_LOG_WARN, LOG_PREFIX, "control thread: wake: %s",
			       strerror(errno));
		pthread_join(bed->ctl_thread, NULL);
		bed->ctl_running = false;
	}
	if (bed->ctl_fd >= 0) {
		close(bed->ctl_fd);
		unlink(bed->ctl_path);
	}
	bed->ctl_fd = -1;
	for (int i = 0; i < 2; i++) {
		if (bed->ctl_wake[i] >= 0)
			close(bed->ctl_wake[i]);
		bed->ctl_wake[i] = -1;
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for ev on fd until deadline (CLOCK_MONOTONIC ms): 0, FX_E_TIMEOUT,
 * FX_E_IO. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd pf = { .fd = fd, .events = ev };
	int n;

	for (;;) {
		int64_t left = deadline - mono_ms();

		if (left <= 0)
			return FX_E_TIMEOUT;
		n = poll(&pf, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return FX_E_IO;
	}
}

int fxe_ctl_request(const char *ctl_path, const char *req, char *ans, size_t cap,
		    struct fx_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = mono_ms() + FXE_CTL_TIMEOUT_MS;
	size_t n = 0, len = strlen(req);
	char *nl = NULL;
	int fd, rc = 0;

	if (strlen(ctl_path) >= sizeof(sa.sun_path))
		return fx_err_set(err, FX_E_CONFIG, "control socket '%s': path too long",
				  ctl_path);
	if (!cap || len + 1 > CTL_LINE_MAX || memchr(req, '\n', len))
		return fx_err_set(err, FX_E_INVAL, "control request: one line of at "
				  "most %d characters", CTL_LINE_MAX - 1);
	memcpy(sa.sun_path, ctl_path, strlen(ctl_path) + 1);
	ans[0] = '\0';
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sys_err(err, "socket", ctl_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		rc = sys_err(err, "connect/send", ctl_path);
		goto out;
	}
	while (!nl && n + 1 < cap) {
		ssize_t got;

		rc = wait_fd(fd, POLLIN, deadline);
		if (rc) {
			fx_err_set(err, rc, "control socket '%s': no answer within %d ms",
				   ctl_path, FXE_CTL_TIMEOUT_MS);
			goto out;
		}
		got = recv(fd, ans + n, cap - 1 - n, 0);
		if (got <= 0) {
			rc = got < 0 ? sys_err(err, "recv", ctl_path) :
				       fx_err_set(err, FX_E_IO, "control socket '%s': "
						  "closed before the answer", ctl_path);
			goto out;
		}
		n += (size_t)got;
		ans[n] = '\0';
		nl = strchr(ans, '\n');
	}
	if (nl)
		*nl = '\0';
out:
	close(fd);
	return rc;
}
