# tflash.sh - fixturectl info / ob / flash / read end to end on emulated boards
. tests/cli/lib.sh

BD="$T/b.fxb"
expect 0 "$FX" emu create "$BD"
ok "emu create"

expect 0 "$FX" info --device "emu:$BD"
has "$T/out" "0483:df11"
has "$T/out" "Internal Flash"
has "$T/out" "DBANK += 1"
ok "info on a factory-fresh board: dual bank"

# DBANK 1 -> 0, BOOT0 held high: the bootloader returns, values re-read
expect 0 "$FX" ob --device "emu:$BD" --set DBANK=0
has "$T/out" "reset seen, bootloader back"
has "$T/out" "DBANK += 0"
expect 0 "$FX" emu show "$BD"
has "$T/out" "DBANK=0"
ok "ob DBANK=0 with the expected reset"

# same request again: nothing to write
expect 0 "$FX" ob --device "emu:$BD" --set DBANK=0
has "$T/out" "already as requested"
ok "ob idempotent"

# program + verify a raw image, read it back byte for byte
mkbin "$T/fw.bin" 70000 7
expect 0 "$FX" flash --device "emu:$BD" --address 0x08000000 --no-leave "$T/fw.bin"
has "$T/out" "70000 bytes programmed and verified"
expect 0 "$FX" read --device "emu:$BD" --address 0x08000000 --length 70000 -o "$T/back.bin"
cmp "$T/fw.bin" "$T/back.bin" || fail "read-back differs"
ok "flash + read back a 70000-byte image"

# DBANK 1 -> 0 and the flash in one command: the option bytes first, the
# reset, then erase at the new layout's 4 KiB pages (70000 B = 18 pages,
# 35 at 2 KiB), program, verify
BS="$T/set.fxb"
expect 0 "$FX" emu create "$BS"
expect 0 "$FX" flash --device "emu:$BS" --set DBANK=0 --address 0x08000000 --no-leave "$T/fw.bin"
has "$T/out" "^writing option bytes: OPTR 0xFFEFF8AA -> 0xFFAFF8AA; expecting the reset$"
has "$T/out" "^reset seen, bootloader back after [0-9.]+ ms$"
has "$T/out" "70000 bytes programmed and verified, 18 pages erased$"
[ "$(sed -n 1p "$T/out" | cut -c1-21)" = "writing option bytes:" ] || fail "the OPTR line is not first"
expect 0 "$FX" emu show "$BS"
has "$T/out" "DBANK=0"
expect 0 "$FX" read --device "emu:$BS" --address 0x08000000 --length 70000 -o "$T/back2.bin"
cmp "$T/fw.bin" "$T/back2.bin" || fail "read-back after flash --set differs"
ok "flash --set DBANK=0: option bytes, reset, then the image at 4 KiB pages"

# again: nothing to write, no reset, the page size from the read
expect 0 "$FX" flash --device "emu:$BS" --set DBANK=0 --set nSWBOOT0=1 --mass-erase \
	--address 0x08000000 --no-leave "$T/fw.bin" --stats
has "$T/out" "^option bytes already as requested, nothing written$"
if grep -q "reset seen" "$T/out"; then fail "a reset reported with nothing written"; fi
has "$T/out" "70000 bytes programmed and verified, 0 pages erased \(mass erase\)"
has "$T/out" "stats: total_us=[0-9]+ ob_us=0 erase_us="
ok "flash --set with the option bytes already as asked: no write, no reset"

