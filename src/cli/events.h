/* events.h - `fixturectl run --events FILE|-`: the station's events for
 * the factory's MES, one JSON object per line (JSON Lines), written with
 * json-c, flushed after every line. Schema "fixturectl-events/1":
 *
 * Every event:
 *   "schema"   "fixturectl-events/1"
 *   "event"    "run_started" | "step_finished" | "run_finished" |
 *              "station_stopped"
 *   "time"     UTC of the event, ISO 8601 with ms ("2026-12-02T07:30:00.125Z")
 *   "time_us"  the same in microseconds since 1970 (integer)
 *   "station"  [station] name
 * run_started, step_finished, run_finished also carry:
 *   "slot"     [slot N] (integer)
 *   "run_uuid" runs.uuid of the run (the key into the database)
 *   "serial"   unit serial, null until known (identify)
 *   "uid"      chip UID as 24 hex digits, null until read
 *   "recipe"   {"name": ..., "version": ...} of the slot's recipe
 *   "start"    UTC the run (run_*) or the step (step_finished) began,
 *              ISO 8601; "start_us" the same in microseconds
 * step_finished:
 *   "step"         the step's name (runs' steps.name)
 *   "result"       "PASS" | "FAIL" | "ERROR" | "SKIPPED"
 *   "duration_ms"  clock time the step took (number, ms with us digits)
 *   "detail"       the step's detail, "" if none
 *   "progress"     steps finished / steps of this run as known now (0..1)
 * run_finished (written after the run's record is committed):
 *   "result"       "PASS" | "FAIL" | "ERROR" | "ABORTED"
 *   "board"        the state found: "blank" "programmed" "corrupted"
 *                  "protected" "unknown"
 *   "failing_step" null for PASS, else the step (or "record")
 *   "reason"       null for PASS, else the message shown to the operator
 *   "error_code"   null for PASS, else the FX_E_* name
 *   "duration_ms"  the run's clock time
 *   "recorded"     true when the run-end record is committed (false only
 *                  when the database failed: the station then stops)
 * station_stopped (the last line):
 *   "reason"       "done" (--cycles reached), "eof" (stdin ended),
 *                  "interrupted" (Ctrl-C/SIGTERM), "error" (the station
 *                  stopped on a database or GPIO error)
 *   "runs" "passed" "failed" "errors" "aborted"  this process's runs
 * Unknown members may be added in later versions of the same schema;
 * consumers ignore them.
 *
 * Threads: the caller serialises (cmd_run holds its output lock).
 */
#ifndef FX_CLI_EVENTS_H
#define FX_CLI_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fx/seq.h"

#define FX_EVENTS_SCHEMA "fixturectl-events/1"

struct fx_events;

/* Open path for writing ("-" = stdout; a file is created or truncated).
 * NULL with errno on failure. */
struct fx_events *fx_events_open(const char *path, const char *station);
/* Flush and close (stdout is only flushed). NULL is fine. False when a
 * write failed at some point (errno of the first failure). */
bool fx_events_close(struct fx_events *ev);

/* run_started / step_finished / run_finished from a run report
 * (fx/seq.h); other report kinds are ignored. */
void fx_events_report(struct fx_events *ev, const struct fx_seq_report *rep,
		      const char *recipe_name, const char *recipe_version);

struct fx_events_totals {
	unsigned runs, passed, failed, errors, aborted;
};
void fx_events_stopped(struct fx_events *ev, int64_t utc_us, const char *reason,
		       const struct fx_events_totals *t);

#endif
