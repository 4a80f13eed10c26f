# treport_groups.sh - reports grouped by a column some runs leave empty:
# runs with and without --operator in one database, every report grouped
# by operator (and by operator with slot) answers, the unnamed group
# first (report_cycle.c sorted the groups with strcmp on a NULL cell: a
# SIGSEGV).
. tests/cli/lib.sh
RCP=$(pwd)/config/demo-g474.ini
[ -f config/demo-g474.hex ] || { echo "skip: config/demo-g474.hex missing"; exit 77; }
printf '[station]\nname = groups\ndatabase = g.db\nstart = sim:START\n[slot 1]\ndevice = emu:b1.fxb\nboot0 = sim:B\nnrst = sim:N\npower = sim:P\n' >"$T/st.ini"
expect 0 "$FX" run --station "$T/st.ini" --recipe "$RCP" --cycles 2 --plain --operator alice
expect 0 "$FX" run --station "$T/st.ini" --recipe "$RCP" --cycles 1 --plain
for r in yield pareto cycle; do
	expect 0 "$FX" report "$r" --db "$T/g.db" --by operator
done
expect 0 "$FX" report cycle --db "$T/g.db" --by operator --format csv
# the unnamed group (1 run) sorts before alice (2 runs)
awk -F, 'NR > 1 { print $4 }' "$T/out" >"$T/groups"
[ "$(head -1 "$T/groups")" = "" ] || { cat "$T/out"; fail "the group without operator is not first"; }
grep -qx alice "$T/groups" || { cat "$T/out"; fail "no group alice"; }
ok "report yield/pareto/cycle --by operator with runs that have no operator"
expect 0 "$FX" report cycle --db "$T/g.db" --by operator --by slot
ok "report cycle --by operator --by slot"
echo "all $n passed"
