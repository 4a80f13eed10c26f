#!/bin/sh
# tgang_fxemu.sh - gang programming over the REAL libusb transport (issue
# 14): one `fixturectl run` drives the four boards of one build/fxemu as
# the four slots of stations/fxemu-4slot.ini. (1) two batches, all PASS
# and the boards really hold the image; (2) kill -9 of the station in the
# middle of a batch, then a restart in the same fxemu (the boards stay
# where the dead process left them): the four unfinished runs ABORTED at
# the start, none lost, the boards programmed by the restart; (3) Ctrl-C
# (SIGINT) in the middle of a batch: every slot finishes its board and is
# recorded; (4) a second SIGINT: every slot ABORTED at its next step, and
# fxemu's pin socket shows each board with BOOT0 released and the power
# off. fxemu runs 5 (1) or 2.5 (2-4) times faster than the device (the
# station's 1 s step slack is then 200 ms or more of real time, enough
# for a loaded host). Under ASan (FX_BUILD=build/asan) LeakSanitizer
# checks libusb's objects too: the process makes one libusb context
# (src/usb/usb_libusb.c), so no new context meets the other slots' boards
# re-plugging (libusb 1.0.26 leaked a device then, 1 run in 15).
. tests/cli/lib.sh
FXEMU="$B/fxemu"
[ -x "$FXEMU" ] || { echo "skip: $FXEMU not built"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
REC=$(pwd)/config/demo-g474.ini
HEX=$(pwd)/config/demo-g474.hex
[ -f "$HEX" ] || { echo "skip: $HEX missing"; exit 77; }
unset FXEMU_CTL FXEMU_SCALE
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
FXA=$(abs "$FX")
FXEMUA=$(abs "$FXEMU")
sed "s|^database = .*|database = $T/g.db|" stations/fxemu-4slot.ini >"$T/g.ini"
db="$T/g.db"
q() { sqlite3 "$db" "$1"; }
BOARDS="--board $T/b1.fxb --board $T/b2.fxb --board $T/b3.fxb --board $T/b4.fxb"

# the image as a board holds it (programmed in-process, not through fxemu)
LEN=49152
expect 0 "$FX" flash --device "emu:$T/ref.fxb" "$HEX"
expect 0 "$FX" read --device "emu:$T/ref.fxb" --address 0x08000000 --length $LEN -o "$T/ref.bin"
programmed() { # every board file holds the image
	for i in 1 2 3 4; do
		expect 0 "$FX" read --device "emu:$T/b$i.fxb" --address 0x08000000 \
			--length $LEN -o "$T/rb$i.bin"
		cmp -s "$T/ref.bin" "$T/rb$i.bin" || fail "board $i does not hold the image"
	done
}

# 1. two batches of four: 8 PASS, every run on its own port, the four runs
# of a batch overlap in time, the boards programmed with DBANK=0
expect 0 "$FXEMU" --realtime=0.2 $BOARDS -- \
	"$FX" run --station "$T/g.ini" --recipe "$REC" --cycles 2 --operator op --plain
has "$T/out" '4 slots at once \(start_mode batch, hub multi-tt\)'
for s in 1 2 3 4; do
	has "$T/out" "PASS +slot $s serial [0-9A-F]{12} board blank \(option bytes rewritten\)"
	has "$T/out" "PASS +slot $s serial [0-9A-F]{12} board programmed  "
done
[ "$(grep -Ec '^[0-9:]+ PASS +slot' "$T/out")" -eq 8 ] || fail "8 PASS lines expected"
[ "$(q "SELECT group_concat(n, ',') FROM (SELECT port_path || '=' || count(*) n FROM runs WHERE result = 'PASS' GROUP BY port_path ORDER BY port_path)")" = \
	"usb:1-1=2,usb:1-2=2,usb:1-3=2,usb:1-4=2" ] || fail "runs per port: $(q 'SELECT slot, port_path, result FROM runs')"
[ "$(q "SELECT count(*) FROM runs a JOIN runs b ON a.id <= 4 AND b.id <= 4 WHERE a.start_us >= b.end_us")" = 0 ] ||
	fail "the runs of the first batch did not overlap: $(q 'SELECT slot, start_us, end_us FROM runs')"
programmed
for i in 1 2 3 4; do
	"$FX" emu show "$T/b$i.fxb" | grep -q 'DBANK=0' || fail "board $i: DBANK not 0"
done
ok "4 boards through fxemu and libusb, 2 batches: 8 PASS, per port, overlapping, programmed"

# In-fxemu scripts for 2-4: the station in the background, the signal once
# every slot is in its long program step (all four erases done)
cat >"$T/mid.sh" <<EOT
wait_program() {
	i=0
	while [ "\$(grep -Ec 'erase +PASS' "$T/m.out")" -lt 4 ] && [ \$i -lt 600 ]; do
		sleep 0.05; i=\$((i + 1))
	done
}
"$FXA" run --station "$T/g.ini" --recipe "$REC" --cycles 3 --plain >"$T/m.out" 2>"$T/m.err" &
pid=\$!
wait_program
case \$1 in
kill) kill -KILL \$pid ;;
int) kill -INT \$pid ;;
int2) kill -INT \$pid; sleep 0.1; kill -INT \$pid ;;
esac
wait \$pid
echo \$? >"$T/m.rc"
case \$1 in
kill)
	sqlite3 "$db" "SELECT count(*) FROM runs WHERE result IS NULL" >"$T/m.unfinished"
	"$FXA" run --station "$T/g.ini" --recipe "$REC" --cycles 1 --plain >"$T/r.out" 2>"$T/r.err"
	echo \$? >"$T/r.rc" ;;
