/* image.c - the segment list, format detection and dispatch to the
 * readers (image_bin.c, image_hex.c, image_srec.c, image_elf.c,
 * image_dfuse.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fx/log.h"
#include "image_priv.h"

static const char *const format_names[] = {
	[FX_IMAGE_AUTO] = "auto",  [FX_IMAGE_BIN] = "bin", [FX_IMAGE_IHEX] = "ihex",
	[FX_IMAGE_SREC] = "srec",  [FX_IMAGE_ELF] = "elf", [FX_IMAGE_DFUSE] = "dfu",
};

static const char *const format_long[] = {
	[FX_IMAGE_AUTO] = "image",         [FX_IMAGE_BIN] = "raw binary",
	[FX_IMAGE_IHEX] = "Intel HEX",     [FX_IMAGE_SREC] = "S-record",
	[FX_IMAGE_ELF] = "ELF",            [FX_IMAGE_DFUSE] = "DfuSe",
};

const char *fx_image_format_name(enum fx_image_format fmt)
{
	if ((unsigned)fmt >= sizeof(format_names) / sizeof(format_names[0]))
		return "unknown";
	return format_names[fmt];
}

int fx_image_format_parse(const char *name)
{
	static const struct {
		const char *name;
		enum fx_image_format fmt;
	} names[] = {
		{ "auto", FX_IMAGE_AUTO }, { "bin", FX_IMAGE_BIN },   { "raw", FX_IMAGE_BIN },
		{ "hex", FX_IMAGE_IHEX },  { "ihex", FX_IMAGE_IHEX }, { "srec", FX_IMAGE_SREC },
		{ "s19", FX_IMAGE_SREC },  { "mot", FX_IMAGE_SREC },  { "elf", FX_IMAGE_ELF },
		{ "dfu", FX_IMAGE_DFUSE }, { "dfuse", FX_IMAGE_DFUSE },
	};
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return (int)names[i].fmt;
	return -1;
}

int img_fail(struct img_build *b, uint32_t line, const char *fmt, ...)
{
	char msg[sizeof(b->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->text && line)
		return fx_err_set(b->err, FX_E_IMAGE, "%s:%u: %s", b->path, (unsigned)line, msg);
	return fx_err_set(b->err, FX_E_IMAGE, "%s: %s", b->path, msg);
}

int img_add(struct img_build *b, uint32_t line, uint8_t alt, uint32_t addr,
	    const uint8_t *data, size_t len)
{
	struct img_rec *r;

	if (!len)
		return 0;
	if (len > IMG_MAX_PAYLOAD || b->len + len > IMG_MAX_PAYLOAD)
		return img_fail(b, line, "image larger than %u MiB",
				IMG_MAX_PAYLOAD / (1024u * 1024u));
	if ((uint64_t)addr + len > 0x100000000ull)
		return img_fail(b, line, "data at 0x%08x (%zu bytes) wraps past the end of the "
				"32-bit address space", addr, len);
	if (b->len + len > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		uint8_t *nb;

		while (ncap < b->len + len)
			ncap *= 2;
		nb = realloc(b->buf, ncap);
		if (!nb)
			return fx_err_set(b->err, FX_E_NOMEM, "%s: out of memory", b->path);
		b->buf = nb;
		b->cap = ncap;
	}
	if (b->nrecs == b->cap_recs) {
		size_t ncap = b->cap_recs ? b->cap_recs * 2 : 64;
		struct img_rec *nr = realloc(b->recs, ncap * sizeof(*nr));

		if (!nr)
			return fx_err_set(b->err, FX_E_NOMEM, "%s: out of memory", b->path);
		b->recs = nr;
		b->cap_recs = ncap;
	}
	r = &b->recs[b->nrecs++];
	r->addr = addr;
	r->len = (uint32_t)len;
	r->off = (uint32_t)b->len;
	r->line = line;
	r->alt = alt;
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	return 0;
}

static int rec_cmp(const void *pa, const void *pb)
{
	const struct img_rec *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

static uint32_t rec_last(const struct img_rec *r)
{
	return r->addr + (r->len - 1);
}

static int overlap_fail(struct img_build *b, const struct img_rec *late,
			const struct img_rec *early)
{
	char nl[64], ne[64];

	if (b->text)
		return img_fail(b, late->line,
				"data at 0x%08x-0x%08x overlaps data at 0x%08x-0x%08x "
				"from line %u",
				late->addr, rec_last(late), early->addr, rec_last(early),
				(unsigned)early->line);
	if (b->rec_name) {
		b->rec_name(late->line, nl, sizeof(nl));
		b->rec_name(early->line, ne, sizeof(ne));
	} else {
		snprintf(nl, sizeof(nl), "%s %u", b->what, (unsigned)late->line);
		snprintf(ne, sizeof(ne), "%s %u", b->what, (unsigned)early->line);
	}
	return img_fail(b, 0, "%s at 0x%08x-0x%08x overlaps %s at 0x%08x-0x%08x", nl, late->addr,
			rec_last(late), ne, early->addr, rec_last(early));
}

/* Sort, report the overlap whose later record comes first in the file,
 * merge adjacent runs of the same alt setting into segments. */
