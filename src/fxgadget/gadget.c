/* gadget.c - the only file of fxgadget that knows the Linux gadget
 * interfaces: a configfs gadget (Documentation/usb/gadget_configfs.rst)
 * with one FunctionFS function (Documentation/usb/functionfs.rst,
 * <linux/usb/functionfs.h>) per board. Facts measured for this tool are in
 * ../shared/spec/kernel-tier.md ("dummy_hcd + FunctionFS facts").
 *
 * A plug writes the identity to configfs, opens ep0, writes the
 * descriptors and strings (FunctionFS v2 format) and binds the UDC; an
 * unplug unbinds the UDC (a real disconnect) and closes ep0, which resets
 * the FunctionFS instance to "read descriptors", so the next plug can show
 * other descriptors (the bootloader after the application, a new alt-0
 * layout after a DBANK change).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/usb/functionfs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fx/bytes.h"
#include "fxgadget.h"

#define CFS_ROOT "/sys/kernel/config/usb_gadget"
#define UDC_CLASS "/sys/class/udc"

static int join(char *out, size_t cap, const char *a, const char *b)
{
	return (size_t)snprintf(out, cap, "%s/%s", a, b) >= cap ? -1 : 0;
}

/* Write a configfs attribute dir/rel. */
static int put_attr(const char *dir, const char *rel, struct fx_err *err,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int put_attr(const char *dir, const char *rel, struct fx_err *err,
		    const char *fmt, ...)
{
	char path[320], val[256];
	va_list ap;
	ssize_t n;
	int fd, len;

	va_start(ap, fmt);
	len = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (join(path, sizeof(path), dir, rel) || len < 0 || (size_t)len >= sizeof(val))
		return fx_err_set(err, FX_E_INVAL, "'%s/%s': path or value too long",
				  dir, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fx_err_set(err, FX_E_IO, "open '%s': %s", path, strerror(errno));
	n = write(fd, val, (size_t)len);
	if (n != len) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		return fx_err_set(err, FX_E_IO, "write '%s' to '%s': %s", val, path,
				  strerror(e));
	}
	close(fd);
	return 0;
}

static int make_dir(const char *dir, const char *rel, struct fx_err *err)
{
	char path[320];

	if (join(path, sizeof(path), dir, rel))
		return fx_err_set(err, FX_E_INVAL, "'%s/%s': path too long", dir, rel);
	if (mkdir(path, 0755) && errno != EEXIST)
		return fx_err_set(err, FX_E_IO, "mkdir '%s': %s", path, strerror(errno));
	return 0;
}

static void rm_rel(const char *dir, const char *rel, bool link)
{
	char path[320];

	if (join(path, sizeof(path), dir, rel))
		return;
	if (link)
		unlink(path);
	else
		rmdir(path);
}

/* Remove what fxg_gadget_create made (configfs wants the reverse order). */
static void remove_cfs(const char *cfs, const char *name)
{
	char rel[96];

	put_attr(cfs, "UDC", NULL, "\n");
	snprintf(rel, sizeof(rel), "configs/c.1/ffs.%s", name);
	rm_rel(cfs, rel, true);
	rm_rel(cfs, "configs/c.1/strings/0x409", false);
	rm_rel(cfs, "configs/c.1", false);
	snprintf(rel, sizeof(rel), "functions/ffs.%s", name);
	rm_rel(cfs, rel, false);
	rm_rel(cfs, "strings/0x409", false);
	rmdir(cfs);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fxg_udc_pick(unsigned index, char *udc, size_t cap, struct fx_err *err)
{
	char *names[64];
	unsigned n = 0, i;
	struct dirent *de;
	DIR *d = opendir(UDC_CLASS);
	int rc = 0;

	if (!d)
		return fx_err_set(err, FX_E_NOTFOUND, "'%s': %s (no UDC driver loaded: "
				  "modprobe dummy_hcd)", UDC_CLASS, strerror(errno));
	while ((de = readdir(d)) && n < 64) {
		if (de->d_name[0] == '.')
			continue;
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = fx_err_set(err, FX_E_NOMEM, "out of memory listing UDCs");
			break;
		}
		n++;
	}
	closedir(d);
	if (!rc) {
		qsort(names, n, sizeof(names[0]), cmp_str);
		if (index >= n)
			rc = fx_err_set(err, FX_E_NOTFOUND, "only %u UDCs in %s (board %u "
					"needs one of its own: dummy_hcd num=N)", n,
					UDC_CLASS, index + 1);
		else if ((size_t)snprintf(udc, cap, "%s", names[index]) >= cap)
			rc = fx_err_set(err, FX_E_INVAL, "UDC name '%s' too long",
					names[index]);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

int fxg_udc_host_port(const char *udc, char *port, size_t cap,
		      struct fx_err *err)
{
	char dir[160];
	struct dirent *de;
	unsigned k, bus = 0;
	DIR *d;

	if (sscanf(udc, "dummy_udc.%u", &k) != 1)
		return fx_err_set(err, FX_E_NOTFOUND, "UDC '%s': not a dummy_udc, host "
				  "port unknown", udc);
	snprintf(dir, sizeof(dir), "/sys/devices/platform/dummy_hcd.%u", k);
	d = opendir(dir);
	if (!d)
		return fx_err_set(err, FX_E_NOTFOUND, "'%s': %s", dir, strerror(errno));
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "usb%u", &bus) == 1)
			break;
	closedir(d);
	if (!de)
		return fx_err_set(err, FX_E_NOTFOUND, "'%s': no usbN root hub", dir);
	snprintf(port, cap, "%u-1", bus);
	return 0;
}

int fxg_gadget_create(struct fxg_gadget *g, const char *name,
		      const char *udc, const char *run_dir, struct fx_err *err)
{
	char rel[96], src[320], dst[320];
	int rc;

	memset(g, 0, sizeof(*g));
	g->ep0 = -1;
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->udc, sizeof(g->udc), "%s", udc);
	if ((size_t)snprintf(g->cfs, sizeof(g->cfs), "%s/%s", CFS_ROOT, name) >= sizeof(g->cfs) ||
	    (size_t)snprintf(g->mnt, sizeof(g->mnt), "%s/%s", run_dir, name) >= sizeof(g->mnt))
		return fx_err_set(err, FX_E_INVAL, "gadget '%s': path too long", name);
	if (access(CFS_ROOT, F_OK))
		return fx_err_set(err, FX_E_NOTFOUND, "'%s': %s (configfs mounted? "
				  "libcomposite loaded?)", CFS_ROOT, strerror(errno));
	/* a gadget left by a killed fxgadget: take it down first */
	umount2(g->mnt, MNT_DETACH);
	if (!access(g->cfs, F_OK))
		remove_cfs(g->cfs, name);
	if (mkdir(g->cfs, 0755))
		return fx_err_set(err, FX_E_IO, "mkdir '%s': %s", g->cfs, strerror(errno));
	g->made = true;
	snprintf(rel, sizeof(rel), "functions/ffs.%s", name);
	rc = make_dir(g->cfs, "strings/0x409", err);
	if (!rc)
		rc = make_dir(g->cfs, "configs/c.1", err);
	if (!rc)
		rc = make_dir(g->cfs, "configs/c.1/strings/0x409", err);
	if (!rc)
		rc = make_dir(g->cfs, rel, err);
	if (rc)
		return rc;
	snprintf(src, sizeof(src), "%s/functions/ffs.%s", g->cfs, name);
	snprintf(dst, sizeof(dst), "%s/configs/c.1/ffs.%s", g->cfs, name);
	if (symlink(src, dst))
		return fx_err_set(err, FX_E_IO, "symlink '%s': %s", dst, strerror(errno));
	/* the G474 ROM is a full-speed device (spec 2.1: bcdUSB 2.00, FS) */
	put_attr(g->cfs, "max_speed", NULL, "full-speed");
	if (mkdir(run_dir, 0755) && errno != EEXIST)
		return fx_err_set(err, FX_E_IO, "mkdir '%s': %s", run_dir, strerror(errno));
	if (mkdir(g->mnt, 0755) && errno != EEXIST)
		return fx_err_set(err, FX_E_IO, "mkdir '%s': %s", g->mnt, strerror(errno));
	if (mount(name, g->mnt, "functionfs", 0, NULL))
		return fx_err_set(err, FX_E_IO, "mount functionfs '%s' on '%s': %s "
				  "(usb_f_fs loaded?)", name, g->mnt, strerror(errno));
	g->mounted = true;
	return 0;
}

