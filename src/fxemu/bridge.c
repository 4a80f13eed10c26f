/* bridge.c - umockdev usbfs bridge: emulated boards as USB devices for
 * unmodified libusb programs (fxemu.h). Follows the measured recipe of
 * ../shared/spec/usbfs-emulation.md; each pitfall it lists is handled where
 * the comment says "pitfall".
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <umockdev.h>
#include <unistd.h>

#include "fx/log.h"
#include "fxemu.h"

#define LOG_PREFIX "fxemu"
#define FIFO_PAGE 4096
#define START_WAIT_MS 10000u /* bound on the boards' first enumeration */

/* One control URB a client submitted. */
struct fxe_urb {
	struct fxe_urb *next;
	UMockdevIoctlClient *client; /* borrowed: compared only */
	UMockdevIoctlData *data;     /* the urb struct (ref) */
	UMockdevIoctlData *buf;      /* its buffer, setup + data (ref) */
	gulong client_addr;          /* the client's urb pointer */
	uint64_t done_at;            /* model time, UINT64_MAX = never */
	int status;                  /* 0, -EPIPE, -ENOENT, -ESHUTDOWN, ... */
	int actual;                  /* data bytes, without the setup */
	bool in;                     /* device-to-host */
	bool done;                   /* ready to reap */
	bool wait_unplug;            /* the board said NODEV: ends at removal */
	bool queued;                 /* single-tt: waits for the shared bus */
	uint64_t start_at;           /* single-tt: model time it gets the bus */
};

/* One enumeration of a board: a USB device with its own device number. */
struct fxe_dev {
	struct fxe_dev *next;
	struct fxe_board *board;
	unsigned devnum;
	char node[64];        /* /dev/bus/usb/001/NNN */
	char syspath[96];     /* /sys/devices/usb1/1-P */
	UMockdevIoctlBase *handler;
	struct fxe_urb *urbs;
	int fifo;             /* pitfall: node is a FIFO kept full when idle */
	bool drained;
	bool live;            /* in the testbed, add uevent sent */
	bool gone;            /* off the bus: ioctls answer ENODEV */
	bool removing;        /* gone, still in the testbed (see unplug) */
	uint64_t remove_by_ns;
};

#define HUB_NOTICE_NS 20000000u /* removal at most 20 ms after the drop */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Real CLOCK_MONOTONIC time at model time t (see fx_rclock). */
static struct timespec real_at(const struct fxe_bed *bed, uint64_t t)
{
	double ns = (double)bed->rclock.t0_ns + (double)t * 1000.0 * bed->rclock.scale;
	struct timespec ts;

	if (ns > 4e18)
		ns = 4e18;
	ts.tv_sec = (time_t)(ns / 1e9);
	ts.tv_nsec = (long)(ns - (double)ts.tv_sec * 1e9);
	if (ts.tv_nsec < 0)
		ts.tv_nsec = 0;
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return ts;
}

static void fifo_fill(struct fxe_dev *d)
{
	static const char page[FIFO_PAGE];

	while (write(d->fifo, page, sizeof(page)) == (ssize_t)sizeof(page))
		;
}

/* Writable (POLLOUT) exactly while some URB waits to be reaped. */
static void fifo_sync(struct fxe_dev *d)
{
	struct fxe_urb *u;
	bool ready = false;

	if (d->fifo < 0)
		return;
	for (u = d->urbs; u; u = u->next)
		ready |= u->done;
	if (ready && !d->drained) {
		char page[FIFO_PAGE];

		if (read(d->fifo, page, sizeof(page)) > 0)
			d->drained = true;
	} else if (!ready && d->drained) {
		fifo_fill(d);
		d->drained = false;
	}
}

static bool has_done_urbs(const struct fxe_dev *d)
{
	for (const struct fxe_urb *u = d->urbs; u; u = u->next)
		if (u->done)
			return true;
	return false;
}

static void urb_free(struct fxe_urb *u)
{
	g_object_unref(u->buf);
	g_object_unref(u->data);
	free(u);
}

static void unlink_urb(struct fxe_dev *d, struct fxe_urb *u)
{
	struct fxe_urb **pp;

	for (pp = &d->urbs; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			return;
		}
}

/* ---- ioctls (umockdev worker thread; must never block for long) ---- */

/* Hosts sleep bwPollTimeout in real time (dfu-util does): in a scaled bed
 * the GETSTATUS reply says the model's milliseconds times the scale
 * (rounded up), so the host's wait matches the scaled device. */
