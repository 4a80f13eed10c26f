/* usb_libusb.c - the production transport: libusb-1.0 behind the fx_usb
 * seam (include/fx/usb.h, include/fx/usb_libusb.h). The only file that
 * includes <libusb.h> (STYLE 1).
 *
 * A handle follows one slot, the USB port path of the device it opened
 * ("1-1.4"). After a reset (option bytes, leave, Read Unprotect) the chip
 * drops off the bus and a new device with a new address appears on the same
 * port; reopen waits for it event-driven (libusb hotplug where the platform
 * has it, a bounded rescan every RESCAN_MS otherwise).
 *
 * Expected disconnects (spec 2.6, 1.7, 6.2 item 8): the DFU layer says
 * when its next request makes the ROM reset (fx_usb_expect_reset(): leave,
 * option-byte write, Read Unprotect); from then on LIBUSB_ERROR_NO_DEVICE,
 * _IO and _PIPE are FX_E_NODEV, so the caller sees the reset as a result
 * and not as a protocol error. Otherwise PIPE is a STALL (FX_E_STALL) and
 * IO is FX_E_IO, unless the device is removed within GONE_WAIT_MS after
 * it (left_after_io(): a board that drops off unannounced). The backend
 * never decodes DFU requests to guess it.
 * Pending transfers end as soon as the device is removed, so an expected
 * disconnect costs no multi-second timeout.
 *
 * One libusb context per process (issue 14 item 1): made at the first
 * open (or fx_usb_libusb_list()), with the one hotplug registration,
 * shared by every handle of every slot thread and by the port waits, and
 * released at process exit when no handle is open (atexit). It is never
 * made a second time, also not after the last close (the next reset wait
 * would make another): libusb 1.0.26 drops a "device left" notice that
 * comes between a new context's initial scan and its hotplug init, with
 * the device reference it carries (a leaked libusb_device under ASan), and
 * a context made while the other slots' boards re-plug meets that window.
 * The hotplug callback only counts events; each wait reads the count
 * before it looks at the device list and, unless the count has moved
 * since, handles libusb events for one slice that ends at any event
 * (libusb's own event loop functions:
 * one thread handles events, the others wait in libusb_wait_for_event and
 * wake at every completion or hand-over), so every waiter wakes at any
 * plug event and looks only at its own port.
 *
 * Port waits (fx_usb_port_wait): the context's device list changes only
 * at hotplug events (libusb polls them in libusb_get_device_list), so
 * "the port is empty" and "a new device is there" are answered from
 * events, not by opening devices or making a context per look. Every
 * device listed on the port between an EMPTY wait and the NEW wait that
 * binds is old (a hub that lists the leaving device late, a board that
 * was still booting) and never bound. Without hotplug (FX_USB_NO_HOTPLUG,
 * read at each open, or a platform without it) a wait looks every
 * RESCAN_MS, and the list may be a fresh scan that catches a device
 * half-removed: the port must then look empty in two looks RESCAN_MS
 * apart.
 *
 * A dead handle: the first LIBUSB_ERROR_NO_DEVICE marks the handle dead and
 * every later request on it (control, set_alt, descriptors, strings) fails
 * with FX_E_NODEV without reaching libusb. SET_INTERFACE goes out as a
 * plain standard control request: libusb 1.0.26 (Debian 12)
 * libusb_set_interface_alt_setting() unlocks the handle's mutex without
 * locking it when the device is already detached (libusb issue #1199), and
 * libusb_close() then aborts (usbi_mutex_destroy assertion). A DFU
 * interface has no endpoints, so the kernel's idea of the alternate
 * setting does not matter; the device gets the same request.
 */
#include <libusb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fx/bytes.h"
#include "fx/log.h"
#include "fx/usb_libusb.h"

#define LOG_PREFIX "usb"
#define RESCAN_MS 25u      /* bounded rescan period without hotplug */
#define STRING_TIMEOUT_MS 1000u
#define SET_ALT_TIMEOUT_MS 1000u
#define MAX_PORTS 7        /* USB 2.0: at most 7 tiers */
#define SEEN_MAX 16        /* old devices remembered per port wait */
/* a hub reports an unplug within its status interrupt interval (255 ms at
 * most) and usbcore then removes the device */
#define GONE_WAIT_MS 500u

enum match_kind { MATCH_ANY, MATCH_PORT, MATCH_SERIAL };

struct match {
	enum match_kind kind;
	char value[64];
};

/* The language of a handle's strings: the first LANGID of string
 * descriptor 0, as libusb_get_string_descriptor_ascii() asks for it, but
 * fetched once per handle instead of before every string (4 control
 * transfers less per open: serial, product and the alt names). A handle
 * opened anew (after a reset, another device) starts unknown. */
struct lang_cache {
	bool known;
	uint16_t id;
};

struct lu_usb {
	struct fx_usb base; /* first: fx_usb_* wrappers see only this */
	libusb_context *ctx;         /* the process's one (shared.ctx) */
	libusb_device *dev;          /* bound device (referenced), NULL if none */
	libusb_device_handle *h;     /* open handle, NULL if none */
	bool claimed;
	bool dead;                   /* NO_DEVICE seen: no more libusb calls on h */
	char slot[32];               /* port path the handle follows, "" = none */
	uint16_t xvid, xpid;         /* extra VID:PID accepted */
	bool any_device;
	bool hotplug;                /* waits end at plug events (file comment) */
	bool expect_reset;           /* fx_usb_expect_reset() (file comment) */
	struct lang_cache lang;      /* of h: cleared by bind and unbind */
	/* devices listed on the port since the last EMPTY wait (port_wait) */
	unsigned nold;
	struct { uint8_t bus, dev; } old[SEEN_MAX];
};

static struct lu_usb *to_lu(struct fx_usb *u)
{
	return (struct lu_usb *)u;
}

static void log_cb(libusb_context *ctx, enum libusb_log_level level,
		   const char *str)
{
	char msg[256];
	size_t n;

	(void)ctx;
	snprintf(msg, sizeof(msg), "%s", str);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	fx_log(level <= LIBUSB_LOG_LEVEL_ERROR ? FX_LOG_WARN :
	       level == LIBUSB_LOG_LEVEL_WARNING ? FX_LOG_INFO : FX_LOG_DEBUG,
	       "libusb", "%s", msg);
}

