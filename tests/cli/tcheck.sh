# tcheck.sh - fixturectl check: the shipped station and recipe files, and
# bad files with every problem reported as FILE:LINE (exit 65/66/64).
. tests/cli/lib.sh

# the shipped files are valid
expect 0 "$FX" check stations/emu-1slot.ini stations/example-rpi.ini
printf '%s\n' \
	"stations/emu-1slot.ini: ok (station emu-1slot, 1 slot, gpio sim)" \
	"stations/example-rpi.ini: ok (station rpi-jig-1, 1 slot, gpio gpiod)" >"$T/want"
diff -u "$T/want" "$T/out" || fail "station check output"
[ -s "$T/err" ] && fail "stderr not empty"
ok "shipped stations"

expect 0 "$FX" check config/demo-g474.ini
echo "config/demo-g474.ini: ok (recipe demo-g474 1.0)" >"$T/want"
diff -u "$T/want" "$T/out" || fail "recipe check output"
ok "shipped demo recipe (firmware present, SHA-256 matches)"

# a recipe from another directory: the firmware resolves next to it
mkdir "$T/r"
cp config/demo-g474.hex "$T/r/fw.hex"
sha=$(sha256sum "$T/r/fw.hex" | cut -d' ' -f1)
cat >"$T/r/good.ini" <<INI
[recipe]
name = moved
version = 3
target = stm32g474xe
[firmware]
file = fw.hex
sha256 = $sha
INI
expect 0 "$FX" check "$T/r/good.ini"
has "$T/out" "^$T/r/good.ini: ok \\(recipe moved 3\\)\$"
ok "firmware path relative to the recipe"

# every problem, in file order, with its line
cat >"$T/r/bad.ini" <<INI
[recipe]
name = bad recipe
version = 1
target = stm32g474xe
[firmware]
file = fw.hex
sha256 = $(printf '%064d' 0)
[option_bytes]
DBANK = 2
nSWBOOT0 = 0
[program]
erase = all
erase = mass
[extras]
INI
expect 65 "$FX" check "$T/r/bad.ini"
cat >"$T/want" <<WANT
$T/r/bad.ini:2: key 'name': expected letters, digits, '.', '_' or '-', got 'bad recipe'
$T/r/bad.ini:9: key 'DBANK': expected a number from 0 to 1 (1-bit field), got '2'
$T/r/bad.ini:12: key 'erase': expected pages or mass, got 'all'
$T/r/bad.ini:13: key 'erase': duplicate (first set at line 12)
$T/r/bad.ini:14: section 'extras': unknown section (expected recipe, firmware, option_bytes, program, timeouts, app_check or serial_number)
$T/r/bad.ini:7: key 'sha256': does not match '$T/r/fw.hex' (its sha256 is $sha)
$T/r/bad.ini:10: key 'nSWBOOT0': 0 takes BOOT0 from the nBOOT0 bit and ignores the BOOT0 pin: the station could not enter the bootloader again
WANT
diff -u "$T/want" "$T/err" || fail "recipe errors"
[ -s "$T/out" ] && fail "stdout not empty"
ok "bad recipe: all errors with file:line, exit 65"

# a station: a mix of emulated and real lines, a bad device, long line
long=$(printf '%0200d' 0)
cat >"$T/s.ini" <<INI
[station]
name = s1
database = s1.db
start = sim:START
[slot 1]
device = usb:1-1
boot0 = gpiochip0:5 pull-sideways
nrst = sim:NRST
; $long
INI
expect 65 "$FX" check "$T/s.ini"
cat >"$T/want" <<WANT
$T/s.ini:7: key 'boot0': unknown flag 'pull-sideways' (expected active-low, open-drain, open-source, pull-up, pull-down or bias-disable)
$T/s.ini:9: line too long (202 characters, limit 190)
$T/s.ini:6: key 'device': usb: devices need real gpio lines, not sim: (or 'emulator = fxemu' in [station] when build/fxemu emulates the boards)
WANT
diff -u "$T/want" "$T/err" || fail "station errors"
ok "bad station: all errors with file:line, exit 65"

# several files: ok lines and errors both, exit 65 if any is invalid
expect 65 "$FX" check stations/emu-1slot.ini "$T/s.ini"
has "$T/out" "^stations/emu-1slot.ini: ok"
has "$T/err" "^$T/s.ini:7: "
ok "mixed good and bad files"

# neither kind, unreadable, usage
printf '[foo]\na = 1\n' >"$T/x.ini"
expect 65 "$FX" check "$T/x.ini"
has "$T/err" "^$T/x.ini: neither a recipe \\(\\[recipe\\]\\) nor a station \\(\\[station\\]\\) file\$"
expect 66 "$FX" check "$T/missing.ini"
has "$T/err" "^$T/missing.ini: cannot read: No such file or directory\$"
expect 66 "$FX" check /dev/null
has "$T/err" "^/dev/null: not a regular file\$"
expect 66 "$FX" check "$T"
has "$T/err" "^$T: cannot read: Is a directory\$"
expect 64 "$FX" check
has "$T/err" "no FILE given"
expect 64 "$FX" check --bogus stations/emu-1slot.ini
has "$T/err" "unknown option '--bogus'"
expect 64 "$FX" check -zq stations/emu-1slot.ini
has "$T/err" "unknown option '-z' "
expect 0 "$FX" check --help
has "$T/out" "^usage: fixturectl check FILE"
expect 0 "$FX" --help
has "$T/out" "check +validate station and recipe files"
ok "unknown kind (65), missing file (66), usage (64), --help"
