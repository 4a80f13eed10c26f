/* ini_reader.h - module-private: inih driven through our own line reader
 * (Debian's inih r55 gives no line numbers and splits long lines), plus
 * the value parsers recipe.c and station.c share. Every message is
 * "PATH:LINE: key 'x': ..." and goes to the diagnostics list.
 *
 * The reader hands inih exactly one physical line per call, so the line
 * counter it keeps is the line of every handler call. It also:
 * - refuses lines longer than FX_CONF_LINE_MAX (and anything inih's buffer
 *   could not hold): they would be split into two "lines" by inih;
 * - strips leading blanks, so inih never glues an indented line to the
 *   previous value (multi-line values are not part of our format);
 * - checks the syntax of every line itself (inih only reports the first
 *   bad line) and hands inih a blank line instead of a bad one;
 * - sees section headers (inih r55 does not report them): unknown and
 *   duplicate sections are reported with their line, keys inside them are
 *   dropped (one message, not one per key);
 * - reports duplicate keys (case-insensitive) within a section.
 */
#ifndef FX_CONF_INI_READER_H
#define FX_CONF_INI_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/conf.h"
#include "fx/err.h"

struct fx_ini;

/* A section header was read. Return true to accept its keys, false after
 * reporting it (e.g. unknown section). */
typedef bool (*fx_ini_section_fn)(struct fx_ini *ini, const char *section,
				  void *user);
/* One key = value of an accepted section (value trimmed, inline comment
 * removed). Report problems with fx_ini_error(). */
typedef void (*fx_ini_key_fn)(struct fx_ini *ini, const char *section,
			      const char *key, const char *value, void *user);

struct fx_ini_seen;

struct fx_ini {
	const char *path;          /* as given, for messages */
	unsigned line;             /* current physical line (1-based) */
	unsigned errors;           /* messages reported so far */
	struct fx_conf_diags *diags;
	struct fx_err *err;        /* first message, FX_E_CONFIG */
	bool nomem;                /* an allocation failed: FX_E_NOMEM */
	char sha256[65];           /* of the whole file */
	/* private */
	char *data;
	size_t len, pos;
	bool in_section_ok;
	bool any_section;          /* a header line was seen */
	char section[FX_CONF_NAME_MAX];
	struct fx_ini_seen *seen;  /* sections and keys seen, with lines */
	size_t n_seen, cap_seen;
	fx_ini_section_fn on_section;
	fx_ini_key_fn on_key;
	void *user;
};

/* Read and parse path. Returns 0 when the file was read (check
 * ini->errors), FX_E_FILE when it cannot be read (message
 * "PATH: cannot read: REASON" in err and diags), FX_E_NOMEM. Call
 * fx_ini_release() afterwards in every case. */
int fx_ini_parse(struct fx_ini *ini, const char *path, fx_ini_section_fn sfn,
		 fx_ini_key_fn kfn, void *user, struct fx_conf_diags *diags,
		 struct fx_err *err);
void fx_ini_release(struct fx_ini *ini);

/* Report "PATH:LINE: key 'KEY': MSG" at the current line (key NULL: no key
 * part). */
void fx_ini_error(struct fx_ini *ini, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same at an explicit line (0 = "PATH: MSG"). */
void fx_ini_error_at(struct fx_ini *ini, unsigned line, const char *key,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Line of the header of section (exact name), 0 if the file has none. */
unsigned fx_ini_section_line(const struct fx_ini *ini, const char *section);
/* Line where key was set in section, 0 if not set. */
unsigned fx_ini_key_line(const struct fx_ini *ini, const char *section,
			 const char *key);

/* Value parsers: on a bad value they report at the current line and
 * return false, leaving *out untouched. */
bool fx_ini_bool(struct fx_ini *ini, const char *key, const char *value,
		 bool *out);
bool fx_ini_uint(struct fx_ini *ini, const char *key, const char *value,
		 unsigned min, unsigned max, unsigned *out);
/* names: NULL-terminated; *out = index. Message lists the names. */
bool fx_ini_enum(struct fx_ini *ini, const char *key, const char *value,
		 const char *const *names, int *out);
/* An identifier [A-Za-z0-9._-]+ that fits cap. */
bool fx_ini_ident(struct fx_ini *ini, const char *key, const char *value,
		  char *out, size_t cap);
/* A path relative to the directory of the file being parsed (absolute
 * paths kept) into out. */
bool fx_ini_path(struct fx_ini *ini, const char *key, const char *value,
		 char *out, size_t cap);

/* Resolve rel against the directory of base_file into out. false if it
 * does not fit. */
bool fx_conf_resolve(const char *base_file, const char *rel, char *out,
		     size_t cap);

/* SHA-256 of a buffer as lowercase hex (nettle). */
void fx_conf_sha256_buf(const uint8_t *data, size_t len, char hex[65]);

/* Append one message to diags (NULL fine); false on ENOMEM. */
bool fx_conf_diags_add(struct fx_conf_diags *d, const char *msg);

#endif
