#!/bin/sh
# tstorage.sh - issue 8: `fixturectl run` against storage faults, each with
# its exit code and message; no PASS shown without its commit (every PASS
# line on the screen is a PASS row), nothing committed lost:
#   1 full file system mid-run       (a 1 MiB tmpfs; SKIP without mount)
#   2 read-only mount                (refused at open, before START)
#   3 locked 1 s / beyond the 5 s busy timeout
#   4 database directory removed mid-run
#   5 database renamed mid-run       (every shown PASS is in the moved file)
#   6 corrupted pages                (refused at open, file untouched)
#   7 corrupted header
. tests/cli/lib.sh
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
R=$(pwd)/config/demo-g474.ini
MNT=""
cleanup() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
# station NAME DB: a one-slot emulated station whose board lives in $T
station() {
	cat >"$T/$1.ini" <<EOT
[station]
name = $1
database = $2
start = sim:START
[slot 1]
device = emu:$T/$1.fxb
boot0 = sim:BOOT0_1
nrst = sim:NRST_1
power = sim:POWER_1
EOT
}
# shown vs recorded: PASS lines in FILE == PASS rows in DB
pass_lines() { grep -c 'PASS   slot' "$1"; }
pass_rows() { sqlite3 "$1" "SELECT count(*) FROM runs WHERE result = 'PASS'"; }
# run in the background in scaled real time, wait for N PASS lines
run_bg() { # NAME
	"$FX" run --station "$T/$1.ini" --recipe "$R" --cycles 200 --realtime=0.1 >"$T/out" 2>"$T/err" &
	pid=$!
}
wait_pass() { # N: up to 60 s
	i=0
	while [ "$(pass_lines "$T/out")" -lt "$1" ]; do
		kill -0 $pid 2>/dev/null || { cat "$T/out" "$T/err"; fail "station ended early"; }
		i=$((i + 1)); [ $i -lt 600 ] || fail "no $1 PASS within 60 s"
		sleep 0.1
	done
}
wait_end() { # -> rc
	wait $pid; rc=$?
}

# ---- 1. full file system mid-run -------------------------------------
mkdir -p "$T/full"
if mount -t tmpfs -o size=1m fxfull "$T/full" 2>/dev/null; then
	MNT=$T/full
	station full "$T/full/s.db"
	expect 0 "$FX" run --station "$T/full.ini" --recipe "$R" --cycles 2
	# leave ~80 KiB: the WAL grows with every commit until it cannot
	avail=$(df -k "$T/full" | awk 'NR == 2 { print $4 }')
	dd if=/dev/zero of="$T/full/filler" bs=1k count=$((avail - 80)) 2>/dev/null
	"$FX" run --station "$T/full.ini" --recipe "$R" --cycles 500 >"$T/out" 2>"$T/err"; rc=$?
	[ $rc -eq 74 ] || { cat "$T/out" "$T/err"; fail "full: exit $rc, expected 74"; }
	has "$T/out" 'ERROR +slot 1: database .*full'
	has "$T/err" 'the run could not be recorded .*station stopped, no more boards'
	rm -f "$T/full/filler"
	[ "$(sqlite3 "$T/full/s.db" 'PRAGMA integrity_check')" = ok ] || fail "full: integrity"
	shown=$(( $(pass_lines "$T/out") + 2 ))
	[ "$(pass_rows "$T/full/s.db")" -eq $shown ] || fail "full: $shown PASS shown, $(pass_rows "$T/full/s.db") recorded"
	ok "full file system mid-run: exit 74 'database or disk is full', every shown PASS recorded"

	# ---- 2. read-only mount ------------------------------------------
	mount -o remount,ro "$T/full" || fail "remount ro"
	expect 74 "$FX" run --station "$T/full.ini" --recipe "$R" --cycles 1
	has "$T/err" "database: database '$T/full/s.db' (is read-only|cannot be written)"
	grep -q BUSY "$T/out" && fail "read-only: a board was started"
	ok "read-only mount: refused at open (exit 74), no board started"
	umount "$T/full"; MNT=""
else
	echo "# skipped 1-2: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)"
fi