/* FunctionFS v2 descriptors: full- and high-speed sets (dummy_hcd may run
 * at high speed), both the board's. */
static size_t build_descs(const struct fxg_usbdev *d, uint8_t *out, size_t cap)
{
	size_t n = 0, count = 0, off = 0;

	while (off + 2 <= d->intf_len && d->intf[off] >= 2) {
		off += d->intf[off];
		count++;
	}
	if (cap < 20 + 2 * d->intf_len)
		return 0;
	fx_put_le32(out + 0, FUNCTIONFS_DESCRIPTORS_MAGIC_V2);
	fx_put_le32(out + 8, FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC);
	fx_put_le32(out + 12, (uint32_t)count);
	fx_put_le32(out + 16, (uint32_t)count);
	n = 20;
	memcpy(out + n, d->intf, d->intf_len);
	n += d->intf_len;
	memcpy(out + n, d->intf, d->intf_len);
	n += d->intf_len;
	fx_put_le32(out + 4, (uint32_t)n);
	return n;
}

static size_t build_strings(const struct fxg_usbdev *d, uint8_t *out, size_t cap)
{
	size_t n = 18;

	if (cap < n)
		return 0;
	fx_put_le32(out + 0, FUNCTIONFS_STRINGS_MAGIC);
	fx_put_le32(out + 8, d->nstrings);
	/* f_fs: no strings = no languages either (the application's HID) */
	fx_put_le32(out + 12, d->nstrings ? 1 : 0);
	if (!d->nstrings) {
		fx_put_le32(out + 4, 16);
		return 16;
	}
	fx_put_le16(out + 16, 0x0409);
	for (unsigned i = 0; i < d->nstrings; i++) {
		size_t l = strlen(d->strings[i]) + 1;

		if (n + l > cap)
			return 0;
		memcpy(out + n, d->strings[i], l);
		n += l;
	}
	fx_put_le32(out + 4, (uint32_t)n);
	return n;
}

