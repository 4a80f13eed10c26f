/* fleet_schema.c - the central PostgreSQL schema "fx" and its versioned
 * migrations (fx.schema_version), applied by fx_fleet_init() in ONE
 * transaction under an advisory lock, by the owner role.
 *
 * Roles (created beforehand by scripts/fleet-roles.sql): fx_station (the
 * group of every station's login role: inserts its own station's runs and
 * steps, row-level security on station_key; reads nothing else, talks to
 * the rest through SECURITY DEFINER functions that check session_user),
 * fx_report (read-only). The owner role owns everything and bypasses RLS.
 *
 * Tables: stations, runs (uuid), steps (run uuid, seq), units (unit_key),
 * sum_bucket / sum_pareto / sum_cycle / sum_cycle_hist (the local
 * summaries' twins, plus line), serial_pools / serial_leases. The
 * summaries are maintained by a statement trigger on runs, set-based over
 * the batch's new rows only (ON CONFLICT DO NOTHING keeps replays out of
 * it), with the local definitions (src/store/store_schema.c): bucket =
 * (UTC start day, station, line, slot, recipe, version, operator); unit
 * cohort in the bucket of the unit's first finished run, ordered by
 * (start_us, station_key, local id) - for one station the local (start,
 * id) order.
 * Sized for 10^8 runs: runs_start (range scans of history), runs_unit,
 * runs_station_seq; reports read only the summaries (a few rows per day
 * and group), history reads runs by unit_key. */
#include <stddef.h>

#include "fleet_int.h"