# ---- 3. locked ----------------------------------------------------------
station lock "$T/lock.db"
expect 0 "$FX" run --station "$T/lock.ini" --recipe "$R" --cycles 1
# another program holds the write lock for 1 s: waited out
( printf 'BEGIN IMMEDIATE;\n'; sleep 1; printf 'COMMIT;\n' ) | sqlite3 "$T/lock.db" &
hp=$!; sleep 0.3
expect 0 "$FX" run --station "$T/lock.ini" --recipe "$R" --cycles 1
wait $hp
ok "locked 1 s: waited out (busy timeout 5 s)"
# ... and for 8 s: refused at open after the busy timeout
( printf 'BEGIN IMMEDIATE;\n'; sleep 8; printf 'COMMIT;\n' ) | sqlite3 "$T/lock.db" &
hp=$!; sleep 0.3
expect 74 "$FX" run --station "$T/lock.ini" --recipe "$R" --cycles 1
has "$T/err" "database: database '$T/lock.db': database is locked"
grep -q BUSY "$T/out" && fail "locked: a board was started"
wait $hp
[ "$(pass_rows "$T/lock.db")" -eq 2 ] || fail "locked: records"
ok "locked beyond the busy timeout: exit 74 'database is locked', no board started"

# ---- 4. directory removed mid-run --------------------------------------
mkdir -p "$T/dir"
station gone "$T/dir/s.db"
run_bg gone; wait_pass 1
rm -rf "$T/dir"
wait_end
[ $rc -eq 74 ] || { cat "$T/out" "$T/err"; fail "dir removed: exit $rc"; }
has "$T/out" "ERROR +slot 1: database '$T/dir/s.db' was removed or replaced while open"
# nothing shown after the error
tail -n 3 "$T/out" | grep -q 'PASS   slot' && fail "PASS after the error"
ok "directory removed mid-run: exit 74 'removed or replaced while open'"

# ---- 5. renamed mid-run ---------------------------------------------------
station mv "$T/mv.db"
run_bg mv; wait_pass 2
mv "$T/mv.db" "$T/mv.db.old"
wait_end
[ $rc -eq 74 ] || { cat "$T/out" "$T/err"; fail "renamed: exit $rc"; }
has "$T/out" "ERROR +slot 1: database '$T/mv.db' was removed or replaced while open"
shown=$(pass_lines "$T/out")
[ "$(pass_rows "$T/mv.db.old")" -eq "$shown" ] ||
	fail "renamed: $shown PASS shown, $(pass_rows "$T/mv.db.old") in the moved file"
[ "$(sqlite3 "$T/mv.db.old" 'PRAGMA integrity_check')" = ok ] || fail "renamed: integrity"
# the next start on the old name is a new database, the moved one intact
expect 0 "$FX" run --station "$T/mv.ini" --recipe "$R" --cycles 1
[ "$(pass_rows "$T/mv.db")" -eq 1 ] || fail "renamed: new database"
[ "$(pass_rows "$T/mv.db.old")" -eq "$shown" ] || fail "renamed: moved file changed"
ok "renamed mid-run: exit 74, all $shown shown PASS in the moved file"

# ---- 6. corrupted pages ---------------------------------------------------
station bad "$T/bad.db"
expect 0 "$FX" run --station "$T/bad.ini" --recipe "$R" --cycles 25
[ -f "$T/bad.db-wal" ] && fail "a -wal after a clean stop"
pages=$(( $(wc -c <"$T/bad.db") / 4096 ))
[ $pages -gt 8 ] || fail "database too small to damage ($pages pages)"
mkbin "$T/garbage" 4096 7
dd if="$T/garbage" of="$T/bad.db" bs=4096 seek=$((pages / 2)) conv=notrunc 2>/dev/null
cp "$T/bad.db" "$T/bad.copy"
expect 74 "$FX" run --station "$T/bad.ini" --recipe "$R" --cycles 1
has "$T/err" "database: database '$T/bad.db' is damaged \\((quick_check: |database disk image is malformed).*\\): not recording into it; restore the last backup, or rescue the records: sqlite3 '$T/bad.db' .recover"
grep -q BUSY "$T/out" && fail "damaged: a board was started"
cmp -s "$T/bad.db" "$T/bad.copy" || fail "damaged: the file was written"
ok "corrupted pages: exit 74 with the way out, file untouched"

# ---- 7. corrupted header --------------------------------------------------
cp "$T/lock.db" "$T/hdr.db"
station hdr "$T/hdr.db"
dd if="$T/garbage" of="$T/hdr.db" bs=100 count=1 conv=notrunc 2>/dev/null
expect 74 "$FX" run --station "$T/hdr.ini" --recipe "$R" --cycles 1
has "$T/err" "database: database '$T/hdr.db' is damaged \\(file is not a database\\): not recording into it"
grep -q BUSY "$T/out" && fail "header: a board was started"
ok "corrupted header: exit 74 'file is not a database' with the way out"
echo "tstorage: ok"