/* The process's one libusb context (file comment). File-scope state on
 * purpose: the context is the process's, not a slot's (STYLE 2 keeps
 * everything else in the handles). */
static struct {
	pthread_mutex_t lock;       /* guards all but plugs */
	libusb_context *ctx;        /* NULL before the first use, after exit */
	bool hotplug;               /* hotplug_cb registered on ctx */
	bool at_exit;               /* ctx_exit() registered */
	bool down;                  /* released at exit: no new users */
	pid_t pid;                  /* the process that made ctx */
	libusb_hotplug_callback_handle hp;
	unsigned users;             /* open handles and lists in progress */
	unsigned made;              /* contexts made (fx_usb_libusb_contexts) */
	atomic_uint plugs;          /* hotplug events so far */
} shared = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Called by whichever thread handles the context's events: count and
 * return (the waits look at the device list themselves). */
static int LIBUSB_CALL hotplug_cb(libusb_context *ctx, libusb_device *dev,
				  libusb_hotplug_event event, void *user)
{
	(void)ctx;
	(void)dev;
	(void)event;
	(void)user;
	atomic_fetch_add(&shared.plugs, 1u);
	return 0; /* stay registered */
}

static unsigned plugs_now(void)
{
	return atomic_load(&shared.plugs);
}

/* At process exit: release the context unless a handle is still open (a
 * thread still inside the backend; the context stays reachable then).
 * A forked child that exits does not touch its parent's copy. */
static void ctx_exit(void)
{
	pthread_mutex_lock(&shared.lock);
	if (shared.ctx && shared.users == 0 && shared.pid == getpid()) {
		if (shared.hotplug)
			libusb_hotplug_deregister_callback(shared.ctx, shared.hp);
		libusb_exit(shared.ctx);
		shared.ctx = NULL;
		shared.hotplug = false;
	}
	shared.down = true;
	pthread_mutex_unlock(&shared.lock);
}

/* Make the context (first call) and count a user. Returns 0 with *ctx
 * and *hotplug, or FX_E_IO. */
static int ctx_get(libusb_context **ctx, bool *hotplug, struct fx_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&shared.lock);
	if (shared.down) {
		rc = fx_err_set(err, FX_E_IO, "libusb: the process is exiting");
		goto out;
	}
	if (!shared.ctx) {
		libusb_context *c = NULL;
		int r = libusb_init(&c);

		if (r < 0) {
			if (err)
				err->usb_rc = r;
			rc = fx_err_set(err, FX_E_IO, "libusb: cannot initialise: %s",
					libusb_strerror(r));
			goto out;
		}
		libusb_set_log_cb(c, log_cb, LIBUSB_LOG_CB_CONTEXT);
		if (fx_log_get_level() >= FX_LOG_DEBUG)
			libusb_set_option(c, LIBUSB_OPTION_LOG_LEVEL,
					  LIBUSB_LOG_LEVEL_INFO);
		/* FX_USB_NO_HOTPLUG: the bounded rescan even where hotplug
		 * exists (diagnostics; tests of the no-hotplug path) */
		shared.hotplug = !getenv("FX_USB_NO_HOTPLUG") &&
			libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
			libusb_hotplug_register_callback(c,
				LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
				LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
				LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
				LIBUSB_HOTPLUG_MATCH_ANY, hotplug_cb, NULL,
				&shared.hp) == 0;
		shared.ctx = c;
		shared.pid = getpid();
		shared.made++;
		fx_log(FX_LOG_DEBUG, LOG_PREFIX, "libusb context made (%s)",
		       shared.hotplug ? "hotplug" : "rescan");
		if (!shared.at_exit)
			shared.at_exit = atexit(ctx_exit) == 0;
	}
	shared.users++;
	*ctx = shared.ctx;
	*hotplug = shared.hotplug;
out:
	pthread_mutex_unlock(&shared.lock);
	return rc;
}

static void ctx_put(void)
{
	pthread_mutex_lock(&shared.lock);
	if (shared.users)
		shared.users--;
	pthread_mutex_unlock(&shared.lock);
}

unsigned fx_usb_libusb_contexts(void)
{
	unsigned n;

	pthread_mutex_lock(&shared.lock);
	n = shared.made;
	pthread_mutex_unlock(&shared.lock);
	return n;
}

bool fx_usb_port_path_valid(const char *s)
{
	int levels = 0;
	unsigned v;

	/* bus */
	if (*s < '1' || *s > '9')
		return false;
	for (v = 0; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (unsigned)(*s - '0')) > 255)
			return false;
	if (*s++ != '-')
		return false;
	for (;;) {
		if (*s < '1' || *s > '9')
			return false;
		for (v = 0; *s >= '0' && *s <= '9'; s++)
			if ((v = v * 10 + (unsigned)(*s - '0')) > 255)
				return false;
		if (++levels > MAX_PORTS)
			return false;
		if (!*s)
			return true;
		if (*s++ != '.')
			return false;
	}
}

/* "B-P.P.P" of dev, false for root hubs (no port). */
static bool port_path_of(libusb_device *dev, char *buf, size_t cap)
{
	uint8_t ports[MAX_PORTS];
	int n = libusb_get_port_numbers(dev, ports, MAX_PORTS);
	size_t o;
	int i;

	if (n <= 0)
		return false;
	o = (size_t)snprintf(buf, cap, "%u-", libusb_get_bus_number(dev));
	for (i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, i ? ".%u" : "%u", ports[i]);
	return o < cap;
}

static bool ids_match(const struct libusb_device_descriptor *d, uint16_t xvid,
		      uint16_t xpid)
{
	if (d->idVendor == ST_DFU_VID && d->idProduct == ST_DFU_PID)
		return true;
	return xvid && d->idVendor == xvid && d->idProduct == xpid;
}