static const char m1[] =
	"CREATE SCHEMA fx;"
	"CREATE TABLE fx.schema_version(version integer NOT NULL);"
	"INSERT INTO fx.schema_version VALUES (0);"
	"CREATE TABLE fx.stations("
	"  station_key uuid PRIMARY KEY, name text NOT NULL, line text,"
	"  role name NOT NULL,"                    /* the login role that pushes for it */
	"  epoch integer NOT NULL,"
	"  last_seq bigint NOT NULL DEFAULT 0, last_uuid uuid,"
	"  retired boolean NOT NULL DEFAULT false,"
	"  registered_at timestamptz NOT NULL DEFAULT now(), last_push_at timestamptz);"
	"CREATE UNIQUE INDEX stations_live_name ON fx.stations(name) WHERE NOT retired;"
	"CREATE TABLE fx.runs("
	"  uuid uuid PRIMARY KEY, station_key uuid NOT NULL REFERENCES fx.stations,"
	"  seq bigint NOT NULL, local_id bigint NOT NULL, unit_key text,"
	"  serial text, chip_uid text, station text NOT NULL, line text,"
	"  slot integer NOT NULL, port_path text, operator text,"
	"  recipe_name text NOT NULL, recipe_version text, recipe_sha256 text,"
	"  firmware_sha256 text, board_state text NOT NULL,"
	"  start_us bigint NOT NULL, end_us bigint,"
	"  result text NOT NULL CHECK (result IN ('PASS','FAIL','ERROR','ABORTED')),"
	"  failing_step text, error_code text, error_message text, software_version text,"
	"  received_at timestamptz NOT NULL DEFAULT now());"
	"CREATE INDEX runs_start ON fx.runs(start_us);"
	"CREATE INDEX runs_unit ON fx.runs(unit_key, start_us) WHERE unit_key IS NOT NULL;"
	"CREATE UNIQUE INDEX runs_station_seq ON fx.runs(station_key, seq);"
	"CREATE TABLE fx.steps("
	"  run_uuid uuid NOT NULL, station_key uuid NOT NULL REFERENCES fx.stations,"
	"  seq integer NOT NULL, name text NOT NULL, start_us bigint NOT NULL,"
	"  duration_us bigint NOT NULL CHECK (duration_us >= 0),"
	"  result text NOT NULL CHECK (result IN ('PASS','FAIL','ERROR','ABORTED','SKIPPED')),"
	"  detail text, PRIMARY KEY (run_uuid, seq));"
	"CREATE TABLE fx.units("
	"  unit_key text PRIMARY KEY, serial text, chip_uid text,"
	"  first_start_us bigint, first_station_key uuid, first_local_id bigint,"
	"  first_result text, first_bucket bigint,"
	"  last_start_us bigint, last_station_key uuid, last_local_id bigint, last_result text);"
	"CREATE INDEX units_serial ON fx.units(serial);"
	"CREATE INDEX units_uid ON fx.units(chip_uid);"
	"CREATE TABLE fx.sum_bucket("
	"  id bigserial PRIMARY KEY, day integer NOT NULL, station text NOT NULL,"
	"  line text NOT NULL, slot integer NOT NULL, recipe_name text NOT NULL,"
	"  recipe_version text NOT NULL, operator text NOT NULL,"
	"  runs bigint NOT NULL DEFAULT 0, passed bigint NOT NULL DEFAULT 0,"
	"  failed bigint NOT NULL DEFAULT 0, errors bigint NOT NULL DEFAULT 0,"
	"  aborted bigint NOT NULL DEFAULT 0, units bigint NOT NULL DEFAULT 0,"
	"  units_first_pass bigint NOT NULL DEFAULT 0, units_final_pass bigint NOT NULL DEFAULT 0,"
	"  UNIQUE (day, station, line, slot, recipe_name, recipe_version, operator));"
	"CREATE TABLE fx.sum_pareto(bucket_id bigint NOT NULL REFERENCES fx.sum_bucket,"
	"  step text NOT NULL, error_code text NOT NULL, n bigint NOT NULL,"
	"  PRIMARY KEY (bucket_id, step, error_code));"
	"CREATE TABLE fx.sum_cycle(bucket_id bigint NOT NULL REFERENCES fx.sum_bucket,"
	"  step text NOT NULL, seq integer NOT NULL, n bigint NOT NULL, sum_us bigint NOT NULL,"
	"  max_us bigint NOT NULL, PRIMARY KEY (bucket_id, step));"
	"CREATE TABLE fx.sum_cycle_hist(bucket_id bigint NOT NULL, step text NOT NULL,"
	"  hb integer NOT NULL, n bigint NOT NULL, sum_us bigint NOT NULL,"
	"  PRIMARY KEY (bucket_id, step, hb));"
	/* the cycle summaries rolled up to (day, station, line): what the
	 * cycle reports read when they neither group nor filter by slot,
	 * recipe or operator (30x fewer histogram rows) */
	"CREATE TABLE fx.sum_cycle_day(day integer NOT NULL, station text NOT NULL,"
	"  line text NOT NULL, step text NOT NULL, seq integer NOT NULL, n bigint NOT NULL,"
	"  sum_us bigint NOT NULL, max_us bigint NOT NULL,"
	"  hist text NOT NULL DEFAULT '[]',"  /* the local sum_cycle.hist text, from _hist */
	"  PRIMARY KEY (day, station, line, step));"
	"CREATE TABLE fx.sum_cycle_day_hist(day integer NOT NULL, station text NOT NULL,"
	"  line text NOT NULL, step text NOT NULL, hb integer NOT NULL, n bigint NOT NULL,"
	"  sum_us bigint NOT NULL, PRIMARY KEY (day, station, line, step, hb));"
	/* UTC day number and duration histogram bucket: fx_store_day(),
	 * fx_store_hist_bucket() */
	"CREATE FUNCTION fx.day(us bigint) RETURNS integer LANGUAGE sql IMMUTABLE STRICT"
	" PARALLEL SAFE AS $$ SELECT floor(us / 86400000000.0)::integer $$;"
	"CREATE FUNCTION fx.hb(us bigint) RETURNS integer LANGUAGE sql IMMUTABLE STRICT"
	" PARALLEL SAFE AS $$ SELECT CASE WHEN us < 32 THEN greatest(us, 0)::integer ELSE"
	"  ((64 - position('1' in us::bit(64)::text)) * 32"
	"   + ((us >> (64 - position('1' in us::bit(64)::text) - 5)) & 31))::integer END $$;"
	/* does the session's role push for this (live) station? */
	"CREATE FUNCTION fx.owns_station(k uuid) RETURNS boolean LANGUAGE sql STABLE"
	" SECURITY DEFINER SET search_path = fx, pg_temp AS"
	" $$ SELECT EXISTS (SELECT 1 FROM fx.stations WHERE station_key = k"
	"   AND role = session_user AND NOT retired) $$;"
	/* the same as a set, for the policies: an uncorrelated subquery is
	 * evaluated once per statement, not once per row */
	"CREATE FUNCTION fx.my_stations() RETURNS SETOF uuid LANGUAGE sql STABLE"
	" SECURITY DEFINER SET search_path = fx, pg_temp AS"
	" $$ SELECT station_key FROM fx.stations WHERE role = session_user AND NOT retired $$;"
	"ALTER TABLE fx.runs ENABLE ROW LEVEL SECURITY;"
	"ALTER TABLE fx.steps ENABLE ROW LEVEL SECURITY;"
	"CREATE POLICY station_insert ON fx.runs FOR INSERT TO fx_station"
	"  WITH CHECK (station_key IN (SELECT fx.my_stations()));"
	"CREATE POLICY station_insert ON fx.steps FOR INSERT TO fx_station"
	"  WITH CHECK (station_key IN (SELECT fx.my_stations()));"
	"CREATE POLICY report_read ON fx.runs FOR SELECT TO fx_report USING (true);"
	"CREATE POLICY report_read ON fx.steps FOR SELECT TO fx_report USING (true);"
	/* the station's view of itself: its own row only */
	"CREATE FUNCTION fx.station_state(k uuid, OUT found boolean, OUT name text,"
	"  OUT epoch integer, OUT last_seq bigint, OUT last_uuid uuid, OUT retired boolean,"
	"  OUT mine boolean) LANGUAGE sql STABLE SECURITY DEFINER"
	"  SET search_path = fx, pg_temp AS"
	" $$ SELECT true, s.name, s.epoch, s.last_seq, s.last_uuid, s.retired,"
	"   s.role = session_user FROM fx.stations s WHERE s.station_key = k"
	"   UNION ALL SELECT false, NULL, NULL, NULL, NULL, NULL, NULL"
	"   WHERE NOT EXISTS (SELECT 1 FROM fx.stations WHERE station_key = k) $$;"
	/* register a station database (new key). new_epoch: this database
	 * replaces the live one of that name on purpose (same role): retire
	 * it and take its epoch + 1 */
	"CREATE FUNCTION fx.station_register(k uuid, p_name text, p_line text, new_epoch boolean)"
	" RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = fx, pg_temp AS $$"
	" DECLARE o fx.stations; e integer := 1;"
	" BEGIN"
	"  PERFORM pg_advisory_xact_lock(hashtext('fx.station:' || p_name));"
	"  SELECT * INTO o FROM fx.stations WHERE name = p_name AND NOT retired FOR UPDATE;"
	"  IF FOUND THEN"
	"   IF o.role <> session_user THEN"
	"    RAISE EXCEPTION 'station \"%\" belongs to role \"%\", not \"%\"', p_name, o.role,"
	"     session_user USING ERRCODE = '42501';"
	"   END IF;"
	"   IF NOT new_epoch THEN"
	"    RAISE EXCEPTION 'station \"%\" is already registered by another database (key %,"
	" epoch %, % runs acknowledged): a replaced or copied station database is refused;"
	" if this database replaces it on purpose, run fixturectl sync --new-epoch', p_name,"
	"     o.station_key, o.epoch, o.last_seq USING ERRCODE = 'P0001', HINT = 'fx:identity';"
	"   END IF;"
	"   UPDATE fx.stations SET retired = true WHERE station_key = o.station_key;"
	"   e := o.epoch + 1;"
	"  END IF;"
	"  INSERT INTO fx.stations(station_key, name, line, role, epoch)"
	"   VALUES (k, p_name, p_line, session_user, e);"
	"  RETURN e;"
	" END $$;"
	/* start a batch: lock the station row, check identity, epoch and that
	 * the batch continues the acknowledged sequence */
	"CREATE FUNCTION fx.batch_begin(k uuid, p_epoch integer, prev_seq bigint, prev_uuid uuid)"
	" RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = fx, pg_temp AS $$"
	" DECLARE s fx.stations;"
	" BEGIN"
	"  SELECT * INTO s FROM fx.stations WHERE station_key = k FOR UPDATE;"
	"  IF NOT FOUND THEN RAISE EXCEPTION 'station key % is not registered', k"
	"   USING HINT = 'fx:identity'; END IF;"
	"  IF s.role <> session_user THEN RAISE EXCEPTION"
	"   'role \"%\" may not push for station \"%\"', session_user, s.name USING ERRCODE = '42501';"
	"  END IF;"
	"  IF s.retired THEN RAISE EXCEPTION 'station database key % of \"%\" was retired (replaced"
	" by a newer epoch): this database is refused', k, s.name USING HINT = 'fx:identity'; END IF;"
	"  IF s.epoch <> p_epoch THEN RAISE EXCEPTION 'station \"%\": epoch % on the server, % in"
	" the database: refused', s.name, s.epoch, p_epoch USING HINT = 'fx:identity'; END IF;"
	"  IF s.last_seq <> prev_seq OR s.last_uuid IS DISTINCT FROM prev_uuid THEN RAISE EXCEPTION"
	"   'station \"%\": the server acknowledged run % (%), the database continues after run %"
	" (%): a restored or copied station database is refused', s.name, s.last_seq, s.last_uuid,"
	"   prev_seq, prev_uuid USING HINT = 'fx:identity'; END IF;"
	" END $$;"
	"CREATE FUNCTION fx.batch_end(k uuid, p_last_seq bigint, p_last_uuid uuid, p_line text)"
	" RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = fx, pg_temp AS"
	" $$ UPDATE fx.stations SET last_seq = p_last_seq, last_uuid = p_last_uuid,"
	"   line = p_line, last_push_at = now() WHERE station_key = k AND role = session_user $$;"
	/* the summaries, from the rows a statement really inserted */
	"CREATE FUNCTION fx.fold_runs() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
	" SET search_path = fx, pg_temp AS $$"
	" BEGIN"
	"  INSERT INTO fx.sum_bucket AS b (day, station, line, slot, recipe_name, recipe_version,"
	"   operator, runs, passed, failed, errors, aborted)"
	"   SELECT fx.day(start_us), station, COALESCE(line, ''), slot, recipe_name,"
	"    COALESCE(recipe_version, ''), COALESCE(operator, ''), count(*),"
	"    count(*) FILTER (WHERE result = 'PASS'), count(*) FILTER (WHERE result = 'FAIL'),"
	"    count(*) FILTER (WHERE result = 'ERROR'), count(*) FILTER (WHERE result = 'ABORTED')"
	"   FROM nr GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7"
	"   ON CONFLICT (day, station, line, slot, recipe_name, recipe_version, operator)"
	"   DO UPDATE SET runs = b.runs + excluded.runs, passed = b.passed + excluded.passed,"
	"    failed = b.failed + excluded.failed, errors = b.errors + excluded.errors,"
	"    aborted = b.aborted + excluded.aborted;"
	"  CREATE TEMP TABLE IF NOT EXISTS fold_r(uuid uuid, bucket bigint, unit_key text,"
	"   serial text, chip_uid text, start_us bigint, end_us bigint, station_key uuid,"
	"   local_id bigint, result text, failing_step text, error_code text) ON COMMIT DELETE ROWS;"
	"  CREATE TEMP TABLE IF NOT EXISTS fold_d(bucket bigint, step text, seq integer,"
	"   us bigint) ON COMMIT DELETE ROWS;"
	"  CREATE TEMP TABLE IF NOT EXISTS fold_u(unit_key text, had boolean, o_bucket bigint,"
	"   o_first text, o_last text, nf boolean, f_start bigint, f_station uuid, f_id bigint,"
	"   f_result text, f_bucket bigint, nl boolean, l_start bigint, l_station uuid,"
	"   l_id bigint, l_result text, serial text, chip_uid text) ON COMMIT DELETE ROWS;"
	"  TRUNCATE fold_r, fold_d, fold_u;"
	"  INSERT INTO fold_r SELECT n.uuid, b.id, n.unit_key, n.serial, n.chip_uid, n.start_us,"
	"   n.end_us, n.station_key, n.local_id, n.result, COALESCE(n.failing_step, ''),"
	"   COALESCE(n.error_code, '') FROM nr n JOIN fx.sum_bucket b ON b.day = fx.day(n.start_us)"
	"   AND b.station = n.station AND b.line = COALESCE(n.line, '') AND b.slot = n.slot"
	"   AND b.recipe_name = n.recipe_name AND b.recipe_version = COALESCE(n.recipe_version, '')"
	"   AND b.operator = COALESCE(n.operator, '');"
	"  INSERT INTO fx.sum_pareto AS p (bucket_id, step, error_code, n)"
	"   SELECT bucket, failing_step, error_code, count(*) FROM fold_r WHERE result <> 'PASS'"
	"   GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
	"   ON CONFLICT (bucket_id, step, error_code) DO UPDATE SET n = p.n + excluded.n;"
	/* cycle: runs that ended with a verdict, and their non-SKIPPED steps */
	"  INSERT INTO fold_d SELECT bucket, '', 0, end_us - start_us FROM fold_r"
	"   WHERE end_us IS NOT NULL AND result <> 'ABORTED'"
	"   UNION ALL SELECT f.bucket, s.name, s.seq, s.duration_us FROM fold_r f"
	"   JOIN fx.steps s ON s.run_uuid = f.uuid"
	"   WHERE f.end_us IS NOT NULL AND f.result <> 'ABORTED' AND s.result <> 'SKIPPED';"
	"  INSERT INTO fx.sum_cycle AS c (bucket_id, step, seq, n, sum_us, max_us)"
	"   SELECT bucket, step, min(seq), count(*), sum(us), max(us) FROM fold_d"
	"   GROUP BY 1, 2 ORDER BY 1, 2"
	"   ON CONFLICT (bucket_id, step) DO UPDATE SET n = c.n + excluded.n,"
	"    sum_us = c.sum_us + excluded.sum_us, max_us = greatest(c.max_us, excluded.max_us),"
	"    seq = least(c.seq, excluded.seq);"
	"  INSERT INTO fx.sum_cycle_hist AS h (bucket_id, step, hb, n, sum_us)"
	"   SELECT bucket, step, fx.hb(us), count(*), sum(us) FROM fold_d"
	"   GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
	"   ON CONFLICT (bucket_id, step, hb) DO UPDATE SET n = h.n + excluded.n,"
	"    sum_us = h.sum_us + excluded.sum_us;"
	"  INSERT INTO fx.sum_cycle_day AS c (day, station, line, step, seq, n, sum_us, max_us)"
	"   SELECT b.day, b.station, b.line, d.step, min(d.seq), count(*), sum(d.us), max(d.us)"
	"   FROM fold_d d JOIN fx.sum_bucket b ON b.id = d.bucket GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
	"   ON CONFLICT (day, station, line, step) DO UPDATE SET n = c.n + excluded.n,"
	"    sum_us = c.sum_us + excluded.sum_us, max_us = greatest(c.max_us, excluded.max_us),"
	"    seq = least(c.seq, excluded.seq);"
	"  INSERT INTO fx.sum_cycle_day_hist AS h (day, station, line, step, hb, n, sum_us)"
	"   SELECT b.day, b.station, b.line, d.step, fx.hb(d.us), count(*), sum(d.us)"
	"   FROM fold_d d JOIN fx.sum_bucket b ON b.id = d.bucket"
	"   GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
	"   ON CONFLICT (day, station, line, step, hb) DO UPDATE SET n = h.n + excluded.n,"
	"    sum_us = h.sum_us + excluded.sum_us;"
	"  UPDATE fx.sum_cycle_day c SET hist = h.hist FROM ("
	"   SELECT day, station, line, step, '[' || string_agg('[' || hb || ',' || n || ','"
	"    || sum_us || ']', ',' ORDER BY hb) || ']' AS hist FROM fx.sum_cycle_day_hist"
	"   WHERE (day, station, line, step) IN (SELECT DISTINCT b.day, b.station, b.line, d.step"
	"    FROM fold_d d JOIN fx.sum_bucket b ON b.id = d.bucket) GROUP BY 1, 2, 3, 4) h"
	"   WHERE c.day = h.day AND c.station = h.station AND c.line = h.line AND c.step = h.step;"
	/* unit cohort: lock the batch's units (created empty when new), in key
	 * order, then move first/last and the cohort counts */
	"  INSERT INTO fx.units(unit_key) SELECT DISTINCT unit_key FROM fold_r"
	"   WHERE unit_key IS NOT NULL ORDER BY 1 ON CONFLICT DO NOTHING;"
	"  PERFORM 1 FROM fx.units WHERE unit_key IN (SELECT unit_key FROM fold_r)"
	"   ORDER BY unit_key FOR UPDATE;"
	"  INSERT INTO fold_u"
	"   WITH bf AS (SELECT DISTINCT ON (unit_key) * FROM fold_r WHERE unit_key IS NOT NULL"
	"     ORDER BY unit_key, start_us, station_key, local_id),"
	"    bl AS (SELECT DISTINCT ON (unit_key) * FROM fold_r WHERE unit_key IS NOT NULL"
	"     ORDER BY unit_key, start_us DESC, station_key DESC, local_id DESC)"
	"   SELECT u.unit_key, u.first_start_us IS NOT NULL, u.first_bucket, u.first_result,"
	"    u.last_result,"
	"    u.first_start_us IS NULL OR (bf.start_us, bf.station_key, bf.local_id)"
	"     < (u.first_start_us, u.first_station_key, u.first_local_id),"
	"    bf.start_us, bf.station_key, bf.local_id, bf.result, bf.bucket,"
	"    u.last_start_us IS NULL OR (bl.start_us, bl.station_key, bl.local_id)"
	"     > (u.last_start_us, u.last_station_key, u.last_local_id),"
	"    bl.start_us, bl.station_key, bl.local_id, bl.result,"
	"    COALESCE(bl.serial, u.serial), COALESCE(bl.chip_uid, u.chip_uid)"
	"   FROM fx.units u JOIN bf USING (unit_key) JOIN bl USING (unit_key);"
	"  UPDATE fx.sum_bucket b SET units = b.units + d.du,"
	"   units_first_pass = b.units_first_pass + d.dfp,"
	"   units_final_pass = b.units_final_pass + d.dfin"
	"   FROM (SELECT bucket, sum(du) AS du, sum(dfp) AS dfp, sum(dfin) AS dfin FROM ("
	"     SELECT o_bucket AS bucket, -1 AS du, -(o_first = 'PASS')::integer AS dfp,"
	"      -(o_last = 'PASS')::integer AS dfin FROM fold_u WHERE had"
	"     UNION ALL SELECT CASE WHEN nf THEN f_bucket ELSE o_bucket END, 1,"
	"      (CASE WHEN nf THEN f_result ELSE o_first END = 'PASS')::integer,"
	"      (CASE WHEN nl THEN l_result ELSE o_last END = 'PASS')::integer FROM fold_u) x"
	"    GROUP BY bucket) d WHERE b.id = d.bucket;"
	"  UPDATE fx.units u SET serial = f.serial, chip_uid = f.chip_uid,"
	"   first_start_us = CASE WHEN f.nf THEN f.f_start ELSE u.first_start_us END,"
	"   first_station_key = CASE WHEN f.nf THEN f.f_station ELSE u.first_station_key END,"
	"   first_local_id = CASE WHEN f.nf THEN f.f_id ELSE u.first_local_id END,"
	"   first_result = CASE WHEN f.nf THEN f.f_result ELSE u.first_result END,"
	"   first_bucket = CASE WHEN f.nf THEN f.f_bucket ELSE u.first_bucket END,"
	"   last_start_us = CASE WHEN f.nl THEN f.l_start ELSE u.last_start_us END,"
	"   last_station_key = CASE WHEN f.nl THEN f.l_station ELSE u.last_station_key END,"
	"   last_local_id = CASE WHEN f.nl THEN f.l_id ELSE u.last_local_id END,"
	"   last_result = CASE WHEN f.nl THEN f.l_result ELSE u.last_result END"
	"   FROM fold_u f WHERE u.unit_key = f.unit_key;"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER runs_fold AFTER INSERT ON fx.runs REFERENCING NEW TABLE AS nr"
	" FOR EACH STATEMENT EXECUTE FUNCTION fx.fold_runs();"
	/* central serial pools (issue 11's [serial_number] central = yes) */
	"CREATE TABLE fx.serial_pools(pool text PRIMARY KEY, next_value bigint NOT NULL,"
	"  last_value bigint NOT NULL);"
	"CREATE TABLE fx.serial_leases(pool text NOT NULL REFERENCES fx.serial_pools,"
	"  first_value bigint NOT NULL, last_value bigint NOT NULL, station_key uuid NOT NULL"
	"  REFERENCES fx.stations, leased_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (pool, first_value));"
	"CREATE FUNCTION fx.lease_serials(k uuid, p_pool text, p_n bigint, p_first bigint,"
	"  p_last bigint, OUT first_value bigint, OUT last_value bigint) LANGUAGE plpgsql"
	" SECURITY DEFINER SET search_path = fx, pg_temp AS $$"
	" DECLARE p fx.serial_pools; v_first bigint; v_last bigint;"
	" BEGIN"
	"  IF NOT fx.owns_station(k) THEN RAISE EXCEPTION 'role \"%\" may not lease for station key %',"
	"   session_user, k USING ERRCODE = '42501'; END IF;"
	"  IF p_n < 1 THEN RAISE EXCEPTION 'lease of % values', p_n; END IF;"
	"  INSERT INTO fx.serial_pools VALUES (p_pool, p_first, p_last) ON CONFLICT DO NOTHING;"
	"  SELECT * INTO p FROM fx.serial_pools WHERE pool = p_pool FOR UPDATE;"
	"  IF p.next_value > p.last_value THEN RAISE EXCEPTION 'serial pool \"%\" is exhausted"
	" (last value %)', p_pool, p.last_value; END IF;"
	"  v_first := p.next_value;"
	"  v_last := least(p.last_value, p.next_value + p_n - 1);"
	"  UPDATE fx.serial_pools SET next_value = v_last + 1 WHERE pool = p_pool;"
	"  INSERT INTO fx.serial_leases(pool, first_value, last_value, station_key)"
	"   VALUES (p_pool, v_first, v_last, k);"
	"  first_value := v_first;"
	"  last_value := v_last;"
	" END $$;"
	/* privileges (scripts/fleet-roles.sql documents them) */
	"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fx FROM PUBLIC;"
	"GRANT USAGE ON SCHEMA fx TO fx_station, fx_report;"
	"GRANT SELECT ON fx.schema_version TO fx_station, fx_report;"
	"GRANT INSERT ON fx.runs, fx.steps TO fx_station;"
	"GRANT EXECUTE ON FUNCTION fx.owns_station(uuid), fx.my_stations(), fx.station_state(uuid),"
	"  fx.station_register(uuid, text, text, boolean),"
	"  fx.batch_begin(uuid, integer, bigint, uuid),"
	"  fx.batch_end(uuid, bigint, uuid, text),"
	"  fx.lease_serials(uuid, text, bigint, bigint, bigint) TO fx_station;"
	"GRANT SELECT ON ALL TABLES IN SCHEMA fx TO fx_report;"
	"GRANT EXECUTE ON FUNCTION fx.day(bigint), fx.hb(bigint) TO fx_station, fx_report;";


