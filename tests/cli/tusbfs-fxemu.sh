# tusbfs-fxemu.sh - build/fxemu itself: exit status pass-through, usage and
# board-file errors, the environment CMD sees, --app-vid with the
# application enumerating (BOOT0 low), 'devices --vid-pid'.
[ -r tests/cli/lib.sh ] || { echo "skip: tests/cli/lib.sh missing"; exit 77; }
. tests/cli/lib.sh
FXEMU="$B/fxemu"
[ -x "$FXEMU" ] || { echo "skip: $FXEMU not built"; exit 77; }

expect 7 "$FXEMU" --realtime=0.05 --board "$T/a.fxb" -- sh -c 'exit 7'
[ -s "$T/a.fxb" ] || fail "board file not saved"
ok "CMD's exit status comes back, the board file is saved"

expect 0 "$FXEMU" --realtime=0.05 --board "$T/a.fxb" --board "$T/b.fxb" -- \
	sh -c 'echo "ports=$FXEMU_PORTS dir=${UMOCKDEV_DIR:+set} pre=$LD_PRELOAD"'
has "$T/out" "^ports=1-1 1-2 dir=set pre=[^:]*/libfxemu-preload.so:libumockdev-preload.so.0"
ok "CMD runs in the testbed (FXEMU_PORTS, UMOCKDEV_DIR, LD_PRELOAD with the companion first)"

expect 64 "$FXEMU" --board "$T/a.fxb"
has "$T/err" "^fxemu: expected -- CMD \[ARGS...\]$"
expect 64 "$FXEMU" --realtime=0 -- true
has "$T/err" "^fxemu: --realtime: expected a scale > 0, got '0'$"
expect 64 "$FXEMU" --board "$T/a.fxb?bogus=1" -- true
has "$T/err" "^fxemu: board '$T/a.fxb': knob 'bogus': unknown knob$"
expect 64 "$FXEMU" --app-vid 12345 -- true
has "$T/err" "^fxemu: --app-vid: expected VID:PID in hex, got '12345'$"
ok "usage errors: exit 64 with the reason"

printf 'not a board' >"$T/junk.fxb"
expect 66 "$FXEMU" --board "$T/junk.fxb" -- true
has "$T/err" "^fxemu: board file '$T/junk.fxb': "
expect 127 "$FXEMU" -- "$T/no-such-program"
has "$T/err" "^fxemu: cannot run '$T/no-such-program': No such file or directory$"
ok "bad board file: 66; CMD not found: 127"

# a new board with another application identity; a valid vector table
# (SP 0x20020000, reset 0x08000101) boots the application with BOOT0 low
expect 0 "$FXEMU" --realtime=0.05 --app-vid 1234:abcd --board "$T/app.fxb" -- true
printf '\000\000\002\040\001\001\000\010' >"$T/vt.bin"
expect 0 "$FX" flash --device "emu:$T/app.fxb" --address 0x08000000 --no-leave "$T/vt.bin"
expect 0 "$FXEMU" --realtime=0.05 --board "$T/app.fxb?boot0=0" -- "$FX" devices --vid-pid 1234:abcd
has "$T/out" "^usb:1-1 +1234:abcd  serial "
has "$T/out" "layout not read: "
expect 69 "$FXEMU" --realtime=0.05 --board "$T/app.fxb?boot0=0" -- "$FX" devices
has "$T/err" "^fixturectl devices: no DFU device \(0483:df11\) found$"
expect 69 "$FXEMU" --realtime=0.05 --board "$T/app.fxb?boot0=0" -- "$FX" info --device usb:1-1
has "$T/err" "no DFU device \(0483:df11\) on port 1-1"
ok "--app-vid: the application enumerates as 1234:abcd; devices --vid-pid lists it"

expect 64 "$FX" devices --vid-pid zz
has "$T/err" "^fixturectl devices: --vid-pid: expected VID:PID in hex, got 'zz'"
expect 64 "$FX" devices extra
has "$T/err" "^fixturectl devices: unexpected argument 'extra'"
ok "devices usage errors: exit 64"

