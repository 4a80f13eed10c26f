#!/bin/sh
# tfleet_stations.sh - emulated stations recording with `run --sync URI`
# against a real PostgreSQL: three stations at the same time (the fleet
# figures are the sum of the three local ones; --by station and --by line
# split them), and a station whose server is stopped for a while during
# 20 cycles (the cycles take as long as with the server up: the station
# never waited; afterwards every run is in the fleet database once).
. tests/cli/lib.sh
HEX=$(pwd)/config/demo-g474.hex
[ -f "$HEX" ] || { echo "skip: $HEX missing"; exit 77; }
. tests/lib/fleet.sh
fleet_setup
station_role st_1 st_2 st_3 st_4
SHA=$(sha256sum "$HEX" | cut -d' ' -f1)
station() { # NAME LINE
	mkdir -p "$T/$1"
	cat >"$T/$1/st.ini" <<EOT
[station]
name = $1
line = $2
database = $1.db
start = sim:START
sync_warn_after = 1
[slot 1]
device = emu:board1.fxb
boot0 = sim:BOOT0_1
nrst = sim:NRST_1
power = sim:POWER_1
EOT
}
cat >"$T/ok.ini" <<EOT
[recipe]
name = g474
version = 2.1
target = stm32g474xe
[firmware]
file = $HEX
sha256 = $SHA
[option_bytes]
DBANK = 0
[program]
erase = mass
serial = scan
[app_check]
usb = 1209:0001
within_ms = 1000
EOT
scans() { # PREFIX N
	seq -f "$1%03g" 1 "$2" | paste -sd, -
}
yield_total() { # DB|URI [ARGS]: the (total) figures of a grouped yield report
	d=$1; shift
	"$FX" report yield --db "$d" --by station "$@" | awk '$1 == "(total)" { $1 = ""; print }'
}
sum_rows() { # adds the columns of the lines on stdin
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) s[i] += $i; n = NF }
	     END { for (i = 1; i <= n; i++) printf "%s%s", s[i], i < n ? " " : "\n" }'
}

# 0. the station file's fleet keys are checked like the others
station sbad L1
sed -i 's/^line = L1/line = L 1\nsync_warn_after = 0/' "$T/sbad/st.ini"
expect 65 "$FX" check "$T/sbad/st.ini"
has "$T/err" "st.ini:3: key 'line': expected letters, digits, '.', '_' or '-', got 'L 1'"
has "$T/err" "st.ini:4: key 'sync_warn_after': expected a number from 1 to 604800, got '0'"
station sp L1
expect 64 "$FX" run --station "$T/sp/st.ini" --recipe "$T/ok.ini" --cycles 1 --demo-boards \
	--sync "postgresql://st_1:pw@localhost/fleet"
has "$T/err" "^fixturectl run: --sync: connection URI 'user=st_1 host=localhost dbname=fleet' holds a password"
ok "line and sync_warn_after checked; run --sync refuses a password in the URI"

# 1. three stations at once, each pushing in the background. The scripted
# operator presses START 0.1 s (station time) after the station is ready:
# at --realtime=0.2 that is 20 ms of real time, and each station is started
# once the one before has begun its first run (not three start-ups fighting
# for a busy machine's CPUs while their first press is due: "change ... is
# in the past" on a loaded machine at 0.05); the stations still overlap:
# 8 cycles take ~5 s, the three have begun within a fraction of it (asserted)
station sa L1; station sb L1; station sc L2
begun() { # DB: runs begun (0 while the database is not there yet)
	sqlite3 "$1" "SELECT count(*) FROM runs" 2>/dev/null || echo 0
}
done_runs() { # DB: runs finished
	sqlite3 "$1" "SELECT count(*) FROM runs WHERE result IS NOT NULL" 2>/dev/null || echo 0
}
for s in sa sb sc; do
	r=st_1; [ $s = sb ] && r=st_2; [ $s = sc ] && r=st_3
	"$FX" run --station "$T/$s/st.ini" --recipe "$T/ok.ini" --cycles 8 --realtime=0.2 \
		--demo-boards --serial-scan "$(scans "$s-" 8)" --operator op-$s \
		--sync "$(pg_uri $r)" >"$T/$s.out" 2>"$T/$s.err" &
	eval pid_$s=$!
	i=0
	while [ "$(begun "$T/$s/$s.db")" -lt 1 ]; do
		eval kill -0 \$pid_$s 2>/dev/null || break # failed: its wait below says why
		i=$((i + 1))
		[ $i -lt 1200 ] || fail "station $s began no run in 60 s"
		sleep 0.05
	done
done
sa_done=$(done_runs "$T/sa/sa.db")
for s in sa sb sc; do
	eval wait \$pid_$s || { cat "$T/$s.out" "$T/$s.err"; fail "station $s failed"; }