/* fx.fold_runs() of version 2: fold_c / fold_h, the all-time cycle tables
 * (FOLD_RUNS_CYCLE: up to the cycle summaries; FOLD_RUNS_UNITS: the unit
 * cohort and the end; version 4 adds its roll-ups between the two) */
#define FOLD_RUNS FOLD_RUNS_CYCLE FOLD_RUNS_UNITS
#define FOLD_RUNS_CYCLE \
	"CREATE OR REPLACE FUNCTION fx.fold_runs() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER" \
	" SET search_path = fx, pg_temp AS $$" \
	" BEGIN" \
	"  INSERT INTO fx.sum_bucket AS b (day, station, line, slot, recipe_name, recipe_version," \
	"   operator, runs, passed, failed, errors, aborted)" \
	"   SELECT fx.day(start_us), station, COALESCE(line, ''), slot, recipe_name," \
	"    COALESCE(recipe_version, ''), COALESCE(operator, ''), count(*)," \
	"    count(*) FILTER (WHERE result = 'PASS'), count(*) FILTER (WHERE result = 'FAIL')," \
	"    count(*) FILTER (WHERE result = 'ERROR'), count(*) FILTER (WHERE result = 'ABORTED')" \
	"   FROM nr GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7" \
	"   ON CONFLICT (day, station, line, slot, recipe_name, recipe_version, operator)" \
	"   DO UPDATE SET runs = b.runs + excluded.runs, passed = b.passed + excluded.passed," \
	"    failed = b.failed + excluded.failed, errors = b.errors + excluded.errors," \
	"    aborted = b.aborted + excluded.aborted;" \
	"  CREATE TEMP TABLE IF NOT EXISTS fold_r(uuid uuid, bucket bigint, unit_key text," \
	"   serial text, chip_uid text, start_us bigint, end_us bigint, station_key uuid," \
	"   local_id bigint, result text, failing_step text, error_code text) ON COMMIT DELETE ROWS;" \
	"  CREATE TEMP TABLE IF NOT EXISTS fold_d(bucket bigint, step text, seq integer," \
	"   us bigint) ON COMMIT DELETE ROWS;" \
	"  CREATE TEMP TABLE IF NOT EXISTS fold_u(unit_key text, had boolean, o_bucket bigint," \
	"   o_first text, o_last text, nf boolean, f_start bigint, f_station uuid, f_id bigint," \
	"   f_result text, f_bucket bigint, nl boolean, l_start bigint, l_station uuid," \
	"   l_id bigint, l_result text, serial text, chip_uid text) ON COMMIT DELETE ROWS;" \
	"  CREATE TEMP TABLE IF NOT EXISTS fold_c(bucket bigint, day integer, station text," \
	"   line text, slot integer, recipe_name text, recipe_version text, operator text," \
	"   step text, seq integer, n bigint, s bigint, mx bigint) ON COMMIT DELETE ROWS;" \
	"  CREATE TEMP TABLE IF NOT EXISTS fold_h(bucket bigint, day integer, station text," \
	"   line text, slot integer, recipe_name text, recipe_version text, operator text," \
	"   step text, hb integer, n bigint, s bigint) ON COMMIT DELETE ROWS;" \
	"  TRUNCATE fold_r, fold_d, fold_u, fold_c, fold_h;" \
	"  INSERT INTO fold_r SELECT n.uuid, b.id, n.unit_key, n.serial, n.chip_uid, n.start_us," \
	"   n.end_us, n.station_key, n.local_id, n.result, COALESCE(n.failing_step, '')," \
	"   COALESCE(n.error_code, '') FROM nr n JOIN fx.sum_bucket b ON b.day = fx.day(n.start_us)" \
	"   AND b.station = n.station AND b.line = COALESCE(n.line, '') AND b.slot = n.slot" \
	"   AND b.recipe_name = n.recipe_name AND b.recipe_version = COALESCE(n.recipe_version, '')" \
	"   AND b.operator = COALESCE(n.operator, '');" \
	"  INSERT INTO fx.sum_pareto AS p (bucket_id, step, error_code, n)" \
	"   SELECT bucket, failing_step, error_code, count(*) FROM fold_r WHERE result <> 'PASS'" \
	"   GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" \
	"   ON CONFLICT (bucket_id, step, error_code) DO UPDATE SET n = p.n + excluded.n;" \
	/* cycle: runs that ended with a verdict, and their non-SKIPPED steps */ \
	"  INSERT INTO fold_d SELECT bucket, '', 0, end_us - start_us FROM fold_r" \
	"   WHERE end_us IS NOT NULL AND result <> 'ABORTED'" \
	"   UNION ALL SELECT f.bucket, s.name, s.seq, s.duration_us FROM fold_r f" \
	"   JOIN fx.steps s ON s.run_uuid = f.uuid" \
	"   WHERE f.end_us IS NOT NULL AND f.result <> 'ABORTED' AND s.result <> 'SKIPPED';" \
	/* per (bucket, step) and per (bucket, step, histogram bucket), with \
	 * the bucket's key: every cycle summary is folded from these two */ \
	"  INSERT INTO fold_c SELECT x.bucket, b.day, b.station, b.line, b.slot, b.recipe_name," \
	"   b.recipe_version, b.operator, x.step, x.seq, x.n, x.s, x.mx FROM (SELECT bucket, step," \
	"   min(seq) AS seq, count(*) AS n, sum(us) AS s, max(us) AS mx FROM fold_d GROUP BY 1, 2) x" \
	"   JOIN fx.sum_bucket b ON b.id = x.bucket;" \
	"  INSERT INTO fold_h SELECT x.bucket, b.day, b.station, b.line, b.slot, b.recipe_name," \
	"   b.recipe_version, b.operator, x.step, x.hb, x.n, x.s FROM (SELECT bucket, step," \
	"   fx.hb(us) AS hb, count(*) AS n, sum(us) AS s FROM fold_d GROUP BY 1, 2, 3) x" \
	"   JOIN fx.sum_bucket b ON b.id = x.bucket;" \
	"  INSERT INTO fx.sum_cycle AS c (bucket_id, step, seq, n, sum_us, max_us)" \
	"   SELECT bucket, step, seq, n, s, mx FROM fold_c ORDER BY 1, 2" \
	"   ON CONFLICT (bucket_id, step) DO UPDATE SET n = c.n + excluded.n," \
	"    sum_us = c.sum_us + excluded.sum_us, max_us = greatest(c.max_us, excluded.max_us)," \
	"    seq = least(c.seq, excluded.seq);" \
	"  INSERT INTO fx.sum_cycle_hist AS h (bucket_id, step, hb, n, sum_us)" \
	"   SELECT bucket, step, hb, n, s FROM fold_h ORDER BY 1, 2, 3" \
	"   ON CONFLICT (bucket_id, step, hb) DO UPDATE SET n = h.n + excluded.n," \
	"    sum_us = h.sum_us + excluded.sum_us;" \
	"  INSERT INTO fx.sum_cycle_day AS c (day, station, line, step, seq, n, sum_us, max_us)" \
	"   SELECT day, station, line, step, min(seq), sum(n), sum(s), max(mx) FROM fold_c" \
	"   GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4" \
	"   ON CONFLICT (day, station, line, step) DO UPDATE SET n = c.n + excluded.n," \
	"    sum_us = c.sum_us + excluded.sum_us, max_us = greatest(c.max_us, excluded.max_us)," \
	"    seq = least(c.seq, excluded.seq);" \
	"  INSERT INTO fx.sum_cycle_day_hist AS h (day, station, line, step, hb, n, sum_us)" \
	"   SELECT day, station, line, step, hb, sum(n), sum(s) FROM fold_h" \
	"   GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5" \
	"   ON CONFLICT (day, station, line, step, hb) DO UPDATE SET n = h.n + excluded.n," \
	"    sum_us = h.sum_us + excluded.sum_us;" \
	"  UPDATE fx.sum_cycle_day c SET hist = h.hist FROM (" \
	"   SELECT day, station, line, step, '[' || string_agg('[' || hb || ',' || n || ','" \
	"    || sum_us || ']', ',' ORDER BY hb) || ']' AS hist FROM fx.sum_cycle_day_hist" \
	"   WHERE (day, station, line, step) IN (SELECT DISTINCT day, station, line, step" \
	"    FROM fold_c) GROUP BY 1, 2, 3, 4) h" \
	"   WHERE c.day = h.day AND c.station = h.station AND c.line = h.line AND c.step = h.step;" \
	"  INSERT INTO fx.sum_cycle_all AS c (station, line, slot, recipe_name, recipe_version," \
	"   operator, step, seq, n, sum_us, max_us)" \
	"   SELECT station, line, slot, recipe_name, recipe_version, operator, step, min(seq)," \
	"   sum(n), sum(s), max(mx) FROM fold_c GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7" \
	"   ON CONFLICT (station, line, slot, recipe_name, recipe_version, operator, step)" \
	"   DO UPDATE SET n = c.n + excluded.n, sum_us = c.sum_us + excluded.sum_us," \
	"    max_us = greatest(c.max_us, excluded.max_us), seq = least(c.seq, excluded.seq);" \
	"  INSERT INTO fx.sum_cycle_all_hist AS h (station, line, slot, recipe_name, recipe_version," \
	"   operator, step, hb, n, sum_us)" \
	"   SELECT station, line, slot, recipe_name, recipe_version, operator, step, hb, sum(n)," \
	"   sum(s) FROM fold_h GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8" \
	"   ON CONFLICT (station, line, slot, recipe_name, recipe_version, operator, step, hb)" \
	"   DO UPDATE SET n = h.n + excluded.n, sum_us = h.sum_us + excluded.sum_us;" \

