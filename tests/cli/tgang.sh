#!/bin/sh
# tgang.sh - gang programming end to end (issue 14): a 4-slot emulated
# station programs its boards at once; independent mode with staggered
# START presses; a recipe per slot (and check validating it); Ctrl-C and
# a second Ctrl-C in the middle of a batch; kill -9 in the middle of a
# batch, then a restart; station file errors of the new keys.
. tests/cli/lib.sh
HEX=$(pwd)/config/demo-g474.hex
[ -f "$HEX" ] || { echo "skip: $HEX missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
RCP=$(pwd)/config/demo-g474.ini

slots() { # N [EXTRA-FOR-EACH-SLOT with %d = the slot]
	i=1
	while [ $i -le $1 ]; do
		printf '[slot %d]\ndevice = emu:b%d.fxb\nboot0 = sim:BOOT0_%d\nnrst = sim:NRST_%d\npower = sim:POWER_%d\nled_pass = sim:PASS_%d\nled_fail = sim:FAIL_%d\n' \
			$i $i $i $i $i $i $i
		[ -n "${2:-}" ] && printf "$2\n" $i
		i=$((i + 1))
	done
}
{ printf '[station]\nname = g4\ndatabase = g4.db\nstart = sim:START\ntower_green = sim:G\ntower_yellow = sim:Y\ntower_red = sim:R\n'; slots 4; } >"$T/g4.ini"
db="$T/g4.db"
q() { sqlite3 "$db" "$1"; }

# 1. one START, four boards in the four states at once, all PASS
expect 0 "$FX" run --station "$T/g4.ini" --recipe "$RCP" --cycles 2 --demo-boards --plain
has "$T/out" '4 slots at once \(start_mode batch, hub multi-tt\)'
for s in 1 2 3 4; do has "$T/out" "BUSY +slot $s\$"; done
has "$T/out" 'PASS +slot 1 serial [0-9A-F]{12} board blank'
has "$T/out" 'PASS +slot 2 serial [0-9A-F]{12} board programmed'
has "$T/out" 'PASS +slot 3 serial [0-9A-F]{12} board corrupted'
has "$T/out" 'PASS +slot 4 serial [0-9A-F]{12} board programmed \(option bytes rewritten\)'
has "$T/out" 'today: 8 runs, 8 passed, 0 failed, 0 errors, yield 100.0%'
[ "$(grep -Ec 'READY' "$T/out")" -eq 2 ] || fail "two START presses expected"
# the four runs of a batch overlap in time: every run of a batch began
# before the first of them ended
[ "$(q "SELECT count(*) FROM runs a JOIN runs b ON a.id <= 4 AND b.id <= 4 WHERE a.start_us >= b.end_us")" = 0 ] ||
	fail "the runs of one batch did not overlap: $(q 'SELECT slot, start_us, end_us FROM runs')"
[ "$(q "SELECT group_concat(slot, '') FROM (SELECT slot FROM runs ORDER BY id)")" = 12341234 ] ||
	fail "runs per slot: $(q 'SELECT id, slot FROM runs')"
ok "4 slots at once, one START per batch, every run recorded with its slot"

# 2. independent mode: a START per slot, pressed at staggered times by the
# scripted operator; slots overlap, each slot runs its --cycles boards
{ printf '[station]\nname = ind\ndatabase = ind.db\nstart_mode = independent\n'; slots 3 'start = sim:START_%d'; } >"$T/ind.ini"
expect 0 "$FX" run --station "$T/ind.ini" --recipe "$RCP" --cycles 2 --demo-boards=programmed --plain
has "$T/out" 'READY  slot 3: load the board and press its START'
[ "$(grep -Ec "PASS +slot" "$T/out")" -eq 6 ] || { cat "$T/out" "$T/err"; fail "6 PASS expected"; }
[ "$(sqlite3 "$T/ind.db" "SELECT group_concat(c, ',') FROM (SELECT count(*) c FROM runs WHERE result = 'PASS' GROUP BY slot ORDER BY slot)")" = 2,2,2 ] ||
	fail "runs per slot: $(sqlite3 "$T/ind.db" 'SELECT slot, result FROM runs')"
# staggered: slot 1 first, slot 3 last; slot 2's first run began while
# slot 1's first was still running
[ "$(sqlite3 "$T/ind.db" "SELECT group_concat(slot, '') FROM (SELECT slot FROM runs ORDER BY start_us LIMIT 3)")" = 123 ] ||
	fail "first runs not staggered by slot"
[ "$(sqlite3 "$T/ind.db" "SELECT count(*) FROM runs a, runs b WHERE a.slot = 1 AND b.slot = 2 AND b.start_us > a.start_us AND b.start_us < a.end_us")" -ge 1 ] ||
	fail "independent slots did not overlap"
expect 64 "$FX" run --station "$T/ind.ini" --recipe "$RCP"
has "$T/err" 'start_mode = independent on an emulated station needs --cycles N'
ok "independent mode: staggered STARTs, overlapping slots"

# 3. a recipe per slot: slot 2 holds the daughterboard; check validates it
sed 's/^name = demo-g474$/name = daughter-g474/; s#^file = demo-g474.hex#file = '"$HEX"'#' "$RCP" >"$T/daughter.ini"
{ printf '[station]\nname = mix\ndatabase = mix.db\nstart = sim:START\n'; slots 2; } >"$T/mix.ini"
sed -i '/^\[slot 2\]/a recipe = daughter.ini' "$T/mix.ini"
expect 0 "$FX" check "$T/mix.ini"
expect 0 "$FX" run --station "$T/mix.ini" --recipe "$RCP" --cycles 1 --plain
[ "$(sqlite3 "$T/mix.db" "SELECT group_concat(slot || recipe_name, ',') FROM runs")" = "1demo-g474,2daughter-g474" ] ||
	fail "recipes per slot: $(sqlite3 "$T/mix.db" 'SELECT slot, recipe_name FROM runs')"
echo "colour = blue" >>"$T/daughter.ini"
expect 65 "$FX" check "$T/mix.ini"
has "$T/err" "mix.ini:[0-9]+: key 'recipe': .*daughter.ini:[0-9]+: key 'colour': unknown key"
sed -i '/^recipe = daughter.ini/d' "$T/mix.ini"
sed -i '/^\[slot 1\]/a recipe = missing.ini' "$T/mix.ini"
expect 65 "$FX" check "$T/mix.ini"
has "$T/err" "mix.ini:[0-9]+: key 'recipe': .*missing.ini: cannot read"
expect 64 "$FX" run --station "$T/g4.ini" --cycles 1
has "$T/err" "run: \[slot 1\] has no 'recipe =': --recipe is required"
ok "a recipe per slot, validated by check"

# 4. Ctrl-C in the middle of a batch (real time: a blank board probes for
# 1.5 s): every running slot finishes its board and is recorded, exit 130,
# no second batch
wait_for() {
	i=0
	while ! grep -Eq "$1" "$T/out" && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	grep -Eq "$1" "$T/out" || { cat "$T/out" "$T/err"; fail "never saw /$1/"; }
}
rm -f "$db"
: >"$T/out"
"$FX" run --station "$T/g4.ini" --recipe "$RCP" --cycles 3 --demo-boards=blank \
	--realtime=1 --plain >"$T/out" 2>"$T/err" &
pid=$!
wait_for 'slot 4 +power'
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 130 ] || { cat "$T/out" "$T/err"; fail "exit $rc, expected 130"; }
[ "$(grep -Ec 'PASS +slot' "$T/out")" -eq 4 ] || { cat "$T/out"; fail "the 4 boards did not finish"; }
[ "$(q "SELECT group_concat(result, ',') FROM runs")" = PASS,PASS,PASS,PASS ] ||
	fail "records: $(q 'SELECT slot, result FROM runs')"
