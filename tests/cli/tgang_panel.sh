#!/bin/sh
# tgang_panel.sh - the live operator panel of `fixturectl run` on a
# terminal (ncurses), driven through a tmux pane: one line per slot with
# its state, step, progress and elapsed time while the boards run, then
# the last verdict with serial and reason, the per-slot counts and
# today's totals; --plain on the same terminal gives the log lines.
. tests/cli/lib.sh
command -v tmux >/dev/null || { echo "skip: tmux missing (scripts/install-deps installs it)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
RCP=$(pwd)/config/demo-g474.ini
[ -f "$RCP" ] || { echo "skip: $RCP missing"; exit 77; }
{
	printf '[station]\nname = panel4\ndatabase = p.db\nstart = sim:START\n'
	for i in 1 2 3 4; do
		k=""
		[ $i -eq 3 ] && k="?return=never"
		printf '[slot %d]\ndevice = emu:b%d.fxb%s\nboot0 = sim:B%d\nnrst = sim:N%d\npower = sim:P%d\n' \
			$i $i "$k" $i $i $i
	done
} >"$T/st.ini"
S="fxpanel$$"
export TMUX_TMPDIR="$T"
cleanup() { tmux kill-server 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# real time, slowed down so the panel is seen mid-run; the pane stays
# after the command ends (remain-on-exit) for the final picture
tmux new-session -d -s "$S" -x 150 -y 30 \
	"TERM=xterm '$(pwd)/$FX' run --station '$T/st.ini' --recipe '$RCP' --cycles 1 --demo-boards=blank --realtime=1; echo EXIT=\$?; sleep 30" ||
	{ echo "skip: tmux cannot start a session here"; exit 77; }
grab() { tmux capture-pane -p -t "$S" >"$T/pane"; }
i=0
grab
while ! grep -Eq '^ +[0-9] +BUSY +(power|probe|enter_boot)' "$T/pane" && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1)); grab
done
has "$T/pane" 'fixturectl run  station panel4  batch, 4 slots, hub multi-tt'
has "$T/pane" 'SLOT STATE +STEP +PROG +ELAPSED +RUNS P/F/E +LAST VERDICT'
for s in 1 2 3 4; do has "$T/pane" "^ +$s +BUSY +[a-z_]+ +[0-9]+% +[0-9.]+ s"; done
ok "panel while running: one BUSY line per slot with step, progress, elapsed"
i=0
while ! grep -q 'EXIT=' "$T/pane" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); grab; done
has "$T/pane" 'EXIT=1'
for s in 1 2 4; do has "$T/pane" "^ +$s +PASS +100% +[0-9.]+ s +1 1/0/0 +PASS [0-9A-F]{12} blank"; done
has "$T/pane" "^ +3 +ERROR .* 1 0/0/1 +ERROR \? unknown: enter_boot: no DFU bootloader"
has "$T/pane" 'today: 4 runs, 3 passed, 0 failed, 1 errors, yield 75.0%'
[ "$(sqlite3 "$T/p.db" "SELECT count(*) FROM runs")" = 4 ] || fail "4 runs recorded"
ok "panel at the end: verdicts with serial and reason, per-slot counts, totals"
tmux kill-session -t "$S"
tmux new-session -d -s "$S" -x 150 -y 30 \
	"TERM=xterm '$(pwd)/$FX' run --station '$T/st.ini' --recipe '$RCP' --cycles 1 --plain; echo EXIT=\$?; sleep 30"
i=0
grab
while ! grep -q 'EXIT=' "$T/pane" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); grab; done
has "$T/pane" 'today: 8 runs'
grep -q 'SLOT STATE' "$T/pane" && fail "--plain drew the panel"
ok "--plain on a terminal: log lines"
echo "all $n passed"
