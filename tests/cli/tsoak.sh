#!/bin/sh
# tsoak.sh - the short kill -9 soak in make check (issue 8): 30 random
# SIGKILLs of an emulated station in scaled real time on one database and
# board file (scripts/soak-kill, which checks integrity, ABORTED recovery,
# that every PASS board holds the image, no lost record, no piling temp
# files), then 10 kills aimed at the PASS commit. Fails on any corruption,
# loss or false PASS. The long soak:
# scripts/soak-kill 600.
. tests/cli/lib.sh
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
SOAK_KILLS=30 SOAK_SEED=${SOAK_SEED:-8} SOAK_DIR="$T/soak" sh scripts/soak-kill 50 >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ $rc -eq 0 ] || fail "soak-kill exited $rc"
has "$T/out" '^soak-kill: 30 kills'
has "$T/out" '^corruptions: +0$'
has "$T/out" '^lost records: +0$'
has "$T/out" '^false PASS: +0$'
ok "30 kills: no corruption, no lost record, no false PASS"
# 10 kills the moment a row turns PASS on a fresh board each time: the
# board must already be saved (before the fix: 5 false PASS in 25)
SOAK_TARGET=pass SOAK_BLANK=1 SOAK_KILLS=10 SOAK_SEED=9 SOAK_DIR="$T/soak2" sh scripts/soak-kill 40 >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ $rc -eq 0 ] || fail "targeted soak-kill exited $rc"
has "$T/out" '^false PASS: +0$'
has "$T/out" '^PASS boards checked: +([5-9]|10)$'
ok "10 kills at the PASS commit: every PASS board holds the image"
