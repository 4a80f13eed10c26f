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

void fx_panel_draw(struct fx_panel *p, const struct fx_panel_slot *slots,
		   unsigned n, const char *totals, const char *status,
		   bool force)
{
	uint64_t now = mono_ms();
	unsigned i;
	int row = 0, cols;

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
	mvprintw(row++, 0, "%-4s %-8s %-11s %4s %8s  %-13s %s", "SLOT", "STATE", "STEP",
		 "PROG", "ELAPSED", "RUNS P/F/E", "LAST VERDICT");
	for (i = 0; i < n; i++) {
		const struct fx_panel_slot *s = &slots[i];
		char counts[24];
		int pair = state_pair(s->state);

		snprintf(counts, sizeof(counts), "%u %u/%u/%u", s->runs, s->passed,
			 s->failed, s->errors);
		mvprintw(row, 0, "%4u ", s->index);
		if (pair && p->colour)
			attron(COLOR_PAIR(pair) | A_BOLD);
		printw("%-8s", s->state);
		if (pair && p->colour)
			attroff(COLOR_PAIR(pair) | A_BOLD);
		printw(" %-11.11s %3u%% %6.1f s  %-13s ", s->step, s->pct,
		       (double)s->elapsed_us / 1e6, counts);
		{
			int x = getcurx(stdscr);

			if (x < cols - 1)
				printw("%.*s", cols - 1 - x, s->last);
		}
		row++;
	}
	row++;
	mvprintw(row++, 0, "%.*s", cols - 1, totals ? totals : "");
	mvprintw(row++, 0, "%.*s", cols - 1, status ? status : "");
	refresh();
}
