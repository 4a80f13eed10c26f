/* store_names.c - the SQL text of the store's enums (runs.result,
 * steps.result, runs.board_state): the only place the C values meet the
 * strings. */
#include <string.h>

#include "store_int.h"

static const char *const result_names[] = {
	[FX_STORE_PASS] = "PASS",
	[FX_STORE_FAIL] = "FAIL",
	[FX_STORE_ERROR] = "ERROR",
	[FX_STORE_ABORTED] = "ABORTED",
	[FX_STORE_SKIPPED] = "SKIPPED",
};

static const char *const board_names[] = {
	[FX_STORE_BOARD_UNKNOWN] = "unknown",
	[FX_STORE_BOARD_PROGRAMMED] = "programmed",
	[FX_STORE_BOARD_BLANK] = "blank",
	[FX_STORE_BOARD_CORRUPTED] = "corrupted",
	[FX_STORE_BOARD_PROTECTED] = "protected",
};

#define N_RESULTS (sizeof(result_names) / sizeof(result_names[0]))

const char *fx_store_result_name(enum fx_store_result r)
{
	if ((unsigned)r >= N_RESULTS)
		return NULL;
	return result_names[r];
}

bool fx_store_result_from_name(const char *s, enum fx_store_result *r)
{
	unsigned i;

	if (!s)
		return false;
	for (i = 0; i < N_RESULTS; i++)
		if (!strcmp(s, result_names[i])) {
			*r = (enum fx_store_result)i;
			return true;
		}
	return false;
}

const char *fx_store_board_name(enum fx_store_board b)
{
	if ((unsigned)b >= sizeof(board_names) / sizeof(board_names[0]))
		return NULL;
	return board_names[b];
}
