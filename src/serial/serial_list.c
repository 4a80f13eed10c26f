/* serial_list.c - list files of serial numbers (fx/serial.h): CSV as in
 * RFC 4180 (quoted fields with "" escapes, CRLF or LF), a header with a
 * 'serial' column, every problem reported as PATH:LINE. Repeated serials
 * are found with a hash set, so a list of 100,000 rows loads in a few ms. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A field ends at the end of the data, a comma, LF or CRLF. */
static bool field_end(const char *buf, size_t len, size_t i)
{
	return i >= len || buf[i] == ',' || buf[i] == '\n' ||
	       (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n');
}

/* Append c to the field *v (*fl bytes, *fcap allocated), keeping room for
 * the NUL. false when it cannot grow (*v is still the caller's to free). */
static bool push(char **v, size_t *fl, size_t *fcap, char c)
{
	if (*fl + 2 > *fcap) {
		char *nv = realloc(*v, *fcap * 2);

		if (!nv)
			return false;
		*v = nv;
		*fcap *= 2;
	}
	(*v)[(*fl)++] = c;
	return true;
}

/* One record from buf[*pos..]: fields into a malloc'd array. Returns the
 * field count, 0 for a blank line, -1 on a syntax error (reported), -2 on
 * ENOMEM. *line advances over the physical lines used. */
static int record(struct lparse *p, const char *buf, size_t len, size_t *pos,
		  unsigned *line, char ***out)
{
	size_t i = *pos, cap = 0, n = 0;
	unsigned start_line = *line;
	char **f = NULL;
	bool bad = false;

	if (i < len && (buf[i] == '\n' || (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n'))) {
		*pos = i + (buf[i] == '\r' ? 2 : 1);
		(*line)++;
		return 0;
	}
	for (;;) {
		size_t fcap = 16, fl = 0;
		char *v = malloc(fcap);

		if (!v)
			goto err_nomem;
		if (i < len && buf[i] == '"') {
			i++;
			for (;;) {
				if (i >= len) {
					diag(p, start_line, "unterminated quoted field");
					free(v);
					bad = true;
					goto done_bad;
				}
				if (buf[i] == '"') {
					if (i + 1 < len && buf[i + 1] == '"') {
						i++;
					} else {
						i++;
						break;
					}
				} else if (buf[i] == '\n') {
					(*line)++;
				}
				if (!push(&v, &fl, &fcap, buf[i++])) {
					free(v);
					goto err_nomem;
				}
			}
			if (!field_end(buf, len, i)) {
				diag(p, *line, "text after a closing quote");
				free(v);
				bad = true;
				goto done_bad;
			}
		} else {
			while (!field_end(buf, len, i)) {
				if (buf[i] == '"') {
					diag(p, *line, "quote inside an unquoted field");
					free(v);
					bad = true;
					goto done_bad;
				}
				if (!push(&v, &fl, &fcap, buf[i++])) {
					free(v);
					goto err_nomem;
				}
			}
		}
		v[fl] = '\0';
		{
			size_t k;

			for (k = 0; k < fl; k++)
				if ((unsigned char)v[k] < 0x20 && v[k] != '\t') {
					diag(p, *line, "control character 0x%02X in field %zu",
					     (unsigned char)v[k], n + 1);
					free(v);
					bad = true;
					goto done_bad;
				}
		}
		if (n == cap) {
			char **nf = realloc(f, (cap = cap ? cap * 2 : 8) * sizeof(*f));

			if (!nf) {
				free(v);
				goto err_nomem;
			}
			f = nf;
		}
		f[n++] = v;
		if (i < len && buf[i] == ',') {
			i++;
			continue;
		}
		break;
	}
done_bad:
	/* skip to the end of the physical line */
	while (i < len && buf[i] != '\n')
		i++;
	if (i < len)
		i++;
	(*line)++;
	*pos = i;
	if (bad) {
		while (n)
			free(f[--n]);
		free(f);
		return -1;
	}
	*out = f;
	return (int)n;
err_nomem:
	while (n)
		free(f[--n]);
	free(f);
	p->nomem = true;
	return -2;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
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
	size_t len = 0, pos = 0, cap_rows = 0;
	unsigned line = 1;
	int rc, n;
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
	/* header: the first non-blank record */
	while (pos < len && (n = record(&p, buf, len, &pos, &line, &l->header)) == 0)
		;
	if (p.nomem)
		goto err_nomem;
	if (!l->header) {
		if (!p.errors)
			diag(&p, 0, "no header line (expected e.g. 'serial,mac')");
		goto err_config;
	}
	l->n_cols = (size_t)n;
	{
		size_t i, j;

		for (i = 0; i < l->n_cols; i++) {
			if (!l->header[i][0])
				diag(&p, 1, "header: column %zu has no name", i + 1);
			for (j = 0; j < i; j++)
				if (!strcmp(l->header[i], l->header[j]))
					diag(&p, 1, "header: column '%s' repeated", l->header[i]);
		}
	}
	l->serial_col = fx_serial_list_col(l, "serial");
	if (l->serial_col < 0)
		diag(&p, 1, "header: no 'serial' column");
	while (pos < len) {
		unsigned at = line;
		char **row = NULL;

		n = record(&p, buf, len, &pos, &line, &row);
		if (n == -2)
			goto err_nomem;
		if (n <= 0)
			continue;
		if ((size_t)n != l->n_cols) {
			diag(&p, at, "expected %zu field%s, got %d", l->n_cols,
			     l->n_cols == 1 ? "" : "s", n);
			free_fields(row, (size_t)n);
			continue;
		}
		if (l->serial_col >= 0 && !row[l->serial_col][0]) {
			diag(&p, at, "empty serial");
			free_fields(row, (size_t)n);
			continue;
		}
		if (l->n_rows == cap_rows) {
			char ***nr;
			unsigned *nl;

			cap_rows = cap_rows ? cap_rows * 2 : 256;
			nr = realloc(l->rows, cap_rows * sizeof(*nr));
			if (nr)
				l->rows = nr;
			nl = realloc(l->lines, cap_rows * sizeof(*nl));
			if (nl)
				l->lines = nl;
			if (!nr || !nl) {
				free_fields(row, (size_t)n);
				goto err_nomem;
			}
		}
		l->rows[l->n_rows] = row;
		l->lines[l->n_rows] = at;
		l->n_rows++;
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
