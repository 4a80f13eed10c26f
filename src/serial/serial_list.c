/* serial_list.c - list files of serial numbers (fx/serial.h): CSV as in
 * RFC 4180 (quoted fields with "" escapes, CRLF or LF), a header with a
 * 'serial' column, every problem reported as PATH:LINE; tokenized by
 * libcsv. Repeated serials are found with a hash set: a list of 100,000
 * rows loads in about 40-55 ms (sha256 included, measured on a loaded
 * 2-core machine). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "fx/conf.h"
#include "fx/serial.h"

#define LIST_FILE_MAX (64u << 20)

struct lparse {
	const char *path;
	fx_serial_diag_fn fn;
	void *user;
	unsigned errors;
	bool nomem;
	char first[1400];  /* the first message, for err */
};

static void diag(struct lparse *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void diag(struct lparse *p, unsigned line, const char *fmt, ...)
{
	char msg[512], full[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(full, sizeof(full), "%s:%u: %s", p->path, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", p->path, msg);
	if (!p->errors++)
		snprintf(p->first, sizeof(p->first), "%s", full);
	if (p->fn)
		p->fn(p->user, full);
}

/* The tokenizer is libcsv (strict: a quote inside an unquoted field or
 * text after a closing quote stops it; no space trimming; LF alone ends a
 * record). libcsv gives no positions, so the data goes in one physical
 * line at a time: the line number is the count of LFs fed, and the CR of a
 * CRLF outside quotes is left out. Outside quotes = an even number of
 * quotes since the record began (strict mode keeps quotes paired). */
#define CSV_OPTS (CSV_STRICT | CSV_STRICT_FINI)

struct rec {
	struct lparse *p;
	struct fx_serial_list *l;
	unsigned line;      /* physical line being fed */
	unsigned at;        /* line the record began on */
	bool inq;           /* inside a quoted field */
	bool bad;           /* this record was reported; drop the rest of the line */
	bool stop;          /* the header failed, or out of memory */
	size_t n, cap;      /* fields of the record so far */
	char **f;
	size_t cap_rows;
};

static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static int lf_only(unsigned char c)
{
	return c == '\n';
}

static void free_fields(char **f, size_t n)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

static void rec_drop(struct rec *r)
{
	free_fields(r->f, r->n);
	r->f = NULL;
	r->n = r->cap = 0;
}

static void on_field(void *s, size_t len, void *data)
{
	struct rec *r = data;
	const unsigned char *v = s;
	size_t k;
	char *c;

	if (r->bad || r->stop)
		return;
	for (k = 0; k < len; k++)
		if (v[k] < 0x20 && v[k] != '\t') {
			diag(r->p, r->line, "control character 0x%02X in field %zu", v[k], r->n + 1);
			r->bad = true;
			return;
		}
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 8;
		char **nf = realloc(r->f, ncap * sizeof(*nf));

		if (!nf)
			goto nomem;
		r->f = nf;
		r->cap = ncap;
	}
	c = malloc(len + 1);
	if (!c)
		goto nomem;
	if (len)
		memcpy(c, v, len);
	c[len] = '\0';
	r->f[r->n++] = c;
	return;
nomem:
	r->p->nomem = true;
	r->stop = true;
}

static void header_checks(struct lparse *p, struct fx_serial_list *l)
{
	size_t i, j;

	for (i = 0; i < l->n_cols; i++) {
		if (!l->header[i][0])
			diag(p, 1, "header: column %zu has no name", i + 1);
		for (j = 0; j < i; j++)
			if (!strcmp(l->header[i], l->header[j]))
				diag(p, 1, "header: column '%s' repeated", l->header[i]);
	}
	l->serial_col = fx_serial_list_col(l, "serial");
	if (l->serial_col < 0)
		diag(p, 1, "header: no 'serial' column");
}

/* A whole record: the header (the first one) or a row. */
static void on_record(int c, void *data)
{
	struct rec *r = data;
	struct fx_serial_list *l = r->l;

	(void)c;
	if (r->bad || r->stop)
		return;
	if (!l->header) {
		l->header = r->f;
		l->n_cols = r->n;
		r->f = NULL;
		r->n = r->cap = 0;
		header_checks(r->p, l);
		return;
	}
	if (r->n != l->n_cols) {
		diag(r->p, r->at, "expected %zu field%s, got %zu", l->n_cols,
		     l->n_cols == 1 ? "" : "s", r->n);
		rec_drop(r);
		return;
	}
	if (l->serial_col >= 0 && !r->f[l->serial_col][0]) {
		diag(r->p, r->at, "empty serial");
		rec_drop(r);
		return;
	}
	if (l->n_rows == r->cap_rows) {
		char ***nr;
		unsigned *nl;

		r->cap_rows = r->cap_rows ? r->cap_rows * 2 : 256;
		nr = realloc(l->rows, r->cap_rows * sizeof(*nr));
		if (nr)
			l->rows = nr;
		nl = realloc(l->lines, r->cap_rows * sizeof(*nl));
		if (nl)
			l->lines = nl;
		if (!nr || !nl) {
			rec_drop(r);
			r->p->nomem = true;
			r->stop = true;
			return;
		}
	}
	l->rows[l->n_rows] = r->f;
	l->lines[l->n_rows] = r->at;
	l->n_rows++;
	r->f = NULL;
	r->n = r->cap = 0;
}

/* Forget the record in progress (after a reported problem). */
static void rec_reset(struct rec *r, struct csv_parser *cp)
{
	if (!r->l->header)
		r->stop = true; /* a bad header line ends the load */
	rec_drop(r);
	csv_set_opts(cp, CSV_STRICT);
	csv_fini(cp, NULL, NULL, NULL);
	csv_set_opts(cp, CSV_OPTS);
	r->bad = false;
	r->inq = false;
}

/* Feed s[0..len) to the parser and report its strict-mode stop. */
static void feed(struct rec *r, struct csv_parser *cp, const char *s, size_t len)
{
	size_t got = csv_parse(cp, s, len, on_field, on_record, r);

	if (got == len || r->bad || r->stop)
		return;
	if (csv_error(cp) != CSV_EPARSE) {
		r->p->nomem = true;
		r->stop = true;
		return;
	}
	diag(r->p, r->line, "%s",
	     s[got] == '"' ? "quote inside an unquoted field" : "text after a closing quote");
	r->bad = true;
}

/* Parse buf[pos..len) into l (header, rows, lines). */
static void parse(struct lparse *p, struct fx_serial_list *l, const char *buf, size_t len,
		  size_t pos)
{
	struct rec r = { .p = p, .l = l, .line = 1 };
	struct csv_parser cp;

	if (csv_init(&cp, CSV_OPTS)) {
		p->nomem = true;
		return;
	}
	csv_set_space_func(&cp, no_space);
	csv_set_term_func(&cp, lf_only);
	while (pos < len && !r.stop) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) + 1 : len - pos, k, body = n;

		if (!r.inq)
			r.at = r.line;
		for (k = 0; k < n; k++)
			if (s[k] == '"')
				r.inq = !r.inq;
		if (nl && n >= 2 && s[n - 2] == '\r' && !r.inq)
			body = n - 2; /* CRLF outside quotes: the record ends at the LF */
		feed(&r, &cp, s, body);
		if (body != n && !r.bad && !r.stop)
			feed(&r, &cp, "\n", 1);
		pos += n;
		if (r.bad || r.stop)
			rec_reset(&r, &cp);
		if (nl)
			r.line++;
	}
	if (!r.stop) {
		if (csv_fini(&cp, on_field, on_record, &r)) {
			diag(p, r.at, "unterminated quoted field");
			rec_reset(&r, &cp);
		} else if (r.bad) {
			rec_reset(&r, &cp);
		}
	}
	rec_drop(&r);
	csv_free(&cp);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void fx_serial_list_free(struct fx_serial_list *l)
{
	size_t i;

	if (!l)
		return;
	free_fields(l->header, l->n_cols);
	for (i = 0; i < l->n_rows; i++)
		free_fields(l->rows[i], l->n_cols);
	free(l->rows);
	free(l->lines);
	free(l);
}

int fx_serial_list_col(const struct fx_serial_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n_cols; i++)
		if (!strcmp(l->header[i], name))
			return (int)i;
	return -1;
}

