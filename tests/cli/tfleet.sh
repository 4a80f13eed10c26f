#!/bin/sh
# tfleet.sh - fleet sync against a real PostgreSQL 15 started here
# (unprivileged, temporary directory, Unix socket + TLS on 127.0.0.1):
# schema init, push and replay exactly once, the fleet reports equal the
# local ones on the same runs, row-level security, replaced / restored /
# copied station databases refused, --new-epoch, schema version mismatch
# both ways without a partial write, --status, passwords never shown.
. tests/cli/lib.sh
. tests/lib/fleet.sh
fleet_setup
station_role st_a st_b
V=$(sed -n 's/^#define FX_FLEET_SCHEMA_VERSION \([0-9]*\)$/\1/p' include/fx/fleet.h)
[ -n "$V" ] || fail "no FX_FLEET_SCHEMA_VERSION in include/fx/fleet.h"
ok "server up, roles and schema (sync --init) in place"

# 1. --init again: nothing to do, same version
expect 0 "$FX" sync --init --to "$(pg_uri fx_owner)"
has "$T/out" "fleet schema version $V \(was $V\)"
pg_sql -U st_a "CREATE TEMP TABLE fold_r(x int)" >"$T/out" 2>"$T/err" && fail "a station created a temporary table"
has "$T/err" 'permission denied to create temporary tables in database "fleet"'
ok "sync --init is idempotent"

# 2. push everything, then a replay pushes nothing
"$GEN" "$T/a.db" sta 300 1 A || fail "gen"
expect 0 "$FX" sync --db "$T/a.db" --status
has "$T/out" "backlog      300 runs, oldest [0-9]+ s"
has "$T/out" "last success never"
expect 0 "$FX" sync --db "$T/a.db" --to "$(pg_uri st_a)" --batch 64
has "$T/out" "^pushed 300 runs$"
[ "$(pg_count sta)" = "$(local_count "$T/a.db")" ] || fail "counts: $(pg_count sta) vs $(local_count "$T/a.db")"
expect 0 "$FX" sync --db "$T/a.db" --to "$(pg_uri st_a)"
has "$T/out" "^pushed 0 runs$"
expect 0 "$FX" sync --db "$T/a.db" --status
has "$T/out" "backlog      0 runs"
has "$T/out" "acknowledged 300"
has "$T/out" "last success 20[0-9-]+T"
ok "300 runs with their steps pushed once; a second sync pushes none"

# 3. the same figures from both databases
cp "$T/a.db" "$T/a-backup.db"
fleet_reports() {
	for k in yield pareto cycle; do
		same_report "$T/a.db" $k
		same_report "$T/a.db" $k --by day
		same_report "$T/a.db" $k --by week --by slot
		same_report "$T/a.db" $k --by operator --by recipe
		same_report "$T/a.db" $k --by station --by day --format json
		same_report "$T/a.db" $k --operator op2 --format csv
		same_report "$T/a.db" $k --from 2026-11-04 --to 2026-11-04 --by slot
		same_report "$T/a.db" $k --from 2026-11-03 --to 2026-11-05 --by operator --by slot
		# a date range by the server's roll-ups: slot x recipe, slot x
		# operator (the recipe filtered), and the buckets (both)
		same_report "$T/a.db" $k --from 2026-11-03 --to 2026-11-05 --by recipe --by slot
		same_report "$T/a.db" $k --from 2026-11-03 --to 2026-11-05 --by station --operator op2
		same_report "$T/a.db" $k --from 2026-11-03 --to 2026-11-05 --by recipe --operator op1
	done
	same_report "$T/a.db" yield --by day
	has "$T/pg.txt" "^2026-11-04 +[0-9]+ +[0-9]+"
	same_report "$T/a.db" pareto
	has "$T/pg.txt" "enter_boot +FX_E_VERIFY"
	same_report "$T/a.db" history A00000003
	has "$T/pg.txt" "A00000003"
	same_report "$T/a.db" history NOSUCHUNIT
}
fleet_reports
expect 64 "$FX" report yield --db "$T/a.db" --by line
has "$T/err" "^fixturectl report: --by line: only the fleet database has lines \(--db postgresql://... or service=NAME\)$"
ok "yield, pareto, cycle (grouped, filtered, ranged) and history: fleet = local"

# 4. more runs (retests of earlier units among them), pushed incrementally
"$GEN" "$T/a.db" sta 200 2 A || fail "gen"
expect 0 "$FX" sync --db "$T/a.db" --to "$(pg_uri st_a)" --batch 7
has "$T/out" "^pushed 200 runs$"
fleet_reports
ok "after an incremental push in small batches the figures still agree"

