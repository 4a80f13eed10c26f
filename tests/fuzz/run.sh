#!/bin/sh
# run.sh BUILDDIR SECONDS FUZZER... - make fuzz: run each libFuzzer
# harness for SECONDS on a working copy of its seed corpus
# (tests/data/fuzz/NAME/ -> BUILDDIR/fuzz-corpus/NAME/, new inputs stay
# there), crash inputs in BUILDDIR/fuzz-crash/NAME/. Prints executions
# per harness; exits 1 when a harness found a crash (keep the input as
# tests/data/fuzz/NAME/regression_<bug> once fixed).
set -u
B=$1; S=$2; shift 2
bad=0
printf '%-16s %12s %10s %8s  %s\n' harness execs exec/s corpus result
for f in "$@"; do
	n=$(basename "$f")
	c="$B/fuzz-corpus/$n"; x="$B/fuzz-crash/$n"
	mkdir -p "$c" "$x"
	[ -d "tests/data/fuzz/$n" ] && cp -n tests/data/fuzz/"$n"/* "$c"/ 2>/dev/null
	log="$B/fuzz-crash/$n.log"
	"$f" -max_total_time="$S" -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix="$x/" -print_final_stats=1 "$c" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	res=ok; [ $rc -eq 0 ] || { res="CRASH (exit $rc): $(ls "$x" | head -n 3 | tr '\n' ' ') log $log"; bad=1; }
	printf '%-16s %12s %10s %8s  %s\n' "$n" "${execs:-?}" "${rate:-?}" "$(ls "$c" | wc -l)" "$res"
done
exit $bad