static struct fx_image *img_finish(struct img_build *b, enum fx_image_format fmt)
{
	const struct img_rec *bad_late = NULL, *bad_early = NULL;
	struct fx_image *img;
	uint64_t maxend, end;
	size_t i, maxi, n, k;

	if (!b->nrecs) {
		img_fail(b, 0, "%s file holds no data", format_long[fmt]);
		return NULL;
	}
	qsort(b->recs, b->nrecs, sizeof(b->recs[0]), rec_cmp);
	maxi = 0;
	maxend = (uint64_t)b->recs[0].addr + b->recs[0].len;
	for (i = 1; i < b->nrecs; i++) {
		const struct img_rec *r = &b->recs[i], *m = &b->recs[maxi];

		if (r->addr < maxend) {
			const struct img_rec *late = r->off > m->off ? r : m;
			const struct img_rec *early = r->off > m->off ? m : r;

			if (!bad_late || late->off < bad_late->off) {
				bad_late = late;
				bad_early = early;
			}
		}
		end = (uint64_t)r->addr + r->len;
		if (end > maxend) {
			maxend = end;
			maxi = i;
		}
	}
	if (bad_late) {
		overlap_fail(b, bad_late, bad_early);
		return NULL;
	}

	n = 1;
	for (i = 1; i < b->nrecs; i++)
		if (b->recs[i].alt != b->recs[i - 1].alt ||
		    b->recs[i].addr != (uint64_t)b->recs[i - 1].addr + b->recs[i - 1].len)
			n++;
	img = calloc(1, sizeof(*img));
	if (!img)
		goto err_nomem;
	img->segs = calloc(n, sizeof(img->segs[0]));
	if (!img->segs)
		goto err_free_img;
	img->format = fmt;
	img->entry = b->entry;
	snprintf(img->warning, sizeof(img->warning), "%s", b->warning);
	for (i = 0, k = 0; i < b->nrecs; k++) {
		struct fx_image_seg *s = &img->segs[k];
		size_t j = i + 1, len = b->recs[i].len, pos;

		while (j < b->nrecs && b->recs[j].alt == b->recs[i].alt &&
		       b->recs[j].addr == (uint64_t)b->recs[i].addr + len) {
			len += b->recs[j].len;
			j++;
		}
		s->addr = b->recs[i].addr;
		s->len = (uint32_t)len;
		s->alt = b->recs[i].alt;
		s->data = malloc(len);
		if (!s->data)
			goto err_free_img;
		img->nsegs = k + 1;
		for (pos = 0; i < j; i++) {
			memcpy(s->data + pos, b->buf + b->recs[i].off, b->recs[i].len);
			pos += b->recs[i].len;
		}
	}
	return img;

err_free_img:
	fx_image_free(img);
err_nomem:
	fx_err_set(b->err, FX_E_NOMEM, "%s: out of memory", b->path);
	return NULL;
}