# one board file given twice: the second save would overwrite the first's
# programming; refused before anything runs (realpath / dev:ino)
expect 64 "$FXEMU" --board "$T/dup.fxb" --board "$T/./dup.fxb" -- true
has "$T/err" "^fxemu: --board '$T/./dup.fxb': the same board file as --board '$T/dup.fxb' \(each board needs its own file\)$"
[ ! -e "$T/dup.fxb" ] || fail "refused run created a board file"
expect 0 "$FXEMU" --realtime=0.05 --board "$T/dup.fxb" -- true
ln -s dup.fxb "$T/link.fxb"
expect 64 "$FXEMU" --board "$T/link.fxb" --board "$T/dup.fxb?fault=drop" -- true
has "$T/err" "^fxemu: --board '$T/dup.fxb\?fault=drop': the same board file as --board '$T/link.fxb' "
ok "the same board file twice: exit 64 with the reason"

# the board drops off the bus inside the erase page size read (nth 18-22
# of a 100 KiB flash): a clean error, exit 69, no libusb abort
head -c 102400 /dev/zero | tr '\0' '\132' >"$T/fw100k.bin"
for k in 18 20 22; do
	expect 69 "$FXEMU" --realtime=0.05 --board "$T/dra$k.fxb" \
		--board "$T/drb$k.fxb?fault=drop&fault_nth=$k" -- \
		"$FX" flash --device usb:1-2 --address 0x08000000 "$T/fw100k.bin"
	has "$T/err" "^fixturectl flash: flash: erase page size: read option bytes at .*device left the bus"
	! grep -qi "verified\|written" "$T/out" || fail "nth $k: success reported"
done
ok "a drop inside the option-byte read: exit 69, no abort"

# a fresh board with another application identity has the chip UID of a
# fresh board of the same path (fx_emu_uid_from_path: one derivation)
expect 0 "$FXEMU" --realtime=0.05 --board "$T/uid.fxb" -- true
expect 0 "$FX" emu show "$T/uid.fxb"
plain=$(sed -n 's/^serial: *//p' "$T/out")
rm -f "$T/uid.fxb"
expect 0 "$FXEMU" --realtime=0.05 --app-vid 1234:abcd --board "$T/uid.fxb" -- true
expect 0 "$FX" emu show "$T/uid.fxb"
[ -n "$plain" ] && [ "$(sed -n 's/^serial: *//p' "$T/out")" = "$plain" ] ||
	fail "--app-vid board serial $(sed -n 's/^serial: *//p' "$T/out"), plain $plain"
ok "--app-vid: a fresh board keeps the UID of its path"

expect 64 "$FXEMU" --hub star -- true
has "$T/err" "^fxemu: --hub: expected multi-tt or single-tt, got 'star'$"
expect 0 "$FXEMU" --help
has "$T/out" "[-]-hub multi-tt\|single-tt"
ok "--hub: multi-tt or single-tt, anything else exit 64"

# the hub model: two clients reading two boards at once. single-tt: the
# boards share one full-speed bus, so transfers wait for it (logged with
# -vv); multi-tt: never. The bytes read are the same either way.
FXA=$(cd "$(dirname "$FX")" && pwd)/$(basename "$FX")
for hub in multi-tt single-tt; do
	expect 0 "$FXEMU" --realtime=1 -vv --hub $hub --board "$T/h1.fxb" --board "$T/h2.fxb" -- \
		sh -c "\"$FXA\" read --device usb:1-1 --address 0x08000000 --length 262144 -o \"$T/r1.$hub\" &
		       \"$FXA\" read --device usb:1-2 --address 0x08000000 --length 262144 -o \"$T/r2.$hub\"; wait"
	grep -c "waits for the shared bus" "$T/err" >"$T/waits.$hub"
	cmp "$T/r1.$hub" "$T/r2.$hub" || fail "$hub: the two fresh boards read differently"
done
[ "$(cat "$T/waits.multi-tt")" = 0 ] || fail "multi-tt: $(cat "$T/waits.multi-tt") transfers waited for a shared bus"
[ "$(cat "$T/waits.single-tt")" -gt 0 ] || fail "single-tt: no transfer waited for the shared bus"
cmp "$T/r1.multi-tt" "$T/r1.single-tt" || fail "single-tt read other bytes"
ok "--hub single-tt: concurrent transfers of two boards take turns on one bus; multi-tt: never"
