#!/bin/sh
# tgang_tower.sh - the tower of a gang station (issue 14 item 6): yellow
# while any slot runs, green when every slot of the last batch passed, red
# when one did not. The levels are read back from the emulated GPIO
# ($FX_GPIO_SIM_TRACE: every level change of every sim line, in order,
# src/gpio/gpio_sim.c) and the verdicts compared with the database:
#   - while any BUSY LED is lit: yellow on, green and red off
#   - yellow lights once per batch
#   - after each batch (at the next START press, and at the end): green
#     alone if every run of that batch is PASS in the database, red alone
#     if one is not; red -> green when the next batch passes
#   - independent mode: the same while the slots overlap, and the end
# Virtual time (emulated boards), so each run takes well under a second.
. tests/cli/lib.sh
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
RCP=$(pwd)/config/demo-g474.ini
[ -f config/demo-g474.hex ] || { echo "skip: config/demo-g474.hex missing"; exit 77; }

station() { # NAME MODE N KNOBS-OF-SLOT-2 (the other slots: good boards)
	{
		printf '[station]\nname = %s\ndatabase = %s.db\nstart_mode = %s\n' "$1" "$1" "$2"
		[ "$2" = batch ] && printf 'start = sim:START\n'
		printf 'tower_green = sim:G\ntower_yellow = sim:Y\ntower_red = sim:R\n'
		i=1
		while [ $i -le "$3" ]; do
			k=""
			[ $i = 2 ] && k=$4
			printf '[slot %d]\ndevice = emu:%s-%d.fxb%s\nboot0 = sim:BOOT0_%d\nnrst = sim:NRST_%d\npower = sim:POWER_%d\nled_busy = sim:BUSY_%d\nled_pass = sim:PASS_%d\nled_fail = sim:FAIL_%d\n' \
				$i "$1" $i "$k" $i $i $i $i $i $i
			[ "$2" = independent ] && printf 'start = sim:START_%d\n' $i
			i=$((i + 1))
		done
	} >"$T/$1.ini"
}
# tower TRACE: "yellow=N bad=N verdicts=V..." - N yellow rises, N moments
# where a BUSY LED was lit without yellow alone, and the tower after each
# batch: G (green alone), R (red alone) or ? (anything else)
tower() {
	awk '
	function state() {
		if (lv["sim:G"] == 1 && lv["sim:Y"] != 1 && lv["sim:R"] != 1) return "G"
		if (lv["sim:R"] == 1 && lv["sim:Y"] != 1 && lv["sim:G"] != 1) return "R"
		return "?"
	}
	{
		if ($2 == "sim:Y" && $3 == 1 && lv["sim:Y"] != 1) { yellow++; judged = 0 }
		if ($2 ~ /^sim:START/ && $3 == 1 && yellow && !judged && lv["sim:Y"] != 1) {
			v = v " " state(); judged = 1
		}
		lv[$2] = $3
		busy = 0
		for (k in lv) if (k ~ /^sim:BUSY_/ && lv[k] == 1) busy = 1
		if (busy && (lv["sim:Y"] != 1 || lv["sim:G"] == 1 || lv["sim:R"] == 1)) bad++
	}
	END {
		if (yellow && !judged) v = v " " state()
		printf "yellow=%d bad=%d verdicts=%s\n", yellow, bad + 0, substr(v, 2)
	}' "$1"
}
# want DB N: the verdict per batch of N runs from the records (G/R)
want() {
	sqlite3 "$1" "SELECT group_concat(v, ' ') FROM (SELECT CASE WHEN min(result = 'PASS') = 1 THEN 'G' ELSE 'R' END v
		FROM runs GROUP BY (id - 1) / $2 ORDER BY (id - 1) / $2)"
}
run() { # NAME CYCLES
	rm -f "$T/$1.trace"
	FX_GPIO_SIM_TRACE="$T/$1.trace" "$FX" run --station "$T/$1.ini" --recipe "$RCP" \
		--cycles "$2" --plain >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}

# 1. every board passes, two batches: green after each
station good batch 3 ""
run good 2
[ "$(cat "$T/rc")" = 0 ] || { cat "$T/out" "$T/err"; fail "exit $(cat "$T/rc")"; }
[ "$(want "$T/good.db" 3)" = "G G" ] || fail "records: $(sqlite3 "$T/good.db" 'SELECT slot, result FROM runs')"
[ "$(tower "$T/good.trace")" = "yellow=2 bad=0 verdicts=G G" ] ||
	{ cat "$T/good.trace"; fail "tower: $(tower "$T/good.trace")"; }
