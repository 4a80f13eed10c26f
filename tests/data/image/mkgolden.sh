#!/bin/sh
# mkgolden.sh - build the binary golden images (ELF and DfuSe) of this
# directory with POSIX sh, printf, od and gzip only, so each byte can be
# checked by hand against the field tables below. Run from anywhere:
#   sh tests/data/image/mkgolden.sh
# The files are committed; tests/unit/test_image.c only reads them.
#
# Payloads (the .hex/.srec/.bin files next to this script hold the same):
#   golden: 0x08000000: 00 01 02 ... 27 (40 bytes), entry 0x08000009
#   multi:  0x08000000: 00 .. 17 (24 bytes, written as two pieces)
#           0x0800fff8: a0 .. af (16 bytes, across a 64 KiB boundary)
#           0x08020000: "hello"
#           entry 0x08000009
set -eu
cd "$(dirname "$0")"

# byte V: one raw byte; le16/le32 V: little-endian fields
byte() { printf "\\$(printf '%03o' $(( $1 & 255 )))"; }
le16() { byte $1; byte $(( $1 >> 8 )); }
le32() { le16 $(( $1 & 65535 )); le16 $(( ($1 >> 16) & 65535 )); }
# seq_bytes FIRST COUNT: FIRST, FIRST+1, ...
seq_bytes() { i=0; while [ $i -lt $2 ]; do byte $(( $1 + i )); i=$((i + 1)); done; }
zeros() { i=0; while [ $i -lt $1 ]; do byte 0; i=$((i + 1)); done; }

# ---- ELF32, little endian, ARM (e_machine 40), ET_EXEC ----
# ehdr PHNUM ENTRY: 52 bytes, program headers right after it (e_phoff 52)
ehdr() {
	printf '\177ELF'; byte 1; byte 1; byte 1; zeros 9 # class 32, LSB, version 1
	le16 2; le16 40; le32 1                           # ET_EXEC, EM_ARM, EV_CURRENT
	le32 $2; le32 52; le32 0                          # e_entry, e_phoff, e_shoff
	le32 0x05000200                                   # e_flags: EABI5, soft float
	le16 52; le16 32; le16 $1                         # e_ehsize, e_phentsize, e_phnum
	le16 40; le16 0; le16 0                           # e_shentsize, e_shnum, e_shstrndx
}
# phdr TYPE OFFSET VADDR PADDR FILESZ MEMSZ FLAGS: 32 bytes
phdr() { le32 $1; le32 $2; le32 $3; le32 $4; le32 $5; le32 $6; le32 $7; le32 4; }

# golden.elf: one PT_LOAD, data at 52 + 32 = 84
{
	ehdr 1 0x08000009
	phdr 1 84 0x08000000 0x08000000 40 40 5
	seq_bytes 0 40
} >golden.elf

# multi.elf: 5 program headers, data at 52 + 5 * 32 = 212
#   0 PT_LOAD  text   at 0x08000000, 24 bytes
#   1 PT_LOAD  .data  VMA 0x20000000, LMA 0x0800fff8, 16 bytes (+0x30 bss)
#   2 PT_LOAD  .bss   VMA=LMA 0x20000100, p_filesz 0: not loaded
#   3 PT_NOTE  4 bytes at file offset 0: not loaded
#   4 PT_LOAD  "hello" at 0x08020000
{
	ehdr 5 0x08000009
	phdr 1 212 0x08000000 0x08000000 24 24 5
	phdr 1 236 0x20000000 0x0800fff8 16 64 6
	phdr 1 252 0x20000100 0x20000100 0 256 6
	phdr 4 0 0 0 4 4 4
	phdr 1 252 0x08020000 0x08020000 5 5 4
	seq_bytes 0 24
	seq_bytes 160 16
	printf 'hello'
} >multi.elf

# ---- DfuSe (UM0391, spec 1.11) ----
# target ALT SIZE NELEM: 274-byte target prefix, name "ST..."
target() {
	printf 'Target'; byte $1; le32 1
	printf 'ST...'; zeros 250
	le32 $2; le32 $3
}
# element ADDR SIZE: 8-byte element header (data follows)
element() { le32 $1; le32 $2; }
# dfuse OUT NTARGETS BODYFILE: prefix + body + suffix with CRC. DFUImageSize
# is prefix + body, as dfuse-pack.py writes it. The CRC is the complement of
# the gzip (zlib) CRC-32, taken from the gzip trailer byte by byte.
dfuse() {
	size=$(( 11 + $(wc -c <"$3") ))
	{
		printf 'DfuSe'; byte 1; le32 $size; byte $2
		cat "$3"
		le16 0xffff; le16 0xdf11; le16 0x0483; le16 0x011a  # bcdDevice, PID, VID, bcdDFU
		printf 'UFD'; byte 16
	} >"$1.tmp"
	crc=$(gzip -c -n <"$1.tmp" | tail -c 8 | od -An -tu1 -N4)
	{
		cat "$1.tmp"
		for b in $crc; do byte $(( 255 - b )); done
	} >"$1"
	rm -f "$1.tmp" "$3"
}

# golden.dfu: one target (alt 0), one element
{
	target 0 48 1
	element 0x08000000 40; seq_bytes 0 40
} >golden.body
dfuse golden.dfu 1 golden.body

# multi.dfu: one target, 4 elements, the first two out of order
{
	target 0 $(( 4 * 8 + 24 + 16 + 5 )) 4
	element 0x08000010 8; seq_bytes 16 8
	element 0x08000000 16; seq_bytes 0 16
	element 0x0800fff8 16; seq_bytes 160 16
	element 0x08020000 5; printf 'hello'
} >multi.body
dfuse multi.dfu 1 multi.body

# twotarget.dfu: alt 0 flash (4 bytes at 0x08000000) and alt 1 option
# bytes (8 bytes at 0x1fff7800)
{
	target 0 12 1
	element 0x08000000 4; seq_bytes 1 4
	target 1 16 1
	element 0x1fff7800 8; le32 0xffeff8aa; le32 0x00100755
} >twotarget.body
dfuse twotarget.dfu 2 twotarget.body
