#!/bin/sh
# trun.sh - `fixturectl run` end to end on an emulated station: the demo
# board rotation, the database it leaves, a failing unit, config errors,
# an unwritable database, START from stdin, recovery of an unfinished run,
# SIGTERM finishing the board.
. tests/cli/lib.sh
HEX=$(pwd)/config/demo-g474.hex
[ -f "$HEX" ] || { echo "skip: $HEX missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
SHA=$(sha256sum "$HEX" | cut -d' ' -f1)

cat >"$T/st.ini" <<EOT
[station]
name = trun
database = run.db
start = sim:START
[slot 1]
device = emu:board1.fxb
boot0 = sim:BOOT0_1
nrst = sim:NRST_1
power = sim:POWER_1
led_pass = sim:PASS_1
led_fail = sim:FAIL_1
led_busy = sim:BUSY_1
EOT
recipe() { # FILE APP_PID [EXTRA_KEY_LINE]
	cat >"$1" <<EOT
[recipe]
name = trun-g474
version = 2.1
target = stm32g474xe
$3
[firmware]
file = $HEX
sha256 = $SHA
[option_bytes]
DBANK = 0
[program]
erase = mass
[app_check]
usb = 1209:$2
within_ms = 1000
EOT
}
recipe "$T/ok.ini" 0001
recipe "$T/badapp.ini" 0002
recipe "$T/bad.ini" 0001 "colour = blue"
db="$T/run.db"
q() { sqlite3 "$db" "$1"; }

# 1. four demo boards, every state, all PASS, exit 0
expect 0 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --cycles 4 \
	--operator op7 --demo-boards
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board blank'
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board programmed'
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board corrupted'
has "$T/out" 'demo: a dual-bank board is in slot 1'
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board programmed \(option bytes rewritten\)'
has "$T/out" 'write_ob +PASS .*0xFFEFF8AA -> 0xFFAFF8AA'
has "$T/out" 'today: 4 runs, 4 passed, 0 failed, 0 errors, yield 100.0%'
has "$T/out" "database: .*run.db"
has "$T/out" 'fixturectl report yield --db'
[ "$(grep -c 'READY' "$T/out")" -eq 4 ] || fail "expected 4 READY lines"
[ "$(q "SELECT count(*) FROM runs WHERE result = 'PASS' AND operator = 'op7'")" = 4 ] || fail "4 PASS runs"
[ "$(q "SELECT group_concat(board_state, ',') FROM (SELECT board_state FROM runs ORDER BY id)")" = \
	"blank,programmed,corrupted,programmed" ] || fail "board states: $(q 'SELECT board_state FROM runs')"
[ "$(q "SELECT count(*) FROM units")" = 4 ] || fail "4 units"
[ "$(q "SELECT recipe_name || ' ' || recipe_version FROM runs LIMIT 1")" = "trun-g474 2.1" ] || fail "recipe recorded"
[ "$(q "SELECT detail FROM steps WHERE name = 'erase' AND run_id = 4")" = "mass erase (DBANK changed)" ] || fail "dual-bank erase"
ok "4 demo boards: blank, programmed, corrupted, dual-bank all PASS and recorded"

# 2. a unit whose application is not the recipe's (the station's own board
# file, left holding the last demo board, application 1209:0001): FAIL, exit 1
expect 1 "$FX" run --station "$T/st.ini" --recipe "$T/badapp.ini" --cycles 1
has "$T/out" 'FAIL +slot 1 serial [0-9A-F]{12} board programmed: app_check: device 1209:0001 enumerated, expected the application 1209:0002'
has "$T/out" 'today: 5 runs, 4 passed, 1 failed, 0 errors, yield 80.0%'
[ "$(q "SELECT result || ' ' || failing_step || ' ' || error_code FROM runs ORDER BY id DESC LIMIT 1")" = \
	"FAIL app_check FX_E_STATE" ] || fail "FAIL recorded"
ok "FAIL unit: reason shown and recorded, exit 1"

# 3. config errors: file:line, exit 65; usage errors exit 64
expect 65 "$FX" run --station "$T/st.ini" --recipe "$T/bad.ini" --cycles 1
has "$T/err" "bad.ini:5: key 'colour'"
expect 64 "$FX" run --recipe "$T/ok.ini"
has "$T/err" "fixturectl run: --station and --recipe are required"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --demo-boards=shiny
has "$T/err" "run: --demo-boards: unknown board 'shiny'"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --cycles 0
has "$T/err" "run: --cycles: expected 1..1000000, got '0'"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --realtime=fast
has "$T/err" "run: --realtime: expected a scale > 0, got 'fast'"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --bogus
has "$T/err" "run: unknown option '--bogus'"
expect 64 "$FX" run -zq x
has "$T/err" "run: unknown option '-z'"
expect 64 "$FX" devices -zq
has "$T/err" "devices: unknown option '-z'"
expect 64 "$FX" run --station "$T/st.ini" --recipe
has "$T/err" "run: option '--recipe' needs a value"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" extra
has "$T/err" "run: unexpected argument 'extra'"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --serial-scan A,,B
has "$T/err" "run: --serial-scan: empty serial or more than 256"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --demo-boards=
has "$T/err" "run: --demo-boards: empty list"
expect 66 "$FX" run --station "$T/nope.ini" --recipe "$T/ok.ini"
has "$T/err" "nope.ini"
expect 0 "$FX" run --help
has "$T/out" '130 stopped by Ctrl-C'
ok "config and usage errors"

# 4. a database that cannot be opened: nothing is programmed, exit 74
expect 74 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --cycles 1 --db "$T/no/such/dir/x.db"
has "$T/err" "fixturectl run: database: "
ok "unwritable database stops the station"

# 5. START from stdin (no --cycles): one line = one board, EOF ends
printf '\n' | "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || { cat "$T/out" "$T/err"; fail "stdin START exit $rc"; }
has "$T/out" 'press Enter for START'
has "$T/out" 'PASS +slot 1'
ok "START from stdin"

# 6. a run left unfinished (power loss) is marked ABORTED at start-up
q "INSERT INTO runs(uuid, station, slot, recipe_name, start_us) VALUES ('dead-beef', 'trun', 1, 'trun-g474', 1)"
expect 0 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --cycles 1
has "$T/out" '1 unfinished run from before marked ABORTED'
[ "$(q "SELECT result FROM runs WHERE uuid = 'dead-beef'")" = ABORTED ] || fail "not ABORTED"
ok "unfinished run recovered as ABORTED"

# 7. SIGTERM while waiting for START: exit 130, the database stays whole
: >"$T/out" # empty before the start: the wait below must not see test 6's output
mkfifo "$T/fifo"
"$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" <"$T/fifo" >"$T/out" 2>"$T/err" &
pid=$!
exec 3>"$T/fifo"
printf '\n' >&3
i=0
while ! grep -q 'today:' "$T/out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid; rc=$?
exec 3>&-
[ $rc -eq 130 ] || { cat "$T/out" "$T/err"; fail "SIGTERM exit $rc, expected 130"; }
has "$T/out" 'PASS +slot 1'
[ "$(q "SELECT count(*) FROM runs WHERE result IS NULL")" = 0 ] || fail "unfinished run left"
ok "SIGTERM: board finished and recorded, exit 130"

# 8. operator-scanned serials (recipe serial = scan)
sed 's/^erase = mass$/erase = mass\nserial = scan/' "$T/ok.ini" >"$T/scan.ini"
expect 0 "$FX" run --station "$T/st.ini" --recipe "$T/scan.ini" --cycles 2 \
	--demo-boards=blank --serial-scan SN-A,SN-B
has "$T/out" 'PASS +slot 1 serial SN-A board blank'
has "$T/out" 'PASS +slot 1 serial SN-B board blank'
[ "$(q "SELECT count(*) FROM units WHERE serial IN ('SN-A', 'SN-B')")" = 2 ] || fail "scanned units"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/scan.ini" --cycles 2 \
	--demo-boards=blank --serial-scan SN-C
has "$T/err" "wants a scanned serial \(serial = scan\): none left"
ok "scanned serials"

# 8b. serials scanned on stdin: a whole line is one serial; one longer than
# 63 characters fails that board unprogrammed (its tail never becomes the
# next board's serial); an empty line asks again
long=$(printf 'L%.0s' $(seq 1 150))
printf '%s\n\nSN-D\n' "$long" >"$T/scans"
expect 1 "$FX" run --station "$T/st.ini" --recipe "$T/scan.ini" --cycles 2 \
	--demo-boards=blank --serial-scan - <"$T/scans"
has "$T/out" "FAIL +slot 1: scanned serial 'LLLLLLLLLLLLLLLL\.\.\.' has 150 characters, at most 63: board not programmed"
has "$T/out" 'empty serial: scan the unit again'
has "$T/out" 'PASS +slot 1 serial SN-D board blank'
[ "$(grep -c 'BUSY' "$T/out")" -eq 1 ] || fail "the refused board was programmed"
[ "$(q "SELECT count(*) FROM units WHERE serial LIKE 'L%'")" = 0 ] || fail "part of the long serial recorded"
printf '\n\n' >"$T/scans"
expect 0 "$FX" run --station "$T/st.ini" --recipe "$T/scan.ini" --cycles 1 \
	--demo-boards=blank --serial-scan - <"$T/scans"
[ "$(grep -c 'empty serial: scan the unit again' "$T/out")" -eq 2 ] || fail "empty lines not asked again"
grep -q 'BUSY' "$T/out" && fail "a board ran without a serial"
expect 64 "$FX" run --station "$T/st.ini" --recipe "$T/scan.ini" --cycles 1 \
	--demo-boards=blank --serial-scan "SN-1,$long"
has "$T/err" "run: --serial-scan: serial 'LLLLLLLLLLLLLLLL\.\.\.' has 150 characters, at most 63"
ok "stdin serials: long refused for that board only, empty asks again"

# 8c. START from stdin: one long line is one press, not one per 63 bytes
printf '%s\n' "$long$long" >"$T/starts"
expect 0 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --demo-boards=blank <"$T/starts"
[ "$(grep -c 'BUSY' "$T/out")" -eq 1 ] || fail "one long line pressed START $(grep -c BUSY "$T/out") times"
ok "a long START line is one press"

# 8d. a board first seen with RDP 1 (the UID read refused): the unit gets
# its real UID after the unprotect, not 24 zeros; the same board again is
# the same unit and 'history UID' finds both runs
sed 's#^device = emu:board1.fxb#device = emu:uid.fxb#; s#^database = run.db#database = uid.db#' \
	"$T/st.ini" >"$T/uid.ini"
expect 0 "$FX" run --station "$T/uid.ini" --recipe "$T/ok.ini" --cycles 1 --demo-boards=protected
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board protected'
expect 0 "$FX" run --station "$T/uid.ini" --recipe "$T/ok.ini" --cycles 1
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board programmed'
uid=$(sqlite3 "$T/uid.db" "SELECT chip_uid FROM units")
[ "$(sqlite3 "$T/uid.db" "SELECT count(*) FROM units")" = 1 ] || fail "the same board is one unit"
echo "$uid" | grep -Eq '^[0-9A-F]{24}$' || fail "unit UID '$uid'"
[ "$uid" != 000000000000000000000000 ] || fail "the zero UID was recorded"
expect 0 "$FX" history "$uid" --db "$T/uid.db"
[ "$(grep -c "  $uid  .*PASS" "$T/out")" -eq 2 ] || { cat "$T/out"; fail "history $uid: not both runs"; }
ok "RDP 1 board: the real UID recorded after the unprotect, history UID finds it"

# wait until $T/out matches $1 (bounded), in real time
wait_for() {
	i=0
	while ! grep -Eq "$1" "$T/out" && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	grep -Eq "$1" "$T/out" || { cat "$T/out" "$T/err"; fail "never saw /$1/"; }
}

# 9. one SIGTERM during a board (real time: a blank board probes for
# 1.5 s, the signal lands inside the run): the board is finished and
# recorded, then the loop stops with 130
: >"$T/out" # empty before the start: wait_for must not see the last test's output
"$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --cycles 3 --demo-boards=blank \
	--realtime=1 >"$T/out" 2>"$T/err" &
pid=$!
wait_for 'BUSY'
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 130 ] || { cat "$T/out" "$T/err"; fail "exit $rc, expected 130"; }
has "$T/out" 'app_check +PASS'
has "$T/out" 'PASS +slot 1 serial'
[ "$(grep -c 'BUSY' "$T/out")" -eq 1 ] || fail "a second board was started"
ok "SIGTERM during a board: finished, recorded, exit 130"

