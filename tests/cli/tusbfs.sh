# tusbfs.sh - fixturectl over the real libusb transport (--device usb:...)
# through build/fxemu: devices, info, ob (DBANK 1->0 with the reset and
# re-enumeration), flash + verify, errors; the board file is checked with
# fixturectl --device emu:FILE afterwards. Boards run 20x faster than the
# spec's timings (--realtime=0.05).
[ -r tests/cli/lib.sh ] || { echo "skip: tests/cli/lib.sh missing"; exit 77; }
. tests/cli/lib.sh
FXEMU="$B/fxemu"
[ -x "$FXEMU" ] || { echo "skip: $FXEMU not built"; exit 77; }
EMU() { "$FXEMU" --realtime=0.05 "$@"; }

B1="$T/one.fxb"
B2="$T/two.fxb"

# no board on the bus: nothing listed, exit 69
expect 69 EMU -- "$FX" devices
has "$T/err" "^fixturectl devices: no DFU device \(0483:df11\) found$"
ok "devices on an empty bus: exit 69"

expect 0 EMU --board "$B1" --board "$B2" -- "$FX" devices
has "$T/out" "^usb:1-1 +0483:df11  serial [0-9A-F]{12} +bus 1 dev 2  \"DFU in FS Mode\"$"
has "$T/out" "^usb:1-2 +0483:df11  serial [0-9A-F]{12} +bus 1 dev 3  "
has "$T/out" "alt 0  Internal Flash   0x08000000-0x0807ffff 256 x 2048 B rew"
has "$T/out" "alt 1  Option Bytes     0x1fff7800-0x1fff782f 1 x 48 B r-w"
[ "$(grep -c 'alt 2  OTP Memory' "$T/out")" -eq 2 ] || fail "two OTP alts expected"
ok "devices lists both boards by port path with their layouts"

# two boards and 'usb:': refused, candidates named
expect 69 EMU --board "$B1" --board "$B2" -- "$FX" info --device usb:
has "$T/err" "^fixturectl info: device .usb:.: 2 DFU devices on the system: 1-1 \(serial [0-9A-F]{12}\), 1-2 \(serial [0-9A-F]{12}\); name one with usb:PORTPATH or usb:serial=S"
ok "usb: with two boards is ambiguous (exit 69, candidates listed)"

expect 69 EMU --board "$B1" -- "$FX" info --device usb:1-3
has "$T/err" "no DFU device \(0483:df11\) on port 1-3"
ok "usb:1-3 with a board on 1-1: not found (exit 69)"

expect 64 EMU --board "$B1" -- "$FX" info --device usb:one-one
has "$T/err" "expected usb:, usb:PORTPATH \(e.g. 1-1.4\) or usb:serial=S"
ok "malformed usb: URI is a bad command line (exit 64)"

# the second board by port path and by serial
expect 0 EMU --board "$B1" --board "$B2" -- "$FX" info --device usb:1-2
has "$T/out" "DBANK += 1"
SER=$(sed -n 's/.*serial \([0-9A-F]\{12\}\).*/\1/p' "$T/out" | head -n 1)
[ -n "$SER" ] || fail "no serial in info output"
expect 0 EMU --board "$B1" --board "$B2" -- "$FX" info --device "usb:serial=$SER"
has "$T/out" "serial $SER"
ok "info by port path and by serial"

# DBANK 1 -> 0 over libusb: reset, re-enumeration on the same port
expect 0 EMU --board "$B1" -- "$FX" ob --device usb:1-1 --set DBANK=0
has "$T/out" "reset seen, bootloader back after"
has "$T/out" "DBANK += 0"
expect 0 "$FX" info --device "emu:$B1"
has "$T/out" "DBANK += 0"
ok "ob DBANK=0 over usb: (reset + re-enumeration), board file agrees"

# flash + verify + leave over libusb, read back from the board file
mkbin "$T/fw.bin" 200000 3
expect 0 EMU --board "$B1" -- "$FX" flash --device usb:1-1 --address 0x08000000 "$T/fw.bin"
has "$T/out" "200000 bytes programmed and verified"
expect 0 "$FX" read --device "emu:$B1" --address 0x08000000 --length 200000 -o "$T/back.bin"
cmp "$T/fw.bin" "$T/back.bin" || fail "board file content differs from the image"
ok "flash over usb: (single bank), board file holds the image"

# unplug mid-download: a clear error, never success
expect 69 EMU --board "$T/drop.fxb?fault=drop&fault_req=dnload&fault_nth=20" -- \
	"$FX" flash --device usb:1-1 --address 0x08000000 "$T/fw.bin"
has "$T/err" "^fixturectl flash: .*(left the bus|disconnected)"
if grep -q "programmed and verified" "$T/out"; then fail "success reported after the unplug"; fi
ok "board dropped mid-download: exit 69, no success"