# bad assignments: refused before the image is read or the board touched,
# with ob's codes and messages
BU="$T/untouched.fxb"
expect 0 "$FX" emu create "$BU"
cp "$BU" "$T/untouched.orig"
expect 64 "$FX" flash --device "emu:$BU" --set DBANK=0 --set dbank=1 --address 0x08000000 "$T/missing.bin"
has "$T/err" "^fixturectl flash: --set DBANK=0 and --set dbank=1 conflict \(DBANK set twice\)"
expect 65 "$FX" flash --device "emu:$BU" --set NOSUCHFIELD=1 --address 0x08000000 "$T/missing.bin"
has "$T/err" "^fixturectl flash: option byte 'NOSUCHFIELD': unknown field \(see 'fixturectl info'\)$"
expect 65 "$FX" ob --device "emu:$BU" --set NOSUCHFIELD=1
has "$T/err" "^fixturectl ob: option byte 'NOSUCHFIELD': unknown field \(see 'fixturectl info'\)$"
expect 65 "$FX" flash --device "emu:$BU" --set DBANK=2 --address 0x08000000 "$T/fw.bin"
has "$T/err" "^fixturectl flash: option byte 'DBANK': expected a number 0 \.\. 1, got '2'$"
expect 65 "$FX" flash --device "emu:$BU" --set DBANK --address 0x08000000 "$T/fw.bin"
has "$T/err" "^fixturectl flash: option byte assignment 'DBANK': expected NAME=VALUE$"
expect 64 "$FX" flash --device "emu:$BU" --set DBANK=0 --ob-timeout 0 --address 0x08000000 "$T/fw.bin"
has "$T/err" "^fixturectl flash: --ob-timeout: expected 1 \.\. 600000 ms, got '0'"
expect 65 "$FX" flash --device "emu:$BU" --set RDP=0xCC --address 0x08000000 "$T/fw.bin"
has "$T/err" "level 2.*refused"
cmp -s "$BU" "$T/untouched.orig" || fail "a refused flash --set changed the board file"
ok "flash --set: bad assignments exit 64/65 naming them, board untouched"

# the bootloader does not come back after the option bytes (return=never):
# nothing erased or programmed, exit 69
BL="$T/never.fxb"
expect 0 "$FX" emu create "$BL"
expect 69 "$FX" flash --device "emu:$BL?return=never" --set DBANK=0 --ob-timeout 2000 --address 0x08000000 "$T/fw.bin"
has "$T/out" "^writing option bytes:"
has "$T/err" "^fixturectl flash: flash: option bytes written at 0x1FFF7800: the bootloader did not come back within 2000 ms"
if grep -q "programmed" "$T/out"; then fail "success reported without the bootloader"; fi
expect 0 "$FX" read --device "emu:$BL" --address 0x08000000 --length 70000 -o "$T/back3.bin"
[ "$(od -An -v -tx1 "$T/back3.bin" | tr -d ' \n' | tr -d f)" = "" ] || fail "the flash is not blank after the failed --set"
ok "flash --set, the bootloader never back: exit 69, nothing programmed"

# the field report: BOOT0 low during the option-byte reset -> bootloader lost
BF="$T/field.fxb"
expect 0 "$FX" emu create "$BF"
expect 69 "$FX" ob --device "emu:$BF?boot0=0" --set DBANK=0
has "$T/err" "fixturectl ob:"
ok "ob with BOOT0 low: the bootloader does not come back (exit 69)"

# usage errors and bad input
expect 64 "$FX" flash --device "emu:$BD"
expect 64 "$FX" ob --device "emu:$BD" --bogus
expect 64 "$FX" read --device "emu:$BD" --address zz --length 4 -o "$T/x"
expect 65 "$FX" ob --device "emu:$BD" --set NOSUCHFIELD=1
expect 66 "$FX" flash --device "emu:$BD" --address 0x08000000 "$T/missing.bin"
expect 65 "$FX" flash --device "emu:$BD" --address 0x08080000 "$T/fw.bin"
ok "usage (64), bad data (65), missing file (66)"

# one field set to two values: neither wins, a usage error naming both
expect 64 "$FX" ob --device "emu:$BD" --set DBANK=0 --set DBANK=1
has "$T/err" "ob: --set DBANK=0 and --set DBANK=1 conflict"
expect 64 "$FX" ob --device "emu:$BD" --set RDP=0xAA --set nswboot0=1 --set rdp=0xBB
has "$T/err" "ob: --set RDP=0xAA and --set rdp=0xBB conflict"
expect 0 "$FX" ob --device "emu:$BD" --set DBANK=0 --set dbank=0x0
has "$T/out" "already as requested"
ok "ob: conflicting --set is exit 64 naming both; a repeat of one value is fine"

# a malformed device URI is a bad command line (64), for every device command
for u in "" "usb:abc" "usb:1-" "usb:serial=" "emu:" "nope:x" "emu:$BD?nosuchknob=1"; do
	for c in info ob; do
		expect 64 "$FX" $c --device "$u"
		has "$T/err" "fixturectl $c: .*(expected|unknown).*see 'fixturectl $c --help'"
	done
	expect 64 "$FX" read --device "$u" --address 0x08000000 --length 4 -o "$T/x"
	expect 64 "$FX" flash --device "$u" --address 0x08000000 "$T/fw.bin"
