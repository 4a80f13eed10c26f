/* test_fxemu_preload.c - build/libfxemu-preload.so (src/fxemu/preload/
 * fxemu_preload.c). Its ioctl(): USBDEVFS_REAPURBNDELAY on a FIFO that is
 * not writable (fxemu's device node with no URB to reap) is EAGAIN without
 * asking fxemu; everything else goes on to the next ioctl() (here libc's:
 * ENOTTY, the control). Its sendmsg() guard: a uevent to a client that closed its
 * event socket after umockdev connected to it must count as delivered, not
 * fail (umockdev 0.17.16 abort()s on a failed send: fxemu died with SIGABRT
 * in CI when a client exited while a board re-plugged).
 *
 * The library is dlopen()ed and its sendmsg() called directly, with the
 * socket set up exactly as umockdev's uevent sender does (AF_UNIX datagram,
 * connect() to $UMOCKDEV_DIR/eventN, msg_name pointing at that address with
 * msg_namelen 0). libc's sendmsg() in the same state is the control: it
 * fails, so the test would fail without the guard. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>

typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef int (*ioctl_fn)(int, unsigned long, ...);

static char lib_path[PATH_MAX];
static char dir[] = "/tmp/fx-preload-XXXXXX";
static sendmsg_fn guarded;
static ioctl_fn shortcut;

struct pair {
	struct sockaddr_un addr;
	int listener, sender;
	char payload[64];
	struct iovec iov;
	struct msghdr msg;
};

/* A listener bound at DIR/NAME and a sender connected to it, as umockdev's
 * sendmsg_one() leaves them just before its send. */
static void pair_open(struct pair *p, const char *base, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->addr.sun_family = AF_UNIX;
	snprintf(p->addr.sun_path, sizeof(p->addr.sun_path), "%s/%s", base, name);
	p->listener = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(p->listener >= 0);
	assert_int_equal(bind(p->listener, (struct sockaddr *)&p->addr, sizeof(p->addr)), 0);
	p->sender = socket(AF_UNIX, SOCK_RAW | SOCK_NONBLOCK, 0);
	assert_true(p->sender >= 0);
	assert_int_equal(connect(p->sender, (struct sockaddr *)&p->addr, sizeof(p->addr)), 0);
	memset(p->payload, 'u', sizeof(p->payload));
	p->iov.iov_base = p->payload;
	p->iov.iov_len = sizeof(p->payload);
	p->msg.msg_name = &p->addr;
	p->msg.msg_namelen = 0;
	p->msg.msg_iov = &p->iov;
	p->msg.msg_iovlen = 1;
}

static void pair_close(struct pair *p)
{
	if (p->listener >= 0)
		close(p->listener);
	close(p->sender);
	unlink(p->addr.sun_path);
}

static int setup(void **state)
{
	(void)state;
	setenv("UMOCKDEV_DIR", dir, 1);
	return 0;
}

/* Delivered while the listener is there: the guard changes nothing. */
static void test_live_listener(void **state)
{
	struct pair p;
	char buf[128];

	(void)state;
	pair_open(&p, dir, "event7.3");
	assert_int_equal(guarded(p.sender, &p.msg, 0), (ssize_t)sizeof(p.payload));
	assert_int_equal(recv(p.listener, buf, sizeof(buf), 0), (ssize_t)sizeof(p.payload));
	pair_close(&p);
}

/* The listener closed between connect and send: libc fails with
 * ECONNREFUSED; the guard reports the datagram sent and removes the dead
 * socket file. */
static void test_closed_listener(void **state)
{
	struct pair p, control;
	struct stat sb;

	(void)state;
	pair_open(&control, dir, "event8.4");
	close(control.listener);
	control.listener = -1;
	errno = 0;
	assert_int_equal(sendmsg(control.sender, &control.msg, 0), -1);
	assert_int_equal(errno, ECONNREFUSED);
	pair_close(&control);

	pair_open(&p, dir, "event9.4");
	close(p.listener);
	p.listener = -1;
	assert_int_equal(stat(p.addr.sun_path, &sb), 0);
	assert_int_equal(guarded(p.sender, &p.msg, 0), (ssize_t)sizeof(p.payload));
	assert_int_equal(stat(p.addr.sun_path, &sb), -1);
	assert_int_equal(errno, ENOENT);
	/* a second event to the same dead socket (now ENOTCONN) too */
	assert_int_equal(guarded(p.sender, &p.msg, 0), (ssize_t)sizeof(p.payload));
	pair_close(&p);
}

/* A listener that never reads: once its queue is full the guard retries,
 * then drops the event (returns the length) instead of failing. */
