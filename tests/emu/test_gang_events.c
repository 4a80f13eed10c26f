/* test_gang_events.c - `fixturectl run --events` on a 4-slot emulated
 * station (issue 14): the JSON lines parsed with json-c, every event of
 * the batch present, in order per slot, and consistent with the station
 * database (the run_uuid, slot, serial, UID, recipe, result and times of
 * every run; one step_finished per step row, same result). Runs the real
 * binary next to this test (BUILD/fixturectl, found from argv[0]). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_fix.h"
#include <json-c/json.h>
#include <sqlite3.h>

static char fx_bin[1024];
static char dir[64];

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static int64_t num(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

static void write_station(const char *path)
{
	FILE *f = fopen(path, "w");
	int i;

	assert_non_null(f);
	fprintf(f, "[station]\nname = ev4\ndatabase = ev.db\nstart = sim:START\n");
	for (i = 1; i <= 4; i++)
		fprintf(f, "[slot %d]\ndevice = emu:b%d.fxb%s\nboot0 = sim:B%d\nnrst = sim:N%d\n"
			"power = sim:P%d\n", i, i, i == 3 ? "?return=never" : "", i, i, i);
	assert_int_equal(fclose(f), 0);
}

/* The run row of uuid: "slot|serial|uid|recipe|version|result|failing|start|end". */
static void db_run(sqlite3 *db, const char *uuid, char *out, size_t cap)
{
	sqlite3_stmt *q;

	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT slot || '|' || coalesce(serial, '') || '|' || coalesce(chip_uid, '') || '|' || "
		"recipe_name || '|' || recipe_version || '|' || result || '|' || "
		"coalesce(failing_step, '') || '|' || start_us || '|' || end_us "
		"FROM runs WHERE uuid = ?", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, uuid, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
}

