#!/bin/sh
# tfuzz.sh - replay every libFuzzer harness's corpus (tests/data/fuzz/NAME/,
# seeds and regression_* inputs) through the harness built as a plain
# program (tests/fuzz/replay.c), in the normal and the ASan build: a parser
# regression on any kept input fails make check. `make fuzz` does the
# fuzzing itself (issue 8).
. tests/cli/lib.sh
found=0
for src in tests/fuzz/fuzz_*.c; do
	[ "$src" = tests/fuzz/fuzz_util.c ] && continue
	h=$(basename "$src" .c)
	bin="$B/tests/fuzz/$h"
	[ -x "$bin" ] || fail "$bin not built"
	[ -d "tests/data/fuzz/$h" ] || fail "no corpus tests/data/fuzz/$h"
	cnt=$(ls "tests/data/fuzz/$h" | wc -l)
	[ "$cnt" -gt 0 ] || fail "empty corpus tests/data/fuzz/$h"
	"$bin" "tests/data/fuzz/$h" >"$T/out" 2>&1 || { cat "$T/out"; fail "$h: replay exited $?"; }
	has "$T/out" ": $cnt inputs replayed"
	ok "$h: $cnt inputs"
	found=$((found + 1))
done
[ "$found" -ge 9 ] || fail "expected 9 harnesses, found $found"
echo "tfuzz: ok"