# 5. row-level security: st_b may not write for sta, nor read anything
key_a=$(sqlite3 "$T/a.db" "SELECT station_key FROM sync_state")
PG_SQL_DB=$PG_DB pg_sql -U st_b "INSERT INTO fx.runs(uuid, station_key, seq, local_id, station, slot,
	recipe_name, board_state, start_us, result) VALUES (gen_random_uuid(), '$key_a', 999, 1, 'sta', 1,
	'g474', 'blank', 1, 'PASS')" >"$T/out" 2>"$T/err" && fail "st_b inserted a run of sta"
has "$T/err" 'new row violates row-level security policy for table "runs"'
pg_sql -U st_b "INSERT INTO fx.steps(run_uuid, station_key, seq, name, start_us, duration_us, result)
	VALUES (gen_random_uuid(), '$key_a', 1, 'x', 1, 1, 'PASS')" >"$T/out" 2>"$T/err" && fail "st_b inserted a step of sta"
has "$T/err" 'new row violates row-level security policy for table "steps"'
pg_sql -U st_b "SELECT fx.batch_begin('$key_a', 1, 500, NULL)" >"$T/out" 2>"$T/err" && fail "st_b began a batch of sta"
has "$T/err" 'role "st_b" may not push for station "sta"'
pg_sql -U st_b "SELECT count(*) FROM fx.runs" >"$T/out" 2>"$T/err" && fail "st_b read fx.runs"
has "$T/err" 'permission denied for table runs'
pg_sql -U rep "INSERT INTO fx.stations(station_key, name, role, epoch) VALUES (gen_random_uuid(), 'x', 'rep', 1)" \
	>"$T/out" 2>"$T/err" && fail "the report role wrote"
has "$T/err" 'permission denied for table stations'
# st_b pushing a copy of sta's database: the key is another role's
cp "$T/a.db" "$T/copy-b.db"
"$GEN" "$T/copy-b.db" sta 3 9 A || fail "gen"
expect 65 "$FX" sync --db "$T/copy-b.db" --to "$(pg_uri st_b)"
has "$T/err" "station key $key_a \('sta'\) belongs to another role: refused"
[ "$(pg_count sta)" = "500 $(local_count "$T/a.db" | cut -d' ' -f2)" ] || fail "rows changed: $(pg_count sta)"
ok "row-level security: another station's rows refused, stations read nothing, reports write nothing"

# 6. a replaced database (new, same station name) is refused
"$GEN" "$T/new.db" sta 5 3 N || fail "gen"
expect 65 "$FX" sync --db "$T/new.db" --to "$(pg_uri st_a)"
has "$T/err" 'station "sta" is already registered by another database \(key '"$key_a"', epoch 1, 500 runs acknowledged\): a replaced or copied station database is refused'
# 7. restored from a backup taken at 300 runs, then recording on
"$GEN" "$T/a-backup.db" sta 4 4 A || fail "gen"
expect 65 "$FX" sync --db "$T/a-backup.db" --to "$(pg_uri st_a)"
has "$T/err" "station 'sta': the server acknowledged run 500 \([0-9a-f-]+\) of this station, database '.*a-backup.db' does not hold it; it acknowledged up to run 300: a replaced, restored or copied station database is refused"
# 8. a copy that went on recording elsewhere under the same role
cp "$T/a.db" "$T/copy-a.db"
"$GEN" "$T/copy-a.db" sta 2 5 C || fail "gen"
"$GEN" "$T/a.db" sta 2 6 A || fail "gen"
expect 0 "$FX" sync --db "$T/a.db" --to "$(pg_uri st_a)"
expect 65 "$FX" sync --db "$T/copy-a.db" --to "$(pg_uri st_a)"
has "$T/err" "the server acknowledged run 502 \([0-9a-f-]+\) of this station, database '.*copy-a.db' says the server acknowledged run 500|does not hold it"
[ "$(pg_count sta | cut -d' ' -f1)" = 502 ] || fail "rows changed: $(pg_count sta)"
expect 0 "$FX" sync --db "$T/a.db" --status
has "$T/out" "backlog      0 runs"
ok "replaced, restored and copied station databases refused with their message, nothing written"

# 9. --new-epoch: the replacement taken on purpose; the old one is retired
expect 0 "$FX" sync --db "$T/new.db" --to "$(pg_uri st_a)" --new-epoch
has "$T/out" "^pushed 5 runs$"
expect 0 "$FX" sync --db "$T/new.db" --status
has "$T/out" "epoch 2\)"
"$GEN" "$T/a.db" sta 1 7 A || fail "gen"
expect 65 "$FX" sync --db "$T/a.db" --to "$(pg_uri st_a)"
has "$T/err" "station database key $key_a of 'sta' was retired \(replaced by a newer epoch\): this database is refused"
ok "--new-epoch registers the replacement (epoch 2) and retires the old key"

