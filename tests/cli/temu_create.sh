#!/bin/sh
# temu_create.sh - `fixturectl emu create` builds its boards with the
# library's builder (fx/board.h): every option lands in the board file,
# a bad --uid digit is a usage error (a '+' or '-' pair was taken as a
# number before), an image outside flash is bad data naming it.
. "$(dirname "$0")/lib.sh"

expect 0 "$FX" emu create "$T/a.fxb" --uid 00112233445566778899AABB --single-bank --rdp1
expect 0 "$FX" emu show "$T/a.fxb"
has "$T/out" "^serial:  EECCAA887766$"
has "$T/out" "DBANK=0, RDP level 1"
ok "uid, single bank, RDP 1"

expect 0 "$FX" emu create "$T/c.fxb" --corrupt
has "$T/out" "dual bank, corrupted"
expect 0 "$FX" emu show "$T/c.fxb"
# noise with an even reset vector: never a plausible vector table
has "$T/out" "reset 0x[0-9A-F]{7}[02468ACE]$"
ok "corrupt"

printf 'abcd' >"$T/x.bin"
expect 65 "$FX" emu create "$T/r.fxb" --image "$T/x.bin" --address 0x20000000
has "$T/err" "image '$T/x.bin': segment at 0x20000000 cannot be placed in flash"
[ ! -e "$T/r.fxb" ] || fail "a board file was written for a refused image"
ok "image outside flash"

for uid in 0011223344556677-899AABB +0112233445566778899AABB 0011223344556677 ' 0112233445566778899AABB'; do
	expect 64 "$FX" emu create "$T/u.fxb" --uid "$uid"
	grep -qF "emu: --uid: expected 24 hex digits, got '$uid'" "$T/err" ||
		{ cat "$T/err"; fail "no --uid message for '$uid'"; }
done
[ ! -e "$T/u.fxb" ] || fail "a board file was written for a bad --uid"
ok "bad --uid digits"