done
ok "malformed device URIs: exit 64"

# every device command's --help lists its exit codes
for c in info read flash ob; do
	expect 0 "$FX" $c --help
	for code in 64 65 66 69 74 76; do
		has "$T/out" "(codes:| |,)$code "
	done
done
expect 0 "$FX" emu --help
has "$T/out" "65 bad image"
has "$T/out" "66 FILE missing"
ok "--help lists the exit codes"

# a file that is not a board is bad data (65); a missing one stays 66
printf 'not a board\n' >"$T/junk.fxb"
expect 65 "$FX" emu show "$T/junk.fxb"
has "$T/err" "not an emulated board file"
expect 66 "$FX" emu show "$T/missing.fxb"
has "$T/err" "no such board file"
expect 65 "$FX" info --device "emu:$T/junk.fxb"
has "$T/err" "not an emulated board file"
ok "emu show / --device emu: on a non-board file: 65"

# an unknown short option inside a cluster is named itself, not the
# argument before it
expect 64 "$FX" flash --device "emu:$BD" -zq x
has "$T/err" "^fixturectl flash: unknown option '-z' "
expect 64 "$FX" info --device="emu:$BD" -vz
has "$T/err" "unknown option '-z' "
expect 64 "$FX" read --device "emu:$BD" --address 0 --length 4 -vo
has "$T/err" "option '-o' needs a value"
expect 64 "$FX" read --address 0 --length 4 -o x --device
has "$T/err" "option '--device' needs a value"
expect 64 "$FX" info --help=x --device "emu:$BD"
has "$T/err" "unknown option '--help=x'"
expect 64 "$FX" emu create -zq "$T/y.fxb"
has "$T/err" "fixturectl emu: unknown option '-z'"
ok "unknown or incomplete options named as written"

# fault injection through the URI: a dropped board never gives success
expect 0 "$FX" emu create "$T/f.fxb"
"$FX" flash --device "emu:$T/f.fxb?fault=drop&fault_nth=60" --address 0x08000000 "$T/fw.bin" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -ne 0 ] || fail "flash succeeded on a board that dropped off the bus"
ok "dropped board: exit $rc, no success"

# an honest but very slow erase (25 s mass erase) is waited for, bounded
expect 0 "$FX" emu create "$T/slow.fxb"
expect 0 "$FX" flash --device "emu:$T/slow.fxb?erase_scale=1000" --mass-erase --address 0x08000000 "$T/fw.bin"
has "$T/out" "programmed and verified"
ok "25 s mass erase (erase_scale=1000) waited for"

# RDP level 2 would brick the bootloader for good: refused, board untouched
expect 0 "$FX" emu create "$T/r2.fxb"
expect 65 "$FX" ob --device "emu:$T/r2.fxb" --set RDP=0xCC
has "$T/err" "level 2.*refused"
expect 0 "$FX" emu show "$T/r2.fxb"
has "$T/out" "RDP level 0"
ok "RDP level 2 refused"

# output to a FIFO (or /dev/null) is written in place, never replaced
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/fromfifo" &
expect 0 "$FX" read --device "emu:$BD" --address 0x08000000 --length 4096 -o "$T/fifo"
wait
[ -p "$T/fifo" ] || fail "the FIFO was replaced by a regular file"
[ "$(wc -c <"$T/fromfifo")" -eq 4096 ] || fail "4096 bytes did not come through the FIFO"
expect 66 "$FX" emu create --force "$T/fifo"
has "$T/err" "not a regular file"
[ -p "$T/fifo" ] || fail "emu create replaced the FIFO"
ok "non-regular outputs are written in place or refused, never replaced"

for c in info ob flash read emu; do
	expect 0 "$FX" $c --help
	has "$T/out" "usage: fixturectl $c"
done
expect 0 "$FX" flash --help
has "$T/out" "\[--set NAME=VALUE\]\.\.\. \[--ob-timeout MS\]"
has "$T/out" "^  --set NAME=VALUE "
has "$T/out" "^  --ob-timeout MS "
ok "--help for every device command"
echo "$n tests passed"
