#!/bin/sh
# guest.sh - the kernel tier inside the VM (init of the initramfs that
# tests/kernel/run-vm builds). A gpio-sim chip named like a jig, boards
# served by fxgadget on dummy_hcd, the unmodified fixturectl, dfu-util and
# the libgpiod tools; one result line per check ("ok N - ..." or
# "FAIL N - ...: why"), then "N passed, N failed", then power off.
set -u
echo # the firmware's "Booting from ROM.." has no newline: results start a line
PASSED=0
FAILED=0
N=0
up() { cut -d' ' -f1 /proc/uptime; }
ok() { N=$((N + 1)); PASSED=$((PASSED + 1)); echo "ok $N - $* [$(up) s]"; }
bad() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "FAIL $N - $* [$(up) s]"; }
# KT_ONLY="run fault dfu gang" (a developer's partial run; run-vm says so)
section() {
	[ -z "${KT_ONLY:-}" ] && return 0
	case " $KT_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}
# check DESC COND_RESULT_WHY: WHY empty = pass
check() {
	if [ -z "$2" ]; then ok "$1"; else bad "$1: ${2#; }"; fi
}
finish() {
	echo "kernel: guest: init at ${boot_s:-?} s uptime, checks done at $(up) s"
	echo "$PASSED passed, $FAILED failed"
	sync
	poweroff -f
	sleep 5
}
show() { # FILE: into the console for a failed check
	[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -n "${2:-25}"
}
SCALE=${KT_SCALE:-1.0}
RUN_TMO=90 # seconds for one fixturectl run (a real run takes < 20 s);
# the bench commands and dfu-util get 60 s: a hang is a named failure
FX=/fx
ST=$FX/stations/kernel-1slot.ini
REC=$FX/config/demo-g474.ini
HEX=$FX/config/demo-g474.hex
T=/tmp/kt

mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /run $T && mount -t tmpfs run /run
echo 1 >/proc/sys/kernel/printk_devkmsg 2>/dev/null
boot_s=$(cut -d' ' -f1 /proc/uptime)

# ---- modules (kernel-tier.md: Debian lacks gpio-sim; usb_f_fs patched) --
NBOARDS=4
setup_err=""
for m in configfs usb-common usbcore udc-core "dummy_hcd num=$NBOARDS is_high_speed=0" \
	libcomposite usb_f_fs gpio-sim; do
	set -- $m
	mod=$1
	shift
	insmod /lib/modules/$mod.ko "$@" 2>$T/insmod.err ||
		{ setup_err="insmod $mod: $(cat $T/insmod.err)"; break; }
done
mount -t configfs none /sys/kernel/config 2>/dev/null
[ -n "$setup_err" ] && { bad "kernel modules load: $setup_err"; finish; }
# udevd as on a jig: libusb's hotplug listens to its broadcasts
mkdir -p /run/udev /etc/udev/rules.d
systemd-udevd --daemon 2>$T/udevd.err ||
	{ bad "systemd-udevd starts: $(cat $T/udevd.err)"; finish; }
ok "kernel modules loaded (init at ${boot_s} s uptime): gpio-sim, dummy_hcd (num=$NBOARDS, full speed), patched usb_f_fs"

# ---- the jig: a gpio-sim chip with named lines ---------------------------
LINES="START LID TOWER_GREEN TOWER_YELLOW TOWER_RED BUZZER"
for s in 1 2 3 4; do
	LINES="$LINES BOOT0_$s NRST_$s POWER_$s PASS_$s FAIL_$s BUSY_$s"
done
G=/sys/kernel/config/gpio-sim/jig
mkdir $G $G/bank0
echo jig >$G/bank0/label
echo $(echo $LINES | wc -w) >$G/bank0/num_lines
i=0
for l in $LINES; do
	mkdir $G/bank0/line$i
	echo $l >$G/bank0/line$i/name
	eval "off_$l=$i"
	i=$((i + 1))
done
echo 1 >$G/live || { bad "gpio-sim chip goes live"; finish; }
CHIP=$(cat $G/bank0/chip_name)
SIM=/sys/devices/platform/$(cat $G/dev_name)/$CHIP
ld() { eval "echo $SIM/sim_gpio\$off_$1"; }     # sim dir of line NAME
val() { cat "$(ld "$1")/value"; }                 # level the station drives
pull() { echo "pull-$2" >"$(ld "$1")/pull"; }      # what an input reads
if [ "$CHIP" != gpiochip0 ]; then
	# the station file names gpiochip0: say so rather than guess
	bad "gpio-sim chip is gpiochip0 (stations/kernel-1slot.ini): got '$CHIP'"
	finish
fi
gpiodetect >$T/gpiodetect 2>&1
check "gpio-sim jig chip: $CHIP with $i named lines (gpiodetect)" \
	"$(grep -q "^$CHIP \[jig\] ($i lines)" $T/gpiodetect || echo "gpiodetect: $(cat $T/gpiodetect)")"
pins() { echo "$(ld BOOT0_$1),$(ld NRST_$1),$(ld POWER_$1)"; }  # of slot N
PINS1=$(pins 1)

# ---- helpers ----------------------------------------------------------------
wait_for() { # FILE REGEX SECONDS [COUNT]
	_n=$(( $3 * 20 ))
	while [ $_n -gt 0 ]; do
		_k=$(grep -cE "$2" "$1" 2>/dev/null)
		[ "${_k:-0}" -ge "${4:-1}" ] && return 0
		usleep 50000
		_n=$((_n - 1))
	done
	return 1
}
gadget_start() { # LOG ARGS...: fxgadget in the background
	_log=$1
	shift
	# emptied here, not by the child's redirection: a wait must never
	# read the last run's "ready" (or READY below)
	: >$_log.out
	fxgadget ${KT_GV:--v} --realtime="$SCALE" "$@" >$_log.out 2>$_log.log &
	GPID=$!
	wait_for $_log.out "^fxgadget: ready" 20 || { show $_log.log; return 1; }
}
gadget_stop() {
	kill -TERM $GPID 2>/dev/null
	wait $GPID
	_rc=$?
	GPID=""
	return $_rc
}
press_start() {
	pull START down  # active-low button to GND: a real falling edge
	usleep 120000
	pull START up
}
devnum() { cat /sys/bus/usb/devices/$1/devnum 2>/dev/null; }
pid_at() { cat /sys/bus/usb/devices/$1/idProduct 2>/dev/null; }
# wait until PORT shows PID (df11) with a device number other than OLD
wait_enum() { # PORT PID OLD SECONDS
	_n=$(( $4 * 20 ))
	while [ $_n -gt 0 ]; do
		[ "$(pid_at $1)" = "$2" ] && [ "$(devnum $1)" != "$3" ] && return 0
		usleep 50000
		_n=$((_n - 1))
	done
	return 1
}
dbank() { fixturectl emu show "$1" 2>&1 | sed -n 's/.*(DBANK=\([01]\).*/\1/p'; }
# the kernel's own record of the enumerations since the last clear
enum_count() { dmesg | grep -c "New USB device found, idVendor=0483, idProduct=df11"; }
devnums() { dmesg | sed -n 's/.*usb \([0-9-]*\): new full-speed USB device number \([0-9]*\).*/\2/p' | tr '\n' ' '; }

# run_station BOARD[?KNOBS] CYCLES [LIDTEST]: fxgadget wired to the jig's
# slot-1 lines, fixturectl run on the real station file; each READY gets
# the lid closed and START pressed. Result: RC, $T/run.out, $T/run.err,
# $T/g.log (fxgadget's pins and plugs)
run_station() {
	RC=99
	gadget_start $T/g --board "$1" --pins "$PINS1" || return
	# a hang is a failure with its logs, not the VM's timeout
	: >$T/run.out
	timeout $RUN_TMO fixturectl run --station $ST --recipe $REC --cycles $2 \
		--operator kt >$T/run.out 2>$T/run.err &
	_rp=$!
	_c=1
	while [ $_c -le $2 ]; do
		wait_for $T/run.out 'READY' 20 $_c || break
		if [ "${3:-}" = lid ] && [ $_c = 1 ]; then
			# the lid reads open (the station's pull-up): START refused
			press_start
			usleep 400000
			LIDOPEN_BUSY=$(grep -c BUSY $T/run.out)
			gpioinfo $CHIP >$T/gpioinfo 2>&1
		fi
		pull LID down    # closed
		press_start
		_c=$((_c + 1))
		# LEDs of the finished board while the next one is awaited,
		# then the lid opens to swap the board
		if [ $_c -le $2 ]; then
			wait_for $T/run.out 'READY' 120 $_c &&
				LEDS="pass=$(val PASS_1) fail=$(val FAIL_1) busy=$(val BUSY_1) yellow=$(val TOWER_YELLOW) green=$(val TOWER_GREEN) red=$(val TOWER_RED)"
			pull LID up
		fi
	done
	wait $_rp
	RC=$?
	pull LID up
	gadget_stop || echo "fxgadget exit $?" >>$T/run.err
}
DB=$FX/build/kernel-1slot.db # the station file's database
last_run() { # the last record: result board failing_step error_code
	sqlite3 $DB "SELECT result || ' ' || board_state || ' ' || coalesce(failing_step, '-') || ' ' || coalesce(error_code, '-') FROM runs ORDER BY id DESC LIMIT 1" 2>&1
}
last_power() { grep -o 'board 1: power [01]' $T/g.log | tail -n 1; }

# ---- 1. fixturectl run on the four board states --------------------------
sec_run() {
HEXOK=""
dmesg -c >/dev/null
rm -f $T/blank.fxb
t=$(cut -d' ' -f1 /proc/uptime)
LEDS=""
LIDOPEN_BUSY=x
run_station $T/blank.fxb 2 lid
why=""
[ $RC = 0 ] || why="exit $RC"
grep -qE 'PASS +slot 1 serial [0-9A-F]{12} board blank \(option bytes rewritten\)' $T/run.out ||
	why="$why; no 'PASS slot 1 ... board blank (option bytes rewritten)'"
[ "$(dbank $T/blank.fxb)" = 0 ] || why="$why; DBANK=$(dbank $T/blank.fxb) after"
ne=$(enum_count)
[ "$ne" -ge 3 ] || why="$why; the kernel saw $ne bootloader enumerations (want >= 3: entry, after the OB reset, cycle 2)"
dmesg | grep -q 'USB disconnect, device number' || why="$why; no USB disconnect in the kernel log"
check "blank board: PASS (option bytes rewritten), DBANK 0 after, OB reset = real disconnect + re-enumeration (device numbers $(devnums))" "$why"
[ -n "$why" ] && { show $T/run.out; show $T/run.err; show $T/g.log 15; }
check "programmed board (the same board, cycle 2): PASS programmed, no option-byte write" \
	"$(grep -qE 'PASS +slot 1 serial [0-9A-F]{12} board programmed  ' $T/run.out || echo "no 'PASS ... board programmed'")"
check "LID open: START refused (no BUSY), then closed: the run starts" \
	"$([ "$LIDOPEN_BUSY" = 0 ] || echo "BUSY lines while the lid was open: $LIDOPEN_BUSY")$(grep -q 'lid is open' $T/run.err $T/run.out || echo "; no 'lid is open' warning")"
check "START through gpio-sim pull: a real edge starts each cycle (2 READY, 2 BUSY)" \
	"$([ "$(grep -c BUSY $T/run.out)" = 2 ] || echo "BUSY count $(grep -c BUSY $T/run.out)")"
# active-low LEDs: on = 0 at the pin; tower active-high: green after a
# batch that passed (README "Gang programming") until the next START
check "LEDs read back from the sim line values after a PASS: $LEDS" \
	"$([ "$LEDS" = "pass=0 fail=1 busy=1 yellow=0 green=1 red=0" ] || echo "want pass=0 fail=1 busy=1 yellow=0 green=1 red=0")"
why=""
for want in '"START" +"fixturectl" +input +active-low \[used pull-up\]' \
	'"LID" +"fixturectl" +input +active-low \[used pull-up\]' \
	'"NRST_1" +"fixturectl" +output +active-high \[used open-drain\]' \
	'"BOOT0_1" +"fixturectl" +output +active-high \[used\]' \
	'"POWER_1" +"fixturectl" +output +active-high \[used\]' \
	'"PASS_1" +"fixturectl" +output +active-low \[used\]' \
	'"TOWER_YELLOW" +"fixturectl" +output +active-high \[used\]'; do
	grep -qE "$want" $T/gpioinfo || why="$why; no line like '$want'"
done
check "gpioinfo: the lines held by \"fixturectl\" with the requested flags" "$why"
[ -n "$why" ] && show $T/gpioinfo 40
check "board power off at the end of the run (safe to remove): fxgadget saw '$(last_power)'" \
	"$([ "$(last_power)" = "board 1: power 0" ] || echo "last power change '$(last_power)'")"

for st in programmed corrupted dual-bank; do
	case $st in
	programmed) fixturectl emu create $T/$st.fxb --image $HEX --single-bank >/dev/null
		want='PASS +slot 1 serial [0-9A-F]{12} board programmed  ' ;;
	corrupted) fixturectl emu create $T/$st.fxb --corrupt >/dev/null
		want='PASS +slot 1 serial [0-9A-F]{12} board corrupted' ;;
	dual-bank) fixturectl emu create $T/$st.fxb --image $HEX >/dev/null
		want='PASS +slot 1 serial [0-9A-F]{12} board programmed \(option bytes rewritten\)' ;;
	esac
	dmesg -c >/dev/null
	run_station $T/$st.fxb 1
	why=""
	[ $RC = 0 ] || why="exit $RC"
	grep -qE "$want" $T/run.out || why="$why; no '$want'"
	[ "$(dbank $T/$st.fxb)" = 0 ] || why="$why; DBANK=$(dbank $T/$st.fxb) after"
	if [ $st = dual-bank ]; then
		dmesg | grep -q 'USB disconnect, device number' || why="$why; no USB disconnect at the OB reset"
		[ "$(enum_count)" -ge 2 ] || why="$why; $(enum_count) bootloader enumerations"
	fi
	check "$st board: PASS, DBANK 0 after (device numbers $(devnums))" "$why"
	[ -n "$why" ] && { show $T/run.out; show $T/run.err; show $T/g.log 15; }