/* Interface 0, alt 0 of the active configuration is DFU (FE/01). */
static bool dev_is_dfu(libusb_device *dev)
{
	struct libusb_config_descriptor *cfg = NULL;
	bool dfu = false;

	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return false;
	if (cfg->bNumInterfaces > 0 && cfg->interface[0].num_altsetting > 0) {
		const struct libusb_interface_descriptor *a =
			&cfg->interface[0].altsetting[0];

		dfu = a->bInterfaceClass == USB_CLASS_APP_SPEC &&
		      a->bInterfaceSubClass == DFU_SUBCLASS;
	}
	libusb_free_config_descriptor(cfg);
	return dfu;
}

/* String index of h as ASCII in buf (cap > 0), in the device's first
 * language (lc: cached per handle); decoded by fx_usb_string_decode().
 * Returns 0 or a LIBUSB_ERROR code (LIBUSB_ERROR_IO for a malformed
 * descriptor). */
static int get_string(libusb_device_handle *h, struct lang_cache *lc,
		      uint8_t index, char *buf, size_t cap)
{
	uint8_t raw[255];
	int n;

	if (!lc->known) {
		n = libusb_get_string_descriptor(h, 0, 0, raw, sizeof(raw));
		if (n < 0)
			return n;
		if (n < 4)
			return LIBUSB_ERROR_IO;
		lc->id = fx_get_le16(raw + 2);
		lc->known = true;
	}
	n = libusb_get_string_descriptor(h, index, lc->id, raw, sizeof(raw));
	if (n < 0)
		return n;
	if (!fx_usb_string_decode(raw, (size_t)n, buf, cap))
		return LIBUSB_ERROR_IO;
	return 0;
}

static void read_string(libusb_device_handle *h, struct lang_cache *lc,
			uint8_t index, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (index && get_string(h, lc, index, buf, cap))
		buf[0] = '\0';
}

/* Identity of dev; strings only when h is open. */
static void fill_info(libusb_device *dev, libusb_device_handle *h,
		      struct lang_cache *lc, struct fx_usb_info *in)
{
	struct libusb_device_descriptor d;

	memset(in, 0, sizeof(*in));
	if (libusb_get_device_descriptor(dev, &d) == 0) {
		in->vid = d.idVendor;
		in->pid = d.idProduct;
		in->bcd_device = d.bcdDevice;
		if (h) {
			read_string(h, lc, d.iSerialNumber, in->serial, sizeof(in->serial));
			read_string(h, lc, d.iProduct, in->product, sizeof(in->product));
		}
	}
	in->busnum = libusb_get_bus_number(dev);
	in->devnum = libusb_get_device_address(dev);
	if (!port_path_of(dev, in->port_path, sizeof(in->port_path)))
		snprintf(in->port_path, sizeof(in->port_path), "%u-0", in->busnum);
	in->is_dfu = dev_is_dfu(dev);
}

static int parse_spec(const char *spec, struct match *m, struct fx_err *err)
{
	memset(m, 0, sizeof(*m));
	if (!spec[0]) {
		m->kind = MATCH_ANY;
		return 0;
	}
	if (!strncmp(spec, "serial=", 7)) {
		if (!spec[7] || strlen(spec + 7) >= sizeof(m->value))
			return fx_err_set(err, FX_E_CONFIG,
					  "device 'usb:%s': expected serial=S with "
					  "1 to %zu characters", spec,
					  sizeof(m->value) - 1);
		m->kind = MATCH_SERIAL;
		snprintf(m->value, sizeof(m->value), "%s", spec + 7);
		return 0;
	}
	if (!fx_usb_port_path_valid(spec))
		return fx_err_set(err, FX_E_CONFIG,
				  "device 'usb:%s': expected usb:, usb:PORTPATH "
				  "(e.g. 1-1.4) or usb:serial=S", spec);
	m->kind = MATCH_PORT;
	snprintf(m->value, sizeof(m->value), "%s", spec);
	return 0;
}

