# tusbfs_flash_set.sh - the DBANK 1->0 + flash job in one command over the
# real libusb transport (--device usb:1-1 through build/fxemu), and the
# control transfers it costs, counted in fxemu -vv's log: the option bytes
# read once before the write (one 48-byte UPLOAD per block) and the
# written block once after the reset, nothing more (no re-read before the
# write, none for the erase page size); the string language ID once per
# open of the device (before the reset and after it). `ob --set` likewise.
# Boards run 20x faster than the spec's timings (--realtime=0.05).
[ -r tests/cli/lib.sh ] || { echo "skip: tests/cli/lib.sh missing"; exit 77; }
. tests/cli/lib.sh
FXEMU="$B/fxemu"
[ -x "$FXEMU" ] || { echo "skip: $FXEMU not built"; exit 77; }
EMU() { "$FXEMU" --realtime=0.05 "$@"; }
# count LOG REGEX: the control transfers of fxemu's -vv log matching
count() { grep -Ec "fxemu: dev [0-9]+: $2" "$1"; }
# the 48-byte UPLOADs (option-byte blocks) and GET_DESCRIPTOR(string 0)
ob_reads() { count "$1" "a1 02 [0-9a-f]{4} 0000 48 "; }
lang_reads() { count "$1" "80 06 0300 0000 "; }

mkbin "$T/fw.bin" 70000 5

# page erase: 70000 B at the 4 KiB pages of the new layout = 18 pages
B1="$T/one.fxb"
expect 0 EMU -vv --board "$B1" -- "$FX" flash --device usb:1-1 --set DBANK=0 \
	--address 0x08000000 "$T/fw.bin"
has "$T/out" "^writing option bytes: OPTR 0xFFEFF8AA -> 0xFFAFF8AA; expecting the reset$"
has "$T/out" "^reset seen, bootloader back after [0-9.]+ ms$"
has "$T/out" "70000 bytes programmed and verified, 18 pages erased, left DFU"
[ "$(ob_reads "$T/err")" -eq 3 ] || fail "option-byte block reads: $(ob_reads "$T/err"), expected 3 (2 before the write, 1 after the reset)"
[ "$(lang_reads "$T/err")" -eq 2 ] || fail "language ID reads: $(lang_reads "$T/err"), expected 2 (one per open)"
expect 0 "$FX" info --device "emu:$B1"
has "$T/out" "DBANK += 0"
expect 0 "$FX" read --device "emu:$B1" --address 0x08000000 --length 70000 -o "$T/back.bin"
cmp "$T/fw.bin" "$T/back.bin" || fail "board file content differs from the image"
ok "flash --set DBANK=0 over usb: (page erase): 3 option-byte reads, 2 language reads, board file agrees"

# the bench's job: mass erase
B2="$T/two.fxb"
expect 0 EMU -vv --board "$B2" -- "$FX" flash --device usb:1-1 --set DBANK=0 --mass-erase \
	--address 0x08000000 "$T/fw.bin"
has "$T/out" "^reset seen, bootloader back after"
has "$T/out" "70000 bytes programmed and verified, 0 pages erased \(mass erase\)"
[ "$(ob_reads "$T/err")" -eq 3 ] || fail "mass erase: option-byte block reads: $(ob_reads "$T/err"), expected 3"
expect 0 "$FX" info --device "emu:$B2"
has "$T/out" "DBANK += 0"
ok "flash --set DBANK=0 --mass-erase over usb:"

# the same again: already single bank, no write, no reset, one open
expect 0 EMU -vv --board "$B2" -- "$FX" flash --device usb:1-1 --set DBANK=0 \
	--address 0x08000000 "$T/fw.bin"
has "$T/out" "^option bytes already as requested, nothing written$"
[ "$(ob_reads "$T/err")" -eq 2 ] || fail "nothing to write: option-byte block reads: $(ob_reads "$T/err"), expected 2"
[ "$(lang_reads "$T/err")" -eq 1 ] || fail "nothing to write: language ID reads: $(lang_reads "$T/err"), expected 1"
ok "flash --set with nothing to write: 2 option-byte reads, no reset"

# ob --set: read once, written, the block re-read after the reset
B3="$T/three.fxb"
expect 0 EMU -vv --board "$B3" -- "$FX" ob --device usb:1-1 --set DBANK=0
has "$T/out" "reset seen, bootloader back after"
has "$T/out" "DBANK += 0"
[ "$(ob_reads "$T/err")" -eq 3 ] || fail "ob: option-byte block reads: $(ob_reads "$T/err"), expected 3"
[ "$(lang_reads "$T/err")" -eq 2 ] || fail "ob: language ID reads: $(lang_reads "$T/err"), expected 2"
ok "ob --set DBANK=0 over usb:: 3 option-byte reads, 2 language reads"

# after a reset the bootloader never returns: exit 69, nothing programmed
expect 69 EMU --board "$T/never.fxb?return=never" -- "$FX" flash --device usb:1-1 \
	--set DBANK=0 --ob-timeout 1000 --address 0x08000000 "$T/fw.bin"
has "$T/err" "^fixturectl flash: flash: option bytes written at 0x1FFF7800: .*within 1000 ms"
if grep -q "programmed" "$T/out"; then fail "success reported without the bootloader"; fi
ok "flash --set over usb:, the bootloader never back: exit 69"
echo "$n tests passed"
