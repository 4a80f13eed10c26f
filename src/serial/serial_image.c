/* serial_image.c - the serial fields merged into the firmware image
 * (fx/serial.h "Where the bytes go"): the program step then writes them
 * with the image, a double word shared with image bytes once, and the
 * readback verify covers them. */
#include <stdlib.h>
#include <string.h>

#include "fx/serial.h"

struct span {
	uint32_t lo, hi; /* [lo, hi) */
};

static int by_lo(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int fx_serial_image_merge(const struct fx_image *img, const struct fx_serial_patch *p, size_t n,
			  struct fx_image **out, struct fx_err *err)
{
	struct fx_image *m;
	struct span *sp;
	size_t ns = 0, i, k, nm = 0;

	*out = NULL;
	sp = calloc(img->nsegs + n + 1, sizeof(*sp));
	m = calloc(1, sizeof(*m));
	if (!sp || !m)
		goto nomem;
	for (i = 0; i < img->nsegs; i++)
		sp[ns++] = (struct span){ img->segs[i].addr, img->segs[i].addr + img->segs[i].len };
	for (i = 0; i < n; i++) {
		if (!p[i].len || (uint64_t)p[i].addr + p[i].len > 0x100000000ull) {
			free(sp);
			free(m);
			return fx_err_set(err, FX_E_RANGE, "serial field at 0x%08X: %u bytes out of range",
					  p[i].addr, p[i].len);
		}
		sp[ns++] = (struct span){ p[i].addr, p[i].addr + p[i].len };
	}
	qsort(sp, ns, sizeof(*sp), by_lo);
	/* coalesce overlapping and adjacent spans */
	for (i = 0; i < ns; i++) {
		if (nm && sp[i].lo <= sp[nm - 1].hi) {
			if (sp[i].hi > sp[nm - 1].hi)
				sp[nm - 1].hi = sp[i].hi;
		} else {
			sp[nm++] = sp[i];
		}
	}
	m->segs = calloc(nm ? nm : 1, sizeof(*m->segs));
	if (!m->segs)
		goto nomem;
	m->format = img->format;
	m->entry = img->entry;
	for (k = 0; k < nm; k++) {
		struct fx_image_seg *g = &m->segs[k];

		g->addr = sp[k].lo;
		g->len = sp[k].hi - sp[k].lo;
		g->data = malloc(g->len);
		if (!g->data)
			goto nomem;
		m->nsegs++;
		memset(g->data, 0xFF, g->len);
		for (i = 0; i < img->nsegs; i++) {
			const struct fx_image_seg *s = &img->segs[i];

			if (s->addr >= g->addr && s->addr + s->len <= g->addr + g->len) {
				memcpy(g->data + (s->addr - g->addr), s->data, s->len);
				g->alt = s->alt;
			}
		}
		for (i = 0; i < n; i++)
			if (p[i].addr >= g->addr && p[i].addr + p[i].len <= g->addr + g->len)
				memcpy(g->data + (p[i].addr - g->addr), p[i].data, p[i].len);
	}
	free(sp);
	*out = m;
	return 0;
nomem:
	free(sp);
	fx_image_free(m);
	return fx_err_set(err, FX_E_NOMEM, "out of memory");
}