static const char *match_text(const struct match *m, char *buf, size_t cap)
{
	switch (m->kind) {
	case MATCH_PORT:
		snprintf(buf, cap, "on port %s", m->value);
		break;
	case MATCH_SERIAL:
		snprintf(buf, cap, "with serial '%s'", m->value);
		break;
	case MATCH_ANY:
		snprintf(buf, cap, "on the system");
		break;
	}
	return buf;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Find the one device matching m. Returns 0 with *out referenced, or
 * FX_E_NOTFOUND / FX_E_AMBIGUOUS (candidates named in err, by port). */
static int find_device(struct lu_usb *lu, const struct match *m,
		       libusb_device **out, struct fx_err *err)
{
	libusb_device **list = NULL, *found = NULL;
	char names[8][112], all[256] = "", where[96];
	ssize_t n, i;
	int count = 0;
	size_t o = 0;

	n = libusb_get_device_list(lu->ctx, &list);
	if (n < 0) {
		if (err)
			err->usb_rc = (int)n;
		return fx_err_set(err, FX_E_IO, "libusb: cannot list devices: %s",
				  libusb_strerror((int)n));
	}
	for (i = 0; i < n; i++) {
		libusb_device *dev = list[i];
		struct libusb_device_descriptor d;
		char port[32], serial[64] = "";

		if (!port_path_of(dev, port, sizeof(port)) ||
		    libusb_get_device_descriptor(dev, &d) != 0)
			continue;
		if (m->kind == MATCH_PORT) {
			if (strcmp(port, m->value))
				continue;
			if (!lu->any_device && !ids_match(&d, lu->xvid, lu->xpid))
				continue;
		} else if (!ids_match(&d, lu->xvid, lu->xpid)) {
			continue;
		}
		if (m->kind == MATCH_SERIAL || m->kind == MATCH_ANY) {
			struct lang_cache lc = { 0 };
			libusb_device_handle *h;

			if (libusb_open(dev, &h) == 0) {
				read_string(h, &lc, d.iSerialNumber, serial, sizeof(serial));
				libusb_close(h);
			}
			if (m->kind == MATCH_SERIAL && strcmp(serial, m->value))
				continue;
		}
		if (count < 8)
			snprintf(names[count], sizeof(names[count]), "%s%s%s%s", port,
				 serial[0] ? " (serial " : "", serial,
				 serial[0] ? ")" : "");
		count++;
		if (!found)
			found = dev;
	}
	if (count == 1)
		libusb_ref_device(found);
	libusb_free_device_list(list, 1);
	if (count == 0)
		return fx_err_set(err, FX_E_NOTFOUND,
				  "no DFU device (%04x:%04x%s) %s", ST_DFU_VID,
				  ST_DFU_PID, lu->xvid ? " or extra VID:PID" : "",
				  match_text(m, where, sizeof(where)));
	if (count > 1) {
		qsort(names, (size_t)(count < 8 ? count : 8), sizeof(names[0]), cmp_name);
		for (i = 0; i < count && i < 8 && o < sizeof(all); i++)
			o += (size_t)snprintf(all + o, sizeof(all) - o, "%s%s",
					      i ? ", " : "", names[i]);
		return fx_err_set(err, FX_E_AMBIGUOUS,
				  "%d DFU devices %s: %s; name one with "
				  "usb:PORTPATH or usb:serial=S", count,
				  match_text(m, where, sizeof(where)), all);
	}
	*out = found;
	return 0;
}

/* Handle libusb events for up to ms (at most RESCAN_MS), or not at all
 * when a plug event came since plugs (plugs_now() read before the caller
 * last looked at the device list). Returns at any event: the caller looks
 * again, at its own port only. */
static void wait_event(struct lu_usb *lu, unsigned plugs, unsigned ms)
{
	struct timeval tv;

	/* the caller's deadline is clock time, this wait real time: on a
	 * scaled clock (a station under fxemu --realtime=0.05) one long wait
	 * would overrun it 20 times, so come back every RESCAN_MS, hotplug
	 * or not */
	if (ms > RESCAN_MS)
		ms = RESCAN_MS;
	if (lu->hotplug && plugs_now() != plugs)
		return;
	tv.tv_sec = ms / 1000u;
	tv.tv_usec = (long)(ms % 1000u) * 1000;
	libusb_handle_events_timeout_completed(lu->ctx, &tv, NULL);
}

static void unbind(struct lu_usb *lu)
{
	if (lu->h) {
		if (lu->claimed && !lu->dead)
			libusb_release_interface(lu->h, 0);
		libusb_close(lu->h);
	}
	if (lu->dev)
		libusb_unref_device(lu->dev);
	lu->h = NULL;
	lu->dev = NULL;
	lu->claimed = false;
	lu->dead = false;
	lu->lang.known = false;
}

/* No handle, or a dead one: FX_E_NODEV naming what was not sent. */
static int gone(const struct lu_usb *lu, const char *what, struct fx_err *err)
{
	if (!lu->h)
		return fx_err_set(err, FX_E_NODEV, "%s: no device bound "
				  "(it left the bus)", what);
	if (lu->dead)
		return fx_err_set(err, FX_E_NODEV, "%s: device left the bus "
				  "(not sent)", what);
	return 0;
}

/* Open dev (referenced by the caller, taken over), claim interface 0 and
 * fill info. */
static int bind(struct lu_usb *lu, libusb_device *dev, struct fx_err *err)
{
	libusb_device_handle *h = NULL;
	int rc;

	rc = libusb_open(dev, &h);
	if (rc < 0) {
		char port[32] = "?";

		port_path_of(dev, port, sizeof(port));
		libusb_unref_device(dev);
		if (err)
			err->usb_rc = rc;
		if (rc == LIBUSB_ERROR_ACCESS)
			return fx_err_set(err, FX_E_IO,
					  "device on port %s: permission denied "
					  "(install scripts/60-fixturectl.rules)", port);
		return fx_err_set(err, rc == LIBUSB_ERROR_NO_DEVICE ? FX_E_NODEV : FX_E_IO,
				  "device on port %s: cannot open: %s", port,
				  libusb_strerror(rc));
	}
	lu->dev = dev;
	lu->h = h;
	libusb_set_auto_detach_kernel_driver(h, 1);
	lu->lang.known = false; /* a new handle: its device may differ */
	fill_info(dev, h, &lu->lang, &lu->base.info);
	rc = libusb_claim_interface(h, 0);
	if (rc < 0 && lu->base.info.is_dfu) {
		if (err)
			err->usb_rc = rc;
		fx_err_set(err, rc == LIBUSB_ERROR_BUSY ? FX_E_BUSY : FX_E_IO,
			   "device on port %s: cannot claim interface 0: %s",
			   lu->base.info.port_path, libusb_strerror(rc));
		unbind(lu);
		return err ? err->code : FX_E_IO;
	}
	lu->claimed = rc == 0;
	lu->expect_reset = false;
	lu->nold = 0;
	snprintf(lu->slot, sizeof(lu->slot), "%s", lu->base.info.port_path);
	fx_log(FX_LOG_DEBUG, LOG_PREFIX, "bound %04x:%04x on port %s (bus %u dev %u)",
	       lu->base.info.vid, lu->base.info.pid, lu->slot,
	       lu->base.info.busnum, lu->base.info.devnum);
	return 0;
}

static void lu_free(struct lu_usb *lu)
{
	unbind(lu);
	if (lu->ctx)
		ctx_put();
	free(lu);
}

static int lu_open(const char *spec, const struct fx_clock *clk,
		   const struct fx_usb_open_opts *opts, struct fx_usb **out,
		   struct fx_err *err)
{
	struct lu_usb *lu;
	struct match m;
	libusb_device *dev = NULL;
	uint64_t deadline;
	unsigned plugs;
	int rc;

	rc = parse_spec(spec, &m, err);
	if (rc)
		return rc;
	if (opts->unbound && m.kind != MATCH_PORT)
		return fx_err_set(err, FX_E_CONFIG, "device 'usb:%s': following a slot "
				  "needs a port path (usb:PORTPATH, e.g. usb:1-1.4)",
				  spec);
	lu = calloc(1, sizeof(*lu));
	if (!lu)
		return fx_err_set(err, FX_E_NOMEM, "out of memory");
	lu->base.ops = &fx_usb_libusb_ops;
	lu->base.clock = clk;
	lu->xvid = opts->vid;
	lu->xpid = opts->pid;
	lu->any_device = opts->any_device && m.kind == MATCH_PORT;
	rc = ctx_get(&lu->ctx, &lu->hotplug, err);
	if (rc) {
		free(lu);
		return rc;
	}
	/* FX_USB_NO_HOTPLUG set after the context was made: this handle
	 * looks every RESCAN_MS all the same */
	if (getenv("FX_USB_NO_HOTPLUG"))
		lu->hotplug = false;
	if (opts->unbound) {
		lu->any_device = true;
		/* a valid port path has at most 31 characters */
		snprintf(lu->slot, sizeof(lu->slot), "%.31s", m.value);
		snprintf(lu->base.info.port_path, sizeof(lu->base.info.port_path),
			 "%.31s", m.value);
		*out = &lu->base;
		return 0;
	}
	deadline = fx_clock_now(clk) + (uint64_t)opts->wait_ms * 1000u;
	for (;;) {
		uint64_t now;

		plugs = plugs_now();
		rc = find_device(lu, &m, &dev, err);
		if (rc != FX_E_NOTFOUND)
			break;
		now = fx_clock_now(clk);
		if (now >= deadline)
			break;
		wait_event(lu, plugs, (unsigned)((deadline - now + 999u) / 1000u));
	}
	if (!rc)
		rc = bind(lu, dev, err);
	if (!rc && !opts->any_device && !lu->base.info.is_dfu)
		rc = fx_err_set(err, FX_E_NOTFOUND,
				"device on port %s: %04x:%04x has no DFU interface",
				lu->slot, lu->base.info.vid, lu->base.info.pid);
	if (rc) {
		if (err && err->msg[0] && strncmp(err->msg, "device", 6))
			fx_err_prefix(err, "device 'usb:%s'", spec);
		lu_free(lu);
		return rc;
	}
	*out = &lu->base;
	return 0;
}

/* LIBUSB_ERROR_IO on a device nobody expected to leave. On a real unplug
 * the transfer in flight fails first (-EPROTO: dummy_hcd finds no
 * endpoint on the dead port, xHCI reports a transaction error) and the
 * hub reports the disconnect only later, so IO alone does not tell a
 * board that dropped off from a bad transfer: wait up to GONE_WAIT_MS
 * (clock time) for the device to be removed (its sysfs node and usbfs
 * answer LIBUSB_ERROR_NO_DEVICE). Found by the kernel tier
 * (tests/kernel: a board dropping off mid-program). */
static bool left_after_io(struct lu_usb *lu)
{
	const struct fx_clock *clk = lu->base.clock;
	uint64_t deadline = fx_clock_now(clk) + GONE_WAIT_MS * 1000u;
	int cfg;

	for (;;) {
		unsigned plugs = plugs_now();
		uint64_t now;

		if (libusb_get_configuration(lu->h, &cfg) == LIBUSB_ERROR_NO_DEVICE)
			return true;
		now = fx_clock_now(clk);
		if (now >= deadline)
			return false;
		wait_event(lu, plugs, 10u);
	}
}

/* Map a libusb error of request req to FX_E_*. */
static int map_error(struct lu_usb *lu, int rc, const char *what,
		     unsigned timeout_ms, struct fx_err *err)
{
	if (err)
		err->usb_rc = rc;
	switch (rc) {
	case LIBUSB_ERROR_TIMEOUT:
		return fx_err_set(err, FX_E_TIMEOUT, "%s timed out after %u ms",
				  what, timeout_ms);
	case LIBUSB_ERROR_NO_DEVICE:
		lu->dead = true;
		return fx_err_set(err, FX_E_NODEV, "%s: device left the bus%s",
				  what, lu->expect_reset ? " (expected reset)" : "");
	case LIBUSB_ERROR_PIPE:
		if (lu->expect_reset)
			return fx_err_set(err, FX_E_NODEV,
					  "%s: device left the bus (expected reset, "
					  "LIBUSB_ERROR_PIPE)", what);
		return fx_err_set(err, FX_E_STALL, "%s stalled", what);
	case LIBUSB_ERROR_IO:
		if (lu->expect_reset)
			return fx_err_set(err, FX_E_NODEV,
					  "%s: device left the bus (expected reset, "
					  "LIBUSB_ERROR_IO)", what);
		if (lu->h && left_after_io(lu)) {
			lu->dead = true;
			return fx_err_set(err, FX_E_NODEV, "%s: device left the bus "
					  "(LIBUSB_ERROR_IO, then removed)", what);
		}
		return fx_err_set(err, FX_E_IO, "%s failed: %s", what,
				  libusb_strerror(rc));
	default:
		return fx_err_set(err, FX_E_IO, "%s failed: %s", what,
				  libusb_strerror(rc));
	}
}

static int lu_control(struct fx_usb *u, const struct fx_usb_setup *setup,
		      uint8_t *data, size_t *actual, unsigned timeout_ms,
		      struct fx_err *err)
{
	struct lu_usb *lu = to_lu(u);
	char what[40];
	int rc;

	*actual = 0;
	snprintf(what, sizeof(what), "control request 0x%02x", setup->bRequest);
	if (!lu->h || lu->dead)
		return gone(lu, what, err);
	rc = libusb_control_transfer(lu->h, setup->bmRequestType, setup->bRequest,
				     setup->wValue, setup->wIndex, data,
				     setup->wLength, timeout_ms);
	if (rc < 0)
		return map_error(lu, rc, what, timeout_ms, err);
	*actual = (size_t)rc;
	return 0;
}

/* The transfers of one lu_control_batch() still running. With the shared
 * context another slot's thread may be the one handling events, and may
 * complete a transfer while later ones are still being submitted: the
 * count goes up before each submission, and the batch is done only when
 * every submission is over and the count is back at 0 (lock). */
struct batch_left {
	pthread_mutex_t lock;
	int left;       /* submitted (or being submitted), not ended */
	bool queued;    /* every submission is over */
	int all_done;   /* libusb_handle_events_completed()'s flag */
};

static void batch_end(struct batch_left *b, bool submitted)
{
	pthread_mutex_lock(&b->lock);
	if (submitted)
		b->queued = true;
	else
		b->left--;
	if (b->queued && b->left == 0)
		b->all_done = 1;
	pthread_mutex_unlock(&b->lock);
}

static void LIBUSB_CALL batch_cb(struct libusb_transfer *t)
{
	batch_end(t->user_data, false);
}

/* What libusb_control_transfer() returns for a transfer's status. */
static int transfer_rc(const struct libusb_transfer *t)
{
	switch (t->status) {
	case LIBUSB_TRANSFER_COMPLETED:
		return 0;
	case LIBUSB_TRANSFER_TIMED_OUT:
		return LIBUSB_ERROR_TIMEOUT;
	case LIBUSB_TRANSFER_STALL:
		return LIBUSB_ERROR_PIPE;
	case LIBUSB_TRANSFER_NO_DEVICE:
		return LIBUSB_ERROR_NO_DEVICE;
	case LIBUSB_TRANSFER_OVERFLOW:
		return LIBUSB_ERROR_OVERFLOW;
	case LIBUSB_TRANSFER_CANCELLED:
	case LIBUSB_TRANSFER_ERROR:
	default:
		return LIBUSB_ERROR_IO;
	}
}

/* Asynchronous transfers, all submitted before the first is waited for
 * (usbfs queues them on endpoint 0); then the event loop until every one
 * has ended: each has its own timeout, so the loop ends. */
static int lu_control_batch(struct fx_usb *u, struct fx_usb_xfer *x, size_t n,
			    unsigned timeout_ms, size_t *ok, struct fx_err *err)
{
	struct lu_usb *lu = to_lu(u);
	struct libusb_transfer *t[FX_USB_BATCH_MAX] = { 0 };
	struct batch_left b = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char what[40];
	size_t i, nsub = 0;
	int rc = 0, r;

	snprintf(what, sizeof(what), "control request 0x%02x", x[0].setup.bRequest);
	if (!lu->h || lu->dead)
		return gone(lu, what, err);
	for (i = 0; i < n && !rc; i++) {
		unsigned char *buf = malloc(LIBUSB_CONTROL_SETUP_SIZE + x[i].setup.wLength);

		t[i] = libusb_alloc_transfer(0);
		if (!t[i] || !buf) {
			free(buf);
			rc = LIBUSB_ERROR_NO_MEM;
			break;
		}
		libusb_fill_control_setup(buf, x[i].setup.bmRequestType, x[i].setup.bRequest,
					  x[i].setup.wValue, x[i].setup.wIndex,
					  x[i].setup.wLength);
		if (!(x[i].setup.bmRequestType & LIBUSB_ENDPOINT_IN) && x[i].setup.wLength)
			memcpy(buf + LIBUSB_CONTROL_SETUP_SIZE, x[i].data, x[i].setup.wLength);
		libusb_fill_control_transfer(t[i], lu->h, buf, batch_cb, &b, timeout_ms);
		t[i]->flags = LIBUSB_TRANSFER_FREE_BUFFER;
		pthread_mutex_lock(&b.lock);
		b.left++;
		pthread_mutex_unlock(&b.lock);
		rc = libusb_submit_transfer(t[i]);
		if (rc == 0)
			nsub++;
		else
			batch_end(&b, false);
	}
	if (rc)
		snprintf(what, sizeof(what), "control request 0x%02x",
			 x[nsub].setup.bRequest);
	batch_end(&b, true);
	for (;;) {
		int done;

		pthread_mutex_lock(&b.lock);
		done = b.all_done;
		pthread_mutex_unlock(&b.lock);
		if (done)
			break;
		r = libusb_handle_events_completed(lu->ctx, &b.all_done);
		if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED) {
			/* the event loop itself failed: end what runs */
			for (i = 0; i < nsub; i++)
				libusb_cancel_transfer(t[i]);
		}
	}
	pthread_mutex_destroy(&b.lock);
	*ok = 0;
	for (i = 0; i < nsub; i++) {
		r = transfer_rc(t[i]);
		if (r) {
			rc = r;
			snprintf(what, sizeof(what), "control request 0x%02x",
				 x[i].setup.bRequest);
			break;
		}
		x[i].actual = (size_t)t[i]->actual_length;
		if (x[i].setup.bmRequestType & LIBUSB_ENDPOINT_IN)
			memcpy(x[i].data, libusb_control_transfer_get_data(t[i]), x[i].actual);
		*ok = i + 1;
	}
	for (i = 0; i < n; i++)
		if (t[i])
			libusb_free_transfer(t[i]);
	if (rc == LIBUSB_ERROR_NO_MEM)
		return fx_err_set(err, FX_E_NOMEM, "%s: out of memory", what);
	return rc < 0 ? map_error(lu, rc, what, timeout_ms, err) : 0;
}

