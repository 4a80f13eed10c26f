#!/bin/sh
# tserial.sh - serial numbers end to end (issue 11) on emulated stations:
# a counter written as ASCII at a flash address (3 boards: distinct
# values, in the database, read back from each board file's flash; the
# same boards again keep theirs), OTP (a second run burns no second
# serial; a board whose OTP serial is bound to another UID FAILs "duplicate
# serial"; a full OTP FAILs before anything is written), a list of 2 values
# for 3 boards (the third stops the station cleanly, exit 75, nothing
# written to it), report serials and history by the allocated serial, and
# fixturectl check of the demo recipe.
. tests/cli/lib.sh
HEX=$(pwd)/config/demo-g474.hex
[ -f "$HEX" ] || { echo "skip: $HEX missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
SHA=$(sha256sum "$HEX" | cut -d' ' -f1)

station() { # FILE NAME DB N [FIRST-BOARD-FILE-NUMBER]
	f=${5:-1}
	{
		printf '[station]\nname = %s\ndatabase = %s\nstart = sim:START\n' "$2" "$3"
		i=1
		while [ $i -le $4 ]; do
			printf '[slot %d]\ndevice = emu:b%d.fxb\nboot0 = sim:BOOT0_%d\nnrst = sim:NRST_%d\npower = sim:POWER_%d\n' \
				$i $((f + i - 1)) $i $i $i
			i=$((i + 1))
		done
	} >"$1"
}
recipe() { # FILE SERIAL-SECTION-LINES...
	out=$1
	shift
	{
		printf '[recipe]\nname = tserial\nversion = 1\ntarget = stm32g474xe\n'
		printf '[firmware]\nfile = %s\nsha256 = %s\n' "$HEX" "$SHA"
		printf '[option_bytes]\nDBANK = 0\n[program]\nerase = mass\nserial = uid\n'
		printf '[app_check]\nusb = 1209:0001\nwithin_ms = 1000\n[serial_number]\n'
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$out"
}
readmem() { # BOARD-FILE ADDR LEN -> hex on stdout
	"$FX" read --device "emu:$T/$1" --address "$2" --length "$3" -o "$T/mem.bin" >/dev/null 2>"$T/rerr" ||
		{ cat "$T/rerr"; fail "read $1 $2"; }
	od -An -tx1 -v "$T/mem.bin" | tr -d ' \n'
}
ascii() { # BOARD-FILE ADDR LEN -> the bytes before the first 0xFF as text
	readmem "$@" >/dev/null
	tr -d '\377' <"$T/mem.bin"
}

# 1. three boards, counter, 16 ASCII bytes at 0x0807F800 of the flash
station "$T/s3.ini" s3 f.db 3
recipe "$T/flash.ini" 'source = counter' 'format = G4-{yy}{ww}-{n:05}' 'first = 1' 'last = 99999' \
	'pool = g474-main' 'write = flash:0x0807F800' 'encoding = ascii:16' 'warn_below = 99998'
db="$T/f.db"
q() { sqlite3 "$db" "$1"; }
expect 0 "$FX" check "$T/flash.ini"
expect 0 "$FX" check config/demo-g474-serial.ini
expect 0 "$FX" check config/demo-g474-serial-list.ini
expect 0 "$FX" run --station "$T/s3.ini" --recipe "$T/flash.ini" --cycles 1 --demo-boards=blank --plain
# the slots run at once: which slot reserves first is theirs to race
for s in 1 2 3; do has "$T/out" "PASS +slot $s serial G4-[0-9]{4}-0000[123] "; done
has "$T/out" "WARN +pool 'g474-main': 9999[0-9] serial numbers left \(warn_below = 99998\)"
[ "$(q "SELECT count(DISTINCT value) FROM serial_alloc WHERE state = 'bound'")" = 3 ] || fail "3 bound values"
[ "$(q "SELECT count(*) FROM units u JOIN serial_alloc a ON a.value = u.serial AND a.chip_uid = u.chip_uid")" = 3 ] ||
	fail "units.serial is the allocated serial: $(q 'SELECT serial, chip_uid FROM units')"
for s in 1 2 3; do
	v=$(ascii b$s.fxb 0x0807F800 16)
	[ "$(q "SELECT count(*) FROM serial_alloc a JOIN units u ON u.chip_uid = a.chip_uid JOIN runs r ON r.unit_id = u.id
		WHERE a.value = '$v' AND r.slot = $s AND a.state = 'bound'")" = 1 ] ||
		fail "slot $s: flash holds '$v', not its serial: $(q 'SELECT value, chip_uid FROM serial_alloc')"
	# the rest of the 16 bytes is 0xFF
	readmem b$s.fxb 0x0807F80D 3 | grep -qx ffffff || fail "slot $s: not 0xFF-padded"
done
has "$T/out" 'serial +PASS'
[ "$(q "SELECT count(*) FROM steps WHERE name = 'serial' AND detail LIKE 'G4-%reserved (n %'")" = 3 ] ||
	fail "serial step details: $(q "SELECT detail FROM steps WHERE name = 'serial'")"
ok "3 boards: distinct serials, in the database and in each board's flash"

# the same boards again (their files): every one keeps its value
before=$(q "SELECT group_concat(value || chip_uid, ',') FROM (SELECT value, chip_uid FROM serial_alloc ORDER BY value)")
expect 0 "$FX" run --station "$T/s3.ini" --recipe "$T/flash.ini" --cycles 1 --plain
after=$(q "SELECT group_concat(value || chip_uid, ',') FROM (SELECT value, chip_uid FROM serial_alloc ORDER BY value)")
[ "$before" = "$after" ] || fail "values changed: $before -> $after"
[ "$(q "SELECT count(*) FROM steps WHERE name = 'serial' AND detail LIKE '%kept: already bound to this chip UID%'")" = 3 ] ||
	fail "kept: $(q "SELECT detail FROM steps WHERE name = 'serial'")"
for s in 1 2 3; do
	[ "$(ascii b$s.fxb 0x0807F800 16)" = "$(q "SELECT a.value FROM serial_alloc a JOIN units u ON u.chip_uid = a.chip_uid JOIN runs r ON r.unit_id = u.id WHERE r.slot = $s LIMIT 1")" ] ||
		fail "slot $s flash after the rerun"
done
ok "the same boards run again keep their values"

# report serials and history by the allocated serial
expect 0 "$FX" report serials --db "$db"
has "$T/out" '^pool +source +bound +reserved +released +voided +remaining +blocks +last_value'
has "$T/out" '^g474-main +counter +3 +0 +0 +0 +99996 +1 +G4-[0-9]{4}-00003$'
expect 0 "$FX" report serials --db "$db" --format json
has "$T/out" '"report": "serials"'
v1=$(q "SELECT value FROM serial_alloc WHERE n = 2")
expect 0 "$FX" history "$v1" --db "$db"
[ "$(grep -c PASS "$T/out")" -ge 2 ] || { cat "$T/out"; fail "history $v1: two PASS runs"; }
[ "$(q "SELECT count(*) FROM v_serials WHERE state = 'bound' AND result = 'PASS'")" = 3 ] || fail "v_serials"
ok "report serials and history SERIAL"

# 2. a list of 2 values, 3 boards: the third stops the station, untouched
printf 'serial,mac\nL-0001,00:11:22:33:44:01\nL-0002,00:11:22:33:44:02\n' >"$T/two.csv"
station "$T/l3.ini" l3 l.db 3 11
recipe "$T/list.ini" 'source = list' "list = $T/two.csv" 'write = flash:0x0807F800' 'encoding = ascii:8' \
	'write.mac = flash:0x0807F808' 'encoding.mac = bytes:6'
db="$T/l.db"
expect 75 "$FX" run --station "$T/l3.ini" --recipe "$T/list.ini" --cycles 1 --demo-boards=blank --plain
has "$T/out" 'PASS +slot [12] serial L-0001'
has "$T/out" 'PASS +slot [12] serial L-0002'
has "$T/err" "pool 'tserial': no serial numbers left: station stopped before the board of slot 3 \(nothing written to it\)"
[ "$(q "SELECT count(*) FROM runs WHERE slot = 3")" = 0 ] || fail "slot 3 has a run"
[ "$(q "SELECT count(*) FROM runs")" = 2 ] || fail "2 runs"
for b in 11 12; do
	v=$(ascii b$b.fxb 0x0807F800 8)
	[ "$(readmem b$b.fxb 0x0807F808 6)" = "00112233440${v#L-000}" ] ||
		fail "b$b: serial $v, mac $(readmem b$b.fxb 0x0807F808 6)"
done
[ "$(readmem b13.fxb 0x08000000 16)" = ffffffffffffffffffffffffffffffff ] || fail "slot 3 was written to"
[ "$(readmem b13.fxb 0x0807F800 16)" = ffffffffffffffffffffffffffffffff ] || fail "slot 3 has a serial"
# and the next start stops before touching anything
expect 75 "$FX" run --station "$T/l3.ini" --recipe "$T/list.ini" --cycles 1 --demo-boards=blank --plain
[ "$(q "SELECT count(*) FROM runs")" = 2 ] || fail "exhausted station ran a board"
ok "list of 2, 3 boards: the third stops cleanly (exit 75), nothing written"

# 3. OTP: one record per board, never a second; a foreign serial FAILs
station "$T/o1.ini" o1 o.db 1 21
recipe "$T/otp.ini" 'source = counter' 'format = G4-{yy}{ww}-{n:05}' 'last = 99999' 'pool = g474-otp' \
	'write = otp' 'encoding = ascii:16'
db="$T/o.db"
# board UID #1 gets n 1, board UID #2 (left in b21.fxb) n 2
expect 0 "$FX" run --station "$T/o1.ini" --recipe "$T/otp.ini" --cycles 2 --demo-boards=blank --plain
s2=$(q "SELECT value FROM serial_alloc WHERE n = 2")
[ "$(ascii b21.fxb 0x1FFF7000 16)" = "$s2" ] || fail "OTP holds '$(ascii b21.fxb 0x1FFF7000 16)', not $s2"
has "$T/out" 'serial_otp +PASS'
expect 0 "$FX" run --station "$T/o1.ini" --recipe "$T/otp.ini" --cycles 1 --plain
[ "$(q "SELECT detail FROM steps WHERE name = 'serial_otp' ORDER BY run_id DESC LIMIT 1")" = \
	"OTP already carries serial '$s2': nothing written" ] || fail "second run: $(q "SELECT detail FROM steps WHERE name = 'serial_otp'")"
[ "$(readmem b21.fxb 0x1FFF7010 16)" = ffffffffffffffffffffffffffffffff ] || fail "a second serial was burnt"
[ "$(q "SELECT count(*) FROM serial_alloc")" = 2 ] || fail "a new value was allocated"
ok "OTP: a second run of the same board burns no second serial"

# a board (UID #1) whose OTP holds n 2 from another database, where n 2
# is bound to UID #2: duplicate serial, FAIL, nothing more written
recipe "$T/otp2.ini" 'source = counter' 'format = G4-{yy}{ww}-{n:05}' 'first = 2' 'last = 99999' \
	'pool = g474-otp' 'write = otp' 'encoding = ascii:16'
station "$T/o2.ini" o2 o2.db 1 22
expect 0 "$FX" run --station "$T/o2.ini" --recipe "$T/otp2.ini" --cycles 1 --demo-boards=blank --plain
[ "$(ascii b22.fxb 0x1FFF7000 16)" = "$s2" ] || fail "setup: b22 OTP"
station "$T/o3.ini" o1 o.db 1 22
expect 1 "$FX" run --station "$T/o3.ini" --recipe "$T/otp.ini" --cycles 1 --plain
has "$T/out" "FAIL +slot 1 .*serial: duplicate serial '$s2': bound to chip UID [0-9A-F]{24}"
[ "$(q "SELECT result || ' ' || failing_step || ' ' || error_code FROM runs ORDER BY id DESC LIMIT 1")" = \
	"FAIL serial FX_E_DUPLICATE" ] || fail "duplicate recorded: $(q 'SELECT result, failing_step, error_code FROM runs')"
[ "$(q "SELECT count(*) FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.id = (SELECT max(id) FROM runs) AND s.name IN ('erase', 'program')")" = 0 ] ||
	fail "the duplicate board was erased or programmed"
[ "$(readmem b22.fxb 0x1FFF7010 16)" = ffffffffffffffffffffffffffffffff ] || fail "OTP written after duplicate"
ok "OTP serial bound to another UID: FAIL duplicate serial, nothing written"

# a full OTP FAILs before anything is written: a record of 768 bytes
# (the serial as ascii:256 and 8 columns of 64 raw bytes) from one list
# pool, then the same record size from another
hex64() { # BYTE -> 64 hex pairs joined by ':'
	i=1; h=$1
	while [ $i -lt 64 ]; do h="$h:$1"; i=$((i + 1)); done
	printf '%s' "$h"
}
station "$T/p1.ini" p1 p.db 1 31
for p in a b; do
	{
		printf 'serial,c1,c2,c3,c4,c5,c6,c7,c8\n'
		for r in 1 2; do
			# (a value left: an exhausted pool stops the station
			# before the board, even one that would keep its value)
			printf '%s00%d' $p $r
			for c in 1 2 3 4 5 6 7 8; do printf ',%s' "$(hex64 $c$r)"; done
			printf '\n'
		done
	} >"$T/big-$p.csv"
	set -- 'source = list' "list = $T/big-$p.csv" "pool = big-$p" 'write = otp' 'encoding = ascii:256'
	for c in 1 2 3 4 5 6 7 8; do set -- "$@" "write.c$c = otp" "encoding.c$c = bytes:64"; done
	recipe "$T/big-$p.ini" "$@"
done
expect 0 "$FX" run --station "$T/p1.ini" --recipe "$T/big-a.ini" --cycles 1 --plain
otp=$(readmem b31.fxb 0x1FFF7000 1024)
[ "$(ascii b31.fxb 0x1FFF7000 8)" = a001 ] || fail "record a"
# the same board again: its record is there, nothing written
expect 0 "$FX" run --station "$T/p1.ini" --recipe "$T/big-a.ini" --cycles 1 --plain
[ "$(readmem b31.fxb 0x1FFF7000 1024)" = "$otp" ] || fail "OTP changed on the rerun"
expect 1 "$FX" run --station "$T/p1.ini" --recipe "$T/big-b.ini" --cycles 1 --plain
has "$T/out" "FAIL .*serial: OTP full: no 768 free bytes after the last written double word for serial 'b001' \\(nothing written\\)"
[ "$(readmem b31.fxb 0x1FFF7000 1024)" = "$otp" ] || fail "the full OTP changed"
db="$T/p.db"
[ "$(q "SELECT state FROM serial_alloc WHERE value = 'b001'")" = released ] || fail "b001 not released"
ok "full OTP: FAIL before anything is written, the value released"

# 4. source = scan: the operator's scan is written; a second board with
# the same scan FAILs duplicate serial before anything is written
station "$T/c1.ini" c1 c.db 1 41
cat >"$T/scan.ini" <<EOT
[recipe]
name = tscan
version = 1
target = stm32g474xe
[firmware]
file = $HEX
sha256 = $SHA
[option_bytes]
DBANK = 0
[program]
erase = mass
serial = scan
[app_check]
usb = 1209:0001
within_ms = 1000
[serial_number]
source = scan
write = flash:0x0807F800
encoding = ascii:16
EOT
db="$T/c.db"
expect 0 "$FX" run --station "$T/c1.ini" --recipe "$T/scan.ini" --cycles 1 --demo-boards=blank \
	--serial-scan LBL-77 --plain
[ "$(ascii b41.fxb 0x0807F800 16)" = LBL-77 ] || fail "scan not in flash"
[ "$(q "SELECT state FROM serial_alloc WHERE value = 'LBL-77'")" = bound ] || fail "scan not bound"
# demo board 1 again with its label (kept), then demo board 2 (another
# UID) with the same label
expect 1 "$FX" run --station "$T/c1.ini" --recipe "$T/scan.ini" --cycles 2 --demo-boards=blank \
	--serial-scan LBL-77,LBL-77 --plain
has "$T/out" "PASS +slot 1 serial LBL-77 board blank"
has "$T/out" "FAIL +slot 1 serial LBL-77 .*serial: duplicate serial 'LBL-77': bound to chip UID [0-9A-F]{24}"
expect 0 "$FX" report serials --db "$db"
has "$T/out" '^tscan +scan +1 +0 +0 +0 +- +0 +LBL-77$'
ok "scan: the scanned serial written and bound; the same label on another board FAILs"
