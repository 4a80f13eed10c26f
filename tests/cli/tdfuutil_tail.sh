# tdfuutil_tail.sh - issue 9 section 2 item 1: a plain objcopy .bin whose
# length is not a multiple of 8 (3660 bytes) flashed by Debian's dfu-util
# 0.11 through build/fxemu on the emulator's default write tail (spec 2.4,
# 8: pad); and fixturectl flashes the same file on every tail knob (it
# pads every chunk itself, spec 2.4 host rule).
[ -r tests/cli/lib.sh ] || { echo "skip: tests/cli/lib.sh missing"; exit 77; }
. tests/cli/lib.sh
FXEMU="$B/fxemu"
DFU=/usr/bin/dfu-util
[ -x "$FXEMU" ] || { echo "skip: $FXEMU not built"; exit 77; }
mkbin "$T/odd.bin" 3660 7

if [ -x "$DFU" ]; then
	BD="$T/d.fxb"
	expect 0 "$FXEMU" --realtime=0.05 --board "$BD" -- "$DFU" -a 0 -s 0x08000000 -D "$T/odd.bin"
	has "$T/out" "File downloaded successfully"
	expect 0 "$FX" read --device "emu:$BD" --address 0x08000000 --length 3664 -o "$T/back.bin"
	head -c 3660 "$T/back.bin" | cmp - "$T/odd.bin" || fail "dfu-util's odd-size download reads back different"
	[ "$(tail -c 4 "$T/back.bin" | od -An -tx1 | tr -d ' \n')" = ffffffff ] ||
		fail "the padded tail of the last double word is not 0xFF"
	ok "dfu-util -D of a 3660-byte .bin through fxemu (write tail pad, the default)"

	BD="$T/r.fxb"
	expect 74 "$FXEMU" --realtime=0.05 --board "$BD?tail=reject" -- "$DFU" -a 0 -s 0x08000000 -D "$T/odd.bin"
	ok "dfu-util -D of the same file fails with tail=reject (exit $got)"
else
	echo "# dfu-util (Debian package dfu-util) not installed: its cases skipped"
fi

for tail in pad drop reject; do
	BD="$T/fx-$tail.fxb"
	expect 0 "$FX" flash --device "emu:$BD?tail=$tail" --address 0x08000000 --no-leave "$T/odd.bin"
	expect 0 "$FX" read --device "emu:$BD" --address 0x08000000 --length 3660 -o "$T/fx-back.bin"
	cmp "$T/fx-back.bin" "$T/odd.bin" || fail "fixturectl flash with tail=$tail reads back different"
	ok "fixturectl flash of the 3660-byte .bin with tail=$tail"
done