void fx_image_free(struct fx_image *img)
{
	size_t i;

	if (!img)
		return;
	for (i = 0; i < img->nsegs; i++)
		free(img->segs[i].data);
	free(img->segs);
	free(img);
}

size_t fx_image_size(const struct fx_image *img)
{
	size_t i, n = 0;

	if (!img)
		return 0;
	for (i = 0; i < img->nsegs; i++)
		n += img->segs[i].len;
	return n;
}

int fx_image_read(const struct fx_image *img, uint32_t addr, uint8_t *buf,
		  size_t len)
{
	size_t i;

	for (i = 0; img && i < img->nsegs; i++) {
		const struct fx_image_seg *sg = &img->segs[i];

		if (sg->alt == 0 && sg->addr <= addr &&
		    (uint64_t)addr + len <= (uint64_t)sg->addr + sg->len) {
			memcpy(buf, sg->data + (addr - sg->addr), len);
			return 0;
		}
	}
	return FX_E_RANGE;
}

int fx_image_check_range(const struct fx_image *img, uint32_t start, uint32_t end,
			 struct fx_err *err)
{
	size_t i;

	if (!img || start >= end)
		return fx_err_set(err, FX_E_INVAL, "bad window 0x%08x-0x%08x", start, end);
	for (i = 0; i < img->nsegs; i++) {
		const struct fx_image_seg *s = &img->segs[i];
		uint32_t last = s->addr + (s->len - 1);

		if (s->alt)
			return fx_err_set(err, FX_E_RANGE,
					  "image data at 0x%08x is for alt setting %u, outside "
					  "0x%08x-0x%08x", s->addr, s->alt, start, end - 1);
		if (s->addr < start)
			return fx_err_set(err, FX_E_RANGE,
					  "image data at 0x%08x is outside 0x%08x-0x%08x",
					  s->addr, start, end - 1);
		if (last >= end)
			return fx_err_set(err, FX_E_RANGE,
					  "image data at 0x%08x is outside 0x%08x-0x%08x",
					  s->addr > end ? s->addr : end, start, end - 1);
	}
	return 0;
}

/* Whole file into memory, bounded by IMG_MAX_FILE (reads at most one byte
 * more to tell a file of exactly the bound from a larger one). */