# 10. a second SIGTERM aborts the board at the next step: ABORTED, safe
: >"$T/out" # empty before the start: wait_for must not see the last test's output
"$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --cycles 3 --demo-boards=blank \
	--realtime=1 >"$T/out" 2>"$T/err" &
pid=$!
wait_for 'BUSY'
kill -TERM $pid; sleep 0.1; kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 130 ] || { cat "$T/out" "$T/err"; fail "exit $rc, expected 130"; }
has "$T/out" "ABORTED slot 1 .*stopped by the operator before '"
[ "$(q "SELECT result || ' ' || error_code FROM runs ORDER BY id DESC LIMIT 1")" = \
	"ABORTED FX_E_ABORTED" ] || fail "ABORTED not recorded"
ok "second SIGTERM: ABORTED at the next step, recorded"

# 11. a real station whose GPIO chip does not exist: 69, nothing recorded
cat >"$T/real.ini" <<EOT
[station]
name = real
database = real.db
start = gpiochip99:1 active-low pull-up
[slot 1]
device = usb:1-1
boot0 = gpiochip99:2
nrst = gpiochip99:3
EOT
expect 69 "$FX" run --station "$T/real.ini" --recipe "$T/ok.ini" --cycles 1
has "$T/err" "fixturectl run: station '.*real.ini': line 'gpiochip99:1': "
ok "missing GPIO chip: exit 69"