static int64_t db_count(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *q;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (arg)
		sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static void test_events_match_db(void **state)
{
	char ini[128], ev[128], dbp[128], cmd[2048], line[8192], row[1024], want[1024];
	unsigned started[5] = { 0 }, finished[5] = { 0 }, steps[5] = { 0 };
	char uuid[5][40] = { { 0 } };
	unsigned stopped = 0, n_lines = 0;
	sqlite3 *db;
	FILE *f;
	int rc, s;

	(void)state;
	snprintf(ini, sizeof(ini), "%s/st.ini", dir);
	snprintf(ev, sizeof(ev), "%s/ev.jsonl", dir);
	snprintf(dbp, sizeof(dbp), "%s/ev.db", dir);
	write_station(ini);
	snprintf(cmd, sizeof(cmd), "'%s' run --station '%s' --recipe config/demo-g474.ini "
		 "--cycles 1 --demo-boards=blank,programmed,dual-bank,corrupted --plain "
		 "--events '%s' >'%s/out' 2>&1", fx_bin, ini, ev, dir);
	rc = system(cmd);
	/* slot 3 (return=never) does not pass: exit 1 */
	assert_int_equal(WEXITSTATUS(rc), 1);
	assert_int_equal(sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	f = fopen(ev, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *o = json_tokener_parse(line), *r;
		const char *event;

		assert_non_null(o);
		n_lines++;
		assert_false(stopped); /* station_stopped is the last line */
		assert_string_equal(str(o, "schema"), "fixturectl-events/1");
		assert_string_equal(str(o, "station"), "ev4");
		assert_true(num(o, "time_us") > 1700000000000000);
		assert_int_equal(strlen(str(o, "time")), strlen("2026-12-02T07:30:00.125Z"));
		event = str(o, "event");
		assert_non_null(event);
		if (!strcmp(event, "station_stopped")) {
			stopped++;
			assert_string_equal(str(o, "reason"), "done");
			assert_int_equal(num(o, "runs"), 4);
			assert_int_equal(num(o, "passed"), 3);
			assert_int_equal(num(o, "errors"), 1);
			json_object_put(o);
			continue;
		}
		s = (int)num(o, "slot");
		assert_true(s >= 1 && s <= 4);
		assert_true(json_object_object_get_ex(o, "recipe", &r));
		assert_string_equal(str(r, "name"), "demo-g474");
		assert_string_equal(str(r, "version"), "1.0");
		if (!strcmp(event, "run_started")) {
			assert_int_equal(started[s]++, 0);
			assert_int_equal(finished[s], 0);
			snprintf(uuid[s], sizeof(uuid[s]), "%s", str(o, "run_uuid"));
			assert_null(str(o, "serial")); /* not identified yet */
			assert_int_equal(num(o, "start_us"), db_count(db,
				"SELECT start_us FROM runs WHERE uuid = ?", uuid[s]));
		} else if (!strcmp(event, "step_finished")) {
			assert_int_equal(started[s], 1);
			assert_int_equal(finished[s], 0);
			assert_string_equal(str(o, "run_uuid"), uuid[s]);
			steps[s]++;
			/* the step row with that name and result exists */
			snprintf(cmd, sizeof(cmd), "SELECT count(*) FROM steps JOIN runs ON "
				 "runs.id = steps.run_id WHERE uuid = ? AND name = '%s' AND "
				 "steps.result = '%s' AND steps.start_us = %lld", str(o, "step"),
				 str(o, "result"), (long long)num(o, "start_us"));
			assert_int_equal(db_count(db, cmd, uuid[s]), 1);
		} else if (!strcmp(event, "run_finished")) {
			const char *fs = str(o, "failing_step");

			assert_int_equal(finished[s]++, 0);
			assert_string_equal(str(o, "run_uuid"), uuid[s]);
			assert_true(json_object_get_boolean(json_object_object_get(o, "recorded")));
			db_run(db, uuid[s], row, sizeof(row));
			snprintf(want, sizeof(want), "%d|%s|%s|demo-g474|1.0|%s|%s|%lld|%lld", s,
				 str(o, "serial") ? str(o, "serial") : "",
				 str(o, "uid") ? str(o, "uid") : "", str(o, "result"),
				 fs ? fs : "", (long long)num(o, "start_us"),
				 (long long)db_count(db, "SELECT end_us FROM runs WHERE uuid = ?",
						     uuid[s]));
			assert_string_equal(row, want);
			if (s == 3) {
				assert_string_equal(str(o, "result"), "ERROR");
				assert_string_equal(fs, "enter_boot");
				assert_non_null(str(o, "reason"));
				assert_string_equal(str(o, "error_code"), "FX_E_NODEV");
			} else {
				assert_string_equal(str(o, "result"), "PASS");
				assert_null(fs);
				assert_null(str(o, "reason"));
				assert_int_equal(strlen(str(o, "uid")), 24);
				assert_int_equal(strlen(str(o, "serial")), 12);
			}
		} else {
			fail_msg("unknown event '%s'", event);
		}
		json_object_put(o);
	}
	fclose(f);
	assert_int_equal(stopped, 1);
	for (s = 1; s <= 4; s++) {
		assert_int_equal(started[s], 1);
		assert_int_equal(finished[s], 1);
		/* every step row has its event */
		assert_int_equal(steps[s], db_count(db, "SELECT count(*) FROM steps JOIN runs ON "
						     "runs.id = steps.run_id WHERE uuid = ?", uuid[s]));
	}
	assert_int_equal(db_count(db, "SELECT count(*) FROM runs", NULL), 4);
	assert_true(n_lines > 4 * 4);
	sqlite3_close(db);
}

static void test_events_unwritable(void **state)
{
	char cmd[2048];
	int rc;

	(void)state;
	snprintf(cmd, sizeof(cmd), "'%s' run --station '%s/st.ini' --recipe config/demo-g474.ini "
		 "--cycles 1 --events /nonexistent/dir/ev.jsonl >'%s/out2' 2>&1", fx_bin, dir, dir);
	rc = system(cmd);
	assert_int_equal(WEXITSTATUS(rc), 74);
	snprintf(cmd, sizeof(cmd), "grep -q \"run: --events '/nonexistent/dir/ev.jsonl': "
		 "cannot write: No such file or directory\" '%s/out2'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_match_db),
		cmocka_unit_test(test_events_unwritable),
	};
	const char *tail = "/tests/emu/test_gang_events";
	size_t n;
	int rc;

	(void)argc;
	n = strlen(argv[0]);
	if (n < strlen(tail) || strcmp(argv[0] + n - strlen(tail), tail)) {
		printf("skip: run as BUILD%s to find BUILD/fixturectl\n", tail);
		return 77;
	}
	snprintf(fx_bin, sizeof(fx_bin), "%.*s/fixturectl", (int)(n - strlen(tail)), argv[0]);
	if (access(fx_bin, X_OK)) {
		printf("skip: %s not built\n", fx_bin);
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/fxgangev.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (fxt_conf_rmdir(dir))
		return 1;
	return rc;
}