static int read_file(const char *path, uint8_t **out, size_t *outlen, struct fx_err *err)
{
	size_t len = 0, cap = 0;
	uint8_t *buf = NULL;
	struct stat st;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto err_errno;
	/* a regular file: start with its size (+1 to see the end at once) */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    (uint64_t)st.st_size <= IMG_MAX_FILE) {
		cap = (size_t)st.st_size + 1;
		buf = malloc(cap);
		if (!buf) {
			close(fd);
			return fx_err_set(err, FX_E_NOMEM, "%s: out of memory", path);
		}
	}
	for (;;) {
		ssize_t r;

		if (len > IMG_MAX_FILE) {
			close(fd);
			free(buf);
			return fx_err_set(err, FX_E_IMAGE, "%s: file larger than %u MiB", path,
					  IMG_MAX_FILE / (1024u * 1024u));
		}
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nb;

			if (ncap > IMG_MAX_FILE + 1)
				ncap = IMG_MAX_FILE + 1;
			nb = realloc(buf, ncap);
			if (!nb) {
				close(fd);
				free(buf);
				return fx_err_set(err, FX_E_NOMEM, "%s: out of memory", path);
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			free(buf);
			errno = e;
			goto err_errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;

err_errno:
	if (err)
		err->sys_errno = errno;
	return fx_err_set(err, FX_E_FILE, "cannot read '%s': %s", path, strerror(errno));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	size_t i;

	if (n < m)
		return false;
	for (i = 0; i < m; i++) {
		char c = s[n - m + i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != suffix[i])
			return false;
	}
	return true;
}

static enum fx_image_format by_extension(const char *path)
{
	static const struct {
		const char *ext;
		enum fx_image_format fmt;
	} exts[] = {
		{ ".bin", FX_IMAGE_BIN },   { ".hex", FX_IMAGE_IHEX }, { ".ihex", FX_IMAGE_IHEX },
		{ ".ihx", FX_IMAGE_IHEX },  { ".srec", FX_IMAGE_SREC }, { ".s19", FX_IMAGE_SREC },
		{ ".s28", FX_IMAGE_SREC },  { ".s37", FX_IMAGE_SREC }, { ".mot", FX_IMAGE_SREC },
		{ ".elf", FX_IMAGE_ELF },   { ".axf", FX_IMAGE_ELF },  { ".dfu", FX_IMAGE_DFUSE },
	};
	size_t i;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (ends_with(path, exts[i].ext))
			return exts[i].fmt;
	return FX_IMAGE_AUTO;
}

static enum fx_image_format by_content(const uint8_t *d, size_t n)
{
	size_t i = 0;

	if (n >= 4 && d[0] == 0x7f && d[1] == 'E' && d[2] == 'L' && d[3] == 'F')
		return FX_IMAGE_ELF;
	if (n >= 5 && !memcmp(d, "DfuSe", 5))
		return FX_IMAGE_DFUSE;
	while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	if (i < n && d[i] == ':')
		return FX_IMAGE_IHEX;
	if (i + 1 < n && d[i] == 'S' && d[i + 1] >= '0' && d[i + 1] <= '9')
		return FX_IMAGE_SREC;
	return FX_IMAGE_AUTO;
}

struct fx_image *fx_image_load(const char *path, enum fx_image_format fmt,
			       bool have_addr, uint32_t addr, struct fx_err *err)
{
	struct img_build b = { .path = path, .err = err, .what = "record" };
	struct fx_image *img = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (!path || (unsigned)fmt > FX_IMAGE_DFUSE) {
		fx_err_set(err, FX_E_INVAL, "bad image path or format");
		return NULL;
	}
	if (read_file(path, &data, &len, err))
		return NULL;
	if (fmt == FX_IMAGE_AUTO)
		fmt = by_extension(path);
	if (fmt == FX_IMAGE_AUTO)
		fmt = by_content(data, len);
	if (fmt == FX_IMAGE_AUTO) {
		if (!have_addr) {
			fx_err_set(err, FX_E_IMAGE,
				   "%s: unknown image format (not Intel HEX, S-record, ELF or "
				   "DfuSe); a raw binary needs a load address", path);
			goto out;
		}
		fmt = FX_IMAGE_BIN;
	}
	if (fmt == FX_IMAGE_BIN && !have_addr) {
		fx_err_set(err, FX_E_INVAL, "%s: a raw binary needs a load address", path);
		goto out;
	}
	if (fmt != FX_IMAGE_BIN && have_addr) {
		fx_err_set(err, FX_E_INVAL,
			   "%s: a load address is only for raw binaries, this is %s", path,
			   format_long[fmt]);
		goto out;
	}
	switch (fmt) {
	case FX_IMAGE_BIN:
		b.what = "file";
		rc = img_read_bin(&b, data, len, addr);
		break;
	case FX_IMAGE_IHEX:
		b.text = true;
		rc = img_read_ihex(&b, data, len);
		break;
	case FX_IMAGE_SREC:
		b.text = true;
		rc = img_read_srec(&b, data, len);
		break;
	case FX_IMAGE_ELF:
		b.what = "program header";
		rc = img_read_elf(&b, data, len);
		break;
	case FX_IMAGE_DFUSE:
		b.what = "element";
		b.rec_name = img_dfuse_rec_name;
		rc = img_read_dfuse(&b, data, len);
		break;
	case FX_IMAGE_AUTO:
	default:
		rc = fx_err_set(err, FX_E_INVAL, "%s: no format", path);
		break;
	}
	if (!rc)
		img = img_finish(&b, fmt);
	if (img)
		fx_log(FX_LOG_DEBUG, "image", "'%s': %s, %zu segment(s), %zu bytes, entry 0x%08x",
		       path, format_long[fmt], img->nsegs, fx_image_size(img), img->entry);
out:
	free(b.buf);
	free(b.recs);
	free(data);
	return img;
}