static void scale_poll_timeout(const struct fxe_bed *bed,
			       const struct fx_usb_setup *s, uint8_t *data,
			       size_t n)
{
	double ms;
	uint32_t v;

	if (bed->rclock.scale == 1.0 || s->bRequest != DFU_GETSTATUS ||
	    (s->bmRequestType & 0x60) != USB_TYPE_CLASS || n < 4)
		return;
	ms = (double)(data[1] | (data[2] << 8) | ((uint32_t)data[3] << 16));
	ms *= bed->rclock.scale;
	v = (uint32_t)ms;
	if ((double)v < ms)
		v++;
	if (v > 0xffffff)
		v = 0xffffff;
	data[1] = (uint8_t)v;
	data[2] = (uint8_t)(v >> 8);
	data[3] = (uint8_t)(v >> 16);
}

/* Spec section 8 USB full-speed transfer model: 0.5 ms per control
 * transfer plus 0.06 ms per 64-byte data packet, the time it holds a
 * shared (single-TT) bus. */
static uint64_t bus_time_us(uint16_t wlength)
{
	return 500u + 60u * (((uint64_t)wlength + 63u) / 64u);
}

/* Hand URB u of d to the board now: the board's answer and the model time
 * it completes. Lock held. */
static void urb_run(struct fxe_dev *d, struct fxe_urb *u)
{
	struct fxe_bed *bed = d->board->bed;
	uint8_t *p = u->buf->data;
	struct fx_usb_setup s;
	size_t actual = 0;
	uint64_t done_at = 0;
	int rc;

	s.bmRequestType = p[0];
	s.bRequest = p[1];
	s.wValue = (uint16_t)(p[2] | (p[3] << 8));
	s.wIndex = (uint16_t)(p[4] | (p[5] << 8));
	s.wLength = (uint16_t)(p[6] | (p[7] << 8));
	u->queued = false;
	rc = fx_emu_control(d->board->emu, &s, p + 8, &actual, &done_at);
	if (rc == FX_E_NODEV) {
		u->wait_unplug = true; /* ends with -ESHUTDOWN at the removal */
		u->done_at = UINT64_MAX;
	} else {
		u->done_at = done_at;
		u->status = rc == 0 ? 0 : rc == FX_E_STALL ? -EPIPE : -EPROTO;
		/* OUT: an ACKed data stage moved all wLength bytes */
		u->actual = rc != 0 ? 0 : u->in ? (int)actual : (int)s.wLength;
		if (rc == 0 && u->in)
			scale_poll_timeout(bed, &s, p + 8, actual);
	}
	if (bed->verbose >= 2)
		fx_log(FX_LOG_DEBUG, LOG_PREFIX,
		       "dev %u: %02x %02x %04x %04x %u -> %d, %d bytes, done at %llu us",
		       d->devnum, s.bmRequestType, s.bRequest, s.wValue, s.wIndex,
		       s.wLength, rc, u->actual,
		       (unsigned long long)(u->done_at == UINT64_MAX ? 0 : u->done_at));
}

