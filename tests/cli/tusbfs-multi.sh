#!/bin/sh
# tusbfs-multi.sh - one fxemu, four boards, over the real libusb transport:
# (1) four concurrent `fixturectl run` processes, one 1-slot station each
# (a plant's one process per slot). Before build/libfxemu-preload.so,
# umockdev bound every client's uevent socket to event<FD>: processes
# whose socket had the same number took it from each other, only the last
# heard the boards re-plug, and the others ended in ERROR enter_boot "no
# DFU bootloader within 3000 ms" (issue 14). (2) the four boards as the
# four slots of stations/fxemu-4slot.ini in one process. Under ASan
# LeakSanitizer checks libusb's objects too (one libusb context per
# process: no leak suppression).
. tests/cli/lib.sh
FXEMU="$B/fxemu"
[ -x "$FXEMU" ] || { echo "skip: $FXEMU not built"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
REC=$(pwd)/config/demo-g474.ini
[ -f config/demo-g474.hex ] || { echo "skip: config/demo-g474.hex missing"; exit 77; }
unset FXEMU_CTL FXEMU_SCALE
FXA=$(cd "$(dirname "$FX")" && pwd)/$(basename "$FX")

for p in 1 2 3 4; do
	cat >"$T/st$p.ini" <<EOT
[station]
name = multi-$p
emulator = fxemu
database = run$p.db
start = sim:START
tower_green = sim:GREEN
tower_red = sim:RED
[slot 1]
device = usb:1-$p
boot0 = sim:BOOT0_$p
nrst = sim:NRST_$p
power = sim:POWER_$p
led_pass = sim:PASS_$p
led_fail = sim:FAIL_$p
led_busy = sim:BUSY_$p
power_on_ms = 50
EOT
done
cat >"$T/all.sh" <<EOT
for p in 1 2 3 4; do
	"$FXA" run --station "$T/st\$p.ini" --recipe "$REC" --cycles 1 \
		--operator op >"$T/out\$p" 2>&1 &
done
wait
EOT
expect 0 "$FXEMU" --realtime=${SCALE:-0.2} --board "$T/a1.fxb" --board "$T/a2.fxb" \
	--board "$T/a3.fxb" --board "$T/a4.fxb" -- sh "$T/all.sh"
for p in 1 2 3 4; do
	has "$T/out$p" 'PASS +slot 1 serial [0-9A-F]{12} board blank \(option bytes rewritten\)'
	r=$(sqlite3 "$T/run$p.db" "SELECT group_concat(result || ' ' || port_path) FROM runs")
	[ "$r" = "PASS usb:1-$p" ] || { cat "$T/out$p"; fail "process $p: runs '$r'"; }
done
ok "four concurrent station processes over one fxemu: 4 PASS, each on its own port"

# (2) one process, the four slots of the shipped station file
sed "s|^database = .*|database = $T/four.db|" stations/fxemu-4slot.ini >"$T/four.ini"
expect 0 "$FXEMU" --realtime=${SCALE:-0.2} --board "$T/b1.fxb" --board "$T/b2.fxb" \
	--board "$T/b3.fxb" --board "$T/b4.fxb" -- \
	"$FX" run --station "$T/four.ini" --recipe "$REC" --cycles 1 --operator op
for s in 1 2 3 4; do
	has "$T/out" "PASS +slot $s serial [0-9A-F]{12} board blank \(option bytes rewritten\)"
done
r=$(sqlite3 "$T/four.db" "SELECT group_concat(result || ' ' || port_path, ',') FROM (SELECT * FROM runs ORDER BY port_path)")
[ "$r" = "PASS usb:1-1,PASS usb:1-2,PASS usb:1-3,PASS usb:1-4" ] || fail "4-slot runs: '$r'"
ok "stations/fxemu-4slot.ini: four slots, four boards, 4 PASS recorded per port"