# 10. schema versions: newer server, older server; no partial write
"$GEN" "$T/new.db" sta 3 8 N || fail "gen"
before=$(pg_count sta)
pg_sql "UPDATE fx.schema_version SET version = $((V + 1))"
expect 74 "$FX" sync --db "$T/new.db" --to "$(pg_uri st_a)"
has "$T/err" "fleet schema version $((V + 1)) is newer than this software \($V\); upgrade fixturectl"
expect 74 "$FX" report yield --db "$(pg_uri rep)"
has "$T/err" "fleet schema version $((V + 1)) is newer than this software \($V\); upgrade fixturectl"
expect 74 "$FX" sync --init --to "$(pg_uri fx_owner)"
has "$T/err" "fleet schema version $((V + 1)) is newer than this software \($V\); upgrade fixturectl"
pg_sql "UPDATE fx.schema_version SET version = $((V - 1))"
expect 74 "$FX" sync --db "$T/new.db" --to "$(pg_uri st_a)"
has "$T/err" "fleet schema version $((V - 1)) is older than this software \($V\); run 'fixturectl sync --init --to URI' with the owner role"
[ "$(pg_count sta)" = "$before" ] || fail "a refused sync wrote: $(pg_count sta) vs $before"
expect 0 "$FX" sync --db "$T/new.db" --status
has "$T/out" "backlog      3 runs"
has "$T/out" "last error   20[0-9T:-]+Z server '.*': fleet schema version $((V - 1)) is older"
pg_sql "UPDATE fx.schema_version SET version = $V"
expect 0 "$FX" sync --db "$T/new.db" --to "$(pg_uri st_a)"
has "$T/out" "^pushed 3 runs$"
ok "schema newer / older than the software: clear error, nothing written, then the push goes through"

# 11. passwords: TLS verify-full with a password from PGPASSFILE only
PW=Zq8-not-on-any-command-line
pg_sql "CREATE ROLE st_tls LOGIN PASSWORD '$PW' IN ROLE fx_station" >/dev/null
printf 'localhost:%s:%s:st_tls:%s\n' "$PG_PORT" "$PG_DB" "$PW" >"$T/pgpass"
chmod 0600 "$T/pgpass"
TLS="postgresql://st_tls@localhost:$PG_PORT/$PG_DB?sslmode=verify-full&sslrootcert=$PG_DIR/ca.crt"
"$GEN" "$T/tls.db" tls1 400 10 T || fail "gen"
PGPASSFILE="$T/pgpass" "$FX" sync --db "$T/tls.db" --to "$TLS" --follow --batch 20 \
	>"$T/follow.out" 2>"$T/follow.err" &
pid=$!
seen=0
for i in $(seq 1 100); do
	ps -eo args | grep -F fixturectl >>"$T/ps.txt" || true
	[ "$(pg_count tls1 | cut -d' ' -f1)" = 400 ] && { seen=1; break; }
	sleep 0.1
done
# one pusher per database: a second one would race it for the same batch
PGPASSFILE="$T/pgpass" "$FX" sync --db "$T/tls.db" --to "$TLS" >"$T/out" 2>"$T/err2"; rc=$?
[ $rc -eq 76 ] || fail "a second pusher: exit $rc, expected 76"
has "$T/err2" "^fixturectl sync: database '.*tls.db' is already being pushed by another process \(pid $pid\)$"
kill -TERM $pid
wait $pid; rc=$?
[ $seen -eq 1 ] || { cat "$T/follow.err"; fail "TLS follow did not push 400 runs"; }
[ $rc -eq 0 ] || { cat "$T/follow.err"; fail "sync --follow exited $rc after SIGTERM"; }
has "$T/follow.out" "^pushed 400 runs$"
has "$T/ps.txt" "fixturectl sync --db .*tls.db --to postgresql://st_tls@localhost"
pg_sql "SELECT count(*) FROM pg_stat_ssl WHERE ssl" >/dev/null
# service=NAME from a service file (libpq's PGSERVICEFILE), password from PGPASSFILE
printf '[fxtest]\nhost=localhost\nport=%s\ndbname=%s\nuser=st_tls\nsslmode=verify-full\nsslrootcert=%s\n' \
	"$PG_PORT" "$PG_DB" "$PG_DIR/ca.crt" >"$T/pg_service.conf"
"$GEN" "$T/tls.db" tls1 5 11 T || fail "gen"
PGSERVICEFILE="$T/pg_service.conf" PGPASSFILE="$T/pgpass" "$FX" sync --db "$T/tls.db" --to service=fxtest \
	>"$T/out" 2>"$T/err-svc" || { cat "$T/err-svc"; fail "sync --to service=fxtest"; }
