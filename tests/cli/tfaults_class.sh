#!/bin/sh
# tfaults_class.sh - a device fault is an ERROR, never a FAIL (issue 8 gap,
# include/fx/seq.h "Results"): in the coarse fault matrix no cell with an
# injected fault (stall, timeout, drop, DFU error status) on a request of
# the cycle ends FAIL. The cells that did (before the fix in
# src/seq/steps_boot.c seq_step_app_check): a timeout or a drop on the
# application's string descriptor requests (the last two of the cycle, on
# a blank and a programmed board), recorded FAIL "application 1209:0001
# did not enumerate within 1000 ms" although it had enumerated, while a
# STALL on the same request was an ERROR. An application that never
# enumerates stays FAIL (tests/emu/test_seq.c
# test_app_does_not_start_fails).
. tests/cli/lib.sh
sh scripts/fault-matrix --coarse >"$T/out" 2>&1
rc=$?
tail -n 2 "$T/out"
[ $rc -eq 0 ] || { cat "$T/out"; fail "fault-matrix exited $rc"; }
grep 'FAIL where ERROR fits' "$T/out"
has "$T/out" 'device faults recorded FAIL 0$'
# the cells of the defect ran (the last two requests of the cycle)
for b in blank programmed; do
	for k in timeout drop; do
		has "$T/out" "^$b +all +$k +no +229 +7 "
	done
done
ok "coarse fault matrix: no injected device fault recorded FAIL"
