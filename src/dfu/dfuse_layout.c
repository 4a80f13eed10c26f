/* dfuse_layout.c - DfuSe memory-layout strings of the alternate settings
 * (spec 1.9, dfu-util dfuse_mem.c grammar; UM0424 4.3.2):
 *   @<name>/<0xSTART>/<N>*<SIZE><mult><type>[,<N>*<SIZE><mult><type>..][/<0xSTART2>/..]
 * <mult> is K, M, B or a space; <type> is a letter whose low 3 bits are
 * readable(1) | erasable(2) | writeable(4). Counts and sizes are decimal
 * even with leading zeros ("01*048 e"). Pure functions. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fx/dfu.h"

/* Decimal (or 0x hex with hex_ok) number; advances *p. */
static bool take_num(const char **p, bool hex, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int base = 10, nd = 0;

	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++, nd++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			break;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > 0xFFFFFFFFull)
			return false;
	}
	if (!nd)
		return false;
	*p = s;
	*out = v;
	return true;
}

static int bad(struct fx_err *err, const char *s, const char *at,
	       const char *what)
{
	return fx_err_set(err, FX_E_PROTO,
			  "memory layout \"%s\": %s at offset %d ('%.8s')", s, what,
			  (int)(at - s), at);
}

int fx_dfuse_layout_parse(const char *s, struct fx_dfuse_layout *out,
			  struct fx_err *err)
{
	struct fx_dfuse_layout l;
	const char *p, *slash;
	size_t n, b, e;

	if (!s)
		return fx_err_set(err, FX_E_PROTO, "memory layout: missing");
	memset(&l, 0, sizeof(l));
	if (s[0] != '@')
		return bad(err, s, s, "expected '@'");
	slash = strchr(s, '/');
	if (!slash)
		return bad(err, s, s + strlen(s), "expected '/' after the name");
	/* name, trimmed */
	b = 1;
	e = (size_t)(slash - s);
	while (b < e && s[b] == ' ')
		b++;
	while (e > b && s[e - 1] == ' ')
		e--;
	n = e - b;
	if (n >= sizeof(l.name))
		n = sizeof(l.name) - 1;
	memcpy(l.name, s + b, n);
	l.name[n] = '\0';
	p = slash;
	while (*p == '/') {
		uint64_t start, addr;

		p++;
		if (!take_num(&p, true, &start))
			return bad(err, s, p, "expected a start address");
		if (*p != '/')
			return bad(err, s, p, "expected '/' after the start address");
		p++;
		addr = start;
		for (;;) {
			uint64_t cnt, size, mult = 1, end;
			struct fx_dfuse_seg *g;
			char t;

			if (!take_num(&p, false, &cnt) || cnt == 0)
				return bad(err, s, p, "expected a page count");
			if (*p != '*')
				return bad(err, s, p, "expected '*'");
			p++;
			if (!take_num(&p, false, &size) || size == 0)
				return bad(err, s, p, "expected a page size");
			switch (*p) {
			case 'K':
				mult = 1024;
				p++;
				break;
			case 'M':
				mult = 1024 * 1024;
				p++;
				break;
			case 'B':
			case ' ':
				p++;
				break;
			default:
				break; /* no multiplier: bytes */
			}
			t = *p;
			if (!((t >= 'a' && t <= 'g') || (t >= 'A' && t <= 'G')))
				return bad(err, s, p, "expected a type letter a..g");
			p++;
			size *= mult;
			end = addr + cnt * size;
			if (size > 0xFFFFFFFFull || end > 0x100000000ull)
				return bad(err, s, p, "segment runs past 0xFFFFFFFF");
			if (l.nsegs == FX_DFU_MAX_SEGS)
				return bad(err, s, p, "too many segments");
			g = &l.segs[l.nsegs++];
			g->start = (uint32_t)addr;
			g->end = (uint32_t)(end - 1) + 1u;
			if (end == 0x100000000ull)
				return bad(err, s, p, "segment runs past 0xFFFFFFFF");
			g->page_size = (uint32_t)size;
			g->type = (uint8_t)(t & 7);
			addr = end;
			if (*p != ',')
				break;
			p++;
		}
	}
	/* trailing spaces are harmless; anything else is not */
	while (*p == ' ')
		p++;
	if (*p)
		return bad(err, s, p, "unexpected text");
	if (!l.nsegs)
		return bad(err, s, p, "no segment");
	*out = l;
	return 0;
}

const struct fx_dfuse_seg *fx_dfuse_layout_find(const struct fx_dfuse_layout *l,
					       uint32_t addr)
{
	size_t i;

	for (i = 0; i < l->nsegs; i++)
		if (addr >= l->segs[i].start && addr < l->segs[i].end)
			return &l->segs[i];
	return NULL;
}
