#!/bin/sh
# tfleet_serial.sh - central serial pools against a real PostgreSQL: two
# stations draw from one pool (central = yes, lease = 10) through their
# pushers (tests/tools/fleet_serial.c: the allocation API with the pusher
# in the background, as run --sync); one of them loses its server for part
# of the run and keeps allocating from its leases until they are used up
# (then stops as an exhausted pool does) while the other goes on. No value
# is ever issued twice, every allocation event arrives exactly once (also
# when replayed), and a lease lost between the server's commit and the
# station's is found again.
. tests/cli/lib.sh
HEX=$(pwd)/config/demo-g474.hex
[ -f "$HEX" ] || { echo "skip: $HEX missing"; exit 77; }
. tests/lib/fleet.sh
fleet_setup
station_role st_a st_b
SHA=$(sha256sum "$HEX" | cut -d' ' -f1)
cc -std=c11 -O1 -D_DEFAULT_SOURCE -Iinclude $(case "$B" in *asan*) echo -fsanitize=address,undefined ;; esac) \
	-o "$T/fleet_serial" tests/tools/fleet_serial.c "$B/libfx.a" "$B/libfxemu.a" \
	$(pkg-config --libs sqlite3 libpq inih libelf nettle zlib json-c) -lcsv -lm -lpthread ||
	fail "cannot build fleet_serial"
cat >"$T/sn.ini" <<EOT
[recipe]
name = g474
version = 1
target = stm32g474xe
[firmware]
file = $HEX
sha256 = $SHA
[option_bytes]
DBANK = 0
[program]
erase = mass
serial = uid
[serial_number]
source = counter
format = SN{n:05}
first = 1
last = 100000
pool = fleet-sn
central = yes
lease = 10
EOT
expect 0 "$FX" check "$T/sn.ini"
UA=$(pg_uri st_a)
UB=$(pg_uri st_b)
# a server nobody listens on: fails at once, as a cut network does
DEAD="postgresql:///$PG_DB?host=$T/nowhere&port=$PG_PORT&user=st_b&connect_timeout=2"
mkdir -p "$T/nowhere"
st() { # DB STATION URI BOARDS: one station session
	"$T/fleet_serial" "$T/$1" "$2" "$3" "$4" "$T/sn.ini"
}
local_values() { # DB...
	for d in "$@"; do sqlite3 "$T/$d" "SELECT value FROM serial_alloc"; done
}
remaining() { # DB
	sqlite3 "$T/$1" "SELECT remaining FROM v_serial_pools WHERE pool = 'fleet-sn'"
}

# 1. both stations online: their first leases come before the first board
st a.db sta "$UA" 25 >"$T/a1.out" 2>"$T/a1.err" || { cat "$T/a1.err"; fail "station a: exit $?"; }
has "$T/a1.out" "^boards 25$"
st b.db stb "$UB" 6 >"$T/b1.out" 2>"$T/b1.err" || { cat "$T/b1.err"; fail "station b: exit $?"; }
has "$T/b1.out" "^boards 6$"
[ "$(sqlite3 "$T/a.db" "SELECT count(*) FROM serial_block WHERE origin = 'lease'")" -ge 3 ] ||
	fail "station a did not lease again while drawing 25 values from blocks of 10"
[ "$(sqlite3 "$T/a.db" "SELECT count(*) FROM serial_block WHERE origin <> 'lease'")" = 0 ] ||
	fail "a central pool got a block that was not leased"
ok "two stations lease blocks of one central pool before and while they draw from it"

