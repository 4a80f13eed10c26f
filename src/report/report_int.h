/* report_int.h - private to src/report/: table building and cell text. */
#ifndef FX_REPORT_REPORT_INT_H
#define FX_REPORT_REPORT_INT_H

#include "fx/report.h"

/* Add a column; returns its index. */
unsigned fx_rt_col(struct fx_report_table *t, const char *name, enum fx_report_coltype type);
/* Append an empty row (all null); returns its first cell or NULL (ENOMEM). */
struct fx_report_cell *fx_rt_row(struct fx_report_table *t);
static inline struct fx_report_cell *fx_rt_cell(const struct fx_report_table *t,
						size_t row, unsigned col)
{
	return &t->cells[row * t->ncols + col];
}
/* Cell setters; text is copied (false on ENOMEM). */
bool fx_rt_text(struct fx_report_cell *c, const char *s);
void fx_rt_int(struct fx_report_cell *c, int64_t v);
void fx_rt_num(struct fx_report_cell *c, double v);
void fx_rt_pct(struct fx_report_cell *c, int64_t num, int64_t den);

/* A cell as text: ints "%lld", pct "%.2f", seconds "%.3f" (in buf, >= 32
 * bytes); text cells return the cell's own string, whole; null gives
 * null_text. */
const char *fx_rt_fmt(const struct fx_report_table *t, unsigned col,
		      const struct fx_report_cell *c, char *buf, size_t len,
		      const char *null_text);
/* A cell for people (text, HTML): the total row's group cells "(total)"
 * (first) and "" (others); a null group value "(none)", any other null
 * "-"; an empty text '""'; else as fx_rt_fmt. */
const char *fx_rt_show(const struct fx_report_table *t, size_t row, unsigned col,
		       char *buf, size_t len);
/* Length (1..4) of the well-formed UTF-8 character at s (RFC 3629: no
 * overlong forms, surrogates or code points above U+10FFFF), 0 when the
 * byte at s does not start one. *s must not be NUL. */
size_t fx_rt_utf8_len(const char *s);
/* Write s as UTF-8: each byte that does not start a well-formed character
 * becomes U+FFFD; with controls, C0, DEL and C1 control characters become
 * a space. Returns the number of characters written. */
size_t fx_rt_put(FILE *out, const char *s, bool controls);
/* The number of characters fx_rt_put writes for s. */
size_t fx_rt_width(const char *s);
/* "YYYY-MM-DD .. YYYY-MM-DD" or "no data". */
void fx_report_range_text(const struct fx_report *r, char *buf, size_t len);

#endif