done
[ "$sa_done" -lt 8 ] || fail "station sa had finished all its runs before sc began: not at the same time"
pushed_live=$(pg_sql "SELECT count(*) FROM fx.runs")
[ "$pushed_live" -gt 0 ] || fail "nothing arrived while the stations ran"
r=1
for s in sa sb sc; do
	expect 0 "$FX" sync --db "$T/$s/$s.db" --to "$(pg_uri st_$r)"
	r=$((r + 1))
	[ "$(pg_count $s)" = "$(local_count "$T/$s/$s.db")" ] || fail "$s: $(pg_count $s) in the fleet"
done
for s in sa sb sc; do yield_total "$T/$s/$s.db"; done | sum_rows >"$T/sum.txt"
yield_total "$(pg_uri rep)" | sum_rows >"$T/fleet.txt"
diff -u "$T/sum.txt" "$T/fleet.txt" || fail "fleet totals differ from the sum of the stations"
has "$T/fleet.txt" "^24 24 0 0 +24 24 +24 *$"
for s in sa sb sc; do
	"$FX" report yield --db "$T/$s/$s.db" --by station | grep "^$s " >"$T/l.txt"
	"$FX" report yield --db "$(pg_uri rep)" --by station | grep "^$s " >"$T/f.txt"
	diff -u "$T/l.txt" "$T/f.txt" || fail "station $s: fleet row differs"
	same_report "$T/$s/$s.db" cycle --station $s --by operator
	same_report "$T/$s/$s.db" history $s-003
done
expect 0 "$FX" report yield --db "$(pg_uri rep)" --by line
has "$T/out" "^L1 +16 +16 +0 +0 +100.00 +16 "
has "$T/out" "^L2 +8 +8 +0 +0 +100.00 +8 "
ok "three stations at once with run --sync: fleet = sum of the local reports ($pushed_live runs arrived live)"

# 2. 20 cycles, the server stopped from cycle 4 to cycle 14: the station
# never waits (its cycles last as long as with the server up), then every
# run arrives once (--realtime=0.2: the first press is 20 ms of real time
# ahead, as in 1)
station sd L2
cycle_max() { "$FX" report cycle --db "$1" --operator "$2" | awk '$1 == "(run)" { print $3, $6 }'; }
"$FX" run --station "$T/sd/st.ini" --recipe "$T/ok.ini" --cycles 20 --realtime=0.2 --demo-boards \
	--serial-scan "$(scans ref- 20)" --operator ref --sync "$(pg_uri st_4)" >"$T/ref.out" 2>&1 || fail "reference run"
expect 0 "$FX" sync --db "$T/sd/sd.db" --to "$(pg_uri st_4)"
ref=$(cycle_max "$T/sd/sd.db" ref)
"$FX" run --station "$T/sd/st.ini" --recipe "$T/ok.ini" --cycles 20 --realtime=0.2 --demo-boards \
	--serial-scan "$(scans sd- 20)" --operator down --sync "$(pg_uri st_4)" >"$T/sd.out" 2>"$T/sd.err" &
pid=$!
runs() { sqlite3 "$T/sd/sd.db" "SELECT count(*) FROM runs WHERE serial LIKE 'sd-%' AND result IS NOT NULL" 2>/dev/null || echo 0; }
while [ "$(runs)" -lt 4 ]; do sleep 0.05; done
pg_stop
while [ "$(runs)" -lt 14 ]; do sleep 0.05; done
during=$(sqlite3 "$T/sd/sd.db" "SELECT count(*) FROM sync_queue q JOIN sync_state a WHERE q.seq > a.acked_seq")
pg_restart || fail "server restart"
wait $pid || { cat "$T/sd.out" "$T/sd.err"; fail "the station failed while its server was down"; }
has "$T/sd.out" "WARNING sync: [0-9]+ runs not in the fleet database, the oldest for [0-9]+ min"
[ "$during" -gt 0 ] || fail "no backlog while the server was down"
# the same 20 boards: the cycle times as with the server up (mean, max;
# the margin is for a busy test machine only)
got=$(cycle_max "$T/sd/sd.db" down)
echo "cycle mean/max: reference $ref, with the server stopped $got"
awk -v r="$ref" -v g="$got" 'BEGIN { split(r, a, " "); split(g, b, " ");
	exit !(b[1] <= a[1] * 1.3 + 0.3 && b[2] <= a[2] * 1.5 + 0.5) }' ||
	fail "cycles slowed down while the server was stopped: $got vs $ref"
expect 0 "$FX" sync --db "$T/sd/sd.db" --status
has "$T/out" "last error   20[0-9T:-]+Z server "
expect 0 "$FX" sync --db "$T/sd/sd.db" --to "$(pg_uri st_4)"
[ "$(pg_count sd)" = "$(local_count "$T/sd/sd.db")" ] || fail "sd: $(pg_count sd) vs $(local_count "$T/sd/sd.db")"
[ "$(pg_sql "SELECT count(*) FROM fx.runs WHERE station = 'sd'")" = 40 ] || fail "not 40 runs"
same_report "$T/sd/sd.db" yield --by day --station sd
same_report "$T/sd/sd.db" cycle --station sd --by operator
ok "server stopped during 20 cycles: cycle times unchanged, backlog of $during, then every run once"
