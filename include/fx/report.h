/* report.h - quality reports from a station database (issue 5): yield,
 * failure Pareto, cycle time and unit history, as text, CSV, JSON or HTML.
 *
 * The reports read the schema's views (fx/store.h) on a store opened with
 * fx_store_open_readonly(); every user value (dates, filters, the unit
 * key) reaches SQL only as a bound parameter, and --by choices come from a
 * fixed table of column names.
 *
 * Definitions (all days are UTC days; a run belongs to the day it started):
 *   runs        every finished run in the range: PASS, FAIL, ERROR, ABORTED
 *   passed      runs with result PASS;  failed: FAIL
 *   errors      ERROR (station could not judge the unit) + ABORTED
 *   yield_pct   100 * passed / runs
 *   units       units whose FIRST run is in the range/group (cohort: a
 *               unit counts once, in the group of its first run; runs with
 *               no identified unit count in runs only)
 *   first_pass  of those units, how many PASSED their first run
 *   fpy_pct     100 * first_pass / units
 *   final_pass  of those units, how many passed their LAST run (any date,
 *               so a retest next week raises this week's final yield)
 *   final_pct   100 * final_pass / units
 *   pareto      non-PASS runs (FAIL, ERROR, ABORTED) by failing step and
 *               error code: count, share_pct = 100 * count / all non-PASS
 *               runs of the group, cum_pct = running sum of share_pct in
 *               the order shown (count descending, then step, code)
 *   cycle       whole runs (step "(run)": end - start, runs with an end:
 *               PASS/FAIL/ERROR) and each non-SKIPPED step: count,
 *               mean_s (exact), max_s (exact), p50_s and p95_s: nearest
 *               rank over a duration histogram (below 32 us one bucket per
 *               us, above 32 buckets per power of two, i.e. <= 3.1 % wide);
 *               the value shown is the MEAN of the durations in the bucket
 *               holding that rank: exact when they are equal, else within
 *               the bucket. The histogram is kept per summary bucket and
 *               step (sum_cycle.hist, a BLOB decoded by the store's codec,
 *               src/store/store_sql.h; v_cycle_hist expands it in SQL), so
 *               every range and grouping is fast.
 *   serials     per serial number pool (fx/serial.h): pool, source, bound,
 *               reserved, released, voided, remaining (null: a scan pool,
 *               unbounded), blocks, last_value (the newest value issued);
 *               the range is the days of the first and the last
 *               reservation, the filters do not apply
 * Percentages have 2 decimals, seconds 3; a ratio with a zero denominator
 * is null ("-" in text and HTML, empty in CSV, null in JSON).
 *
 * JSON document (schema "fixturectl-report/1"):
 *   {
 *     "schema": "fixturectl-report/1",
 *     "report": "yield" | "pareto" | "cycle" | "history" | "serials",
 *     "database": "PATH",
 *     "timezone": "UTC",
 *     "from": "YYYY-MM-DD" | null,   effective first day (data or --from)
 *     "to": "YYYY-MM-DD" | null,     effective last day, inclusive
 *     "group_by": ["day", ...],      the --by keys in order ([] if none)
 *     "filters": {"station": S|null, "recipe": S|null, "operator": S|null},
 *     "unit": "KEY" | null,          history only: the serial or chip UID
 *     "tables": [
 *       { "name": "yield" | "pareto" | "cycle" | "runs" | "steps" | "serials",
 *         "columns": [{"name": "runs", "type": T}, ...],
 *         "rows": [[value, ...], ...] }          one value per column
 *     ]
 *   }
 *   T is "text" (string or null), "int" (integer), "pct" (number, 2
 *   decimals, or null) or "seconds" (number, 3 decimals, or null).
 *   Grouped yield/pareto/cycle rows carry the group columns first (day
 *   "YYYY-MM-DD", week "YYYY-Www" ISO week, station, slot, recipe
 *   "NAME VERSION", operator: null when the run has none; the summaries
 *   keep a NULL and an empty operator alike, so both are null there).
 *   A grouped yield table also has "total": {"runs": N, ...}, the grand
 *   total keyed by the non-group column names; it is never in "rows", so
 *   a group value named "total" cannot be mistaken for it.
 *
 * Values in every format: whole, however long. Bytes that do not start a
 * well-formed UTF-8 character (RFC 3629) become U+FFFD (JSON "\ufffd",
 * else its UTF-8 bytes), so the output is always valid UTF-8. Control
 * characters: JSON escapes them, CSV keeps them (quoted if CR/LF), text
 * and HTML show C0, DEL and C1 controls as spaces (one line per row; HTML
 * allows none raw).
 * Null and empty: JSON null vs ""; CSV an empty field vs a quoted empty
 * field ""; text and HTML "-" (a null group value "(none)") vs "" (two
 * quote characters). The grand-total row: JSON "total" (above); CSV, text
 * and HTML the first group column "(total)", the other group columns
 * empty.
 *
 * Text: a header ("# report", "# database", "# range ... (UTC)", "# group
 * by") then aligned columns. CSV: RFC 4180, CRLF line ends, one header
 * record, every record starts with tz,from,to so the range travels with
 * the data; history is one record per step (runs repeated). HTML: one file,
 * inline CSS and SVG, no scripts, no network: yield per day (bars = runs,
 * line + points = yield_pct) for yield, Pareto bars + cumulative line for
 * pareto, then the tables.
 */
#ifndef FX_FX_REPORT_H
#define FX_FX_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fx/err.h"
#include "fx/store.h"