done

}

# ---- 2. a board that drops off, one that never returns -------------------
sec_fault() {
fixturectl emu create $T/drop.fxb --single-bank >/dev/null
run_station "$T/drop.fxb?fault=drop&fault_req=dnload&fault_nth=20" 1
why=""
[ $RC = 1 ] || why="exit $RC (want 1)"
grep -qE 'ERROR +slot 1 serial [0-9A-F]{12} board blank: program: .*device left the bus' $T/run.out ||
	why="$why; no 'ERROR ... program: ... device left the bus'"
[ "$(last_power)" = "board 1: power 0" ] || why="$why; board not powered off (last '$(last_power)')"
[ "$(last_run)" = "ERROR blank program FX_E_NODEV" ] || why="$why; recorded '$(last_run)'"
check "board dropping off mid-program: ERROR named, recorded (program FX_E_NODEV), board powered off" "$why"
[ -n "$why" ] && { show $T/run.out 40; show $T/run.err 40; show $T/g.log 80; }
run_station "$T/never.fxb?return=never" 1
why=""
[ $RC = 1 ] || why="exit $RC (want 1)"
grep -qE 'ERROR +slot 1 serial \? board unknown: enter_boot: no DFU bootloader within 3000 ms' $T/run.out ||
	why="$why; no 'ERROR ... enter_boot: no DFU bootloader within 3000 ms'"
[ "$(last_power)" = "board 1: power 0" ] || why="$why; board not powered off (last '$(last_power)')"
[ "$(last_run)" = "ERROR unknown enter_boot FX_E_NODEV" ] || why="$why; recorded '$(last_run)'"
check "board that never returns from its reset: ERROR named, recorded (enter_boot FX_E_NODEV), board powered off" "$why"
[ -n "$why" ] && { show $T/run.out; show $T/run.err; show $T/g.log 15; }

}

