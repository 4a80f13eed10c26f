-- fleet-roles.sql - the roles of the central fleet database (issue 12) and
-- what each may do. Run once per server by a role with CREATEROLE (the
-- cluster's superuser), BEFORE `fixturectl sync --init`:
--
--   psql -v owner=fx_owner -d fleet -f scripts/fleet-roles.sql
--
-- Then, per station, a login role in fx_station (its password in the
-- station's ~/.pgpass, PGPASSFILE or pg_service.conf, never on a command
-- line):
--
--   CREATE ROLE fx_st_line1_a LOGIN IN ROLE fx_station;
--   \password fx_st_line1_a
--
-- and per quality user a login role in fx_report.
--
-- The schema itself (tables, row-level security, functions, GRANTs) is
-- created by `fixturectl sync --init --to URI` connected as the owner; its
-- migrations are in src/fleet/fleet_schema.c. The GRANTs it makes are:
--
--   GRANT USAGE ON SCHEMA fx TO fx_station, fx_report;
--   GRANT SELECT ON fx.schema_version TO fx_station, fx_report;
--   -- a station inserts runs and steps; row-level security lets each row
--   -- in only when its station_key is registered to the session's role:
--   GRANT INSERT ON fx.runs, fx.steps TO fx_station;
--   --   CREATE POLICY station_insert ON fx.runs FOR INSERT TO fx_station
--   --     WITH CHECK (station_key IN (SELECT fx.my_stations()));  (same on fx.steps)
--   -- no SELECT on any table: a station reads nothing but its own row,
--   -- through SECURITY DEFINER functions that check session_user:
--   GRANT EXECUTE ON FUNCTION fx.owns_station(uuid), fx.my_stations(), fx.station_state(uuid),
--     fx.station_register(uuid, text, text, boolean),
--     fx.batch_begin(uuid, integer, bigint, uuid),
--     fx.batch_end(uuid, bigint, uuid, text),
--     fx.lease_serials(uuid, text, bigint, bigint, bigint) TO fx_station;
--   -- the report role reads everything and writes nothing:
--   GRANT SELECT ON ALL TABLES IN SCHEMA fx TO fx_report;
--   --   CREATE POLICY report_read ON fx.runs FOR SELECT TO fx_report USING (true);
--   GRANT EXECUTE ON FUNCTION fx.day(bigint), fx.hb(bigint) TO fx_station, fx_report;
--   REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fx FROM PUBLIC;   (before the above)
-- Version 2 (central serial leases with ids) and 3 (serial allocations):
--   GRANT EXECUTE ON FUNCTION fx.lease_serials(uuid, text, bigint, bigint, bigint),
--     fx.station_leases(uuid, text) TO fx_station;   (its own leases only)
--   -- a station inserts its allocation events (row-level security as on runs):
--   GRANT INSERT ON fx.serial_events TO fx_station;
--   --   CREATE POLICY station_insert ON fx.serial_events FOR INSERT TO fx_station
--   --     WITH CHECK (station_key IN (SELECT fx.my_stations()));
--   GRANT SELECT ON fx.sum_cycle_all, fx.sum_cycle_all_hist, fx.serial_events,
--     fx.serial_allocs, fx.v_serial_duplicates TO fx_report;
--   REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fx FROM PUBLIC;   (again, for the new ones)
--
-- The summaries (fx.sum_*) and fx.units are written only by the trigger
-- fx.fold_runs (SECURITY DEFINER, owner), from the rows a station's INSERT
-- really added; fx.serial_allocs only by the trigger fx.fold_serial, from
-- the events a station's INSERT really added. fx.serial_pools and
-- fx.serial_leases only by fx.lease_serials.

\set ON_ERROR_STOP on
SELECT :'owner' AS owner \gset
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fx_station') THEN
		CREATE ROLE fx_station NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fx_report') THEN
		CREATE ROLE fx_report NOLOGIN;
	END IF;
END $$;
-- the owner: logs in, owns the fx schema, creates nothing else; TEMPORARY
-- for the work tables of the summary trigger (which runs as the owner).
-- Stations and reports get CONNECT only: no TEMPORARY, so no temporary
-- table of theirs can stand in for the trigger's
SELECT format('CREATE ROLE %I LOGIN', :'owner')
	WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('GRANT CREATE, TEMPORARY ON DATABASE %I TO %I', current_database(), :'owner') \gexec
-- stations and reports connect; nothing else is public
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO fx_station, fx_report, %I',
	current_database(), :'owner') \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