[ "$(grep -Ec 'READY' "$T/out")" -eq 1 ] || fail "a second batch was started"
ok "Ctrl-C mid-batch: every slot finished and recorded, exit 130"

# 5. a second Ctrl-C aborts every slot at its next step: ABORTED, safe
rm -f "$db"
: >"$T/out"
"$FX" run --station "$T/g4.ini" --recipe "$RCP" --cycles 3 --demo-boards=blank \
	--realtime=1 --plain >"$T/out" 2>"$T/err" &
pid=$!
wait_for 'slot 4 +power'
kill -INT $pid; sleep 0.1; kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 130 ] || { cat "$T/out" "$T/err"; fail "exit $rc, expected 130"; }
[ "$(q "SELECT group_concat(result || ' ' || error_code, ',') FROM runs")" = \
	"ABORTED FX_E_ABORTED,ABORTED FX_E_ABORTED,ABORTED FX_E_ABORTED,ABORTED FX_E_ABORTED" ] ||
	fail "records: $(q 'SELECT slot, result, error_code FROM runs')"
[ "$(grep -Ec "ABORTED slot [1-4] .*stopped by the operator before '" "$T/out")" -eq 4 ] ||
	{ cat "$T/out"; fail "not 4 ABORTED lines"; }
ok "second Ctrl-C: every slot ABORTED at its next step, recorded"

# 6. kill -9 in the middle of a batch: nothing is lost, every unfinished
# run is ABORTED at the next start, and the restart programs the boards
rm -f "$db"
: >"$T/out"
"$FX" run --station "$T/g4.ini" --recipe "$RCP" --cycles 3 --demo-boards=blank \
	--realtime=1 --plain >"$T/out" 2>"$T/err" &
pid=$!
wait_for 'slot 4 +power'
kill -KILL $pid
wait $pid
[ "$(q "SELECT count(*) FROM runs WHERE result IS NULL")" = 4 ] ||
	fail "unfinished runs: $(q 'SELECT slot, result FROM runs')"
expect 0 "$FX" run --station "$T/g4.ini" --recipe "$RCP" --cycles 1 --demo-boards=blank --plain
has "$T/out" '4 unfinished runs from before marked ABORTED'
[ "$(q "SELECT group_concat(slot || result, ',') FROM (SELECT slot, result FROM runs ORDER BY id)")" = \
	"1ABORTED,2ABORTED,3ABORTED,4ABORTED,1PASS,2PASS,3PASS,4PASS" ] ||
	fail "records: $(q 'SELECT id, slot, result FROM runs')"
ok "kill -9 mid-batch: the 4 unfinished runs ABORTED at the restart"

# 7. errors of the new station keys, named by file:line
cp "$T/g4.ini" "$T/bad.ini"
sed -i 's/^name = g4$/name = g4\nstart_mode = parallel\nhub = triple-tt/' "$T/bad.ini"
sed -i '/^\[slot 2\]/a start = sim:START_2' "$T/bad.ini"
expect 65 "$FX" check "$T/bad.ini"
has "$T/err" "bad.ini:3: key 'start_mode': expected batch or independent, got 'parallel'"
has "$T/err" "bad.ini:4: key 'hub': expected multi-tt or single-tt, got 'triple-tt'"
has "$T/err" "bad.ini:[0-9]+: key 'start': a start line per slot needs 'start_mode = independent' in \[station\]"
{ printf '[station]\nname = ind2\ndatabase = i.db\nstart_mode = independent\nstart = sim:START\n'; slots 2 'start = sim:START_%d'; } >"$T/ind2.ini"
sed -i '/^start = sim:START_2$/d' "$T/ind2.ini"
expect 65 "$FX" check "$T/ind2.ini"
has "$T/err" "ind2.ini:5: key 'start': start_mode = independent: each \[slot N\] has its own start line, not \[station\]"
has "$T/err" "ind2.ini:[0-9]+: key 'start': missing in \[slot 2\] \(start_mode = independent: every slot has its own START\)"
cat >"$T/real.ini" <<EOT
[station]
name = real
database = r.db
start = gpiochip0:17
hub = single-tt
[slot 1]
device = usb:1-1.1
boot0 = gpiochip0:22
nrst = gpiochip0:23
EOT
expect 65 "$FX" check "$T/real.ini"
has "$T/err" "real.ini:5: key 'hub': single-tt models the hub of emulated boards; \[slot 1\] is the real device 'usb:1-1.1'"
ok "new station keys: errors with file:line"
echo "all $n passed"
