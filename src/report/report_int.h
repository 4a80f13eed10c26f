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

/* A cell as text: ints "%lld", pct "%.2f", seconds "%.3f"; null gives
 * null_text. Returns buf. */
const char *fx_rt_fmt(const struct fx_report_table *t, unsigned col,
		      const struct fx_report_cell *c, char *buf, size_t len,
		      const char *null_text);
/* "YYYY-MM-DD .. YYYY-MM-DD" or "no data". */
void fx_report_range_text(const struct fx_report *r, char *buf, size_t len);

#endif