static int lu_set_alt(struct fx_usb *u, uint8_t intf, uint8_t alt,
		      struct fx_err *err)
{
	struct lu_usb *lu = to_lu(u);
	char what[48];
	int rc;

	snprintf(what, sizeof(what), "set interface %u alt %u", intf, alt);
	if (!lu->h || lu->dead)
		return gone(lu, what, err);
	/* USB 2.0 9.4.10 as a control request, not
	 * libusb_set_interface_alt_setting() (file comment: issue #1199) */
	rc = libusb_control_transfer(lu->h, LIBUSB_RECIPIENT_INTERFACE,
				     LIBUSB_REQUEST_SET_INTERFACE, alt, intf,
				     NULL, 0, SET_ALT_TIMEOUT_MS);
	return rc < 0 ? map_error(lu, rc, what, SET_ALT_TIMEOUT_MS, err) : 0;
}

static int lu_config_desc(struct fx_usb *u, uint8_t *buf, size_t cap,
			  size_t *len, struct fx_err *err)
{
	struct lu_usb *lu = to_lu(u);
	int rc;

	if (!lu->h || lu->dead)
		return gone(lu, "configuration descriptor", err);
	if (cap > 0xffff)
		cap = 0xffff;
	rc = libusb_get_descriptor(lu->h, LIBUSB_DT_CONFIG, 0, buf, (int)cap);
	if (rc < 0)
		return map_error(lu, rc, "configuration descriptor",
				 STRING_TIMEOUT_MS, err);
	if (rc < 9 || buf[1] != USB_DT_CONFIG)
		return fx_err_set(err, FX_E_PROTO, "configuration descriptor: "
				  "malformed (%d bytes)", rc);
	if (fx_get_le16(buf + 2) > (size_t)rc)
		return fx_err_set(err, FX_E_INVAL, "configuration descriptor: "
				  "%u bytes do not fit in %zu", fx_get_le16(buf + 2),
				  cap);
	*len = fx_get_le16(buf + 2);
	return 0;
}