static void handle_submit(struct fxe_dev *d, UMockdevIoctlClient *client,
			  UMockdevIoctlData *arg)
{
	struct fxe_bed *bed = d->board->bed;
	UMockdevIoctlData *ud, *bd;
	struct usbdevfs_urb *urb;
	struct fx_usb_setup s;
	struct fxe_urb *u;
	uint8_t *p;

	if (d->gone) {
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		return;
	}
	ud = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
	if (!ud) {
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	urb = (struct usbdevfs_urb *)ud->data;
	if (urb->type != USBDEVFS_URB_TYPE_CONTROL || (urb->endpoint & 0x7f) != 0 ||
	    urb->buffer_length < 8 || urb->buffer_length > 8 + 65535) {
		umockdev_ioctl_client_complete(client, -1, EINVAL);
		return;
	}
	bd = umockdev_ioctl_data_resolve(ud, offsetof(struct usbdevfs_urb, buffer),
					 (gsize)urb->buffer_length, NULL);
	if (!bd) {
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	p = bd->data;
	s.bmRequestType = p[0];
	s.bRequest = p[1];
	s.wValue = (uint16_t)(p[2] | (p[3] << 8));
	s.wIndex = (uint16_t)(p[4] | (p[5] << 8));
	s.wLength = (uint16_t)(p[6] | (p[7] << 8));
	if ((int)s.wLength > urb->buffer_length - 8) {
		umockdev_ioctl_client_complete(client, -1, EINVAL);
		return;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		umockdev_ioctl_client_complete(client, -1, ENOMEM);
		return;
	}
	u->client = client;
	u->data = g_object_ref(ud);
	u->buf = g_object_ref(bd);
	u->client_addr = ud->client_addr;
	u->in = (s.bmRequestType & USB_DIR_IN) != 0;
	if (bed->hub == FXE_HUB_SINGLE_TT) {
		uint64_t now = fx_clock_now(bed->clock);

		u->start_at = bed->bus_free_at > now ? bed->bus_free_at : now;
		bed->bus_free_at = u->start_at + bus_time_us(s.wLength);
		u->queued = u->start_at > now;
	}
	if (u->queued) {
		u->done_at = UINT64_MAX; /* urb_run() once the bus is free */
		if (bed->verbose >= 2)
			fx_log(FX_LOG_DEBUG, LOG_PREFIX,
			       "dev %u: %02x %02x waits for the shared bus until %llu us",
			       d->devnum, s.bmRequestType, s.bRequest,
			       (unsigned long long)u->start_at);
	} else
		urb_run(d, u);
	u->next = d->urbs;
	d->urbs = u;
	bed->kicks++;
	pthread_cond_signal(&bed->cond); /* the bridge thread times it */
	umockdev_ioctl_client_complete(client, 0, 0);
}

static void handle_reap(struct fxe_dev *d, UMockdevIoctlClient *client,
			UMockdevIoctlData *arg)
{
	struct fxe_urb *u, *pick = NULL;
	UMockdevIoctlData *ptr;
	gint32 v;

	for (u = d->urbs; u; u = u->next)
		if (u->done && u->client == client)
			pick = u; /* list is newest first: keep the oldest */
	if (!pick) {
		umockdev_ioctl_client_complete(client, -1, d->gone ? ENODEV : EAGAIN);
		return;
	}
	v = pick->status;
	umockdev_ioctl_data_update(pick->data, offsetof(struct usbdevfs_urb, status),
				   (guint8 *)&v, sizeof(v));
	v = pick->actual;
	umockdev_ioctl_data_update(pick->data,
				   offsetof(struct usbdevfs_urb, actual_length),
				   (guint8 *)&v, sizeof(v));
	if (pick->in && pick->actual > 0) {
		guint8 *copy = g_memdup2((guint8 *)pick->buf->data + 8,
					 (gsize)pick->actual);

		umockdev_ioctl_data_update(pick->buf, 8, copy, pick->actual);
		g_free(copy);
	}
	ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
	if (!ptr) {
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	umockdev_ioctl_data_set_ptr(ptr, 0, pick->data);
	unlink_urb(d, pick);
	umockdev_ioctl_client_complete(client, 0, 0);
	urb_free(pick);
	fifo_sync(d);
	if (d->removing && !has_done_urbs(d))
		pthread_cond_signal(&d->board->bed->cond);
}

static void handle_discard(struct fxe_dev *d, UMockdevIoctlClient *client,
			   UMockdevIoctlData *arg)
{
	gulong addr = *(gulong *)arg->data;
	struct fxe_urb *u;

	for (u = d->urbs; u; u = u->next) {
		if (u->client != client || u->client_addr != addr)
			continue;
		if (u->done) /* too late: it completed (kernel: EINVAL) */
			break;
		u->done = true;
		u->status = -ENOENT;
		u->actual = 0;
		fifo_sync(d);
		umockdev_ioctl_client_complete(client, 0, 0);
		return;
	}
	umockdev_ioctl_client_complete(client, -1, EINVAL);
}

/* Synchronous USBDEVFS_CONTROL: answered at once (model time not waited). */
static void handle_control(struct fxe_dev *d, UMockdevIoctlClient *client,
			   UMockdevIoctlData *arg)
{
	UMockdevIoctlData *cd, *dd = NULL;
	struct usbdevfs_ctrltransfer *c;
	struct fx_usb_setup s;
	uint8_t scratch[8];
	size_t actual = 0;
	uint64_t done_at;
	int rc;

	cd = umockdev_ioctl_data_resolve(arg, 0, sizeof(*c), NULL);
	if (!cd) {
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	c = (struct usbdevfs_ctrltransfer *)cd->data;
	s.bmRequestType = c->bRequestType;
	s.bRequest = c->bRequest;
	s.wValue = c->wValue;
	s.wIndex = c->wIndex;
	s.wLength = c->wLength;
	if (s.wLength)
		dd = umockdev_ioctl_data_resolve(cd, offsetof(struct usbdevfs_ctrltransfer, data),
						 s.wLength, NULL);
	if (s.wLength && !dd) {
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	rc = fx_emu_control(d->board->emu, &s, dd ? dd->data : scratch, &actual,
			    &done_at);
	if (rc == 0)
		umockdev_ioctl_client_complete(client, (glong)actual, 0);
	else
		umockdev_ioctl_client_complete(client, -1, rc == FX_E_STALL ? EPIPE :
					       rc == FX_E_NODEV ? ENODEV : EPROTO);
}

static gboolean on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
			 gpointer user)
{
	struct fxe_dev *d = user;
	struct fxe_bed *bed = d->board->bed;
	gulong req = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	gboolean handled = TRUE;

	(void)handler;
	pthread_mutex_lock(&bed->lock);
	if (d->gone && req != USBDEVFS_REAPURBNDELAY && req != USBDEVFS_REAPURB &&
	    req != USBDEVFS_DISCARDURB && req != USBDEVFS_RELEASEINTERFACE) {
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		goto out;
	}
	switch (req) {
	case USBDEVFS_SUBMITURB:
		handle_submit(d, client, arg);
		break;
	case USBDEVFS_REAPURB: /* blocking reap: never used by libusb; answer like NDELAY */
	case USBDEVFS_REAPURBNDELAY:
		handle_reap(d, client, arg);
		break;
	case USBDEVFS_DISCARDURB:
		handle_discard(d, client, arg);
		break;
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *c = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);

		if (c)
			*(guint32 *)c->data = USBDEVFS_CAP_ZERO_PACKET |
					      USBDEVFS_CAP_BULK_CONTINUATION |
					      USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
					      USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
		umockdev_ioctl_client_complete(client, c ? 0 : -1, c ? 0 : EFAULT);
		break;
	}
	case USBDEVFS_SETINTERFACE: {
		UMockdevIoctlData *c = umockdev_ioctl_data_resolve(arg, 0,
					sizeof(struct usbdevfs_setinterface), NULL);
		struct usbdevfs_setinterface *si;
		int rc;

		if (!c) {
			umockdev_ioctl_client_complete(client, -1, EFAULT);
			break;
		}
		si = (struct usbdevfs_setinterface *)c->data;
		rc = fx_emu_set_alt(d->board->emu, (uint8_t)si->interface,
				    (uint8_t)si->altsetting);
		if (rc == 0)
			umockdev_ioctl_client_complete(client, 0, 0);
		else
			umockdev_ioctl_client_complete(client, -1,
						       rc == FX_E_NODEV ? ENODEV : EINVAL);
		break;
	}
	case USBDEVFS_CONNECTINFO: {
		UMockdevIoctlData *c = umockdev_ioctl_data_resolve(arg, 0,
					sizeof(struct usbdevfs_connectinfo), NULL);

		if (c) {
			struct usbdevfs_connectinfo *ci = (struct usbdevfs_connectinfo *)c->data;

			ci->devnum = d->devnum;
			ci->slow = 0;
		}
		umockdev_ioctl_client_complete(client, c ? 0 : -1, c ? 0 : EFAULT);
		break;
	}
	case USBDEVFS_GET_SPEED:
		umockdev_ioctl_client_complete(client, 2 /* USB_SPEED_FULL */, 0);
		break;
	case USBDEVFS_GETDRIVER:
		umockdev_ioctl_client_complete(client, -1, ENODATA); /* no kernel driver */
		break;
	case USBDEVFS_CONTROL:
		handle_control(d, client, arg);
		break;
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_RELEASEINTERFACE:
	case USBDEVFS_DISCONNECT_CLAIM:
	case USBDEVFS_SETCONFIGURATION:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
	case USBDEVFS_RESET: /* a bus reset keeps the ROM's state: nothing to model */
		umockdev_ioctl_client_complete(client, 0, 0);
		break;
	default:
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "dev %u: ioctl 0x%lx not emulated",
		       d->devnum, (unsigned long)req);
		handled = FALSE;
		break;
	}
out:
	pthread_mutex_unlock(&bed->lock);
	return handled;
}

/* A client closed its fd: forget its URBs. */
static void on_vanished(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
			gpointer user)
{
	struct fxe_dev *d = user;
	struct fxe_bed *bed = d->board->bed;
	struct fxe_urb **pp;

	(void)handler;
	pthread_mutex_lock(&bed->lock);
	for (pp = &d->urbs; *pp;) {
		struct fxe_urb *u = *pp;

		if (u->client == client) {
			*pp = u->next;
			urb_free(u);
		} else {
			pp = &u->next;
		}
	}
	fifo_sync(d);
	if (d->removing)
		pthread_cond_signal(&bed->cond);
	pthread_mutex_unlock(&bed->lock);
}

/* ---- plug / unplug (bridge thread) ---- */

static void hex_append(GString *s, const uint8_t *p, int n)
{
	for (int i = 0; i < n; i++)
		g_string_append_printf(s, "%02x", p[i]);
}

/* Plug what board b shows on the bus now as a new device. Called with the
 * lock held; drops it around the testbed calls (the worker thread may be
 * waiting for it inside an ioctl). */
static void plug(struct fxe_bed *bed, struct fxe_board *b)
{
	uint8_t dd[18], cfg[1024];
	struct fxe_dev *d;
	GError *gerr = NULL;
	GString *rec;
	char path[512];
	int nd, nc;

	nd = fx_emu_device_descriptor(b->emu, dd, sizeof(dd));
	nc = fx_emu_config_descriptor(b->emu, cfg, sizeof(cfg));
	if (nd < 18 || nc < 9) {
		fx_log(FX_LOG_ERR, LOG_PREFIX, "port 1-%u: no descriptors (%d, %d)",
		       b->port, nd, nc);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return;
	d->board = b;
	d->fifo = -1;
	d->devnum = bed->next_devnum++; /* pitfall: never reuse a devnum */
	snprintf(d->node, sizeof(d->node), "/dev/bus/usb/001/%03u", d->devnum);
	snprintf(d->syspath, sizeof(d->syspath), "/sys/devices/usb1/1-%u", b->port);
	d->handler = umockdev_ioctl_base_new();
	g_signal_connect(d->handler, "handle-ioctl", G_CALLBACK(on_ioctl), d);
	g_signal_connect(d->handler, "client-vanished", G_CALLBACK(on_vanished), d);
	d->next = bed->devs;
	bed->devs = d;
	b->cur = d;
	b->plugged_enum = fx_emu_enum_count(b->emu);
	b->plugs++;
	b->cur_vid = (uint16_t)(dd[8] | (dd[9] << 8));
	b->cur_pid = (uint16_t)(dd[10] | (dd[11] << 8));

	rec = g_string_new(NULL);
	g_string_append_printf(rec,
		"P: /devices/usb1/1-%u\n"
		"N: bus/usb/001/%03u\n"
		"E: SUBSYSTEM=usb\n"
		"E: DEVTYPE=usb_device\n"
		"E: DRIVER=usb\n"
		"E: DEVNAME=/dev/bus/usb/001/%03u\n"
		"E: BUSNUM=001\n"
		"E: DEVNUM=%03u\n"
		"E: PRODUCT=%x/%x/%x\n"
		"A: busnum=1\\n\n"
		"A: devnum=%u\\n\n"
		"A: speed=12\\n\n"
		"A: bConfigurationValue=1\\n\n"
		"A: dev=189:%u\\n\n"
		"H: descriptors=",
		b->port, d->devnum, d->devnum, d->devnum,
		dd[8] | (dd[9] << 8), dd[10] | (dd[11] << 8), dd[12] | (dd[13] << 8),
		d->devnum, d->devnum - 1);
	hex_append(rec, dd, 18);
	hex_append(rec, cfg, nc);
	g_string_append(rec, "\n");

	pthread_mutex_unlock(&bed->lock);
	/* pitfall: attach before adding; attaching a path twice aborts, and
	 * paths are never reused */
	if (!umockdev_testbed_attach_ioctl(bed->testbed, d->node, d->handler, &gerr)) {
		fx_log(FX_LOG_ERR, LOG_PREFIX, "attach %s: %s", d->node, gerr->message);
		g_clear_error(&gerr);
	}
	if (!umockdev_testbed_add_from_string(bed->testbed, rec->str, &gerr)) {
		fx_log(FX_LOG_ERR, LOG_PREFIX, "add 1-%u: %s", b->port, gerr->message);
		g_clear_error(&gerr);
	}
	g_string_free(rec, TRUE);
	/* pitfall: a plain-file node is always writable and libusb spins;
	 * a FIFO kept full is idle until a URB completes */
	snprintf(path, sizeof(path), "%s%s", bed->root, d->node);
	pthread_mutex_lock(&bed->lock);
	if (unlink(path) == 0 && mkfifo(path, 0666) == 0)
		d->fifo = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (d->fifo >= 0)
		fifo_fill(d);
	else
		fx_log(FX_LOG_WARN, LOG_PREFIX, "%s: no FIFO (%s), clients will poll",
		       d->node, strerror(errno));
	fifo_sync(d);
	pthread_mutex_unlock(&bed->lock);
	umockdev_testbed_uevent(bed->testbed, d->syspath, "add");
	pthread_mutex_lock(&bed->lock);
	d->live = true;
	if (bed->verbose)
		fx_log(FX_LOG_INFO, LOG_PREFIX, "port 1-%u: %04x:%04x plugged as %s",
		       b->port, dd[8] | (dd[9] << 8), dd[10] | (dd[11] << 8), d->node);
	pthread_cond_broadcast(&bed->cond);
}

/* Board b dropped off the bus: pending URBs end as after a real
 * disconnect, new ioctls answer ENODEV. The device leaves the testbed once
 * its clients reaped what completed (at most HUB_NOTICE_NS later, like a
 * hub noticing the disconnect): umockdev stops answering a removed node's
 * ioctls, and a transfer the board finished just before leaving (the
 * GETSTATUS answering dfuMANIFEST) must still reach the host. */
static void unplug(struct fxe_bed *bed, struct fxe_board *b)
{
	struct fxe_dev *d = b->cur;
	struct fxe_urb *u;

	d->gone = true;
	for (u = d->urbs; u; u = u->next)
		if (!u->done) {
			u->done = true;
			/* the request on the wire when the board left fails as
			 * a transfer error before the hub reports the
			 * disconnect (dummy_hcd: no endpoint on the dead port;
			 * xHCI: transaction error: tests/kernel); the hub's
			 * removal flushes the others */
			u->status = u->wait_unplug ? -EPROTO : -ESHUTDOWN;
			u->actual = 0;
		}
	fifo_sync(d);
	b->cur = NULL;
	d->removing = true;
	d->remove_by_ns = mono_ns() + HUB_NOTICE_NS;
	if (bed->verbose)
		fx_log(FX_LOG_INFO, LOG_PREFIX, "port 1-%u: %s left the bus", b->port,
		       d->node);
}

/* Take d out of the testbed. Lock held; dropped around the testbed. */
static void remove_now(struct fxe_bed *bed, struct fxe_dev *d)
{
	char syspath[96];

	d->removing = false;
	snprintf(syspath, sizeof(syspath), "%s", d->syspath);
	pthread_mutex_unlock(&bed->lock);
	/* pitfall: 0.17.16 remove_device() sends no "remove" uevent: send it
	 * while the uevent file still exists */
	umockdev_testbed_uevent(bed->testbed, syspath, "remove");
	umockdev_testbed_remove_device(bed->testbed, syspath);
	pthread_mutex_lock(&bed->lock);
	if (bed->verbose)
		fx_log(FX_LOG_INFO, LOG_PREFIX, "port 1-%u: %s removed",
		       d->board->port, d->node);
	pthread_cond_broadcast(&bed->cond);
}

/* Finish the removals that are due (or all of board force's). Returns the
 * earliest CLOCK_MONOTONIC deadline still pending (UINT64_MAX if none). */
static uint64_t finish_removals(struct fxe_bed *bed, const struct fxe_board *force)
{
	uint64_t next = UINT64_MAX;

	for (struct fxe_dev *d = bed->devs; d; d = d->next) {
		if (!d->removing)
			continue;
		if (d->board == force || !has_done_urbs(d) ||
		    mono_ns() >= d->remove_by_ns)
			remove_now(bed, d);
		else if (d->remove_by_ns < next)
			next = d->remove_by_ns;
	}
	return next;
}

/* Hand the board the queued URBs whose bus turn has come (single-tt),
 * complete d's URBs whose modelled end has come; returns the earliest
 * turn or end still ahead (or limit). */
static uint64_t complete_due(struct fxe_dev *d, uint64_t now, uint64_t limit)
{
	struct fxe_urb *u, *first;
	bool changed = false;

	/* the queued URBs whose turn has come, in bus order (the list is
	 * newest first) */
	do {
		first = NULL;
		for (u = d->urbs; u; u = u->next)
			if (!u->done && u->queued && u->start_at <= now &&
			    (!first || u->start_at < first->start_at))
				first = u;
		if (first)
			urb_run(d, first);
	} while (first);
	for (u = d->urbs; u; u = u->next) {
		if (u->done)
			continue;
		if (u->queued) { /* single-tt: not its turn on the bus yet */
			if (u->start_at < limit)
				limit = u->start_at;
			continue;
		}
		if (u->wait_unplug)
			continue;
		if (u->done_at <= now) {
			u->done = true;
			changed = true;
		} else if (u->done_at < limit) {
			limit = u->done_at;
		}
	}
	if (changed)
		fifo_sync(d);
	return limit;
}

/* Process what is due on board b; returns the model time of its next
 * event (UINT64_MAX if none). Lock held. */
static uint64_t service(struct fxe_bed *bed, struct fxe_board *b)
{
	uint64_t next;
	enum fx_emu_bus bus;

	/* transfers the board answered end first: the emulator said
	 * FX_E_NODEV for any request the board would not finish, so a
	 * removal due now happened after them (leave: GETSTATUS answers
	 * dfuMANIFEST, then the ROM detaches) */
	if (b->cur)
		complete_due(b->cur, fx_clock_now(bed->clock), UINT64_MAX);
	bus = fx_emu_poll(b->emu);
	if (b->cur && (bus == FX_EMU_BUS_NONE ||
		       fx_emu_enum_count(b->emu) != b->plugged_enum))
		unplug(bed, b);
	if (!b->cur && bus != FX_EMU_BUS_NONE) {
		finish_removals(bed, b); /* same sysfs path */
		plug(bed, b);
	}
	next = fx_emu_next_event_us(b->emu);
	if (b->cur)
		next = complete_due(b->cur, fx_clock_now(bed->clock), next);
	return next;
}

static void *bridge_thread(void *arg)
{
	struct fxe_bed *bed = arg;

	pthread_mutex_lock(&bed->lock);
	while (!bed->stop) {
		uint64_t next = UINT64_MAX, rm;
		unsigned kicks = bed->kicks;
		struct timespec ts;
		unsigned i;

		for (i = 0; i < bed->nboards; i++) {
			uint64_t t = service(bed, &bed->boards[i]);

			if (t < next)
				next = t;
		}
		rm = finish_removals(bed, NULL);
		if (bed->stop)
			break;
		/* plug/unplug drop the lock: a pin change or URB that came
		 * meanwhile signalled nobody, and next may be stale */
		if (bed->kicks != kicks)
			continue;
		if (next != UINT64_MAX && next <= fx_clock_now(bed->clock))
			continue;
		if (next == UINT64_MAX && rm == UINT64_MAX) {
			pthread_cond_wait(&bed->cond, &bed->lock);
			continue;
		}
		ts = real_at(bed, next == UINT64_MAX ? UINT64_MAX / 2 : next);
		if (rm != UINT64_MAX &&
		    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec > rm) {
			ts.tv_sec = (time_t)(rm / 1000000000u);
			ts.tv_nsec = (long)(rm % 1000000000u);
		}
		pthread_cond_timedwait(&bed->cond, &bed->lock, &ts);
	}
	pthread_mutex_unlock(&bed->lock);
	return NULL;
}

/* ---- life cycle (main thread) ---- */

static const char root_hub[] =
	"P: /devices/usb1\n"
	"N: bus/usb/001/001\n"
	"E: SUBSYSTEM=usb\n"
	"E: DEVTYPE=usb_device\n"
	"E: DRIVER=usb\n"
	"E: DEVNAME=/dev/bus/usb/001/001\n"
	"E: BUSNUM=001\n"
	"E: DEVNUM=001\n"
	"A: busnum=1\\n\n"
	"A: devnum=1\\n\n"
	"A: speed=480\\n\n"
	"A: bConfigurationValue=1\\n\n"
	"A: dev=189:0\\n\n"
	/* Linux Foundation 2.0 root hub (1d6b:0002), one hub interface */
	"H: descriptors=12010002090001406b1d020005060302010109021900010100e0"
	"000904000001090000000705810304000c\n";

int fxe_bed_init(struct fxe_bed *bed, double scale, int verbose,
		 struct fx_err *err)
{
	pthread_condattr_t ca;
	GError *gerr = NULL;
	gchar *root;

	memset(bed, 0, sizeof(*bed));
	bed->ctl_fd = bed->ctl_wake[0] = bed->ctl_wake[1] = -1;
	pthread_mutex_init(&bed->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&bed->cond, &ca);
	pthread_condattr_destroy(&ca);
	fx_rclock_init(&bed->rclock, scale);
	bed->clock = &bed->rclock.base;
	bed->next_devnum = 2;
	bed->verbose = verbose;
	bed->testbed = umockdev_testbed_new();
	if (!bed->testbed)
		return fx_err_set(err, FX_E_IO, "umockdev: cannot create a testbed");
	root = umockdev_testbed_get_root_dir(bed->testbed);
	snprintf(bed->root, sizeof(bed->root), "%s", root);
	g_free(root);
	if (!umockdev_testbed_add_from_string(bed->testbed, root_hub, &gerr)) {
		fx_err_set(err, FX_E_IO, "umockdev: root hub: %s", gerr->message);
		g_clear_error(&gerr);
		return FX_E_IO;
	}
	return 0;
}

int fxe_bed_add_board(struct fxe_bed *bed, const char *path, const char *knobs,
		      uint16_t app_vid, uint16_t app_pid, struct fx_err *err)
{
	struct fxe_board *b;
	struct fx_emu_knobs k;
	bool boot0 = true;
	struct fx_emu *e;

	if (bed->nboards >= FXE_MAX_BOARDS)
		return fx_err_set(err, FX_E_CONFIG, "board '%s': at most %d boards",
				  path, FXE_MAX_BOARDS);
	if (strlen(path) >= sizeof(b->path))
		return fx_err_set(err, FX_E_CONFIG, "board '%s': path too long", path);
	fx_emu_knobs_default(&k);
	if (knobs && fx_emu_knobs_parse(&k, &boot0, knobs, err))
		return fx_err_prefix(err, "board '%s'", path);
	if (app_vid && access(path, F_OK) != 0) {
		/* a new board with another application identity: the chip
		 * UID of a fresh fx_emu_load() board of the same path */
		struct fx_emu_identity id = { .app_vid = app_vid, .app_pid = app_pid };

		fx_emu_uid_from_path(path, id.uid);
		e = fx_emu_new(&id, bed->clock, err);
	} else {
		e = fx_emu_load(path, bed->clock, err);
	}
	if (!e)
		return err ? err->code : FX_E_FILE;
	b = &bed->boards[bed->nboards];
	memset(b, 0, sizeof(*b));
	b->bed = bed;
	b->emu = e;
	b->port = bed->nboards + 1;
	snprintf(b->path, sizeof(b->path), "%s", path);
	fx_emu_set_knobs(e, &k);
	/* the jig: BOOT0 held high (unless boot0=0), NRST released, power on */
	fx_emu_set_boot0(e, boot0);
	fx_emu_set_nrst(e, true);
	fx_emu_set_power(e, true);
	bed->nboards++;
	return 0;
}

/* Every board either on the bus or with nothing scheduled. Lock held. */
static bool settled(struct fxe_bed *bed)
{
	for (unsigned i = 0; i < bed->nboards; i++) {
		struct fxe_board *b = &bed->boards[i];

		if (b->cur ? !b->cur->live :
			     fx_emu_next_event_us(b->emu) != UINT64_MAX)
			return false;
	}
	return true;
}

int fxe_bed_start(struct fxe_bed *bed, struct fx_err *err)
{
	uint64_t limit = mono_ns() + (uint64_t)START_WAIT_MS * 1000000u;
	int rc;

	rc = pthread_create(&bed->thread, NULL, bridge_thread, bed);
	if (rc)
		return fx_err_set(err, FX_E_IO, "cannot start the bridge thread: %s",
				  strerror(rc));
	bed->running = true;
	pthread_mutex_lock(&bed->lock);
	while (!settled(bed) && mono_ns() < limit) {
		struct timespec ts = { .tv_sec = (time_t)(limit / 1000000000u),
				       .tv_nsec = (long)(limit % 1000000000u) };

		pthread_cond_timedwait(&bed->cond, &bed->lock, &ts);
	}
	pthread_mutex_unlock(&bed->lock);
	return 0;
}

int fxe_bed_stop_save(struct fxe_bed *bed, struct fx_err *err)
{
	int first = 0;

	fxe_ctl_stop(bed); /* no pin changes while the boards are saved */
	if (bed->running) {
		pthread_mutex_lock(&bed->lock);
		bed->stop = true;
		pthread_cond_broadcast(&bed->cond);
		pthread_mutex_unlock(&bed->lock);
		pthread_join(bed->thread, NULL);
		bed->running = false;
	}
	for (unsigned i = 0; i < bed->nboards; i++) {
		struct fx_err e;
		int rc;

		fx_err_clear(&e);
		rc = fx_emu_save(bed->boards[i].emu, bed->boards[i].path, &e);
		if (rc && !first) {
			first = rc;
			if (err)
				*err = e;
		}
	}
	return first;
}

void fxe_bed_release(struct fxe_bed *bed)
{
	struct fxe_dev *d, *dn;

	fxe_ctl_stop(bed);
	if (bed->running)
		fxe_bed_stop_save(bed, NULL);
	for (d = bed->devs; d; d = dn) {
		struct fxe_urb *u, *un;

		dn = d->next;
		for (u = d->urbs; u; u = un) {
			un = u->next;
			urb_free(u);
		}
		if (d->fifo >= 0)
			close(d->fifo);
		g_object_unref(d->handler);
		free(d);
	}
	bed->devs = NULL;
	for (unsigned i = 0; i < bed->nboards; i++)
		fx_emu_free(bed->boards[i].emu);
	bed->nboards = 0;
	if (bed->testbed)
		g_object_unref(bed->testbed);
	bed->testbed = NULL;
	pthread_cond_destroy(&bed->cond);
	pthread_mutex_destroy(&bed->lock);
}