static int write_all_ep0(struct fxg_gadget *g, const uint8_t *buf, size_t n,
			 const char *what, struct fx_err *err)
{
	ssize_t w = write(g->ep0, buf, n);

	if (w != (ssize_t)n)
		return fx_err_set(err, FX_E_IO, "gadget '%s': FunctionFS %s: %s",
				  g->name, what, w < 0 ? strerror(errno) : "short write");
	return 0;
}

int fxg_gadget_plug(struct fxg_gadget *g, const struct fxg_usbdev *d,
		    struct fx_err *err)
{
	uint8_t buf[2048];
	char path[200];
	size_t n;
	int rc;

	rc = put_attr(g->cfs, "idVendor", err, "0x%04x", d->vid);
	if (!rc)
		rc = put_attr(g->cfs, "idProduct", err, "0x%04x", d->pid);
	if (!rc)
		rc = put_attr(g->cfs, "bcdDevice", err, "0x%04x", d->bcd_device);
	if (!rc)
		rc = put_attr(g->cfs, "bcdUSB", err, "0x%04x", d->bcd_usb);
	if (!rc)
		rc = put_attr(g->cfs, "bDeviceClass", err, "0x%02x", d->dev_class);
	if (!rc)
		rc = put_attr(g->cfs, "bDeviceSubClass", err, "0x%02x", d->dev_subclass);
	if (!rc)
		rc = put_attr(g->cfs, "bDeviceProtocol", err, "0x%02x", d->dev_protocol);
	if (!rc)
		rc = put_attr(g->cfs, "bMaxPacketSize0", err, "%u", d->mps0);
	if (!rc)
		rc = put_attr(g->cfs, "strings/0x409/manufacturer", err, "%s", d->manufacturer);
	if (!rc)
		rc = put_attr(g->cfs, "strings/0x409/product", err, "%s", d->product);
	if (!rc)
		rc = put_attr(g->cfs, "strings/0x409/serialnumber", err, "%s", d->serial);
	if (!rc)
		rc = put_attr(g->cfs, "configs/c.1/bmAttributes", err, "0x%02x",
			      d->cfg_attributes);
	if (!rc)
		rc = put_attr(g->cfs, "configs/c.1/MaxPower", err, "%u",
			      2u * d->cfg_max_power);
	if (rc)
		return rc;
	if (g->ep0 < 0) {
		snprintf(path, sizeof(path), "%s/ep0", g->mnt);
		g->ep0 = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (g->ep0 < 0)
			return fx_err_set(err, FX_E_IO, "open '%s': %s", path,
					  strerror(errno));
		n = build_descs(d, buf, sizeof(buf));
		if (!n)
			return fx_err_set(err, FX_E_INVAL, "gadget '%s': descriptors too "
					  "long", g->name);
		rc = write_all_ep0(g, buf, n, "descriptors", err);
		if (rc)
			return rc;
		n = build_strings(d, buf, sizeof(buf));
		if (!n)
			return fx_err_set(err, FX_E_INVAL, "gadget '%s': strings too long",
					  g->name);
		rc = write_all_ep0(g, buf, n, "strings", err);
		if (rc)
			return rc;
	}
	rc = put_attr(g->cfs, "UDC", err, "%s", g->udc);
	if (rc)
		return rc;
	g->bound = true;
	return 0;
}

