/* events.c - the JSON Lines event stream of `run --events` (schema in
 * events.h), built with json-c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "events.h"
#include "fx/err.h"
#include "fx/store.h"

struct fx_events {
	FILE *f;
	bool is_stdout;
	bool failed;
	int first_errno;
	char station[64];
};

struct fx_events *fx_events_open(const char *path, const char *station)
{
	struct fx_events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	if (!strcmp(path, "-")) {
		ev->f = stdout;
		ev->is_stdout = true;
	} else {
		ev->f = fopen(path, "w");
		if (!ev->f) {
			int e = errno;

			free(ev);
			errno = e;
			return NULL;
		}
	}
	snprintf(ev->station, sizeof(ev->station), "%s", station);
	return ev;
}

bool fx_events_close(struct fx_events *ev)
{
	bool ok;

	if (!ev)
		return true;
	if (fflush(ev->f) && !ev->failed) {
		ev->failed = true;
		ev->first_errno = errno;
	}
	if (!ev->is_stdout && fclose(ev->f) && !ev->failed) {
		ev->failed = true;
		ev->first_errno = errno;
	}
	ok = !ev->failed;
	errno = ev->first_errno;
	free(ev);
	return ok;
}

static void iso_utc(int64_t us, char buf[32])
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03dZ", (int)((us % 1000000) / 1000));
}

static void add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

/* v "" = not known: null */
static void add_known(struct json_object *o, const char *key, const char *v)
{
	add_str(o, key, v && v[0] ? v : NULL);
}

static void add_time(struct json_object *o, const char *key, const char *key_us,
		     int64_t us)
{
	char buf[32];

	iso_utc(us, buf);
	add_str(o, key, buf);
	json_object_object_add(o, key_us, json_object_new_int64(us));
}

static struct json_object *base(const struct fx_events *ev, const char *event,
				int64_t utc_us)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_str(o, "schema", FX_EVENTS_SCHEMA);
	add_str(o, "event", event);
	add_time(o, "time", "time_us", utc_us);
	add_str(o, "station", ev->station);
	return o;
}

static void emit(struct fx_events *ev, struct json_object *o)
{
	const char *line;

	if (!o) {
		if (!ev->failed) {
			ev->failed = true;
			ev->first_errno = ENOMEM;
		}
		return;
	}
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if ((!line || fprintf(ev->f, "%s\n", line) < 0 || fflush(ev->f)) &&
	    !ev->failed) {
		ev->failed = true;
		ev->first_errno = line ? errno : ENOMEM;
	}
	json_object_put(o);
}

/* a number with `digits` decimals, written as such (not 439.04000000000002) */
static struct json_object *fixed(double v, int digits)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.*f", digits, v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *ms(uint64_t us)
{
	return fixed((double)us / 1000.0, 3);
}

void fx_events_report(struct fx_events *ev, const struct fx_seq_report *rep,
		      const char *recipe_name, const char *recipe_version)
{
	static const char *const names[] = {
		[FX_SEQ_REP_RUN_BEGIN] = "run_started",
		[FX_SEQ_REP_STEP_END] = "step_finished",
		[FX_SEQ_REP_RUN_END] = "run_finished",
	};
	struct json_object *o, *r;

	if (!ev || rep->kind == FX_SEQ_REP_STEP_BEGIN || !names[rep->kind])
		return;
	o = base(ev, names[rep->kind], rep->utc_us);
	if (!o) {
		emit(ev, NULL);
		return;
	}
	json_object_object_add(o, "slot", json_object_new_int((int)rep->slot));
	add_known(o, "run_uuid", rep->run_uuid);
	add_known(o, "serial", rep->serial);
	add_known(o, "uid", rep->uid_hex);
	r = json_object_new_object();
	if (r) {
		add_str(r, "name", recipe_name);
		add_str(r, "version", recipe_version);
	}
	json_object_object_add(o, "recipe", r);
	add_time(o, "start", "start_us", rep->start_utc_us);
	if (rep->kind == FX_SEQ_REP_STEP_END) {
		add_str(o, "step", rep->step);
		add_str(o, "result", fx_store_result_name(rep->result));
		json_object_object_add(o, "duration_ms",
				       ms(rep->duration_us));
		add_str(o, "detail", rep->detail ? rep->detail : "");
		json_object_object_add(o, "progress", fixed(
			rep->steps_total ? (double)rep->steps_done / rep->steps_total : 0.0, 3));
	} else if (rep->kind == FX_SEQ_REP_RUN_END) {
		const struct fx_seq_outcome *out = rep->outcome;
		bool pass = out->result == FX_STORE_PASS;

		add_str(o, "result", fx_store_result_name(out->result));
		add_str(o, "board", fx_store_board_name(out->board));
		add_str(o, "failing_step", pass ? NULL : out->failing_step);
		add_str(o, "reason", pass ? NULL : out->message);
		add_str(o, "error_code", pass ? NULL : fx_err_name(out->error_code));
		json_object_object_add(o, "duration_ms",
				       ms(out->duration_us));
		json_object_object_add(o, "recorded", json_object_new_boolean(out->recorded));
	}
	emit(ev, o);
}

void fx_events_stopped(struct fx_events *ev, int64_t utc_us, const char *reason,
		       const struct fx_events_totals *t)
{
	struct json_object *o;

	if (!ev)
		return;
	o = base(ev, "station_stopped", utc_us);
	if (o) {
		add_str(o, "reason", reason);
		json_object_object_add(o, "runs", json_object_new_int((int)t->runs));
		json_object_object_add(o, "passed", json_object_new_int((int)t->passed));
		json_object_object_add(o, "failed", json_object_new_int((int)t->failed));
		json_object_object_add(o, "errors", json_object_new_int((int)t->errors));
		json_object_object_add(o, "aborted", json_object_new_int((int)t->aborted));
	}
	emit(ev, o);
}