# ---- 3. dfu-util and the bench commands over the kernel path -------------
sec_dfu() {
# a bench board: no jig lines, BOOT0 high, powered
rm -f $T/bench.fxb
gadget_start $T/b --board $T/bench.fxb || { bad "fxgadget bench board"; finish; }
wait_enum 1-1 df11 none 10
d0=$(devnum 1-1)
timeout 60 dfu-util -l >$T/l.out 2>&1
why=""
for a in '0, name="@Internal Flash   /0x08000000/256\*02Kg"' \
	'1, name="@Option Bytes   /0x1FFF7800/01\*048 e/0x1FFFF800/01\*048 e"' \
	'2, name="@OTP Memory   /0x1FFF7000/01\*1024 e"'; do
	grep -qE "Found DFU: \[0483:df11\] ver=0200, devnum=$d0, cfg=1, intf=0, path=\"1-1\", alt=$a, serial=\"[0-9A-F]{12}\"" $T/l.out ||
		why="$why; no alt $a"
done
check "dfu-util -l: 0483:df11 at path 1-1, devnum $d0, the three alt names and the serial" "$why"
[ -n "$why" ] && show $T/l.out
lsusb -v -d 0483:df11 >$T/lsusb 2>&1
check "lsusb -v: the DFU functional descriptor (wTransferSize 1024, bcdDFUVersion 1.1a)" \
	"$(grep -q 'wTransferSize *1024 bytes' $T/lsusb && grep -q 'bcdDFUVersion *1.1a' $T/lsusb || echo "not in lsusb -v: $(grep -A8 'Device Firmware' $T/lsusb | tr '\n' ' ')")"
{ printf '\377\377\377\377\377\377\377\377'; dd if=/dev/urandom bs=4992 count=1 2>/dev/null; } >$T/rand.bin
timeout 60 dfu-util -a 0 -s 0x08000000:leave -D $T/rand.bin >$T/d.out 2>&1
rc=$?
wait_enum 1-1 df11 "$d0" 10
d1=$(devnum 1-1)
check "dfu-util -D :leave: exit 0, the board left and came back (devnum $d0 -> $d1)" \
	"$([ $rc = 0 ] || echo "exit $rc")$([ -n "$d1" ] && [ "$d1" != "$d0" ] || echo "; no re-enumeration")"
[ $rc = 0 ] || show $T/d.out
rm -f $T/up.bin
timeout 60 dfu-util -a 0 -s 0x08000000:5000 -U $T/up.bin >$T/u.out 2>&1
rc=$?
check "dfu-util -U: the 5000 bytes read back identical" \
	"$([ $rc = 0 ] || echo "exit $rc")$(cmp -s $T/rand.bin $T/up.bin || echo "; data differ")"
timeout 60 fixturectl read --device usb:1-1 --address 0x08000000 --length 5000 -o $T/fr.bin >$T/fr.out 2>&1
rc=$?
check "fixturectl read over libusb: identical to what dfu-util wrote" \
	"$([ $rc = 0 ] || echo "exit $rc: $(cat $T/fr.out)")$(cmp -s $T/rand.bin $T/fr.bin || echo "; data differ")"
rm -f $T/ob.bin
timeout 60 dfu-util -a 1 -s 0x1FFF7800:48 -U $T/ob.bin >$T/o.out 2>&1
timeout 60 dfu-util -a 1 -s 0x1FFF7800:will-reset -D $T/ob.bin >>$T/o.out 2>&1
rc=$?
wait_enum 1-1 df11 "$d1" 10
d2=$(devnum 1-1)
check "dfu-util option bytes -U then -D :will-reset: exit 0, the OB reset re-enumerated (devnum $d1 -> $d2)" \
	"$([ $rc = 0 ] || echo "exit $rc")$([ -n "$d2" ] && [ "$d2" != "$d1" ] || echo "; no re-enumeration")"
[ $rc = 0 ] || show $T/o.out
d2=$(devnum 1-1)
timeout 60 fixturectl ob --device usb:1-1 --set DBANK=0 >$T/ob.out 2>&1
rc=$?
wait_enum 1-1 df11 "$d2" 10
d3=$(devnum 1-1)
timeout 60 dfu-util -l >$T/l2.out 2>&1
check "fixturectl ob --set DBANK=0: exit 0, real reset (devnum $d2 -> $d3), alt 0 now 128*04Kg" \
	"$([ $rc = 0 ] || echo "exit $rc: $(tail -n 3 $T/ob.out)")$([ -n "$d3" ] && [ "$d3" != "$d2" ] || echo "; no re-enumeration")$(grep -q '128\*04Kg' $T/l2.out || echo "; alt 0 not 128*04Kg")"
timeout 60 fixturectl flash --device usb:1-1 $HEX >$T/f.out 2>&1
rc=$?
check "fixturectl flash demo-g474.hex over the kernel path: exit 0 (programmed and verified)" \
	"$([ $rc = 0 ] || echo "exit $rc: $(tail -n 3 $T/f.out)")"
wait_enum 1-1 0001 "$d3" 10
check "after flash: the application's HID device 1209:0001 enumerated on 1-1 (devnum $(devnum 1-1))" \
	"$([ "$(cat /sys/bus/usb/devices/1-1/idVendor 2>/dev/null):$(pid_at 1-1)" = 1209:0001 ] || echo "port 1-1 shows '$(pid_at 1-1)'")"
gadget_stop
rc=$?
check "fxgadget exit 0 and the board file saved (DBANK=$(dbank $T/bench.fxb))" \
	"$([ $rc = 0 ] || echo "exit $rc")$([ "$(dbank $T/bench.fxb)" = 0 ] || echo "; DBANK not 0 in the file")"

}

