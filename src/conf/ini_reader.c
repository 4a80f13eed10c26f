/* ini_reader.c - inih driven through our own line reader (see
 * ini_reader.h for why) and the shared value parsers. The only file of
 * src/conf/ that includes <ini.h>. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "fx/conf.h"
#include "ini_reader.h"

#define CONF_FILE_MAX (1024 * 1024) /* a recipe or station is a few KiB */

struct fx_ini_seen {
	char section[FX_CONF_NAME_MAX];
	char key[FX_CONF_NAME_MAX]; /* "" for the section header */
	unsigned line;
};

static void vreport(struct fx_ini *ini, unsigned line, const char *key,
		    const char *fmt, va_list ap)
{
	char text[FX_CONF_PATH_MAX];
	char where[FX_CONF_PATH_MAX + 16];
	char msg[sizeof(text) + sizeof(where) + 96];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (line)
		snprintf(where, sizeof(where), "%.1023s:%u", ini->path, line);
	else
		snprintf(where, sizeof(where), "%.1023s", ini->path);
	if (key)
		snprintf(msg, sizeof(msg), "%s: key '%.64s': %s", where, key, text);
	else
		snprintf(msg, sizeof(msg), "%s: %s", where, text);
	if (!ini->errors)
		fx_err_set(ini->err, FX_E_CONFIG, "%s", msg);
	ini->errors++;
	if (!fx_conf_diags_add(ini->diags, msg))
		ini->nomem = true;
}

void fx_ini_error(struct fx_ini *ini, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ini, ini->line, key, fmt, ap);
	va_end(ap);
}

void fx_ini_error_at(struct fx_ini *ini, unsigned line, const char *key,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ini, line, key, fmt, ap);
	va_end(ap);
}

static const struct fx_ini_seen *seen_find(const struct fx_ini *ini,
					   const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ini->n_seen; i++)
		if (!strcmp(ini->seen[i].section, section) &&
		    !strcasecmp(ini->seen[i].key, key))
			return &ini->seen[i];
	return NULL;
}

static bool seen_add(struct fx_ini *ini, const char *section, const char *key)
{
	struct fx_ini_seen *s;

	if (ini->n_seen == ini->cap_seen) {
		size_t cap = ini->cap_seen ? ini->cap_seen * 2 : 32;
		struct fx_ini_seen *n = realloc(ini->seen, cap * sizeof(*n));

		if (!n) {
			ini->nomem = true;
			return false;
		}
		ini->seen = n;
		ini->cap_seen = cap;
	}
	s = &ini->seen[ini->n_seen++];
	snprintf(s->section, sizeof(s->section), "%s", section);
	snprintf(s->key, sizeof(s->key), "%s", key);
	s->line = ini->line;
	return true;
}

unsigned fx_ini_section_line(const struct fx_ini *ini, const char *section)
{
	const struct fx_ini_seen *s = seen_find(ini, section, "");

	return s ? s->line : 0;
}