# 2. station b loses its server; a goes on at the same time
left_b=$(remaining b.db)
[ "$left_b" -gt 0 ] || fail "station b has no values left before going offline"
st a.db sta "$UA" 15 >"$T/a2.out" 2>"$T/a2.err" &
pid_a=$!
st b.db stb "$DEAD" 40 >"$T/b2.out" 2>"$T/b2.err"
rc_b=$?
wait $pid_a || { cat "$T/a2.err"; fail "station a (while b was offline): exit $?"; }
[ $rc_b -eq 75 ] || { cat "$T/b2.out" "$T/b2.err"; fail "offline station b: exit $rc_b, expected 75 (exhausted)"; }
# every value of its leases was used (a failed board's value is reused)
has "$T/b2.out" "^exhausted after [0-9]+ boards$"
[ "$(remaining b.db)" = 0 ] || fail "station b stopped with values left"
nb=$(sed -n 's/^boards //p' "$T/b2.out")
[ "$nb" -ge "$left_b" ] || fail "offline station b made $nb boards with $left_b values left"
has "$T/a2.out" "^boards 15$"
# what it did offline waits in its database
expect 0 "$FX" sync --db "$T/b.db" --status
has "$T/out" "^serials      [1-9][0-9]* allocation events not pushed$"
ok "offline, station b draws from its leases until they are used up ($nb boards), then stops; a goes on"

# 3. b back online: fixturectl sync (as its sync --follow service would)
# pushes what it did offline and leases for the pool its station
# registered; then the station goes on
expect 0 "$FX" sync --db "$T/b.db" --to "$UB"
has "$T/err" "1 serial block leased"
[ "$(remaining b.db)" -ge 5 ] || fail "sync did not lease for station b's empty pool"
st b.db stb "$UB" 10 >"$T/b3.out" 2>"$T/b3.err" || { cat "$T/b3.err"; fail "station b back online: exit $?"; }
has "$T/b3.out" "^boards 10$"
expect 0 "$FX" sync --db "$T/a.db" --to "$UA"
expect 0 "$FX" sync --db "$T/b.db" --to "$UB"
expect 0 "$FX" sync --db "$T/b.db" --status
has "$T/out" "^serials      0 allocation events not pushed$"
dups=$(local_values a.db b.db | sort | uniq -d)
[ -z "$dups" ] || fail "values issued twice across the stations: $dups"
nv=$(local_values a.db b.db | wc -l)
[ "$nv" -ge 45 ] || fail "only $nv values issued"
ok "no value issued twice across the two stations ($nv values)"

# 4. the fleet database: each allocation once, each event once, same state
ev_local=$(( $(sqlite3 "$T/a.db" "SELECT count(*) FROM serial_event") + $(sqlite3 "$T/b.db" "SELECT count(*) FROM serial_event") ))
[ "$(pg_sql "SELECT count(*) FROM fx.serial_events")" = "$ev_local" ] ||
	fail "server has $(pg_sql "SELECT count(*) FROM fx.serial_events") events, the stations $ev_local"
[ "$(pg_sql "SELECT count(*) FROM fx.serial_allocs")" = "$nv" ] || fail "server allocations != $nv"
for d in a.db b.db; do sqlite3 -separator ' ' "$T/$d" "SELECT uuid, value, state FROM serial_alloc"; done |
	sort >"$T/loc.allocs"
pg_sql "SELECT alloc_uuid || ' ' || value || ' ' || state FROM fx.serial_allocs" | sort >"$T/pg.allocs"
diff -u "$T/loc.allocs" "$T/pg.allocs" || fail "the fleet's allocations differ from the stations'"
[ -z "$(pg_sql "SELECT * FROM fx.v_serial_duplicates")" ] || fail "fx.v_serial_duplicates is not empty"
# every value lies in a lease of the station that issued it; leases disjoint
pg_sql "SELECT count(*) FROM fx.serial_allocs a WHERE NOT EXISTS (SELECT 1 FROM fx.serial_leases l
	WHERE l.station_key = a.station_key AND l.pool = a.pool
	AND substring(a.value from 3)::bigint BETWEEN l.first_value AND l.last_value)" >"$T/out"
has "$T/out" "^0$"
pg_sql "SELECT count(*) FROM fx.serial_leases a JOIN fx.serial_leases b ON a.pool = b.pool
	AND a.lease_id <> b.lease_id AND a.first_value <= b.last_value AND b.first_value <= a.last_value" >"$T/out"
has "$T/out" "^0$"
ok "the fleet database holds every allocation once with the station's state, each event once; values inside the issuing station's disjoint leases"