int2)
	for p in 1 2 3 4; do "$FXEMUA" --ctl "pins 1-\$p"; "$FXEMUA" --ctl "state 1-\$p"; done >"$T/pins" ;;
esac
EOT
fresh() { rm -f "$db" "$db-wal" "$db-shm" "$T"/b?.fxb "$T/m.out"; : >"$T/m.out"; }

# 2. kill -9 in the middle of a batch, then a restart
fresh
expect 0 "$FXEMU" --realtime=0.4 $BOARDS -- sh "$T/mid.sh" kill
[ "$(cat "$T/m.rc")" = 137 ] || { cat "$T/m.out" "$T/m.err"; fail "station exit $(cat "$T/m.rc"), expected 137"; }
[ "$(cat "$T/m.unfinished")" = 4 ] || { cat "$T/m.out"; fail "unfinished runs after the kill: $(cat "$T/m.unfinished")"; }
[ "$(cat "$T/r.rc")" = 0 ] || { cat "$T/r.out" "$T/r.err"; fail "restart exit $(cat "$T/r.rc")"; }
has "$T/r.out" '4 unfinished runs from before marked ABORTED'
[ "$(q "SELECT group_concat(slot || result, ',') FROM (SELECT slot, result FROM runs ORDER BY id)")" = \
	"1ABORTED,2ABORTED,3ABORTED,4ABORTED,1PASS,2PASS,3PASS,4PASS" ] ||
	fail "records: $(q 'SELECT id, slot, result FROM runs')"
[ "$(q "SELECT count(*) FROM runs WHERE result IS NULL")" = 0 ] || fail "a run left unfinished: $(q "SELECT id, result FROM runs")"
programmed
ok "kill -9 mid-batch: 4 unfinished runs ABORTED at the restart, none lost, boards re-run PASS"

# 3. one SIGINT in the middle of a batch: the four boards finish
fresh
expect 0 "$FXEMU" --realtime=0.4 $BOARDS -- sh "$T/mid.sh" int
[ "$(cat "$T/m.rc")" = 130 ] || { cat "$T/m.out" "$T/m.err"; fail "station exit $(cat "$T/m.rc"), expected 130"; }
[ "$(grep -Ec '^[0-9:]+ PASS +slot' "$T/m.out")" -eq 4 ] || { cat "$T/m.out"; fail "the 4 boards did not finish"; }
[ "$(grep -Ec 'READY' "$T/m.out")" -eq 1 ] || fail "a second batch was started"
[ "$(q "SELECT group_concat(slot || result, ',') FROM (SELECT slot, result FROM runs ORDER BY id)")" = \
	"1PASS,2PASS,3PASS,4PASS" ] || fail "records: $(q 'SELECT slot, result FROM runs')"
programmed
ok "SIGINT mid-batch: every slot finished its board and is recorded, exit 130"

# 4. a second SIGINT: all ABORTED at their next step, left safe
fresh
expect 0 "$FXEMU" --realtime=0.4 $BOARDS -- sh "$T/mid.sh" int2
[ "$(cat "$T/m.rc")" = 130 ] || { cat "$T/m.out" "$T/m.err"; fail "station exit $(cat "$T/m.rc"), expected 130"; }
[ "$(q "SELECT group_concat(slot || result || ' ' || error_code, ',') FROM (SELECT * FROM runs ORDER BY id)")" = \
	"1ABORTED FX_E_ABORTED,2ABORTED FX_E_ABORTED,3ABORTED FX_E_ABORTED,4ABORTED FX_E_ABORTED" ] ||
	fail "records: $(q 'SELECT slot, result, error_code FROM runs')"
[ "$(grep -Ec "ABORTED slot [1-4] .*stopped by the operator before '" "$T/m.out")" -eq 4 ] ||
	{ cat "$T/m.out"; fail "not 4 ABORTED lines"; }
[ "$(grep -Ec '^ok boot0 0 nrst [01] power 0$' "$T/pins")" -eq 4 ] ||
	{ cat "$T/pins"; fail "a board not left with BOOT0 low and the power off"; }
[ "$(grep -Ec '^ok none plugs [0-9]+$' "$T/pins")" -eq 4 ] ||
	{ cat "$T/pins"; fail "a board still on the bus"; }
ok "second SIGINT: every slot ABORTED at its next step, BOOT0 released and power off (fxemu pins)"

# fxemu --ctl outside fxemu, and its usage
expect 69 "$FXEMU" --ctl "pins 1-1"
has "$T/err" '^fxemu: --ctl: FXEMU_CTL is not set'
expect 64 "$FXEMU" --ctl "pins 1-1" --board "$T/b1.fxb"
has "$T/err" '^fxemu: --ctl REQUEST takes no boards and no CMD'
expect 1 "$FXEMU" --realtime=0.05 --board "$T/b1.fxb" -- "$FXEMU" --ctl "pins 1-2"
has "$T/out" "^err port '1-2': no board there \(ports 1-1 .. 1-1\)$"
ok "fxemu --ctl: 69 outside fxemu, 64 usage, 1 on a refused request"
echo "all $n passed"
