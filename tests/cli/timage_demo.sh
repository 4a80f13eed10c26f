#!/bin/sh
# timage_demo.sh - scripts/gen-demo-firmware regenerates the committed
# config/demo-g474.hex byte for byte (the recipe pins its SHA-256), and
# writes the same bytes to a file and to stdout.
set -u
cd "$(dirname "$0")/../.." || exit 1
for tool in awk cmp mktemp; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "skip: '$tool' not found"
		exit 77
	fi
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! sh scripts/gen-demo-firmware "$tmp/demo.hex"; then
	echo "FAIL: scripts/gen-demo-firmware exited with $?"
	exit 1
fi
if ! cmp "$tmp/demo.hex" config/demo-g474.hex; then
	echo "FAIL: regenerated image differs from config/demo-g474.hex"
	exit 1
fi
if ! sh scripts/gen-demo-firmware - | cmp - "$tmp/demo.hex"; then
	echo "FAIL: stdout output differs from the file output"
	exit 1
fi
set -- "$tmp"/*
if [ $# -ne 1 ]; then
	echo "FAIL: temporary file left behind: $*"
	exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
	sha256sum config/demo-g474.hex
fi
echo "ok: config/demo-g474.hex is reproducible"
