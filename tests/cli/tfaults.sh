#!/bin/sh
# tfaults.sh - the coarse fault matrix in make check (issue 8): every
# emulator fault kind, transient and persistent, on every request type at
# indices 1, 2, 3, the middle, the last two and one past the cycle, on a blank
# and a programmed board, plus every other knob (scripts/fault-matrix
# --coarse). No false PASS, every failure names its step, every cell past
# the cycle PASSes. The full matrix: scripts/fault-matrix.
. tests/cli/lib.sh
sh scripts/fault-matrix --coarse >"$T/out" 2>&1
rc=$?
tail -n 3 "$T/out"
[ $rc -eq 0 ] || { cat "$T/out"; fail "fault-matrix exited $rc"; }
has "$T/out" 'false PASS 0, unnamed failures 0, control cells not PASS 0'
# every fault kind on every board ran
for b in blank programmed; do
	for k in stall timeout drop status; do
		has "$T/out" "^$b +all +$k +yes "
	done
done
ok "coarse fault matrix: no false PASS, every failure names its step"
