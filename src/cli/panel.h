/* panel.h - the operator's live view of `fixturectl run` on a terminal
 * (ncurses): one line per slot (state, current step, progress %, elapsed
 * time of the run, the last verdict with serial and reason, kept until
 * that slot's next board, and the slot's counts), today's totals and a
 * status line, redrawn in place. Only for a TTY; `--plain` or a pipe get
 * the log lines instead.
 *
 * Threads: not thread-safe; cmd_run calls it under its output lock.
 * Redraws are throttled to one per FX_PANEL_REDRAW_MS of real time unless
 * forced (a virtual-time station changes faster than anyone can read).
 */
#ifndef FX_CLI_PANEL_H
#define FX_CLI_PANEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FX_PANEL_REDRAW_MS 50
#define FX_PANEL_MAX_SLOTS 8

/* What a slot line shows. Plain data owned by the caller. */
struct fx_panel_slot {
	unsigned index;        /* [slot N] */
	char state[12];        /* READY BUSY PASS FAIL ERROR ABORTED EMPTY */
	char step[24];         /* current step, "" when idle */
	unsigned pct;          /* progress of the run, 0..100 */
	uint64_t elapsed_us;   /* of the current (or last) run */
	char last[160];        /* last verdict: "PASS 0042... blank 9.8 s" */
	unsigned runs, passed, failed, errors; /* this slot, this session */
};

struct fx_panel;

/* Take over the terminal (stdout). NULL if ncurses cannot (no terminal
 * type): the caller falls back to log lines. */
struct fx_panel *fx_panel_open(const char *title);
/* Give the terminal back (the screen is restored). NULL ok. */
void fx_panel_close(struct fx_panel *p);
/* The slot table as plain lines (after close: the last picture stays). */
void fx_panel_print(FILE *out, const struct fx_panel_slot *slots, unsigned n);

/* Redraw: slots[n], the totals line and the status line. Skipped when the
 * last redraw is younger than FX_PANEL_REDRAW_MS, unless force. */
void fx_panel_draw(struct fx_panel *p, const struct fx_panel_slot *slots,
		   unsigned n, const char *totals, const char *status,
		   bool force);

#endif