#define FOLD_RUNS_UNITS \
	/* unit cohort: lock the batch's units (created empty when new), in key \
	 * order, then move first/last and the cohort counts */ \
	"  INSERT INTO fx.units(unit_key) SELECT DISTINCT unit_key FROM fold_r" \
	"   WHERE unit_key IS NOT NULL ORDER BY 1 ON CONFLICT DO NOTHING;" \
	"  PERFORM 1 FROM fx.units WHERE unit_key IN (SELECT unit_key FROM fold_r)" \
	"   ORDER BY unit_key FOR UPDATE;" \
	"  INSERT INTO fold_u" \
	"   WITH bf AS (SELECT DISTINCT ON (unit_key) * FROM fold_r WHERE unit_key IS NOT NULL" \
	"     ORDER BY unit_key, start_us, station_key, local_id)," \
	"    bl AS (SELECT DISTINCT ON (unit_key) * FROM fold_r WHERE unit_key IS NOT NULL" \
	"     ORDER BY unit_key, start_us DESC, station_key DESC, local_id DESC)" \
	"   SELECT u.unit_key, u.first_start_us IS NOT NULL, u.first_bucket, u.first_result," \
	"    u.last_result," \
	"    u.first_start_us IS NULL OR (bf.start_us, bf.station_key, bf.local_id)" \
	"     < (u.first_start_us, u.first_station_key, u.first_local_id)," \
	"    bf.start_us, bf.station_key, bf.local_id, bf.result, bf.bucket," \
	"    u.last_start_us IS NULL OR (bl.start_us, bl.station_key, bl.local_id)" \
	"     > (u.last_start_us, u.last_station_key, u.last_local_id)," \
	"    bl.start_us, bl.station_key, bl.local_id, bl.result," \
	"    COALESCE(bl.serial, u.serial), COALESCE(bl.chip_uid, u.chip_uid)" \
	"   FROM fx.units u JOIN bf USING (unit_key) JOIN bl USING (unit_key);" \
	"  UPDATE fx.sum_bucket b SET units = b.units + d.du," \
	"   units_first_pass = b.units_first_pass + d.dfp," \
	"   units_final_pass = b.units_final_pass + d.dfin" \
	"   FROM (SELECT bucket, sum(du) AS du, sum(dfp) AS dfp, sum(dfin) AS dfin FROM (" \
	"     SELECT o_bucket AS bucket, -1 AS du, -(o_first = 'PASS')::integer AS dfp," \
	"      -(o_last = 'PASS')::integer AS dfin FROM fold_u WHERE had" \
	"     UNION ALL SELECT CASE WHEN nf THEN f_bucket ELSE o_bucket END, 1," \
	"      (CASE WHEN nf THEN f_result ELSE o_first END = 'PASS')::integer," \
	"      (CASE WHEN nl THEN l_result ELSE o_last END = 'PASS')::integer FROM fold_u) x" \
	"    GROUP BY bucket) d WHERE b.id = d.bucket;" \
	"  UPDATE fx.units u SET serial = f.serial, chip_uid = f.chip_uid," \
	"   first_start_us = CASE WHEN f.nf THEN f.f_start ELSE u.first_start_us END," \
	"   first_station_key = CASE WHEN f.nf THEN f.f_station ELSE u.first_station_key END," \
	"   first_local_id = CASE WHEN f.nf THEN f.f_id ELSE u.first_local_id END," \
	"   first_result = CASE WHEN f.nf THEN f.f_result ELSE u.first_result END," \
	"   first_bucket = CASE WHEN f.nf THEN f.f_bucket ELSE u.first_bucket END," \
	"   last_start_us = CASE WHEN f.nl THEN f.l_start ELSE u.last_start_us END," \
	"   last_station_key = CASE WHEN f.nl THEN f.l_station ELSE u.last_station_key END," \
	"   last_local_id = CASE WHEN f.nl THEN f.l_id ELSE u.last_local_id END," \
	"   last_result = CASE WHEN f.nl THEN f.l_result ELSE u.last_result END" \
	"   FROM fold_u f WHERE u.unit_key = f.unit_key;" \
	"  RETURN NULL;" \
	" END $$;"

