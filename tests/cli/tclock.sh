#!/bin/sh
# tclock.sh - issue 8 defect 6: record times of emulated stations. Virtual
# time (and --realtime < 1) run the model faster than the wall clock; with
# many restarts the records used to run ahead of the wall clock (each start
# anchored after the newest end), so a day of emulated runs landed on
# tomorrow. The rule (fixturectl run --help): each run starts at the wall
# clock, or 1 us after the newest start recorded; steps and end follow at
# model durations. Checked: starts strictly in id order, never ahead of the
# wall clock, each on its wall-clock UTC day.
. tests/cli/lib.sh
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
cat >"$T/st.ini" <<EOT
[station]
name = tclock
database = clock.db
start = sim:START
[slot 1]
device = emu:b.fxb
boot0 = sim:BOOT0_1
nrst = sim:NRST_1
power = sim:POWER_1
EOT
R=$(pwd)/config/demo-g474.ini
now_us() { echo $(( $(date +%s) * 1000000 + 1000000 )); }
t0=$(date +%s)
# 5 restarts of 3 boards in virtual time, 2 of 2 boards at --realtime=0.05
for i in 1 2 3 4 5; do
	expect 0 "$FX" run --station "$T/st.ini" --recipe "$R" --cycles 3 --demo-boards=blank,programmed
done
for i in 1 2; do
	expect 0 "$FX" run --station "$T/st.ini" --recipe "$R" --cycles 2 --demo-boards=programmed --realtime=0.05
done
lim=$(now_us)
q() { sqlite3 "$T/clock.db" "$1"; }
[ "$(q 'SELECT count(*) FROM runs')" -eq 19 ] || fail "19 runs expected"
[ "$(q 'SELECT count(*) FROM runs a JOIN runs b ON b.id = a.id + 1 WHERE b.start_us <= a.start_us')" -eq 0 ] ||
	fail "run starts are not in order"
ok "starts strictly in order across 7 processes"
ahead=$(q "SELECT max(start_us) - $lim FROM runs")
[ "$ahead" -le 0 ] || fail "a run start is $ahead us ahead of the wall clock"
[ "$(q "SELECT count(*) FROM runs WHERE start_us < $t0 * 1000000")" -eq 0 ] || fail "a start before the test began"
ok "no start ahead of the wall clock"
# the model ran ~1 min per restart ahead before: every start is on the
# wall-clock day it was made (t0 .. now spans at most one midnight)
d0=$((t0 / 86400)); d1=$((lim / 86400000000))
[ "$(q "SELECT count(*) FROM runs WHERE start_us / 86400000000 NOT IN ($d0, $d1)")" -eq 0 ] ||
	fail "a run landed on another day"
# model durations are kept: a run lasts its model time, longer than the
# wall time the whole test took for the virtual-time runs
[ "$(q 'SELECT count(*) FROM runs WHERE end_us - start_us < 1000000')" -eq 0 ] || fail "model durations lost"
ok "runs on their wall-clock day, with model durations"
echo "tclock: ok"
