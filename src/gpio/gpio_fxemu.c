/* gpio_fxemu.c - sim outputs wired to boards inside build/fxemu (fx/gpio.h):
 * a station running under `fxemu -- fixturectl run ...` sees its boards
 * as real USB devices (libusb through umockdev), so the pins those boards
 * have live in the fxemu process too. Every set of such a line is sent
 * over fxemu's pin socket ($FXEMU_CTL, protocol in src/fxemu/ctl.c) and
 * waits for fxemu's answer, so the pin has changed when fx_gpio_set()
 * returns, as with a real GPIO. One connection per request: no state to
 * lose, and the cost (well under a millisecond) is nothing next to the
 * NRST pulse. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fx/gpio.h"

struct remote_pin {
	char ctl[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char port[32];
	enum fx_gpio_sim_pin pin;
};

static const char *pin_word(enum fx_gpio_sim_pin pin)
{
	switch (pin) {
	case FX_GPIO_SIM_PIN_BOOT0:
		return "boot0";
	case FX_GPIO_SIM_PIN_NRST:
		return "nrst";
	case FX_GPIO_SIM_PIN_POWER:
		return "power";
	}
	return NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sys_fail(struct fx_err *err, const char *ctl, const char *what)
{
	int e = errno;

	fx_err_set(err, FX_E_IO, "fxemu control socket '%s': %s: %s", ctl, what,
		   strerror(e));
	if (err)
		err->sys_errno = e;
	return FX_E_IO;
}

/* Wait for ev on fd until deadline (CLOCK_MONOTONIC ms): 0, FX_E_TIMEOUT. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd pf = { .fd = fd, .events = ev };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return FX_E_TIMEOUT;
		n = poll(&pf, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return FX_E_IO;
	}
}

int fx_gpio_fxemu_pin(const char *ctl_path, const char *port,
		      enum fx_gpio_sim_pin pin, int value, struct fx_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = mono_ms() + FX_GPIO_FXEMU_TIMEOUT_MS;
	char req[96], ans[256];
	size_t n = 0;
	int fd, rc = 0, len;

	if (!ctl_path)
		ctl_path = getenv(FX_GPIO_FXEMU_ENV);
	if (!ctl_path || !*ctl_path)
		return fx_err_set(err, FX_E_CONFIG,
				  "%s is not set: run the station under build/fxemu "
				  "(fxemu --board FILE -- fixturectl run ...)",
				  FX_GPIO_FXEMU_ENV);
	if (!pin_word(pin) || !port || !*port)
		return fx_err_set(err, FX_E_INVAL, "fxemu pin: bad port or pin %d",
				  (int)pin);
	if (strlen(ctl_path) >= sizeof(sa.sun_path))
		return fx_err_set(err, FX_E_CONFIG,
				  "fxemu control socket '%s': path too long", ctl_path);
	len = snprintf(req, sizeof(req), "pin %s %s %d\n", port, pin_word(pin),
		       value ? 1 : 0);
	if (len < 0 || (size_t)len >= sizeof(req))
		return fx_err_set(err, FX_E_INVAL, "fxemu pin: port '%s' too long", port);
	memcpy(sa.sun_path, ctl_path, strlen(ctl_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sys_fail(err, ctl_path, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = sys_fail(err, ctl_path, "connect");
		goto out_close;
	}
	if (wait_fd(fd, POLLOUT, deadline) || send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		rc = sys_fail(err, ctl_path, "send");
		goto out_close;
	}
	while (!memchr(ans, '\n', n)) {
		ssize_t got;

		if (n == sizeof(ans) - 1) {
			rc = fx_err_set(err, FX_E_IO, "fxemu control socket '%s': answer too long",
					ctl_path);
			goto out_close;
		}
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc == FX_E_TIMEOUT) {
			rc = fx_err_set(err, FX_E_TIMEOUT,
					"fxemu control socket '%s': no answer within %u ms",
					ctl_path, FX_GPIO_FXEMU_TIMEOUT_MS);
			goto out_close;
		}
		got = rc ? -1 : recv(fd, ans + n, sizeof(ans) - 1 - n, 0);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got <= 0) {
			rc = got < 0 ? sys_fail(err, ctl_path, "recv") :
			     fx_err_set(err, FX_E_IO,
					"fxemu control socket '%s': closed without an answer",
					ctl_path);
			goto out_close;
		}
		n += (size_t)got;
	}
	ans[strcspn(ans, "\n")] = '\0';
	rc = 0;
	if (strcmp(ans, "ok"))
		rc = fx_err_set(err, FX_E_GPIO, "fxemu: port '%s' %s: %s", port,
				pin_word(pin), strncmp(ans, "err ", 4) ? ans : ans + 4);
out_close:
	close(fd);
	return rc;
}

static int forward(void *user, int value, struct fx_err *err)
{
	const struct remote_pin *rp = user;

	return fx_gpio_fxemu_pin(rp->ctl, rp->port, rp->pin, value, err);
}

int fx_gpio_sim_attach_remote(struct fx_gpio *g, const char *line,
			      const char *ctl_path, const char *port,
			      enum fx_gpio_sim_pin pin, struct fx_err *err)
{
	struct remote_pin *rp;

	if (!ctl_path)
		ctl_path = getenv(FX_GPIO_FXEMU_ENV);
	if (!ctl_path || !*ctl_path)
		return fx_err_set(err, FX_E_CONFIG,
				  "line '%s': %s is not set: run the station under build/fxemu "
				  "(fxemu --board FILE -- fixturectl run ...)",
				  line, FX_GPIO_FXEMU_ENV);
	if (!pin_word(pin))
		return fx_err_set(err, FX_E_INVAL, "line '%s': unknown board pin %d",
				  line, (int)pin);
	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return fx_err_set(err, FX_E_NOMEM, "line '%s': out of memory", line);
	if ((size_t)snprintf(rp->ctl, sizeof(rp->ctl), "%s", ctl_path) >= sizeof(rp->ctl) ||
	    !port || (size_t)snprintf(rp->port, sizeof(rp->port), "%s", port) >= sizeof(rp->port)) {
		free(rp);
		return fx_err_set(err, FX_E_CONFIG, "line '%s': fxemu socket or port too long",
				  line);
	}
	rp->pin = pin;
	return fx_gpio_sim_hook(g, line, forward, rp, free, err);
}
