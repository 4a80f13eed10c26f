# tcheck_image.sh - `fixturectl check` on a recipe loads its image as the
# station will (issue 9 section 2 items 3 and 5): no plausible vector table
# at the flash base is a warning naming it (exit 0), an S-record file
# without a termination record loads with a warning naming the file, an
# Intel HEX file without its EOF record is invalid (65).
[ -r tests/cli/lib.sh ] || { echo "skip: tests/cli/lib.sh missing"; exit 77; }
. tests/cli/lib.sh
recipe() { # FILE FIRMWARE
	sha=$(sha256sum "$2" | cut -d' ' -f1)
	printf '[recipe]\nname = t\nversion = 1\ntarget = stm32g474xe\n[firmware]\nfile = %s\nsha256 = %s\n' \
		"$(basename "$2")" "$sha" >"$1"
}

mkbin "$T/noise.bin" 4096 3
recipe "$T/r1.ini" "$T/noise.bin"
expect 0 "$FX" check "$T/r1.ini"
has "$T/out" "r1.ini: ok \(recipe t 1\)"
has "$T/err" "r1.ini: warning: firmware '.*noise.bin': no plausible vector table at 0x08000000 \(initial SP 0x[0-9A-F]{8}, reset vector 0x[0-9A-F]{8}\): the application will not start"
ok "an image without a plausible vector table: ok with a warning naming it"

expect 0 "$FX" check config/demo-g474.ini
[ -s "$T/err" ] && { cat "$T/err"; fail "the demo recipe's image gives a warning"; }
ok "the demo recipe: no warning"

# srec_cat in.bin -binary -offset 0x08000000 -o out.srec: S0, S3 data, no S7
printf 'S00600004844521B\nS30908000000008000105E\n' >"$T/a.srec"
recipe "$T/r2.ini" "$T/a.srec"
expect 0 "$FX" check "$T/r2.ini"
has "$T/err" "r2.ini: warning: firmware: .*a.srec: no termination record \(S7, S8 or S9\): accepted, no start address"
ok "S-records without a termination record: accepted with a warning naming the file"

printf ':020000040800F2\n:04000000008000106C\n' >"$T/a.hex"
recipe "$T/r3.ini" "$T/a.hex"
expect 65 "$FX" check "$T/r3.ini"
has "$T/err" "r3.ini: firmware: .*a.hex.*missing end-of-file record"
ok "Intel HEX without its EOF record: invalid (65)"
