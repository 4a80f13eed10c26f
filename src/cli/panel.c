/* panel.c - the live operator panel (panel.h) with ncurses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "panel.h"

struct fx_panel {
	SCREEN *scr;
	char title[128];
	uint64_t last_ms;
	bool colour;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

enum { PAIR_PASS = 1, PAIR_FAIL, PAIR_BUSY };

struct fx_panel *fx_panel_open(const char *title)
{
	struct fx_panel *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->scr = newterm(NULL, stdout, stdin);
	if (!p->scr) {
		free(p);
		return NULL;
	}
	set_term(p->scr);
	cbreak();
	noecho();
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_PASS, COLOR_GREEN, -1);
		init_pair(PAIR_FAIL, COLOR_RED, -1);
		init_pair(PAIR_BUSY, COLOR_YELLOW, -1);
		p->colour = true;
	}
	snprintf(p->title, sizeof(p->title), "%s", title);
	return p;
}

void fx_panel_close(struct fx_panel *p)
{
	if (!p)
		return;
	endwin();
	delscreen(p->scr);
	free(p);
}

static int state_pair(const char *state)
{
	if (!strcmp(state, "PASS"))
		return PAIR_PASS;
	if (!strcmp(state, "BUSY"))
		return PAIR_BUSY;
	if (!strcmp(state, "FAIL") || !strcmp(state, "ERROR") ||
	    !strcmp(state, "ABORTED"))
		return PAIR_FAIL;
	return 0;
}

/* The slot table, one line each, the same columns on screen and in the
 * plain copy written when the panel closes. */
static void slot_line(const struct fx_panel_slot *s, char *buf, size_t cap)
{
	char counts[24];

	snprintf(counts, sizeof(counts), "%u %u/%u/%u", s->runs, s->passed, s->failed,
		 s->errors);
	snprintf(buf, cap, "%4u %-8s %-11.11s %3u%% %6.1f s  %-13s %s", s->index, s->state,
		 s->step, s->pct, (double)s->elapsed_us / 1e6, counts, s->last);
}

static const char header[] = "SLOT STATE    STEP        PROG  ELAPSED  RUNS P/F/E    LAST VERDICT";

void fx_panel_draw(struct fx_panel *p, const struct fx_panel_slot *slots,
		   unsigned n, const char *totals, const char *status,
		   bool force)
{
	uint64_t now = mono_ms();
	unsigned i;
	int row = 0, cols;
	char line[256];

	if (!p)
		return;
	if (!force && now - p->last_ms < FX_PANEL_REDRAW_MS)
		return;
	p->last_ms = now;
	cols = COLS > 0 ? COLS : 80;
	erase();
	attron(A_BOLD);
	mvprintw(row++, 0, "%.*s", cols - 1, p->title);
	attroff(A_BOLD);
	row++;
	mvprintw(row++, 0, "%.*s", cols - 1, header);
	for (i = 0; i < n; i++) {
		int pair = state_pair(slots[i].state);

		slot_line(&slots[i], line, sizeof(line));
		mvprintw(row, 0, "%.*s", cols - 1, line);
		if (pair && p->colour) /* the state column in its colour */
			mvchgat(row, 5, 8, A_BOLD, (short)pair, NULL);
		row++;
	}
	row++;
	mvprintw(row++, 0, "%.*s", cols - 1, totals ? totals : "");
	mvprintw(row++, 0, "%.*s", cols - 1, status ? status : "");
	refresh();
}

void fx_panel_print(FILE *out, const struct fx_panel_slot *slots, unsigned n)
{
	char line[256];
	unsigned i;

	fprintf(out, "%s\n", header);
	for (i = 0; i < n; i++) {
		slot_line(&slots[i], line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
}