/* 1 -> 2: push rate and grouped cycle reports (issue 12 item 4), lease ids.
 * - runs/steps lose their per-row foreign key to stations (one RI query per
 *   inserted row): fx.batch_begin locks the station row, and the policies
 *   admit only the session's own live stations;
 * - fx.day in integer arithmetic (same values), the histogram bucket of a
 *   duration computed once per batch (fold_h) for both histogram tables;
 * - sum_cycle_all / sum_cycle_all_hist: the cycle summaries without the
 *   day, what a cycle report that neither groups by time nor has a date
 *   range reads (all time, grouped by slot, recipe or operator: a few rows
 *   per group and step instead of one per day);
 * - serial_leases.lease_id (the local block's reference) and
 *   fx.station_leases(): a lease the station committed on the server but
 *   lost before its local block was written is found again. */
static const char m2[] =
	"ALTER TABLE fx.steps DROP CONSTRAINT steps_station_key_fkey;"
	"ALTER TABLE fx.runs DROP CONSTRAINT runs_station_key_fkey;"
	"CREATE OR REPLACE FUNCTION fx.day(us bigint) RETURNS integer LANGUAGE sql IMMUTABLE"
	" STRICT PARALLEL SAFE AS $$ SELECT (CASE WHEN us >= 0 THEN us / 86400000000"
	"  ELSE -((86399999999 - us) / 86400000000) END)::integer $$;"
	"CREATE TABLE fx.sum_cycle_all(station text NOT NULL, line text NOT NULL,"
	"  slot integer NOT NULL, recipe_name text NOT NULL, recipe_version text NOT NULL,"
	"  operator text NOT NULL, step text NOT NULL, seq integer NOT NULL, n bigint NOT NULL,"
	"  sum_us bigint NOT NULL, max_us bigint NOT NULL,"
	"  PRIMARY KEY (station, line, slot, recipe_name, recipe_version, operator, step));"
	"CREATE TABLE fx.sum_cycle_all_hist(station text NOT NULL, line text NOT NULL,"
	"  slot integer NOT NULL, recipe_name text NOT NULL, recipe_version text NOT NULL,"
	"  operator text NOT NULL, step text NOT NULL, hb integer NOT NULL, n bigint NOT NULL,"
	"  sum_us bigint NOT NULL,"
	"  PRIMARY KEY (station, line, slot, recipe_name, recipe_version, operator, step, hb));"
	"INSERT INTO fx.sum_cycle_all SELECT b.station, b.line, b.slot, b.recipe_name,"
	"  b.recipe_version, b.operator, c.step, min(c.seq), sum(c.n), sum(c.sum_us), max(c.max_us)"
	"  FROM fx.sum_cycle c JOIN fx.sum_bucket b ON b.id = c.bucket_id GROUP BY 1, 2, 3, 4, 5, 6, 7;"
	"INSERT INTO fx.sum_cycle_all_hist SELECT b.station, b.line, b.slot, b.recipe_name,"
	"  b.recipe_version, b.operator, h.step, h.hb, sum(h.n), sum(h.sum_us)"
	"  FROM fx.sum_cycle_hist h JOIN fx.sum_bucket b ON b.id = h.bucket_id"
	"  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;"
	FOLD_RUNS
	"ALTER TABLE fx.serial_leases ADD COLUMN lease_id bigint GENERATED ALWAYS AS IDENTITY;"
	"ALTER TABLE fx.serial_leases ADD CONSTRAINT serial_leases_id UNIQUE (lease_id);"
	"CREATE INDEX serial_leases_station ON fx.serial_leases(station_key, pool);"
	"DROP FUNCTION fx.lease_serials(uuid, text, bigint, bigint, bigint);"
	"CREATE FUNCTION fx.lease_serials(k uuid, p_pool text, p_n bigint, p_first bigint,"
	"  p_last bigint, OUT lease_id bigint, OUT first_value bigint, OUT last_value bigint)"
	" LANGUAGE plpgsql SECURITY DEFINER SET search_path = fx, pg_temp AS $$"
	" DECLARE p fx.serial_pools; v_id bigint; v_first bigint; v_last bigint;"
	" BEGIN"
	"  IF NOT fx.owns_station(k) THEN RAISE EXCEPTION 'role \"%\" may not lease for station key %',"
	"   session_user, k USING ERRCODE = '42501'; END IF;"
	"  IF p_n < 1 THEN RAISE EXCEPTION 'lease of % values', p_n; END IF;"
	"  IF p_first > p_last THEN RAISE EXCEPTION 'serial pool \"%\": first % > last %', p_pool,"
	"   p_first, p_last; END IF;"
	"  INSERT INTO fx.serial_pools VALUES (p_pool, p_first, p_last) ON CONFLICT DO NOTHING;"
	"  SELECT * INTO p FROM fx.serial_pools WHERE pool = p_pool FOR UPDATE;"
	"  IF p.next_value > p.last_value THEN RAISE EXCEPTION 'serial pool \"%\" is exhausted"
	" (last value %)', p_pool, p.last_value USING HINT = 'fx:exhausted'; END IF;"
	"  v_first := p.next_value;"
	"  v_last := least(p.last_value, p.next_value + p_n - 1);"
	"  UPDATE fx.serial_pools SET next_value = v_last + 1 WHERE pool = p_pool;"
	"  INSERT INTO fx.serial_leases(pool, first_value, last_value, station_key)"
	"   VALUES (p_pool, v_first, v_last, k) RETURNING serial_leases.lease_id INTO v_id;"
	"  lease_id := v_id;"
	"  first_value := v_first;"
	"  last_value := v_last;"
	" END $$;"
	"CREATE FUNCTION fx.station_leases(k uuid, p_pool text) RETURNS TABLE(lease_id bigint,"
	"  first_value bigint, last_value bigint) LANGUAGE sql STABLE SECURITY DEFINER"
	" SET search_path = fx, pg_temp AS"
	" $$ SELECT l.lease_id, l.first_value, l.last_value FROM fx.serial_leases l"
	"   WHERE l.station_key = k AND l.pool = p_pool AND fx.owns_station(k) ORDER BY 1 $$;"
	"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fx FROM PUBLIC;"
	"GRANT EXECUTE ON FUNCTION fx.lease_serials(uuid, text, bigint, bigint, bigint),"
	"  fx.station_leases(uuid, text) TO fx_station;"
	"GRANT EXECUTE ON FUNCTION fx.day(bigint), fx.hb(bigint) TO fx_station, fx_report;"
	"GRANT SELECT ON fx.sum_cycle_all, fx.sum_cycle_all_hist TO fx_report;";

