#!/bin/sh
# tsoak_serial.sh - the short kill -9 soak of the serial allocator in make
# check (issue 11 on top of issue 8): scripts/soak-kill with the counter
# recipe (serial in flash) and the list recipe (serial in OTP, MAC in
# flash), a few SIGKILLs each at seeded moments, new boards and wiped ones.
# After every kill and the last start: no serial on two boards, none lost
# or stuck 'reserved', every PASS's serial is its unit's and bound to its
# chip UID and is in the board (flash / OTP / the MAC), serial_event
# append-only and consistent. Then damages the soak must catch (a bound
# value released, an event row removed, values renamed so the boards no
# longer hold them): the checks can fail. The long soak:
# SOAK_RECIPE=config/demo-g474-serial.ini scripts/soak-kill 120.
. tests/cli/lib.sh
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI missing"; exit 77; }
clean() { # FILE: every invariant count of the soak is 0
	for k in 'corruptions' 'lost records' 'false PASS' 'serial on two boards' 'serial lost' \
		'serial stuck reserved' 'serial rule broken' "serial not the unit's" \
		'serial not in the board' 'serial_event wrong'; do
		has "$1" "^$k: +0$"
	done
	has "$1" '^serial boards checked: +[1-9]'
	has "$1" '^soak-kill: ok$'
}
SOAK_RECIPE=config/demo-g474-serial.ini SOAK_KILLS=4 SOAK_SEED=21 SOAK_DIR="$T/c" \
	sh scripts/soak-kill 20 >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ $rc -eq 0 ] || fail "counter soak exited $rc"
has "$T/out" '^soak-kill: 4 kills'
clean "$T/out"
ok "counter serial in flash, 4 kills: no value twice, none lost, every PASS board holds its value"

SOAK_RECIPE=config/demo-g474-serial-list.ini SOAK_LIST_ROWS=200 SOAK_KILLS=4 SOAK_SEED=22 \
	SOAK_DIR="$T/l" sh scripts/soak-kill 20 >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ $rc -eq 0 ] || fail "list soak exited $rc"
has "$T/out" '^serial: .*write otp, encoding ascii:16'
clean "$T/out"
ok "list serial in OTP + MAC in flash, 4 kills: no value twice, none lost, OTP and MAC hold it"

# kills aimed at the allocation states, a new board each time: the moment
# a value is reserved (nothing written: released on restart) and the
# moment it is marked reached (about to be written: bound on restart)
for t in reserved reached; do
	SOAK_TARGET=$t SOAK_SCALE=0.2 SOAK_RECIPE=config/demo-g474-serial.ini SOAK_KILLS=3 SOAK_SEED=24 \
		SOAK_DIR="$T/$t" sh scripts/soak-kill 15 >"$T/out" 2>&1
	rc=$?
	cat "$T/out"
	[ $rc -eq 0 ] || fail "soak-kill at '$t' exited $rc"
	clean "$T/out"
	sed -n '/^serial state at the kill/,/^serial events/p' "$T/out" >"$T/states"
	has "$T/states" "^  $t +[1-3]$"
	case $t in
	reserved) has "$T/states" '^  released +[1-3]$' ;;
	reached) has "$T/states" '^  bound +[1-3]$' ;;
	esac
	ok "3 kills at '$t': resolved as the rules say, nothing twice, nothing lost"
done

# a list of 3 voided by 3 kills at 'reserved': the station then stops
# (exit 75) before the next board, every value resolved (voided)
SOAK_TARGET=reserved SOAK_SCALE=0.2 SOAK_RECIPE=config/demo-g474-serial-list.ini SOAK_LIST_ROWS=3 \
	SOAK_SEED=26 SOAK_DIR="$T/e" sh scripts/soak-kill 15 >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ $rc -eq 0 ] || fail "exhausting soak exited $rc"
has "$T/out" "^soak-kill: the station stopped: .*pool 'g474-customer-a': no serial numbers left"
has "$T/out" '^serial stuck reserved: +0$'
has "$T/out" '^serial lost: +0$'
has "$T/out" '^serial_event wrong: +0$'
sed -n '/^serial values by state/,/^serial state/p' "$T/out" >"$T/states"
has "$T/states" '^  voided +3$'
ok "a list used up by kills: the station stops, every value voided, none stuck"

# the gang: 4 slots killed mid-batch at 'reached' (a copy of
# stations/emu-4slot.ini on files of its own)
mkdir -p "$T/g"
sed "s|\.\./build/|$T/g/|" stations/emu-4slot.ini >"$T/g/st.ini"
SOAK_TARGET=reached SOAK_SCALE=0.2 SOAK_RECIPE=config/demo-g474-serial.ini SOAK_KILLS=3 SOAK_SEED=25 \
	SOAK_DIR="$T/gw" sh scripts/soak-kill 15 "$T/g/st.ini" >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ $rc -eq 0 ] || fail "gang soak exited $rc"
has "$T/out" "db $T/g/emu-4slot.db"
clean "$T/out"
ok "4-slot gang, 3 kills mid-batch: nothing twice, nothing lost, every PASS board holds its value"

# the checks catch a damage (each after a kill, before the last checks)
tamper() { # SQL COUNT-LINE-REGEX...
	sql=$1; shift
	SOAK_RECIPE=config/demo-g474-serial.ini SOAK_KILLS=1 SOAK_BLANK=1 SOAK_SEED=23 SOAK_DIR="$T/x" \
		SOAK_TAMPER="$sql" sh scripts/soak-kill 10 >"$T/out" 2>&1
	rc=$?
	rm -rf "$T/x"
	[ $rc -eq 1 ] || { cat "$T/out"; fail "tampered soak exited $rc, expected 1"; }
	has "$T/out" '^soak-kill: FAILED$'
	for re in "$@"; do has "$T/out" "$re"; done
}
tamper "UPDATE serial_alloc SET state = 'released', chip_uid = NULL
	WHERE id = (SELECT max(id) FROM serial_alloc WHERE state = 'bound')" \
	'^serial rule broken: +[1-9]' "^serial not the unit's: +[1-9]" '^serial_event wrong: +[1-9]'
ok "a bound value released: rule, unit and event checks fail"
tamper "DELETE FROM serial_event WHERE id = (SELECT min(id) FROM serial_event)" \
	'not append-only' '^serial_event wrong: +[1-9]'
ok "an event row removed: append-only check fails"
tamper "UPDATE serial_alloc SET value = value || 'X'; UPDATE units SET serial = serial || 'X';
	UPDATE runs SET serial = serial || 'X' WHERE serial IS NOT NULL" \
	'^serial not in the board: +[1-9]'
ok "values no board holds: the board check fails"
