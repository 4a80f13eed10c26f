#!/bin/sh
# tsoak.sh - the short kill -9 soak in make check (issue 8): 30 random
# SIGKILLs of an emulated station in scaled real time on one database and
# board file (scripts/soak-kill, which checks integrity, ABORTED recovery,
# that every PASS board holds the image, no lost record, no piling temp
# files). Fails on any corruption, loss or false PASS. The long soak:
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