has "$T/out" "^pushed 5 runs$"
# a password in the URI is refused without being echoed
expect 64 "$FX" sync --db "$T/tls.db" --to "postgresql://st_tls:$PW@localhost:$PG_PORT/$PG_DB"
has "$T/err" "connection URI 'user=st_tls host=localhost port=$PG_PORT dbname=$PG_DB' holds a password: passwords come only from ~/.pgpass, PGPASSFILE or the service file"
cp "$T/err" "$T/err-uri"
expect 64 "$FX" sync --db "$T/tls.db" --to "host=localhost password=$PW"
cat "$T/err" >>"$T/err-uri"
expect 64 "$FX" report yield --db "postgresql://st_tls:$PW@localhost/$PG_DB"
cat "$T/err" >>"$T/err-uri"
# a wrong password, a wrong certificate authority: libpq's errors, no password
printf 'localhost:%s:%s:st_tls:wrong\n' "$PG_PORT" "$PG_DB" >"$T/pgpass-bad"
chmod 0600 "$T/pgpass-bad"
PGPASSFILE="$T/pgpass-bad" "$FX" sync --db "$T/tls.db" --to "$TLS" >"$T/out" 2>"$T/err-bad"
[ $? -eq 74 ] || fail "wrong password: expected exit 74"
has "$T/err-bad" "password authentication failed for user \"st_tls\""
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other -keyout "$T/o.key" -out "$T/o.crt" >/dev/null 2>&1
PGPASSFILE="$T/pgpass" "$FX" sync --db "$T/tls.db" \
	--to "postgresql://st_tls@localhost:$PG_PORT/$PG_DB?sslmode=verify-full&sslrootcert=$T/o.crt" \
	>"$T/out" 2>"$T/err-ca"
[ $? -eq 74 ] || fail "wrong CA: expected exit 74"
has "$T/err-ca" "certificate verify failed"
"$FX" sync --db "$T/tls.db" --status >"$T/status.txt"
sqlite3 "$T/tls.db" .dump >"$T/tls.dump"
for f in "$T/ps.txt" "$T/follow.out" "$T/follow.err" "$T/err-svc" "$T/err-uri" "$T/err-bad" "$T/err-ca" \
	"$T/status.txt" "$T/tls.dump" "$PG_DIR/server.log"; do
	if grep -q -- "$PW" "$f"; then fail "the password appears in $f"; fi
done
ok "TLS verify-full, a URI and service=NAME, the password from PGPASSFILE; never in ps, output, errors, the database or the server log"

# 12. central serial pools, the server side (fx.lease_serials): two
# stations leasing blocks of one pool at the same time never overlap;
# another role's station key is refused
key_new=$(sqlite3 "$T/new.db" "SELECT station_key FROM sync_state")
key_tls=$(sqlite3 "$T/tls.db" "SELECT station_key FROM sync_state")
for i in $(seq 1 10); do
	pg_sql -U st_a "SELECT fx.lease_serials('$key_new', 'sn', 7, 1000, 1099)" >/dev/null 2>&1 &
	pg_sql -U st_tls "SELECT fx.lease_serials('$key_tls', 'sn', 5, 1000, 1099)" >/dev/null 2>&1 &
done
wait
# 10 x 7 + 10 x 5 = 120 asked of 100: the pool runs out, the last block is cut short
pg_sql "SELECT count(DISTINCT station_key) FROM fx.serial_leases" >"$T/out"
has "$T/out" "^2$"
pg_sql "SELECT count(*) FROM fx.serial_leases a JOIN fx.serial_leases b ON a.first_value < b.first_value
	AND a.last_value >= b.first_value" >"$T/out"
has "$T/out" "^0$"
pg_sql "SELECT min(first_value), max(last_value), sum(last_value - first_value + 1) FROM fx.serial_leases" >"$T/out"
has "$T/out" "^1000\|1099\|100$"
pg_sql -U st_a "SELECT fx.lease_serials('$key_new', 'sn', 7, 1000, 1099)" >"$T/out" 2>"$T/err" && fail "leased from an exhausted pool"
has "$T/err" 'serial pool "sn" is exhausted \(last value 1099\)'
pg_sql -U st_a "SELECT fx.lease_serials('$key_tls', 'sn2', 7, 1, 99)" >"$T/out" 2>"$T/err" && fail "leased for another station"
has "$T/err" "role \"st_a\" may not lease for station key $key_tls"
ok "serial leases from two stations at once: disjoint blocks covering the pool, exhaustion and another station refused"