static int lu_string(struct fx_usb *u, uint8_t index, char *buf, size_t cap,
		     struct fx_err *err)
{
	struct lu_usb *lu = to_lu(u);
	char what[32];
	int rc;

	snprintf(what, sizeof(what), "string %u", index);
	if (!lu->h || lu->dead)
		return gone(lu, what, err);
	rc = get_string(lu->h, &lu->lang, index, buf, cap);
	if (rc < 0) {
		buf[0] = '\0';
		return map_error(lu, rc, what, STRING_TIMEOUT_MS, err);
	}
	return 0;
}

/* The next device on the slot: same port path, another address. */
static libusb_device *next_on_slot(struct lu_usb *lu, uint8_t old_bus,
				   uint8_t old_dev)
{
	libusb_device **list = NULL, *found = NULL;
	ssize_t n, i;

	n = libusb_get_device_list(lu->ctx, &list);
	for (i = 0; i < n; i++) {
		char port[32];

		if (!port_path_of(list[i], port, sizeof(port)) ||
		    strcmp(port, lu->slot))
			continue;
		if (libusb_get_bus_number(list[i]) == old_bus &&
		    libusb_get_device_address(list[i]) == old_dev)
			continue; /* the old one, still leaving */
		found = libusb_ref_device(list[i]);
		break;
	}
	if (n >= 0)
		libusb_free_device_list(list, 1);
	return found;
}