/* Repeated serials: open addressing over row indexes (+1, 0 = empty). */
static int check_repeats(struct lparse *p, struct fx_serial_list *l)
{
	size_t cap = 16, i;
	size_t *slot;

	while (cap < l->n_rows * 2)
		cap *= 2;
	slot = calloc(cap, sizeof(*slot));
	if (!slot) {
		p->nomem = true;
		return FX_E_NOMEM;
	}
	for (i = 0; i < l->n_rows; i++) {
		const char *v = l->rows[i][l->serial_col];
		size_t h = (size_t)hash_str(v) & (cap - 1);

		while (slot[h]) {
			const char *o = l->rows[slot[h] - 1][l->serial_col];

			if (!strcmp(o, v)) {
				diag(p, l->lines[i], "serial '%s' repeated (first at line %u)", v,
				     l->lines[slot[h] - 1]);
				break;
			}
			h = (h + 1) & (cap - 1);
		}
		if (!slot[h])
			slot[h] = i + 1;
	}
	free(slot);
	return 0;
}

int fx_serial_list_load(const char *path, struct fx_serial_list **out,
			fx_serial_diag_fn fn, void *user, struct fx_err *err)
{
	struct lparse p = { path, fn, user, 0, false, "" };
	struct fx_serial_list *l;
	char *buf = NULL;
	size_t len = 0, pos = 0;
	int rc;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		return fx_err_set(err, errno == ENOMEM ? FX_E_NOMEM : FX_E_FILE, "%s: cannot read: %s",
				  path, strerror(errno));
	}
	{
		size_t cap = 0, got;

		for (;;) {
			if (len == cap) {
				char *nb;

				if (cap >= LIST_FILE_MAX) {
					fclose(f);
					free(buf);
					diag(&p, 0, "larger than %u bytes", LIST_FILE_MAX);
					return fx_err_set(err, FX_E_CONFIG, "%s: larger than %u bytes",
							  path, LIST_FILE_MAX);
				}
				cap = cap ? cap * 2 : 65536;
				nb = realloc(buf, cap);
				if (!nb) {
					fclose(f);
					free(buf);
					return fx_err_set(err, FX_E_NOMEM, "out of memory loading '%s'", path);
				}
				buf = nb;
			}
			got = fread(buf + len, 1, cap - len, f);
			len += got;
			if (!got)
				break;
		}
		if (ferror(f)) {
			fclose(f);
			free(buf);
			return fx_err_set(err, FX_E_FILE, "%s: cannot read: read error", path);
		}
		fclose(f);
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		free(buf);
		return fx_err_set(err, FX_E_NOMEM, "out of memory loading '%s'", path);
	}
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->serial_col = -1;
	rc = fx_conf_sha256_file(path, l->sha256, err);
	if (rc)
		goto err_free;
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		pos = 3;
	parse(&p, l, buf, len, pos);
	if (p.nomem)
		goto err_nomem;
	if (!l->header) {
		if (!p.errors)
			diag(&p, 0, "no header line (expected e.g. 'serial,mac')");
		goto err_config;
	}
	if (l->serial_col >= 0 && check_repeats(&p, l))
		goto err_nomem;
	if (l->serial_col >= 0 && !l->n_rows && !p.errors)
		diag(&p, 0, "no serials (only a header)");
	if (p.errors)
		goto err_config;
	free(buf);
	*out = l;
	return 0;

err_config:
	fx_err_set(err, FX_E_CONFIG, "%s", p.first);
	rc = FX_E_CONFIG;
	goto err_free;
err_nomem:
	rc = fx_err_set(err, FX_E_NOMEM, "out of memory loading '%s'", path);
err_free:
	free(buf);
	fx_serial_list_free(l);
	return rc;
}