int fxg_gadget_unplug(struct fxg_gadget *g, struct fx_err *err)
{
	int rc = 0;

	if (g->bound) {
		rc = put_attr(g->cfs, "UDC", err, "\n");
		g->bound = false;
	}
	if (g->ep0 >= 0) {
		close(g->ep0);
		g->ep0 = -1;
	}
	return rc;
}

void fxg_gadget_destroy(struct fxg_gadget *g)
{
	if (!g || !g->made)
		return;
	fxg_gadget_unplug(g, NULL);
	if (g->mounted) {
		umount2(g->mnt, MNT_DETACH);
		rmdir(g->mnt);
		g->mounted = false;
	}
	remove_cfs(g->cfs, g->name);
	g->made = false;
}

static const char *event_name(unsigned type)
{
	switch (type) {
	case FUNCTIONFS_BIND: return "bind";
	case FUNCTIONFS_UNBIND: return "unbind";
	case FUNCTIONFS_ENABLE: return "enable";
	case FUNCTIONFS_DISABLE: return "disable";
	case FUNCTIONFS_SETUP: return "setup";
	case FUNCTIONFS_SUSPEND: return "suspend";
	case FUNCTIONFS_RESUME: return "resume";
	default: return "unknown event";
	}
}

int fxg_gadget_event(struct fxg_gadget *g, enum fxg_event_kind *kind,
		     struct fxg_setup *s, const char **what, struct fx_err *err)
{
	struct usb_functionfs_event ev;
	ssize_t n;

	*kind = FXG_EV_NONE;
	if (g->ep0 < 0)
		return 0;
	n = read(g->ep0, &ev, sizeof(ev));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n != (ssize_t)sizeof(ev))
		return fx_err_set(err, FX_E_IO, "gadget '%s': ep0 event: %s", g->name,
				  n < 0 ? strerror(errno) : "short read");
	*what = event_name(ev.type);
	if (ev.type != FUNCTIONFS_SETUP) {
		*kind = FXG_EV_OTHER;
		return 0;
	}
	s->bmRequestType = ev.u.setup.bRequestType;
	s->bRequest = ev.u.setup.bRequest;
	s->wValue = ev.u.setup.wValue;   /* little endian host: as is */
	s->wIndex = ev.u.setup.wIndex;
	s->wLength = ev.u.setup.wLength;
	*kind = FXG_EV_SETUP;
	return 0;
}

/* ep0 is non-blocking for events; data stages are short and always come:
 * wait for them with a blocking descriptor flag around the call. */
static void set_blocking(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, on ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
}

int fxg_gadget_read_data(struct fxg_gadget *g, uint8_t *buf, size_t len,
			 struct fx_err *err)
{
	ssize_t n;

	set_blocking(g->ep0, true);
	n = read(g->ep0, buf, len);
	set_blocking(g->ep0, false);
	if (n != (ssize_t)len)
		return fx_err_set(err, n < 0 && errno == EIDRM ? FX_E_TIMEOUT : FX_E_IO,
				  "gadget '%s': OUT data stage (%zu bytes): %s", g->name,
				  len, n < 0 ? strerror(errno) : "short read");
	return 0;
}

int fxg_gadget_reply(struct fxg_gadget *g, const struct fxg_setup *s,
		     const uint8_t *buf, size_t len, bool stall,
		     struct fx_err *err)
{
	bool in = s->bmRequestType & 0x80;
	uint8_t dummy = 0;
	ssize_t n;

	set_blocking(g->ep0, true);
	if (stall) /* FunctionFS: the wrong direction halts ep0 */
		n = in ? read(g->ep0, &dummy, 0) : write(g->ep0, &dummy, 0);
	else if (in)
		n = write(g->ep0, buf, len);
	else
		n = read(g->ep0, &dummy, 0);
	set_blocking(g->ep0, false);
	if (stall && n < 0 && errno == EL2HLT)
		return 0;
	if (n < 0)
		return fx_err_set(err, errno == EIDRM ? FX_E_TIMEOUT : FX_E_IO,
				  "gadget '%s': reply to %02x %02x: %s", g->name,
				  s->bmRequestType, s->bRequest,
				  errno == EIDRM ? "the host gave up (cancelled)" :
				  strerror(errno));
	return 0;
}