static int lu_reopen(struct fx_usb *u, unsigned timeout_ms, uint64_t *waited_us,
		     struct fx_err *err)
{
	struct lu_usb *lu = to_lu(u);
	const struct fx_clock *clk = u->clock;
	uint8_t old_bus = u->info.busnum, old_dev = u->info.devnum;
	uint64_t t0 = fx_clock_now(clk);
	uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000u;
	libusb_device *dev;

	unbind(lu);
	for (;;) {
		unsigned plugs = plugs_now();
		uint64_t now;

		dev = next_on_slot(lu, old_bus, old_dev);
		now = fx_clock_now(clk);
		if (dev || now >= deadline)
			break;
		wait_event(lu, plugs, (unsigned)((deadline - now + 999u) / 1000u));
	}
	if (waited_us)
		*waited_us = fx_clock_now(clk) - t0;
	if (!dev)
		return fx_err_set(err, FX_E_TIMEOUT,
				  "no device re-appeared on port %s within %u ms",
				  lu->slot, timeout_ms);
	fx_log(FX_LOG_INFO, LOG_PREFIX, "port %s: device re-enumerated after %llu us (%s)",
	       lu->slot, (unsigned long long)(fx_clock_now(clk) - t0),
	       lu->hotplug ? "hotplug" : "rescan");
	return bind(lu, dev, err);
}

static void lu_expect_reset(struct fx_usb *u, bool expected)
{
	to_lu(u)->expect_reset = expected;
}

static bool is_old(const struct lu_usb *lu, uint8_t bus, uint8_t dev)
{
	for (unsigned i = 0; i < lu->nold && i < SEEN_MAX; i++)
		if (lu->old[i].bus == bus && lu->old[i].dev == dev)
			return true;
	return false;
}

static void remember(struct lu_usb *lu, uint8_t bus, uint8_t dev)
{
	if (is_old(lu, bus, dev) || lu->nold >= SEEN_MAX)
		return;
	lu->old[lu->nold].bus = bus;
	lu->old[lu->nold].dev = dev;
	lu->nold++;
}

/* The devices listed on the slot's port now. EMPTY (fresh NULL): each is
 * remembered as old, what gets one's VID:PID. NEW: *fresh = the first not
 * old (referenced). Returns how many are listed, or a LIBUSB_ERROR. */
static int scan_port(struct lu_usb *lu, libusb_device **fresh, char *what,
		     size_t cap)
{
	libusb_device **list = NULL;
	ssize_t n, i;
	int count = 0;

	n = libusb_get_device_list(lu->ctx, &list);
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		struct libusb_device_descriptor d;
		uint8_t bus = libusb_get_bus_number(list[i]);
		uint8_t dev = libusb_get_device_address(list[i]);
		char port[32];

		if (!port_path_of(list[i], port, sizeof(port)) ||
		    strcmp(port, lu->slot))
			continue;
		count++;
		if (!fresh) {
			remember(lu, bus, dev);
			if (libusb_get_device_descriptor(list[i], &d) == 0)
				snprintf(what, cap, "%04x:%04x", d.idVendor, d.idProduct);
		} else if (!*fresh && !is_old(lu, bus, dev)) {
			*fresh = libusb_ref_device(list[i]);
		}
	}
	libusb_free_device_list(list, 1);
	return count;
}

static int list_failed(int rc, struct fx_err *err)
{
	if (err)
		err->usb_rc = rc;
	return fx_err_set(err, FX_E_IO, "libusb: cannot list devices: %s",
			  libusb_strerror(rc));
}

static int wait_empty(struct lu_usb *lu, uint64_t deadline,
		      struct fx_usb_port_seen *seen, struct fx_err *err)
{
	const struct fx_clock *clk = lu->base.clock;
	unsigned empty = 0;
	int n;

