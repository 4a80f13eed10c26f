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
 * next bind() (umockdev's, then libc's).
 *
 * Its sendmsg() guards fxemu's own uevent sender: umockdev 0.17.16 connects
 * to each client's event socket and then abort()s when sendmsg() fails, so a
 * client that closes its monitor between the connect and the send (libusb
 * exiting while a board re-plugs) took fxemu down with SIGABRT (CI, the
 * fdrop scenarios of tests/usbfs/test_libusb.c). For a datagram to an
 * $UMOCKDEV_DIR/event* socket, ECONNREFUSED, ENOTCONN and ENOENT mean "that
 * listener is gone": the send counts as done and the dead socket file is
 * removed, as later umockdev releases do at connect. A full queue (EAGAIN: a
 * client that does not read its uevents) is retried for up to a second, then
 * the event is dropped with a warning instead of an abort.
 *
 * Its ioctl() saves a round trip per transfer: libusb reaps a device until
 * USBDEVFS_REAPURBNDELAY says EAGAIN, and under umockdev each ioctl is a
 * conversation with fxemu's single ioctl thread over a socket (with N
 * boards busy, N clients queue for it: issue 14's fxemu real-time bench).
 * fxemu's device nodes are FIFOs it keeps full (not writable) exactly while
 * no URB of that device is waiting to be reaped (bridge.c fifo_sync), so a
 * REAPURBNDELAY on a FIFO that is not writable is answered EAGAIN here, as
 * fxemu would (a URB finishing meanwhile makes the FIFO writable and
 * libusb's poll() reaps it; ENODEV for a gone device with nothing to reap
 * and EAGAIN lead libusb to the same place). Every other ioctl, and every
 * descriptor that is not a FIFO, goes on to the next ioctl() (umockdev's).
 * No state but resolved symbols. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/usbdevice_fs.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags);

/* Is msg a datagram to an event socket of the umockdev testbed? umockdev
 * sends on a connected socket with msg_name pointing at the sockaddr_un it
 * connected to and msg_namelen 0 (strace), so the name is read from there. */
static int to_event_socket(int fd, const struct msghdr *msg)
{
	const char *dir = getenv("UMOCKDEV_DIR");
	const struct sockaddr_un *sa = msg ? msg->msg_name : NULL;
	int domain = 0;
	socklen_t dl = sizeof(domain);
	size_t n;

	if (!dir || !sa || sa->sun_family != AF_UNIX ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) != 0 ||
	    domain != AF_UNIX)
		return 0;
	n = strlen(dir);
	return strncmp(sa->sun_path, dir, n) == 0 &&
	       strncmp(sa->sun_path + n, "/event", 6) == 0;
}

static size_t msg_len(const struct msghdr *msg)
{
	size_t len = 0;

	for (size_t i = 0; i < msg->msg_iovlen; i++)
		len += msg->msg_iov[i].iov_len;
	return len;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static sendmsg_fn cached; /* threads may race to store the same value */
	sendmsg_fn next = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	ssize_t r;

	if (!next) {
		next = (sendmsg_fn)dlsym(RTLD_NEXT, "sendmsg");
		__atomic_store_n(&cached, next, __ATOMIC_RELAXED);
	}
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	r = next(fd, msg, flags);
	if (r >= 0 || !to_event_socket(fd, msg))
		return r;
	for (int tries = 0; r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
			    tries < 10; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		(void)poll(&p, 1, 100);
		r = next(fd, msg, flags);
	}
	if (r >= 0)
		return r;
	if (errno == ECONNREFUSED || errno == ENOENT || errno == ENOTCONN) {
		unlink(((const struct sockaddr_un *)msg->msg_name)->sun_path);
		return (ssize_t)msg_len(msg);
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		fprintf(stderr, "fxemu: warning: uevent for %s dropped: its listener "
			"reads no events\n",
			((const struct sockaddr_un *)msg->msg_name)->sun_path);
		return (ssize_t)msg_len(msg);
	}
	return r;
}

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*fstat_fn)(int, struct stat *);

/* libc's fstat: umockdev's shows its device nodes as character devices */
static fstat_fn libc_fstat(void)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);

	return libc ? (fstat_fn)dlsym(libc, "fstat") : NULL;
}

/* fd is one of fxemu's device nodes (a FIFO) with no URB to reap. */
static int nothing_to_reap(int fd)
{
	static fstat_fn cached; /* threads may race to store the same value */
	fstat_fn real_fstat = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	struct stat st;

	if (!real_fstat) {
		real_fstat = libc_fstat();
		__atomic_store_n(&cached, real_fstat, __ATOMIC_RELAXED);
	}
	if (!real_fstat || !getenv("UMOCKDEV_DIR") || real_fstat(fd, &st) != 0 ||
	    !S_ISFIFO(st.st_mode))
		return 0;
	return poll(&p, 1, 0) == 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	static ioctl_fn cached; /* threads may race to store the same value */
	ioctl_fn next = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == USBDEVFS_REAPURBNDELAY && nothing_to_reap(fd)) {
		errno = EAGAIN;
		return -1;
	}
	if (!next) {
		next = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
		__atomic_store_n(&cached, next, __ATOMIC_RELAXED);
	}
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(fd, req, arg);
}
