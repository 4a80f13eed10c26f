# tdfuutil.sh - fixturectl and Debian's dfu-util 0.11 alternating on one
# board file (through build/fxemu): what one writes, the other reads back.
[ -r tests/cli/lib.sh ] || { echo "skip: tests/cli/lib.sh missing"; exit 77; }
. tests/cli/lib.sh
FXEMU="$B/fxemu"
DFU=/usr/bin/dfu-util
[ -x "$FXEMU" ] || { echo "skip: $FXEMU not built"; exit 77; }
[ -x "$DFU" ] || { echo "skip: $DFU (Debian package dfu-util) not installed"; exit 77; }
EMU() { "$FXEMU" --realtime=0.05 --board "$BD" -- "$@"; }
BD="$T/shared.fxb"

# fixturectl writes (in-process emu:), dfu-util reads
mkbin "$T/a.bin" 40000 1
expect 0 "$FX" flash --device "emu:$BD" --address 0x08000000 --no-leave "$T/a.bin"
expect 0 EMU "$DFU" -a 0 -s 0x08000000:40000 -U "$T/a-back.bin"
cmp "$T/a.bin" "$T/a-back.bin" || fail "dfu-util reads other bytes than fixturectl wrote"
ok "fixturectl flash (emu:) -> dfu-util -U"

# dfu-util writes, fixturectl reads (over usb: and from the file)
mkbin "$T/b.bin" 30000 2
expect 0 EMU "$DFU" -a 0 -s 0x08000000:leave -D "$T/b.bin"
has "$T/out" "File downloaded successfully"
expect 0 EMU "$FX" read --device usb:1-1 --address 0x08000000 --length 30000 -o "$T/b-usb.bin"
cmp "$T/b.bin" "$T/b-usb.bin" || fail "fixturectl (usb:) reads other bytes than dfu-util wrote"
expect 0 "$FX" read --device "emu:$BD" --address 0x08000000 --length 30000 -o "$T/b-emu.bin"
cmp "$T/b.bin" "$T/b-emu.bin" || fail "board file differs from what dfu-util wrote"
ok "dfu-util -D :leave -> fixturectl read (usb: and emu:)"

# dfu-util writes the option bytes (DBANK=0, :will-reset), fixturectl sees them
expect 0 EMU "$DFU" -a 1 -s 0x1FFF7800:48 -U "$T/ob.bin"
# OPTR 0xFFEFF8AA -> 0xFFAFF8AA: byte 2 EF -> AF, complement byte 6 10 -> 50
od -An -v -tx1 "$T/ob.bin" | tr -s ' \n' ' ' | sed 's/^ //' >"$T/ob.hex"
has "$T/ob.hex" "^aa f8 ef ff 55 07 10 00 "
printf '\252\370\257\377\125\007\120\000' >"$T/ob0.bin"
dd if="$T/ob.bin" bs=1 skip=8 count=40 2>/dev/null >>"$T/ob0.bin"
[ "$(wc -c <"$T/ob0.bin")" -eq 48 ] || fail "ob0.bin is not 48 bytes"
expect 0 EMU "$DFU" -a 1 -s 0x1FFF7800:will-reset -D "$T/ob0.bin"
expect 0 EMU "$FX" info --device usb:1-1
has "$T/out" "OPTR 0xFFAFF8AA"
has "$T/out" "alt 0  Internal Flash   0x08000000-0x0807ffff 128 x 4096 B rew"
ok "dfu-util OB :will-reset (DBANK=0) -> fixturectl info over usb:"

# fixturectl writes the option bytes back (DBANK=1), dfu-util lists 2 KiB pages
expect 0 EMU "$FX" ob --device usb:1-1 --set DBANK=1
has "$T/out" "reset seen, bootloader back"
expect 0 EMU "$DFU" -l
has "$T/out" "alt=0, name=\"@Internal Flash   /0x08000000/256\\*02Kg\""
expect 0 EMU "$DFU" -a 1 -s 0x1FFF7800:48 -U "$T/ob2.bin"
# OPTR and its complement as before (reserved bits of the other words may
# now read 1: spec 3.2)
head -c 8 "$T/ob.bin" >"$T/optr.bin"
head -c 8 "$T/ob2.bin" >"$T/optr2.bin"
cmp "$T/optr.bin" "$T/optr2.bin" || fail "OPTR after DBANK=0 -> 1 differs from the factory value"
ok "fixturectl ob (usb:) DBANK=1 -> dfu-util -l / -U"
