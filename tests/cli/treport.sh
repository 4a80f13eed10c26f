#!/bin/sh
# treport.sh - `fixturectl report` and `fixturectl history` end to end on
# the known database (left in $FX_BUILD/test-data/known.db by
# tests/unit/test_report): output = the golden files, exit codes and
# messages of every usage error, read-only opening, inert injection.
set -u
B=${FX_BUILD:-build}
FX=$PWD/$B/fixturectl
G=$PWD/tests/data/report
DATA=$PWD/$B/test-data
[ -x "$FX" ] || { echo "skip: $FX not built (the tree does not link yet)"; exit 77; }
[ -f "$DATA/known.db" ] || { echo "skip: $DATA/known.db missing (run $B/tests/unit/test_report first)"; exit 77; }
T=$(mktemp -d /tmp/fx-treport-XXXXXX)
trap 'rm -rf "$T"' EXIT
cp "$DATA/known.db" "$T/known.db"
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE STDERR-SUBSTRING CMD... : exit code and message
expect() {
	code=$1; msg=$2; shift 2
	"$FX" "$@" >out 2>err
	rc=$?
	[ "$rc" -eq "$code" ] || fail "$*: exit $rc, expected $code ($(cat err))"
	grep -qF -- "$msg" err || fail "$*: stderr '$(cat err)' lacks '$msg'"
}

# golden outputs through the command line (same files as the unit test)
before=$(md5sum known.db)
for f in txt csv json; do
	fmt=$f; [ $f = txt ] && fmt=text
	"$FX" report yield --db known.db --by day --format $fmt >out 2>err || fail "yield $fmt: $(cat err)"
	cmp -s out "$G/yield-day.$f" || { fail "yield --by day --format $fmt differs"; diff -u "$G/yield-day.$f" out | head -20; }
	"$FX" report pareto --db known.db --format $fmt -o pareto.$f || fail "pareto -o"
	cmp -s pareto.$f "$G/pareto.$f" || fail "pareto --format $fmt -o differs"
	"$FX" report cycle --format $fmt --db known.db >out || fail "cycle $fmt"
	cmp -s out "$G/cycle.$f" || fail "cycle --format $fmt differs"
	"$FX" history SN003 --db known.db --format $fmt >out || fail "history $fmt"
	cmp -s out "$G/history-SN003.$f" || fail "history SN003 --format $fmt differs"
done
"$FX" report yield --db known.db --by day --format html -o y.html || fail "html"
[ "$(grep -c '<rect class="bar"' y.html)" -eq 4 ] || fail "html: expected 4 bars"
grep -q '<script' y.html && fail "html has a script"
[ "$(md5sum known.db)" = "$before" ] || fail "a report changed the database"

# figures through filters and ranges
"$FX" report yield --db known.db --from 2026-03-03 --to 2026-03-05 --station line1-b --format csv >out
grep -qx 'UTC,2026-03-03,2026-03-05,4,2,2,0,50.00,2,2,100.00,2,100.00.' out || fail "filtered yield: $(cat out)"
"$FX" report yield --db known.db --by station --by slot >out || fail "--by station --by slot"
grep -q '^(total)  *14  *7  *5  *2  *50.00  *8  *4  *50.00  *6  *75.00$' out || fail "two --by keys: $(cat out)"

# injection attempts are plain values: no match, database intact
"$FX" report yield --db known.db --station "x' OR '1'='1" --format csv >out || fail "inj station"
grep -qx 'UTC,,,0,0,0,0,,0,0,,0,.' out || fail "injected station matched something: $(cat out)"
expect 1 "no unit with serial or chip uid '1' OR 1=1; DROP TABLE runs; --'" \
	history "1' OR 1=1; DROP TABLE runs; --" --db known.db
"$FX" report yield --db known.db --format csv | grep -qx 'UTC,2026-03-02,2026-03-09,14,7,5,2,50.00,8,4,50.00,6,75.00.' || fail "database damaged"

# usage errors: exit 64 and the reason
expect 64 "--by 'month': expected day, week, station, slot, recipe, operator or line" report yield --db known.db --by month
expect 64 "--from: date '2026-02-30': expected YYYY-MM-DD" report yield --db known.db --from 2026-02-30
expect 64 "--to: date '03/09/2026': expected YYYY-MM-DD" report pareto --db known.db --to 03/09/2026
expect 64 "--from 2026-03-09 is after --to 2026-03-02" report cycle --db known.db --from 2026-03-09 --to 2026-03-02
expect 64 "--by 'day' given twice" report yield --db known.db --by day --by day
expect 64 "unknown report 'yeld': expected yield, pareto or cycle" report yeld --db known.db
expect 64 "which report? expected yield, pareto or cycle" report --db known.db
expect 64 "--db FILE is required" report yield
expect 64 "--format 'pdf': expected text, csv, json or html" report yield --db known.db --format pdf
expect 64 "unknown option '--bogus'" report yield --db known.db --bogus
expect 64 "option '--db' needs a value" report yield --db
expect 64 "unknown option '-z'" report yield --db known.db -zq
expect 64 "unknown option '-z'" history SN003 --db known.db -zh
expect 64 "unexpected argument 'extra'" report yield extra --db known.db
expect 64 "a serial or chip UID is required" history --db known.db
expect 64 "--db FILE is required" history SN003
# the database
expect 66 "database 'missing.db': No such file or directory" report yield --db missing.db
[ -e missing.db ] && fail "a report created missing.db"
echo "not a database at all, just text, long enough to be read as a header ....." > text.db
expect 74 "database 'text.db': file is not a database" report yield --db text.db
expect 1 "no unit with serial or chip uid 'SN999'" history SN999 --db known.db
# help
"$FX" report --help | grep -q '^usage: fixturectl report yield|pareto|cycle' || fail "report --help"
"$FX" history --help | grep -q '^usage: fixturectl history SERIAL|UID' || fail "history --help"

# a report on a closed database leaves no side file (it would belong to
# the report's user and lock the station out)
for x in -wal -shm; do
	[ -e "known.db$x" ] && fail "a report left known.db$x"
done
# a database in a read-only directory, read by another user (root reads
# anything: run as nobody through setpriv)
mkdir ro && cp known.db ro/known.db && chmod 644 ro/known.db && chmod 555 ro
if [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$T"
	if command -v setpriv >/dev/null &&
	   setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$FX"; then
		as_other="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	else
		as_other=""
		ro_skip="read-only directory case skipped: no setpriv, or $FX not executable by nobody"
	fi
else
	as_other="env"
fi
if [ -n "$as_other" ]; then
	$as_other "$FX" report yield --db ro/known.db --format csv >out 2>err ||
		fail "report in a read-only directory: $(cat err)"
	grep -qx 'UTC,2026-03-02,2026-03-09,14,7,5,2,50.00,8,4,50.00,6,75.00.' out ||
		fail "read-only directory: $(cat out)"
	for x in -wal -shm; do
		[ -e "ro/known.db$x" ] && fail "a report left ro/known.db$x"
	done
fi
chmod 755 ro

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
[ -n "${ro_skip:-}" ] && echo "treport: ok ($ro_skip)" && exit 0
echo "treport: ok"