/* 2 -> 3: serial allocations (issue 12 item 2). fx.serial_events holds
 * every station's allocation events (the station's append-only
 * serial_event: reserved, reached, bound, released, voided), idempotent by
 * (allocation uuid, state, time); a statement trigger folds the new ones
 * into fx.serial_allocs (one row per allocation: its latest state, from
 * all its events in the station's commit order). fx.v_serial_duplicates:
 * a value held (reserved or bound) by more than one allocation anywhere in
 * the fleet - empty for central pools, whose blocks never overlap. */
static const char m3[] =
	"CREATE TABLE fx.serial_events(alloc_uuid uuid NOT NULL,"
	"  state text NOT NULL CHECK (state IN ('reserved','reached','bound','released','voided')),"
	"  time_us bigint NOT NULL, station_key uuid NOT NULL, local_id bigint NOT NULL,"
	"  pool text NOT NULL, value text NOT NULL, run_uuid uuid, chip_uid text,"
	"  received_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (alloc_uuid, state, time_us));"
	"CREATE INDEX serial_events_value ON fx.serial_events(value);"
	"CREATE TABLE fx.serial_allocs(alloc_uuid uuid PRIMARY KEY, station_key uuid NOT NULL,"
	"  pool text NOT NULL, value text NOT NULL, state text NOT NULL, run_uuid uuid,"
	"  chip_uid text, reserved_us bigint, reached_us bigint, changed_us bigint NOT NULL,"
	"  last_local_id bigint NOT NULL);"
	"CREATE INDEX serial_allocs_value ON fx.serial_allocs(value);"
	"CREATE INDEX serial_allocs_uid ON fx.serial_allocs(chip_uid);"
	"CREATE INDEX serial_allocs_pool ON fx.serial_allocs(pool, state);"
	"ALTER TABLE fx.serial_events ENABLE ROW LEVEL SECURITY;"
	"CREATE POLICY station_insert ON fx.serial_events FOR INSERT TO fx_station"
	"  WITH CHECK (station_key IN (SELECT fx.my_stations()));"
	"CREATE POLICY report_read ON fx.serial_events FOR SELECT TO fx_report USING (true);"
	"CREATE FUNCTION fx.fold_serial() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
	" SET search_path = fx, pg_temp AS $$"
	" BEGIN"
	"  INSERT INTO fx.serial_allocs AS a (alloc_uuid, station_key, pool, value, state, run_uuid,"
	"   chip_uid, reserved_us, reached_us, changed_us, last_local_id)"
	"   SELECT e.alloc_uuid, (array_agg(e.station_key ORDER BY e.local_id DESC))[1],"
	"    (array_agg(e.pool ORDER BY e.local_id DESC))[1],"
	"    (array_agg(e.value ORDER BY e.local_id DESC))[1],"
	"    (array_agg(e.state ORDER BY e.local_id DESC) FILTER (WHERE e.state <> 'reached'))[1],"
	"    (array_agg(e.run_uuid ORDER BY e.local_id DESC))[1],"
	"    (array_agg(e.chip_uid ORDER BY e.local_id DESC))[1],"
	"    max(e.time_us) FILTER (WHERE e.state = 'reserved'),"
	"    max(e.time_us) FILTER (WHERE e.state = 'reached'), max(e.time_us), max(e.local_id)"
	"   FROM fx.serial_events e WHERE e.alloc_uuid IN (SELECT alloc_uuid FROM ne)"
	"   GROUP BY e.alloc_uuid ORDER BY e.alloc_uuid"
	"   ON CONFLICT (alloc_uuid) DO UPDATE SET station_key = excluded.station_key,"
	"    pool = excluded.pool, value = excluded.value,"
	"    state = COALESCE(excluded.state, a.state), run_uuid = excluded.run_uuid,"
	"    chip_uid = excluded.chip_uid, reserved_us = excluded.reserved_us,"
	"    reached_us = excluded.reached_us, changed_us = excluded.changed_us,"
	"    last_local_id = excluded.last_local_id;"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER serial_events_fold AFTER INSERT ON fx.serial_events"
	" REFERENCING NEW TABLE AS ne FOR EACH STATEMENT EXECUTE FUNCTION fx.fold_serial();"
	"CREATE VIEW fx.v_serial_duplicates AS SELECT value, count(*) AS allocations,"
	"  count(DISTINCT station_key) AS stations FROM fx.serial_allocs"
	"  WHERE state IN ('reserved', 'bound') GROUP BY value HAVING count(*) > 1;"
	"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fx FROM PUBLIC;"
	"GRANT INSERT ON fx.serial_events TO fx_station;"
	"GRANT SELECT ON fx.serial_events, fx.serial_allocs, fx.v_serial_duplicates TO fx_report;";