# ---- 4. gang programming: four boards at once on four ports ------------
# one fixturectl, stations/kernel-4slot.ini (slot k = usb:k-1, the jig's
# lines of slot k), one START for the batch; the four board states
sec_gang() {
	G4=$FX/stations/kernel-4slot.ini
	DB4=$FX/build/kernel-4slot.db
	rm -f $T/g1.fxb
	fixturectl emu create $T/g2.fxb --image $HEX --single-bank >/dev/null
	fixturectl emu create $T/g3.fxb --corrupt >/dev/null
	fixturectl emu create $T/g4.fxb --image $HEX >/dev/null
	dmesg -c >/dev/null
	gadget_start $T/m --board $T/g1.fxb --pins "$(pins 1)" --board $T/g2.fxb --pins "$(pins 2)" \
		--board $T/g3.fxb --pins "$(pins 3)" --board $T/g4.fxb --pins "$(pins 4)" ||
		{ bad "fxgadget with four boards wired to the jig"; return; }
	ports=$(sed -n 's/^fxgadget: board [0-9] .* port usb:\(.*\)$/\1/p' $T/m.out | tr '\n' ' ')
	: >$T/gang.out
	timeout $RUN_TMO fixturectl run --station $G4 --recipe $REC --cycles 1 --operator kt \
		>$T/gang.out 2>$T/gang.err &
	_rp=$!
	RC=99
	if wait_for $T/gang.out 'READY' 20; then
		pull LID down
		press_start
	fi
	wait $_rp
	RC=$?
	pull LID up
	gadget_stop || echo "fxgadget exit $?" >>$T/gang.err
	why=""
	[ "$ports" = "1-1 2-1 3-1 4-1 " ] || why="fxgadget ports '$ports' (want 1-1 2-1 3-1 4-1)"
	[ $RC = 0 ] || why="$why; exit $RC"
	for want in 'PASS +slot 1 serial [0-9A-F]{12} board blank \(option bytes rewritten\)' \
		'PASS +slot 2 serial [0-9A-F]{12} board programmed  ' \
		'PASS +slot 3 serial [0-9A-F]{12} board corrupted' \
		'PASS +slot 4 serial [0-9A-F]{12} board programmed \(option bytes rewritten\)'; do
		grep -qE "$want" $T/gang.out || why="$why; no '$want'"
	done
	for k in 1 2 3 4; do
		[ "$(dbank $T/g$k.fxb)" = 0 ] || why="$why; board $k DBANK=$(dbank $T/g$k.fxb) after"
	done
	r=$(sqlite3 $DB4 "SELECT group_concat(result || ' ' || port_path, ',') FROM (SELECT * FROM runs ORDER BY port_path)" 2>&1)
	[ "$r" = "PASS usb:1-1,PASS usb:2-1,PASS usb:3-1,PASS usb:4-1" ] || why="$why; records '$r'"
	# at once: every run started before any of them ended
	ov=$(sqlite3 $DB4 "SELECT max(start_us) < min(end_us) FROM runs" 2>&1)
	[ "$ov" = 1 ] || why="$why; the four runs did not overlap ('$ov')"
	# the two boards that needed DBANK=0 reset for real on their own port
	for p in 1-1 4-1; do
		dmesg | grep -q "usb $p: USB disconnect" || why="$why; no USB disconnect on $p"
	done
	span=$(sqlite3 $DB4 "SELECT (max(end_us) - min(start_us)) / 1000 FROM runs" 2>&1)
	check "gang: one START, four boards at once on ports $ports(blank, programmed, corrupted, dual-bank): 4 PASS recorded by port, DBANK 0, runs overlapping ($span ms in all)" "$why"
	[ -n "$why" ] && { show $T/gang.out 40; show $T/gang.err; show $T/m.log 20; }
}

for s in run fault dfu gang; do
	section $s && sec_$s
done
finish
