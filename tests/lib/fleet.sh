# fleet.sh - shared by tests/cli/tfleet*.sh: a real PostgreSQL (pg.sh)
# with the fleet roles and schema, station login roles, the synthetic
# station generator (tests/tools/fleet_gen.c) and report comparison.
. tests/lib/pg.sh
command -v cc >/dev/null || { echo "skip: no C compiler for tests/tools/fleet_gen.c"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
trap 'pg_stop; rm -rf "$T"' EXIT

# build the generator against this build's library (ASan flags for asan)
fleet_gen_build() {
	san=""
	case "$B" in *asan*) san="-fsanitize=address,undefined" ;; esac
	cc -std=c11 -O1 -D_DEFAULT_SOURCE -Iinclude $san -o "$T/fleet_gen" tests/tools/fleet_gen.c \
		"$B/libfx.a" "$B/libfxemu.a" $(pkg-config --libs sqlite3) -lcsv -lm -lpthread || fail "cannot build fleet_gen"
	GEN="$T/fleet_gen"
}

# a server with the roles (scripts/fleet-roles.sql) and the schema
fleet_setup() {
	pg_start "$T" || fail "cannot start PostgreSQL"
	psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U "$PG_OWNER" -d "$PG_DB" \
		-v owner=fx_owner -f scripts/fleet-roles.sql >"$T/roles.log" 2>&1 ||
		{ cat "$T/roles.log"; fail "fleet-roles.sql failed"; }
	pg_sql "CREATE ROLE rep LOGIN IN ROLE fx_report" >/dev/null
	# the schema's owner is an ordinary role (not the superuser)
	expect 0 "$FX" sync --init --to "$(pg_uri fx_owner)"
	fleet_gen_build
}

station_role() { # NAME...
	for r in "$@"; do pg_sql "CREATE ROLE $r LOGIN IN ROLE fx_station" >/dev/null; done
}

# report KIND, local vs fleet, the same text but the database line
same_report() { # LOCALDB KIND ARGS...
	l=$1; k=$2; shift 2
	if [ "$k" = history ]; then
		"$FX" history "$@" --db "$l" >"$T/loc.txt" 2>&1; r1=$?
		"$FX" history "$@" --db "$(pg_uri rep)" >"$T/pg.txt" 2>&1; r2=$?
	else
		"$FX" report "$k" --db "$l" "$@" >"$T/loc.txt" 2>&1; r1=$?
		"$FX" report "$k" --db "$(pg_uri rep)" "$@" >"$T/pg.txt" 2>&1; r2=$?
	fi
	[ $r1 -eq $r2 ] || { cat "$T/loc.txt" "$T/pg.txt"; fail "$k $*: exit $r1 locally, $r2 from the fleet"; }
	grep -v '^# database\|^  "database": ' "$T/loc.txt" >"$T/loc.cmp"
	grep -v '^# database\|^  "database": ' "$T/pg.txt" >"$T/pg.cmp"
	diff -u "$T/loc.cmp" "$T/pg.cmp" || fail "$k $*: fleet report differs from the local one"
}

# runs and steps in the fleet database for a station name
pg_count() { # STATION
	pg_sql "SELECT (SELECT count(*) FROM fx.runs WHERE station = '$1') || ' ' ||
		(SELECT count(*) FROM fx.steps s JOIN fx.runs r ON r.uuid = s.run_uuid WHERE r.station = '$1')"
}
local_count() { # DB
	sqlite3 "$1" "SELECT (SELECT count(*) FROM runs WHERE result IS NOT NULL) || ' ' ||
		(SELECT count(*) FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.result IS NOT NULL)"
}