/* 3 -> 4: the cycle reports over a date range, not grouped by time (issue
 * 12 item 4: 30 days by slot, recipe or operator over 1,000,000 runs
 * summed ~230,000 histogram rows of ~3,500 buckets on the server,
 * 0.25-0.8 s):
 * - sum_cycle.hist: each (bucket, step)'s histogram as one bytea, the
 *   local BLOB's layout (src/store/store_sql.h: per non-empty bucket hb
 *   int2, n int8, sum_us int8, big-endian, ascending hb), rebuilt from
 *   sum_cycle_hist for the (bucket, step)s of each batch (one UPDATE per
 *   batch); such a report reads one row per bucket and step and merges the
 *   histograms itself (fleet_report.c);
 * - the unique keys of sum_cycle and sum_cycle_hist carry the other
 *   columns read by bucket id (INCLUDE): index-only scans; the keys replace
 *   the primary keys (one index per table, as before, and still the ON
 *   CONFLICT arbiters of fx.fold_runs). */
#define HIST_BYTEA                                                                      \
	"string_agg(int2send(hb::smallint) || int8send(n) || int8send(sum_us), ''::bytea"  \
	" ORDER BY hb)"
static const char m4[] =
	"ALTER TABLE fx.sum_cycle_hist DROP CONSTRAINT sum_cycle_hist_pkey;"
	"CREATE UNIQUE INDEX sum_cycle_hist_key ON fx.sum_cycle_hist(bucket_id, step, hb)"
	"  INCLUDE (n, sum_us);"
	"ALTER TABLE fx.sum_cycle DROP CONSTRAINT sum_cycle_pkey;"
	"ALTER TABLE fx.sum_cycle ADD COLUMN hist bytea NOT NULL DEFAULT ''::bytea;"
	"UPDATE fx.sum_cycle c SET hist = h.hist FROM (SELECT bucket_id, step, " HIST_BYTEA
	"  AS hist FROM fx.sum_cycle_hist GROUP BY 1, 2) h"
	"  WHERE c.bucket_id = h.bucket_id AND c.step = h.step;"
	"CREATE UNIQUE INDEX sum_cycle_key ON fx.sum_cycle(bucket_id, step)"
	"  INCLUDE (seq, n, sum_us, max_us);"
	/* the UPDATE moved every row: a bucket's steps together again (a push
	 * writes them together) */
	"CLUSTER fx.sum_cycle USING sum_cycle_key;"
	FOLD_RUNS_CYCLE
	/* per row of fold_c, by the keys (an IN (...) here is planned as a
	 * hash join over the whole of sum_cycle: 0.24 s a batch at 10^6 runs) */
	"  UPDATE fx.sum_cycle c SET hist = h.hist FROM (SELECT f.bucket, f.step,"
	"   (SELECT " HIST_BYTEA " FROM fx.sum_cycle_hist x WHERE x.bucket_id = f.bucket"
	"    AND x.step = f.step) AS hist FROM fold_c f) h"
	"   WHERE c.bucket_id = h.bucket AND c.step = h.step;"
	FOLD_RUNS_UNITS; /* CREATE OR REPLACE keeps the function's privileges */

const char *const fx_fleet_migrations[FX_FLEET_SCHEMA_VERSION] = {
	m1, /* 0 -> 1 */
	m2, /* 1 -> 2 */
	m3, /* 2 -> 3 */
	m4, /* 3 -> 4 */
};