# 4b. fleet history finds a unit by the serial bound to its chip after a
# FAIL (the unit itself has no serial), as the station's history does
v=$(sqlite3 "$T/a.db" "SELECT a.value FROM serial_alloc a JOIN runs r ON r.id = a.run_id
	WHERE a.state = 'bound' AND r.result = 'FAIL' ORDER BY a.id LIMIT 1")
[ -n "$v" ] || fail "no value bound after a FAIL"
[ -z "$(sqlite3 "$T/a.db" "SELECT id FROM units WHERE serial = '$v'")" ] || fail "$v is a unit serial"
same_report "$T/a.db" history "$v"
has "$T/pg.txt" "FAIL"
same_report "$T/a.db" history "$(sqlite3 "$T/a.db" "SELECT value FROM serial_alloc WHERE state = 'bound' ORDER BY id DESC LIMIT 1")"
ok "fleet history of a serial bound after a FAIL = the station's ($v)"

# 5. replayed events insert nothing
sqlite3 "$T/a.db" "UPDATE sync_state SET acked_event = 0"
expect 0 "$FX" sync --db "$T/a.db" --to "$UA"
[ "$(pg_sql "SELECT count(*) FROM fx.serial_events")" = "$ev_local" ] || fail "a replay duplicated events"
ok "events replayed from the start insert nothing"

# 6. a lease committed on the server but lost before the station's block
key_a=$(sqlite3 "$T/a.db" "SELECT station_key FROM sync_state")
lost=$(pg_sql -U st_a "SELECT lease_id FROM fx.lease_serials('$key_a', 'fleet-sn', 10, 1, 100000)")
[ -n "$lost" ] || fail "no lease"
st a.db sta "$UA" 1 >"$T/a4.out" 2>"$T/a4.err" || { cat "$T/a4.err"; fail "station a: exit $?"; }
[ "$(sqlite3 "$T/a.db" "SELECT count(*) FROM serial_block WHERE origin = 'lease' AND ref = '$lost'")" = 1 ] ||
	fail "the lost lease $lost was not recovered"
ok "a lease lost between the server's commit and the station's is recovered at the next connect"

# 8. the real station: run --sync with a central pool leases its first block
# before the first board and the next ones while it runs (needs cmd_run.c
# to register the recipes' pools with fx_cli_run_sync_pools)
if ! grep -q fx_cli_run_sync_pools src/cli/cmd_run.c; then
	echo "# skip 8: run --sync does not register central pools yet (src/cli/cmd_run.c)"
	exit 0
fi
station_role st_c
mkdir -p "$T/sc"
cat >"$T/sc/st.ini" <<EOT
[station]
name = sc
database = sc.db
start = sim:START
[slot 1]
device = emu:board1.fxb
boot0 = sim:BOOT0_1
nrst = sim:NRST_1
power = sim:POWER_1
EOT
sed 's/^pool = .*/pool = fleet-run\ncentral = yes\nlease = 5/' config/demo-g474-serial.ini |
	sed "s|^file = demo-g474.hex|file = $HEX|" >"$T/run.ini"
expect 0 "$FX" run --station "$T/sc/st.ini" --recipe "$T/run.ini" --cycles 12 --realtime=0.05 \
	--demo-boards=blank --sync "$(pg_uri st_c)"
[ "$(sqlite3 "$T/sc/sc.db" "SELECT count(DISTINCT value) FROM serial_alloc WHERE state = 'bound'")" = 12 ] ||
	fail "run --sync: 12 boards did not get 12 values"
[ "$(sqlite3 "$T/sc/sc.db" "SELECT count(*) FROM serial_block WHERE origin = 'lease'")" -ge 3 ] ||
	fail "run --sync: fewer than 3 leases of 5 for 12 values"
expect 0 "$FX" sync --db "$T/sc/sc.db" --to "$(pg_uri st_c)"
[ "$(pg_sql "SELECT count(*) FROM fx.serial_allocs WHERE pool = 'fleet-run' AND state = 'bound'")" = 12 ] ||
	fail "run --sync: the fleet database lacks allocations"
ok "run --sync with a central pool: leased before the first board and while running, every allocation in the fleet"