# 12. two slots: one START programs both boards, each recorded with its slot
cat >"$T/two.ini" <<EOT
[station]
name = two
database = two.db
start = sim:START
[slot 1]
device = emu:s1.fxb
boot0 = sim:BOOT0_1
nrst = sim:NRST_1
[slot 2]
device = emu:s2.fxb
boot0 = sim:BOOT0_2
nrst = sim:NRST_2
EOT
expect 0 "$FX" run --station "$T/two.ini" --recipe "$T/ok.ini" --cycles 1
has "$T/out" 'PASS +slot 1 serial'
has "$T/out" 'PASS +slot 2 serial'
[ "$(sqlite3 "$T/two.db" "SELECT group_concat(slot || result, ',') FROM runs")" = "1PASS,2PASS" ] ||
	fail "two slots: $(sqlite3 "$T/two.db" 'SELECT slot, result FROM runs')"
[ -f "$T/s1.fxb" ] && [ -f "$T/s2.fxb" ] || fail "board files not saved"
ok "two slots, one START"

# 13. the database fails in the middle of a run: ERROR shown, never PASS,
# the station stops before the next board (exit 74)
sqlite3 "$db" "CREATE TRIGGER t_fail BEFORE INSERT ON steps WHEN NEW.name = 'erase'
	BEGIN SELECT RAISE(ABORT, 'disk full'); END"