static void test_full_queue(void **state)
{
	struct pair p;
	int sent = 0;

	(void)state;
	pair_open(&p, dir, "event11.5");
	while (sendmsg(p.sender, &p.msg, 0) > 0 && sent < 100000)
		sent++;
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_true(sent > 0);
	assert_int_equal(guarded(p.sender, &p.msg, 0), (ssize_t)sizeof(p.payload));
	pair_close(&p);
}

/* Other destinations keep their errors: a refused datagram to a socket
 * outside $UMOCKDEV_DIR is still an error. */
static void test_other_socket(void **state)
{
	char other[] = "/tmp/fx-preload-other-XXXXXX";
	struct pair p;

	(void)state;
	assert_non_null(mkdtemp(other));
	pair_open(&p, other, "event1.1");
	close(p.listener);
	p.listener = -1;
	errno = 0;
	assert_int_equal(guarded(p.sender, &p.msg, 0), -1);
	assert_int_equal(errno, ECONNREFUSED);
	pair_close(&p);
	rmdir(other);
}

/* A FIFO as fxemu keeps a device node: O_RDWR, filled until not writable. */
static int full_fifo(const char *path)
{
	static const char page[4096];
	int fd;

	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	fd = open(path, O_RDWR | O_NONBLOCK);
	assert_true(fd >= 0);
	while (write(fd, page, sizeof(page)) == (ssize_t)sizeof(page))
		;
	return fd;
}

static void test_reap_nothing_done(void **state)
{
	char path[PATH_MAX], page[4096];
	void *urb = NULL;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/node", dir);
	fd = full_fifo(path);
	/* control: the ioctl itself on a FIFO */
	errno = 0;
	assert_int_equal(ioctl(fd, USBDEVFS_REAPURBNDELAY, &urb), -1);
	assert_int_equal(errno, ENOTTY);
	/* full: nothing to reap, answered here */
	errno = 0;
	assert_int_equal(shortcut(fd, USBDEVFS_REAPURBNDELAY, &urb), -1);
	assert_int_equal(errno, EAGAIN);
	/* another request on the full FIFO goes on */
	errno = 0;
	assert_int_equal(shortcut(fd, USBDEVFS_DISCARDURB, &urb), -1);
	assert_int_equal(errno, ENOTTY);
	/* a URB done (fxemu drained a page: writable): the reap goes on */
	assert_int_equal(read(fd, page, sizeof(page)), (ssize_t)sizeof(page));
	errno = 0;
	assert_int_equal(shortcut(fd, USBDEVFS_REAPURBNDELAY, &urb), -1);
	assert_int_equal(errno, ENOTTY);
	close(fd);
	/* outside a testbed, the FIFO is nobody's device node */
	fd = full_fifo(path);
	unsetenv("UMOCKDEV_DIR");
	errno = 0;
	assert_int_equal(shortcut(fd, USBDEVFS_REAPURBNDELAY, &urb), -1);
	assert_int_equal(errno, ENOTTY);
	close(fd);
	unlink(path);
}

/* A descriptor that is not a FIFO (a real usbfs node is a character
 * device) always goes on. */
static void test_reap_not_a_fifo(void **state)
{
	void *urb = NULL;
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	errno = 0;
	assert_int_equal(shortcut(fd, USBDEVFS_REAPURBNDELAY, &urb), -1);
	assert_int_equal(errno, ENOTTY);
	close(fd);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_live_listener, setup),
		cmocka_unit_test_setup(test_closed_listener, setup),
		cmocka_unit_test_setup(test_full_queue, setup),
		cmocka_unit_test_setup(test_other_socket, setup),
		cmocka_unit_test_setup(test_reap_nothing_done, setup),
		cmocka_unit_test_setup(test_reap_not_a_fifo, setup),
	};
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	void *h;
	int rc;

	if (n <= 0)
		return 1;
	self[n] = '\0';
	/* BUILD/tests/usbfs/test_fxemu_preload -> BUILD/libfxemu-preload.so */
	for (int up = 0; up < 3; up++)
		*strrchr(self, '/') = '\0';
	snprintf(lib_path, sizeof(lib_path), "%.*s/libfxemu-preload.so",
		 (int)(sizeof(lib_path) - 32), self);
	if (access(lib_path, R_OK) != 0) {
		printf("SKIP: %s not built\n", lib_path);
		return 77;
	}
	h = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
	if (!h || !(guarded = (sendmsg_fn)dlsym(h, "sendmsg")) ||
	    !(shortcut = (ioctl_fn)dlsym(h, "ioctl"))) {
		fprintf(stderr, "%s: %s\n", lib_path, dlerror());
		return 1;
	}
	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	dlclose(h);
	return rc;
}