	if (lu->dev)
		remember(lu, lu->base.info.busnum, lu->base.info.devnum);
	unbind(lu);
	for (;;) {
		unsigned plugs = plugs_now();
		uint64_t now;

		seen->what[0] = '\0';
		n = scan_port(lu, NULL, seen->what, sizeof(seen->what));
		if (n < 0)
			return list_failed(n, err);
		/* hotplug: the list changes only at events, one look is the
		 * truth; a rescan may catch a device half-removed */
		empty = n ? 0 : empty + 1;
		if (empty >= (lu->hotplug ? 1u : 2u)) {
			seen->what[0] = '\0';
			return 0;
		}
		now = fx_clock_now(clk);
		if (now >= deadline)
			return fx_err_set(err, FX_E_TIMEOUT, "%s still on port %s",
					  n ? seen->what : "a device", lu->slot);
		wait_event(lu, plugs, empty ? RESCAN_MS :
			   (unsigned)((deadline - now + 999u) / 1000u));
	}
}

static int wait_new(struct lu_usb *lu, uint64_t deadline, unsigned timeout_ms,
		    struct fx_err *err)
{
	const struct fx_clock *clk = lu->base.clock;
	int rc;

	for (;;) {
		libusb_device *dev = NULL;
		unsigned plugs = plugs_now();
		uint64_t now;

		rc = scan_port(lu, &dev, NULL, 0);
		if (rc < 0)
			return list_failed(rc, err);
		now = fx_clock_now(clk);
		if (dev) {
			rc = bind(lu, dev, err);
			/* listed but not usable yet: a device node udev has
			 * not finished (EACCES, ENOENT: real hosts and fxemu's
			 * plug alike); look again until the wait is over */
			if (rc != FX_E_NODEV && rc != FX_E_IO && rc != FX_E_BUSY)
				return rc;
			if (now >= deadline)
				return rc;
			fx_log(FX_LOG_DEBUG, LOG_PREFIX, "port %s: %s; looking again",
			       lu->slot, err ? err->msg : "not usable yet");
			/* no plug event is coming: the node gets ready */
			wait_event(lu, plugs_now(), 10);
			continue;
		}
		if (now >= deadline)
			return fx_err_set(err, FX_E_TIMEOUT,
					  "no new device on port %s within %u ms",
					  lu->slot, timeout_ms);
		wait_event(lu, plugs, (unsigned)((deadline - now + 999u) / 1000u));
	}
}

static int lu_port_wait(struct fx_usb *u, enum fx_usb_port_want want,
			unsigned timeout_ms, struct fx_usb_port_seen *seen,
			struct fx_err *err)
{
	struct lu_usb *lu = to_lu(u);
	uint64_t t0 = fx_clock_now(u->clock);
	uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000u;
	int rc = FX_E_INVAL;

	if (!lu->slot[0])
		return fx_err_set(err, FX_E_CONFIG, "port wait: the handle follows no "
				  "port (open it as usb:PORTPATH)");
	switch (want) {
	case FX_USB_PORT_EMPTY:
		rc = wait_empty(lu, deadline, seen, err);
		break;
	case FX_USB_PORT_NEW:
		seen->old = lu->nold;
		rc = wait_new(lu, deadline, timeout_ms, err);
		break;
	}
	if (want == FX_USB_PORT_EMPTY)
		seen->old = lu->nold;
	seen->waited_us = fx_clock_now(u->clock) - t0;
	return rc;
}

static void lu_close(struct fx_usb *u)
{
	if (u)
		lu_free(to_lu(u));
}

static int cmp_found(const void *a, const void *b)
{
	const struct fx_usb_found *x = a, *y = b;

	if (x->info.busnum != y->info.busnum)
		return x->info.busnum < y->info.busnum ? -1 : 1;
	return strcmp(x->info.port_path, y->info.port_path);
}

int fx_usb_libusb_list(const struct fx_usb_open_opts *opts,
		       struct fx_usb_found *out, size_t cap, size_t *n,
		       struct fx_err *err)
{
	static const struct fx_usb_open_opts none;
	libusb_context *ctx;
	libusb_device **list = NULL;
	bool hotplug;
	ssize_t cnt, i;
	size_t k = 0;
	int rc;

	if (!opts)
		opts = &none;
	rc = ctx_get(&ctx, &hotplug, err);
	if (rc)
		return rc;
	cnt = libusb_get_device_list(ctx, &list);
	if (cnt < 0) {
		ctx_put();
		return fx_err_set(err, FX_E_IO, "libusb: cannot list devices: %s",
				  libusb_strerror((int)cnt));
	}
	for (i = 0; i < cnt; i++) {
		struct libusb_device_descriptor d;
		libusb_device_handle *h = NULL;
		struct lang_cache lc = { 0 };
		struct fx_usb_found *f;
		char port[32];

		if (!port_path_of(list[i], port, sizeof(port)) ||
		    libusb_get_device_descriptor(list[i], &d) != 0 ||
		    !ids_match(&d, opts->vid, opts->pid))
			continue;
		if (k < cap) {
			f = &out[k];
			memset(f, 0, sizeof(*f));
			rc = libusb_open(list[i], &h);
			if (rc < 0)
				snprintf(f->open_error, sizeof(f->open_error),
					 "cannot open: %s%s", libusb_strerror(rc),
					 rc == LIBUSB_ERROR_ACCESS ?
					 " (install scripts/60-fixturectl.rules)" : "");
			fill_info(list[i], h, &lc, &f->info);
			if (h)
				libusb_close(h);
			snprintf(f->uri, sizeof(f->uri), "usb:%s", f->info.port_path);
		}
		k++;
	}
	libusb_free_device_list(list, 1);
	ctx_put();
	qsort(out, k < cap ? k : cap, sizeof(*out), cmp_found);
	*n = k;
	return 0;
}

const struct fx_usb_ops fx_usb_libusb_ops = {
	.scheme = "usb",
	.open = lu_open,
	.control = lu_control,
	.control_batch = lu_control_batch,
	.set_alt = lu_set_alt,
	.config_desc = lu_config_desc,
	.string = lu_string,
	.reopen = lu_reopen,
	.expect_reset = lu_expect_reset,
	.port_wait = lu_port_wait,
	.close = lu_close,
};