unsigned fx_ini_key_line(const struct fx_ini *ini, const char *section,
			 const char *key)
{
	const struct fx_ini_seen *s = seen_find(ini, section, key);

	return s ? s->line : 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A section header "[name]" (p, n: the line without leading blanks). */
static bool section_line(struct fx_ini *ini, const char *p, size_t n)
{
	const char *close = memchr(p, ']', n);
	const char *a = p + 1, *b;
	const char *rest;
	char name[FX_CONF_NAME_MAX];
	const struct fx_ini_seen *dup;

	ini->in_section_ok = false;
	ini->any_section = true;
	ini->section[0] = '\0';
	if (!close) {
		fx_ini_error(ini, NULL, "syntax error: section header without ']'");
		return false;
	}
	for (rest = close + 1; rest < p + n && is_blank(*rest); rest++)
		;
	if (rest < p + n && *rest != ';' && *rest != '#') {
		fx_ini_error(ini, NULL, "syntax error: text after ']'");
		return false;
	}
	while (a < close && is_blank(*a))
		a++;
	for (b = close; b > a && is_blank(b[-1]); b--)
		;
	if (a == b) {
		fx_ini_error(ini, NULL, "syntax error: empty section name");
		return false;
	}
	if ((size_t)(b - a) >= sizeof(name)) {
		fx_ini_error(ini, NULL, "section name too long (%zu characters, limit %zu)",
			     (size_t)(b - a), sizeof(name) - 1);
		return false;
	}
	memcpy(name, a, (size_t)(b - a));
	name[b - a] = '\0';
	/* the line is still handed to inih (it tracks the section too) */
	dup = seen_find(ini, name, "");
	if (dup) {
		fx_ini_error(ini, NULL, "section '%s': duplicate (first at line %u)",
			     name, dup->line);
		return true;
	}
	if (!seen_add(ini, name, ""))
		return true;
	snprintf(ini->section, sizeof(ini->section), "%s", name);
	ini->in_section_ok = ini->on_section(ini, name, ini->user);
	return true;
}

/* inih's reader: one physical line per call, see ini_reader.h. */
static char *reader(char *str, int num, void *stream)
{
	struct fx_ini *ini = stream;
	const char *p, *nl;
	size_t n, limit = FX_CONF_LINE_MAX;
	bool ok = true;

	if (ini->pos >= ini->len || num < 4)
		return NULL;
	p = ini->data + ini->pos;
	nl = memchr(p, '\n', ini->len - ini->pos);
	n = nl ? (size_t)(nl - p) : ini->len - ini->pos;
	ini->pos += n + (nl ? 1 : 0);
	ini->line++;
	if (n && p[n - 1] == '\r')
		n--;
	if (ini->line == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
		p += 3;
		n -= 3;
	}
	if ((size_t)num - 3 < limit)
		limit = (size_t)num - 3;
	if (n > limit) {
		fx_ini_error(ini, NULL, "line too long (%zu characters, limit %zu)",
			     n, limit);
		ok = false;
	} else if (memchr(p, '\0', n)) {
		fx_ini_error(ini, NULL, "NUL byte in line");
		ok = false;
	}
	while (ok && n && is_blank(*p)) {
		p++;
		n--;
	}
	if (ok && n && *p != ';' && *p != '#') {
		if (*p == '[') {
			ok = section_line(ini, p, n);
		} else {
			size_t k = 0;

			while (k < n && p[k] != '=' && p[k] != ':')
				k++;
			if (k == n) {
				fx_ini_error(ini, NULL, "syntax error: expected 'key = value' or '[section]'");
				ok = false;
			} else {
				while (k && is_blank(p[k - 1]))
					k--;
				if (!k) {
					fx_ini_error(ini, NULL, "syntax error: empty key");
					ok = false;
				}
			}
		}
	}
	if (!ok)
		n = 0;
	memcpy(str, p, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct fx_ini *ini = user;
	const struct fx_ini_seen *dup;

	(void)section; /* ours (ini->section) is the same, never truncated */
	if (!ini->any_section) {
		fx_ini_error(ini, name, "outside any section");
		return 1;
	}
	if (!ini->in_section_ok)
		return 1;
	dup = seen_find(ini, ini->section, name);
	if (dup) {
		fx_ini_error(ini, name, "duplicate (first set at line %u)", dup->line);
		return 1;
	}
	if (!seen_add(ini, ini->section, name))
		return 1;
	ini->on_key(ini, ini->section, name, value, ini->user);
	return 1;
}

/* Whole file into ini->data with open/fstat/read: no stdio buffer, so an
 * allocation failure can only be our own malloc (FX_E_NOMEM). */
static int read_file(struct fx_ini *ini)
{
	struct stat sb;
	size_t got = 0;
	ssize_t n;
	int fd, e;

	fd = open(ini->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto err_errno;
	if (fstat(fd, &sb))
		goto err_close;
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		goto err_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		/* a pipe would be empty the second time (detect, then load) */
		close(fd);
		fx_ini_error_at(ini, 0, NULL, "not a regular file");
		if (ini->err)
			ini->err->code = FX_E_FILE;
		return FX_E_FILE;
	}
	if (sb.st_size > CONF_FILE_MAX) {
		close(fd);
		fx_ini_error_at(ini, 0, NULL, "file too large (%lld bytes, limit %d)",
				(long long)sb.st_size, CONF_FILE_MAX);
		if (ini->err)
			ini->err->code = FX_E_FILE;
		return FX_E_FILE;
	}
	ini->data = malloc((size_t)sb.st_size + 1);
	if (!ini->data) {
		close(fd);
		return fx_err_set(ini->err, FX_E_NOMEM, "out of memory reading '%s'",
				  ini->path);
	}
	/* a file that grows meanwhile is read up to its size at fstat */
	while (got < (size_t)sb.st_size) {
		n = read(fd, ini->data + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto err_close;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	ini->len = got;
	ini->data[got] = '\0';
	return 0;

err_close:
	e = errno;
	close(fd);
	errno = e;
err_errno:
	e = errno ? errno : EIO;
	fx_ini_error_at(ini, 0, NULL, "cannot read: %s", strerror(e));
	if (ini->err) {
		ini->err->code = FX_E_FILE;
		ini->err->sys_errno = e;
	}
	return FX_E_FILE;
}

int fx_ini_parse(struct fx_ini *ini, const char *path, fx_ini_section_fn sfn,
		 fx_ini_key_fn kfn, void *user, struct fx_conf_diags *diags,
		 struct fx_err *err)
{
	int rc;

	memset(ini, 0, sizeof(*ini));
	ini->path = path;
	ini->diags = diags;
	ini->err = err;
	ini->on_section = sfn;
	ini->on_key = kfn;
	ini->user = user;
	/* keys before the first header belong to no section */
	ini->in_section_ok = false;
	rc = read_file(ini);
	if (rc)
		return rc;
	fx_conf_sha256_buf((const uint8_t *)ini->data, ini->len, ini->sha256);
	rc = ini_parse_stream(reader, ini, handler, ini);
	if (rc == -2)
		ini->nomem = true;
	else if (rc > 0 && !ini->errors) /* inih saw a problem we did not */
		fx_ini_error_at(ini, (unsigned)rc, NULL, "syntax error");
	if (ini->nomem)
		return fx_err_set(err, FX_E_NOMEM, "out of memory parsing '%s'", path);
	return 0;
}

void fx_ini_release(struct fx_ini *ini)
{
	if (!ini)
		return;
	free(ini->data);
	free(ini->seen);
	ini->data = NULL;
	ini->seen = NULL;
	ini->n_seen = ini->cap_seen = 0;
}

/* ---- value parsers ---------------------------------------------------- */

bool fx_ini_bool(struct fx_ini *ini, const char *key, const char *value,
		 bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(value, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcasecmp(value, no[i])) {
			*out = false;
			return true;
		}
	}
	fx_ini_error(ini, key, "expected on/off, yes/no, true/false or 1/0, got '%s'",
		     value);
	return false;
}

bool fx_ini_uint(struct fx_ini *ini, const char *key, const char *value,
		 unsigned min, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	const char *p;

	for (p = value; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			break;
	}
	if (p == value || *p || v < min || v > max) {
		fx_ini_error(ini, key, "expected a number from %u to %u, got '%s'",
			     min, max, value);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

bool fx_ini_enum(struct fx_ini *ini, const char *key, const char *value,
		 const char *const *names, int *out)
{
	char list[256];
	size_t n = 0, i, len = 0;

	for (i = 0; names[i]; i++) {
		if (!strcmp(value, names[i])) {
			*out = (int)i;
			return true;
		}
	}
	n = i;
	list[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(list + len, sizeof(list) - len, "%s%s", sep, names[i]);

		if (w < 0 || (size_t)w >= sizeof(list) - len)
			break;
		len += (size_t)w;
	}
	fx_ini_error(ini, key, "expected %s, got '%s'", list, value);
	return false;
}

bool fx_ini_ident(struct fx_ini *ini, const char *key, const char *value,
		  char *out, size_t cap)
{
	size_t n = strlen(value), i;

	for (i = 0; i < n; i++) {
		char c = value[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			break;
	}
	if (!n || i < n) {
		fx_ini_error(ini, key, "expected letters, digits, '.', '_' or '-', got '%s'",
			     value);
		return false;
	}
	if (n >= cap) {
		fx_ini_error(ini, key, "too long (%zu characters, limit %zu)", n,
			     cap - 1);
		return false;
	}
	memcpy(out, value, n + 1);
	return true;
}

bool fx_conf_resolve(const char *base_file, const char *rel, char *out,
		     size_t cap)
{
	const char *slash = strrchr(base_file, '/');
	int w;

	if (rel[0] == '/' || !slash)
		w = snprintf(out, cap, "%s", rel);
	else
		w = snprintf(out, cap, "%.*s/%s", (int)(slash - base_file),
			     base_file, rel);
	return w >= 0 && (size_t)w < cap;
}

bool fx_ini_path(struct fx_ini *ini, const char *key, const char *value,
		 char *out, size_t cap)
{
	if (!value[0]) {
		fx_ini_error(ini, key, "expected a file path, got ''");
		return false;
	}
	if (!fx_conf_resolve(ini->path, value, out, cap)) {
		fx_ini_error(ini, key, "path too long (limit %zu characters)", cap - 1);
		return false;
	}
	return true;
}
