#!/bin/sh
# tfleet_crash.sh - fleet sync survives crashes: kill -9 of the syncing
# process in the middle of a batch (its transaction open on the server),
# kill -9 of the server in the middle of a batch (sync --follow retries
# with backoff and goes on), an acknowledgement lost after the server's
# commit (repaired at the next attach). After each: every run exactly
# once, and the fleet figures equal the local ones (a summary folded twice
# would show).
. tests/cli/lib.sh
. tests/lib/fleet.sh
fleet_setup
station_role st_c
FLEET_GEN_GAP_S=60 "$GEN" "$T/c.db" stc 6000 21 C 1 || fail "gen"
U=$(pg_uri st_c)

acked() { sqlite3 "$T/c.db" "SELECT acked_seq FROM sync_state" 2>/dev/null || echo 0; }
# wait until the station acknowledged more than $1 runs, then until a
# fixturectl backend is inside a batch (its inserts, or between them)
mid_batch() { # MIN_ACKED
	for i in $(seq 1 600); do
		[ "$(acked)" -gt "$1" ] && break
		sleep 0.01
	done
	for i in $(seq 1 600); do
		nb=$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fixturectl'
			AND backend_type = 'client backend' AND (state = 'idle in transaction'
			OR query LIKE 'INSERT INTO fx.%' OR query LIKE 'SELECT fx.batch_%')" 2>/dev/null)
		[ "${nb:-0}" -ge 1 ] && return 0
		sleep 0.005
	done
	return 1
}
check_once() { # what
	got=$(pg_count stc)
	want=$(local_count "$T/c.db")
	[ "$got" = "$want" ] || fail "$1: fleet has '$got' runs/steps, the station '$want'"
	dup=$(pg_sql "SELECT count(*) - count(DISTINCT seq) FROM fx.runs WHERE station = 'stc'")
	[ "$dup" = 0 ] || fail "$1: $dup duplicate sequence numbers"
	same_report "$T/c.db" yield --by day
	same_report "$T/c.db" cycle --by slot
	same_report "$T/c.db" pareto --by operator
}

# 1. kill -9 of the syncer, three times, each inside a batch
prev=-1
for k in 1 2 3; do
	"$FX" sync --db "$T/c.db" --to "$U" --batch 400 >"$T/s.out" 2>"$T/s.err" &
	pid=$!
	mid_batch $prev || { kill -9 $pid; fail "no batch seen in progress (kill $k)"; }
	kill -9 $pid
	wait $pid 2>/dev/null
	prev=$(acked)
done
acked=$(acked)
[ "$acked" -gt 0 ] || fail "no batch acknowledged before the kills"
[ "$acked" -lt 6000 ] || fail "the syncer finished before it was killed ($acked)"
expect 0 "$FX" sync --db "$T/c.db" --to "$U" --batch 400
has "$T/out" "^pushed $((6000 - acked)) runs$"
check_once "after kill -9 of the syncer"
ok "kill -9 of the syncer mid-batch (x3): no loss, no duplicate ($acked acknowledged before)"

# 2. an acknowledgement lost after the server committed (crash between the
# server's COMMIT and the local one): repaired, nothing pushed twice
sqlite3 "$T/c.db" "UPDATE sync_state SET acked_seq = 5200, acked_uuid =
	(SELECT r.uuid FROM sync_queue q JOIN runs r ON r.id = q.run_id WHERE q.seq = 5200)"
expect 0 "$FX" sync --db "$T/c.db" --to "$U"
has "$T/out" "^pushed 0 runs$"
[ "$(sqlite3 "$T/c.db" "SELECT acked_seq FROM sync_state")" = 6000 ] || fail "ack not repaired"
check_once "after a lost acknowledgement"
ok "a lost acknowledgement is repaired from the server's last run; nothing duplicated"

# 3. kill -9 of the server mid-batch; --follow backs off and goes on
FLEET_GEN_GAP_S=60 "$GEN" "$T/c.db" stc 6000 22 C 1 || fail "gen"
"$FX" sync --db "$T/c.db" --to "$U" --follow --batch 300 >"$T/f.out" 2>"$T/f.err" &
pid=$!
mid_batch 6000 || { kill $pid; fail "no batch seen in progress (server kill)"; }
pg_kill9
sleep 1.5
pg_restart || fail "server restart"
done_=0
for i in $(seq 1 600); do
	[ "$(sqlite3 "$T/c.db" "SELECT acked_seq FROM sync_state")" = 12000 ] && { done_=1; break; }
	sleep 0.1
done
kill -TERM $pid
wait $pid; rc=$?
[ $done_ -eq 1 ] || { cat "$T/f.err"; fail "follow did not drain after the server came back"; }
[ $rc -eq 0 ] || { cat "$T/f.err"; fail "sync --follow exited $rc on SIGTERM"; }
has "$T/f.err" "fixturectl sync: server '.*': "
check_once "after kill -9 of the server"
expect 0 "$FX" sync --db "$T/c.db" --status
has "$T/out" "backlog      0 runs"
has "$T/out" "last error   20[0-9T:-]+Z server "
ok "kill -9 of the server mid-batch: sync --follow retried, every run once"