ok "all pass: yellow while the slots run, green after each batch"

# 2. slot 2's board drops off the bus once (in the first batch): red after
# it, green after the two batches where all passed
station drop batch 3 '?fault=drop&fault_nth=40'
run drop 3
[ "$(cat "$T/rc")" = 1 ] || { cat "$T/out" "$T/err"; fail "exit $(cat "$T/rc"), expected 1"; }
[ "$(want "$T/drop.db" 3)" = "R G G" ] || fail "records: $(sqlite3 "$T/drop.db" 'SELECT slot, result FROM runs')"
[ "$(tower "$T/drop.trace")" = "yellow=3 bad=0 verdicts=R G G" ] ||
	{ cat "$T/drop.trace"; fail "tower: $(tower "$T/drop.trace")"; }
ok "one board of a batch in ERROR: red; the next batch all PASS: green"

# 3. slot 2's chip never comes back from a reset: every batch red
station never batch 3 '?return=never'
run never 2
[ "$(want "$T/never.db" 3)" = "R R" ] || fail "records: $(sqlite3 "$T/never.db" 'SELECT slot, result FROM runs')"
[ "$(sqlite3 "$T/never.db" "SELECT count(*) FROM runs WHERE result = 'PASS'")" = 4 ] ||
	fail "the other slots did not pass"
[ "$(tower "$T/never.trace")" = "yellow=2 bad=0 verdicts=R R" ] ||
	{ cat "$T/never.trace"; fail "tower: $(tower "$T/never.trace")"; }
ok "one slot ERROR in every batch: red after each, the others PASS"

# 4. independent mode: slots overlap; yellow while any runs, the end
# judged on every slot's last board
station ind independent 3 ""
run ind 2
[ "$(cat "$T/rc")" = 0 ] || { cat "$T/out" "$T/err"; fail "exit $(cat "$T/rc")"; }
r=$(tower "$T/ind.trace")
case $r in "yellow="[1-9]*" bad=0 verdicts="*G) ;; *) cat "$T/ind.trace"; fail "tower: $r" ;; esac
station indf independent 3 '?return=never'
run indf 2
r=$(tower "$T/indf.trace")
case $r in "yellow="[1-9]*" bad=0 verdicts="*R) ;; *) cat "$T/indf.trace"; fail "tower: $r" ;; esac
ok "independent mode: yellow while any slot runs, green / red at the end"

# 5. a scanned serial refused before its board runs (70 characters, on
# stdin, batch 2 slot 2): that batch is red although every board that ran
# passed (the refused board is a FAIL of the batch)
sed -e 's/^serial = uid$/serial = scan/' -e "s|^file = demo-g474.hex|file = $(pwd)/config/demo-g474.hex|" \
	"$RCP" >"$T/scan-recipe.ini"
grep -q "^serial = scan$" "$T/scan-recipe.ini" || fail "scan recipe not made"
station scan batch 2 ""
long=$(printf 'S%069d' 0)
printf 'A1\nA2\nB1\n%s\n' "$long" >"$T/scans"
rm -f "$T/scan.trace"
FX_GPIO_SIM_TRACE="$T/scan.trace" "$FX" run --station "$T/scan.ini" --recipe "$T/scan-recipe.ini" \
	--cycles 2 --plain --serial-scan - <"$T/scans" >"$T/out" 2>"$T/err"
has "$T/out" "FAIL   slot 2: scanned serial"
[ "$(sqlite3 "$T/scan.db" "SELECT count(*) FROM runs WHERE result = 'PASS'")" = 3 ] ||
	{ cat "$T/out" "$T/err"; fail "three boards should have run and passed"; }
[ "$(tower "$T/scan.trace")" = "yellow=2 bad=0 verdicts=G R" ] ||
	{ cat "$T/scan.trace"; fail "tower: $(tower "$T/scan.trace")"; }
ok "a scanned serial refused: that batch's tower is red"

# the trace file must be writable: a clear error, not a silent run
FX_GPIO_SIM_TRACE="$T/no/such/dir/t" "$FX" run --station "$T/good.ini" --recipe "$RCP" \
	--cycles 1 --plain >"$T/out" 2>"$T/err"
[ $? -ne 0 ] || fail "an unwritable trace was ignored"
has "$T/err" "FX_GPIO_SIM_TRACE '$T/no/such/dir/t': cannot open: No such file or directory"
ok "FX_GPIO_SIM_TRACE unwritable: the station does not start, the error names it"
echo "all $n passed"