enum fx_report_kind {
	FX_REPORT_YIELD,
	FX_REPORT_PARETO,
	FX_REPORT_CYCLE,
	FX_REPORT_HISTORY,
	FX_REPORT_SERIALS, /* serial number pools (issue 11, v_serial_pools) */
};

enum fx_report_by {
	FX_BY_DAY,
	FX_BY_WEEK,
	FX_BY_STATION,
	FX_BY_SLOT,
	FX_BY_RECIPE,
	FX_BY_OPERATOR,
	FX_BY_LINE,      /* the station's [station] line: fleet database only */
	FX_BY__COUNT
};

enum fx_report_format {
	FX_FMT_TEXT,
	FX_FMT_CSV,
	FX_FMT_JSON,
	FX_FMT_HTML,
};

/* What to report. Strings are borrowed for the fx_report_run() call. */
struct fx_report_query {
	enum fx_report_kind kind;
	bool has_from, has_to;
	int64_t from_day, to_day;      /* UTC day numbers, inclusive */
	enum fx_report_by by[FX_BY__COUNT];
	unsigned nby;                  /* each key at most once */
	const char *station;           /* filters: NULL = all */
	const char *recipe;            /* recipe name (any version) */
	const char *operator_id;
	const char *unit;              /* history: serial or chip UID */
};

/* Parse "YYYY-MM-DD" (a real calendar date, 1970..9999) into a UTC day
 * number. FX_E_INVAL "date 'X': expected YYYY-MM-DD" otherwise. */
int fx_report_parse_date(const char *s, int64_t *day, struct fx_err *err);
/* Format a day number as YYYY-MM-DD (out >= 11 bytes). */
void fx_report_format_day(int64_t day, char *out, size_t len);
/* ISO week "YYYY-Www" of a day (out >= 9 bytes). */
void fx_report_format_week(int64_t day, char *out, size_t len);
/* "day", "week", ... -> key; FX_E_INVAL "--by 'X': expected day, week,
 * station, slot, recipe, operator or line". */
int fx_report_parse_by(const char *s, enum fx_report_by *by, struct fx_err *err);
const char *fx_report_by_name(enum fx_report_by by);
const char *fx_report_kind_name(enum fx_report_kind kind);

/* A computed report: plain data, owned by the caller (fx_report_free). */
enum fx_report_coltype { FX_COL_TEXT, FX_COL_INT, FX_COL_PCT, FX_COL_SEC };

struct fx_report_cell {
	bool null;
	int64_t i;     /* FX_COL_INT */
	double d;      /* FX_COL_PCT, FX_COL_SEC */
	char *s;       /* FX_COL_TEXT (owned by the report) */
};

#define FX_REPORT_MAXCOLS 24
struct fx_report_table {
	const char *name;
	unsigned ncols;
	const char *colname[FX_REPORT_MAXCOLS];
	enum fx_report_coltype coltype[FX_REPORT_MAXCOLS];
	size_t nrows, cap;
	struct fx_report_cell *cells;  /* nrows * ncols, row-major */
	unsigned ngroup;               /* the first ngroup columns are --by keys */
	bool total_row;                /* the last row is the grand total: its
					* group cells are null */
};

/* Chart series for HTML. */
struct fx_report_daypoint {
	int64_t day;
	int64_t runs;
	double yield_pct;
};
struct fx_report_bar {
	char *label;     /* "verify FX_E_VERIFY" */
	int64_t n;
	double cum_pct;
};

struct fx_report {
	enum fx_report_kind kind;
	char *database;
	char from[11], to[11];     /* "" when the range holds no data */
	enum fx_report_by by[FX_BY__COUNT];
	unsigned nby;
	char *station, *recipe, *operator_id, *unit; /* copies, NULL = none */
	unsigned ntables;
	struct fx_report_table tables[2];
	size_t ndays;
	struct fx_report_daypoint *days;   /* yield: one point per day with runs */
	size_t nbars;
	struct fx_report_bar *bars;        /* pareto: overall, in order */
};

/* Compute a report. Returns NULL and fills err: FX_E_INVAL (bad query:
 * from after to, repeated --by, history without a unit), FX_E_NOTFOUND
 * (history: "no unit with serial or chip uid 'X'"), FX_E_DB (SQLite's
 * message; "database 'PATH': malformed sum_cycle.hist"; "database 'PATH':
 * implausible cycle|yield|failure sums" when stored figures add up beyond
 * int64_t or a failure count is negative: a tampered or damaged file),
 * FX_E_NOMEM. */
struct fx_report *fx_report_run(struct fx_store *st, const struct fx_report_query *q,
				struct fx_err *err);
void fx_report_free(struct fx_report *r);

/* Write r in format f to out. FX_E_IO on a write error. */
int fx_report_write(const struct fx_report *r, enum fx_report_format f, FILE *out,
		    struct fx_err *err);
int fx_report_write_text(const struct fx_report *r, FILE *out);
int fx_report_write_csv(const struct fx_report *r, FILE *out);
int fx_report_write_json(const struct fx_report *r, FILE *out);
int fx_report_write_html(const struct fx_report *r, FILE *out);

/* Nearest-rank percentile p (0 < p <= 100) of a histogram given as
 * counts n[i] and duration sums sum[i] of its non-empty buckets in
 * ascending order, total = sum of n: the mean duration (us, rounded) of
 * the bucket holding rank ceil(p * total / 100). Exposed for tests. */
int64_t fx_report_hist_percentile(const int64_t *n, const int64_t *sum, size_t count,
				  int64_t total, double p);

#endif
