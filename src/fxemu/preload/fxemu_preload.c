/* fxemu_preload.c - build/libfxemu-preload.so: one uevent socket per
 * process under umockdev (fxemu.h, usbfs-emulation.md "Pitfalls").
 *
 * umockdev 0.17 replaces a client's netlink uevent socket by an AF_UNIX
 * socket bound to $UMOCKDEV_DIR/event<FD>, unlinking whatever was there,
 * and sends every uevent to each event[0-9]* socket of that directory.
 * Two client processes whose socket got the same descriptor number (two
 * `fixturectl run` started alike, two dfu-util -w) therefore take each
 * other's socket away: only the last one hears plug and unplug, the others
 * wait for a device that never "arrives" (issue 14: 6 ERROR / 1 FAIL of 8
 * with four concurrent stations).
 *
 * fxemu puts this library before libumockdev-preload in LD_PRELOAD. Its
 * bind() takes the netlink bind of such a wrapped socket and binds it to
 * $UMOCKDEV_DIR/event<PID>.<FD> instead: still matched by umockdev's
 * event[0-9]* glob, unique per process. Everything else goes on to the
 * next bind() (umockdev's, then libc's). No state but resolved symbols. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len);

/* libc's own bind: umockdev's would rebind the socket to event<FD> */
static bind_fn libc_bind(void)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);

	return libc ? (bind_fn)dlsym(libc, "bind") : NULL;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	const char *dir = getenv("UMOCKDEV_DIR");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int domain = 0, n;
	socklen_t dl = sizeof(domain);
	bind_fn next;

	if (dir && addr && len >= sizeof(sa_family_t) &&
	    addr->sa_family == AF_NETLINK &&
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) == 0 &&
	    domain == AF_UNIX && (next = libc_bind())) {
		n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/event%ld.%d",
			     dir, (long)getpid(), fd);
		if (n > 0 && (size_t)n < sizeof(sa.sun_path)) {
			unlink(sa.sun_path); /* a socket of a dead process */
			return next(fd, (const struct sockaddr *)&sa, sizeof(sa));
		}
	}
	next = (bind_fn)dlsym(RTLD_NEXT, "bind");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(fd, addr, len);
}
