#!/bin/sh
# tseq_usbfs.sh - the station sequence over the REAL libusb transport:
# `fxemu --board B -- fixturectl run` on a station with 'emulator = fxemu'
# (sim lines forwarded to fxemu's pin socket, device usb:1-1), for blank,
# programmed, corrupted and dual-bank boards, faults that must never PASS,
# the board files and the database afterwards; station-file and
# environment errors with their messages. fxemu runs 20 times faster than
# the device (--realtime=0.1, or $SCALE) and the station follows its scale.
. tests/cli/lib.sh
FXEMU="$B/fxemu"
[ -x "$FXEMU" ] || { echo "skip: $FXEMU not built"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
REC=$(pwd)/config/demo-g474.ini
HEX=$(pwd)/config/demo-g474.hex
[ -f "$HEX" ] || { echo "skip: $HEX missing"; exit 77; }
unset FXEMU_CTL FXEMU_SCALE

station() { # FILE [EXTRA_STATION_LINE] [DEVICE]
	cat >"$1" <<EOT
[station]
name = tseq-fxemu
emulator = fxemu
database = run.db
start = sim:START
tower_green = sim:GREEN
tower_red = sim:RED
$2
[slot 1]
device = ${3:-usb:1-1}
boot0 = sim:BOOT0_1
nrst = sim:NRST_1
power = sim:POWER_1
led_pass = sim:PASS_1
led_fail = sim:FAIL_1
led_busy = sim:BUSY_1
power_on_ms = 50
EOT
}
station "$T/st.ini"
db="$T/run.db"
q() { sqlite3 "$db" "$1"; }
last() { q "SELECT result || ' ' || board_state || ' ' || coalesce(failing_step, '-') || ' ' || coalesce(error_code, '-') FROM runs ORDER BY id DESC LIMIT 1"; }
# run BOARD[?KNOBS] CYCLES [fxemu options]: the station under fxemu
run() {
	b=$1; c=$2; shift 2
	"$FXEMU" --realtime=${SCALE:-0.1} "$@" --board "$b" -- \
		"$FX" run --station "$T/st.ini" --recipe "$REC" --cycles "$c" --operator op1
}
dbank() { "$FX" emu show "$1" | sed -n 's/.*(DBANK=\([01]\).*/\1/p'; }

# 1. a factory-fresh board (no file: blank, DBANK=1), two cycles: the
# first programs it (option bytes rewritten), the second finds it programmed
expect 0 run "$T/blank.fxb" 2
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board blank \(option bytes rewritten\)'
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board programmed  '
has "$T/out" 'write_ob +PASS .*DBANK|write_ob +PASS .*0xFFEFF8AA -> '
has "$T/out" 'write_ob +SKIPPED'
has "$T/out" 'app_check +PASS .*application 1209:0001 after'
has "$T/out" 'today: 2 runs, 2 passed, 0 failed, 0 errors, yield 100.0%'
[ "$(dbank "$T/blank.fxb")" = 0 ] || fail "blank board: DBANK=$(dbank "$T/blank.fxb") after the run"
[ "$(q "SELECT group_concat(result || ' ' || board_state || ' ' || port_path, ',') FROM (SELECT * FROM runs ORDER BY id)")" = \
	"PASS blank usb:1-1,PASS programmed usb:1-1" ] || fail "runs: $(q 'SELECT result, board_state, port_path FROM runs')"
[ "$(q "SELECT count(*) FROM runs WHERE station = 'tseq-fxemu' AND operator = 'op1'")" = 2 ] || fail "station/operator recorded"
[ "$(q "SELECT detail FROM steps WHERE name = 'erase' AND run_id = 1")" = "mass erase (DBANK changed)" ] || fail "erase after DBANK change"
uid=$(q "SELECT chip_uid FROM runs WHERE id = 1")
expect 0 "$FX" history "$uid" --db "$db"
[ "$(grep -c 'PASS' "$T/out")" -ge 2 ] || { cat "$T/out"; fail "history: two PASS runs of $uid"; }
ok "blank board over libusb: PASS blank then PASS programmed, DBANK=0 in the board file, recorded"

# 2. boards made beforehand: programmed single-bank (nothing to change),
# corrupted, and dual-bank (the recipe's firmware in DBANK=1 mode)
expect 0 "$FX" emu create "$T/prog.fxb" --image "$HEX" --single-bank
expect 0 "$FX" emu create "$T/corr.fxb" --corrupt
expect 0 "$FX" emu create "$T/dual.fxb" --image "$HEX"
expect 0 run "$T/prog.fxb" 1
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board programmed  '
has "$T/out" 'probe +SKIPPED .*probe = flash'
has "$T/out" 'identify +PASS .*board programmed'
[ "$(last)" = "PASS programmed - -" ] || fail "programmed: $(last)"
expect 0 run "$T/corr.fxb" 1
has "$T/out" 'identify +PASS .*board corrupted'
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board corrupted'
[ "$(last)" = "PASS corrupted - -" ] || fail "corrupted: $(last)"
[ "$(dbank "$T/corr.fxb")" = 0 ] || fail "corrupted board: DBANK not 0"
[ "$(dbank "$T/dual.fxb")" = 1 ] || fail "dual-bank board: DBANK not 1 before"
expect 0 run "$T/dual.fxb" 1
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board programmed \(option bytes rewritten\)'
has "$T/out" 'write_ob +PASS .*0xFFEFF8AA -> 0xFFAFF8AA, bootloader back after'
[ "$(last)" = "PASS programmed - -" ] || fail "dual-bank: $(last)"
[ "$(dbank "$T/dual.fxb")" = 0 ] || fail "dual-bank board: DBANK=$(dbank "$T/dual.fxb") after the run"
ok "programmed, corrupted and dual-bank boards: PASS with the state found, DBANK=0 afterwards"

# 3. faults over the real transport: never a PASS, the step and the cause
# recorded. The board drops off the bus in the middle of the download
# (DNLOAD 20: identify's SET_ADDRESSes and the mass erase are 7):
expect 0 "$FX" emu create "$T/drop.fxb" --single-bank
expect 1 run "$T/drop.fxb?fault=drop&fault_req=dnload&fault_nth=20" 1
has "$T/out" 'ERROR +slot 1 serial [0-9A-F]{12} board blank: program: .*device left the bus'
[ "$(last)" = "ERROR blank program FX_E_NODEV" ] || fail "drop: $(last)"
# a chip that never comes back from a reset (only the power-on boot works):
expect 1 run "$T/never.fxb?return=never" 1
has "$T/out" 'ERROR +slot 1 serial \? board unknown: enter_boot: no DFU bootloader within 3000 ms of the BOOT0\+NRST reset'
[ "$(last)" = "ERROR unknown enter_boot FX_E_NODEV" ] || fail "return=never: $(last)"
# an application that is not the recipe's (a new board of another make):
expect 1 run "$T/other.fxb" 1 --app-vid 1234:abcd
has "$T/out" 'FAIL +slot 1 serial [0-9A-F]{12} board blank: app_check: '
[ "$(last)" = "FAIL blank app_check FX_E_STATE" ] || fail "other app: $(last)"
[ "$(q "SELECT count(*) FROM runs WHERE result = 'PASS'")" = 5 ] || fail "PASS count: $(q 'SELECT result FROM runs')"
[ "$(q "SELECT count(*) FROM runs WHERE result IS NULL")" = 0 ] || fail "unfinished runs left"
ok "faults: dropped device and no return from a reset ERROR, another application FAIL, none PASS"

# 4. the environment: the station outside fxemu, a port fxemu does not have
expect 65 "$FX" run --station "$T/st.ini" --recipe "$REC" --cycles 1
has "$T/err" "^fixturectl run: station '$T/st.ini': slot 1: line 'sim:BOOT0_1': FXEMU_CTL is not set: run the station under build/fxemu \(fxemu --board FILE -- fixturectl run ...\)$"
station "$T/p2.ini" "" usb:1-2
expect 74 "$FXEMU" --realtime=${SCALE:-0.1} --board "$T/prog.fxb" -- \
	"$FX" run --station "$T/p2.ini" --recipe "$REC" --cycles 1
has "$T/err" "^fixturectl run: station '$T/p2.ini': slot 1: fxemu: port '1-2' boot0: port '1-2': no board there \(ports 1-1 .. 1-1\)$"
expect 74 env FXEMU_CTL="$T/no-such.sock" "$FX" run --station "$T/st.ini" --recipe "$REC" --cycles 1
has "$T/err" "^fixturectl run: station '$T/st.ini': slot 1: fxemu control socket '$T/no-such.sock': connect: No such file or directory$"
ok "outside fxemu: FXEMU_CTL missing (65); a port fxemu lacks, a dead socket (74)"

# 5. station files: what 'emulator = fxemu' allows
station "$T/e1.ini" "" "emu:b.fxb"
expect 65 "$FX" check "$T/e1.ini"
has "$T/err" "e1.ini:[0-9]+: key 'device': emulator = fxemu: the boards are inside fxemu, use usb:1-N \(fxemu's port of the board\), not emu:"
station "$T/e2.ini" "" "usb:1-1.4"
expect 65 "$FX" check "$T/e2.ini"
has "$T/err" "e2.ini:[0-9]+: key 'device': emulator = fxemu: expected usb:1-1 .. usb:1-8 \(fxemu's ports\), got 'usb:1-1.4'"
sed 's/^emulator = fxemu$/emulator = qemu/' "$T/st.ini" >"$T/e3.ini"
expect 65 "$FX" check "$T/e3.ini"
has "$T/err" "e3.ini:3: key 'emulator': expected fxemu, got 'qemu'"
sed 's/^emulator = fxemu$//' "$T/st.ini" >"$T/e4.ini"
expect 65 "$FX" check "$T/e4.ini"
has "$T/err" "e4.ini:[0-9]+: key 'device': usb: devices need real gpio lines, not sim: \(or 'emulator = fxemu' in \[station\] when build/fxemu emulates the boards\)"
sed 's/sim:\([A-Z_0-9]*\)/gpiochip0:\1/' "$T/st.ini" >"$T/e5.ini"
expect 65 "$FX" check "$T/e5.ini"
has "$T/err" "e5.ini:3: key 'emulator': fxemu needs sim: gpio lines \(fxemu drives the boards' pins\), got the real line 'gpiochip0:START'"
expect 0 "$FX" check stations/fxemu-1slot.ini
ok "station files: emulator = fxemu needs sim: lines and usb:1-N devices; the mix without it says so"
