# lib.sh - helpers sourced by tests/cli/t*.sh (POSIX sh).
# FX_BUILD is the build directory (build or build/asan).
B=${FX_BUILD:-build}
FX="$B/fixturectl"
[ -x "$FX" ] || { echo "skip: $FX not built"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/fxcli.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
fail() { echo "not ok: $*"; exit 1; }
ok() { n=$((n + 1)); echo "ok $n - $*"; }
# expect CODE CMD... : run, require the exit code, keep stdout/stderr in $T/out $T/err
expect() {
	want=$1; shift
	"$@" >"$T/out" 2>"$T/err"; got=$?
	[ "$got" -eq "$want" ] || { cat "$T/out" "$T/err"; fail "'$*' exited $got, expected $want"; }
}
# has FILE REGEX
has() { grep -Eq "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "no match for /$2/ in $1"; }; }
# a deterministic binary of N bytes
mkbin() { # FILE N SEED
	awk -v n="$2" -v s="$3" 'BEGIN { x = s; for (i = 0; i < n; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "%c", int(x / 65536) % 256 } }' LC_ALL=C >"$1"
}