expect 74 "$FX" run --station "$T/st.ini" --recipe "$T/ok.ini" --cycles 2 --demo-boards=blank
has "$T/out" 'ERROR +slot 1: .*disk full'
has "$T/err" 'the run could not be recorded .*station stopped, no more boards'
[ "$(grep -c 'BUSY' "$T/out")" -eq 1 ] || fail "a second board was started"
grep -Eq 'PASS +slot' "$T/out" && fail "PASS shown"
grep -Eq 'program +PASS' "$T/out" && fail "programmed after the database failed"
ok "database failure mid-run stops the station, no PASS"
# demo boards meet the station's knobs: a board that never comes back
# after a reset (return=never) must not pass, demo board or not
sed 's#^device = emu:board1.fxb#device = emu:knob.fxb?return=never#; s#^database = run.db#database = knob.db#' \
	"$T/st.ini" >"$T/knob.ini"
expect 1 "$FX" run --station "$T/knob.ini" --recipe "$T/ok.ini" --cycles 1 --demo-boards=dual-bank
grep -Eq 'PASS +slot' "$T/out" && fail "PASS shown for a board that never returns"
has "$T/out" "ERROR +slot 1"
ok "station knobs apply to demo boards (return=never: no PASS)"
# virtual time runs ahead of the wall clock: a second process must still
# start its runs after the first's (history and "last run" are by time;
# issue 8: starts follow the wall clock, an end may pass the next start)
sed 's#^database = run.db#database = order.db#; s#^device = emu:board1.fxb#device = emu:order.fxb#' \
	"$T/st.ini" >"$T/order.ini"
for i in 1 2; do
	expect 0 "$FX" run --station "$T/order.ini" --recipe "$T/ok.ini" --cycles 3 --demo-boards
done
[ "$(sqlite3 "$T/order.db" 'SELECT count(*) FROM runs')" -eq 6 ] || fail "6 runs expected"
[ "$(sqlite3 "$T/order.db" 'SELECT count(*) FROM runs a JOIN runs b ON b.id = a.id + 1
	WHERE b.start_us <= a.start_us')" -eq 0 ] || fail "a later run is stamped before an earlier one started"
ok "records of consecutive processes stay in time order"
echo "all $n passed"
