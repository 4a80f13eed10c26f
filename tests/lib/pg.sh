# pg.sh - a real, throw-away PostgreSQL 15 server for the fleet tests
# (sourced by tests/cli/tfleet*.sh and scripts/bench-sync; POSIX sh).
#
#   pg_start DIR    (a server already in DIR/pg is started as it is)
#                   initdb + start in DIR/pg (owned by an unprivileged user
#                   when run as root: postgres refuses to run as root), a
#                   Unix socket in DIR/pg, and 127.0.0.1:$PG_PORT with a
#                   self-signed certificate (DIR/pg/ca.crt) made by openssl
#                   for the TLS (sslmode=verify-full) test
#   pg_stop         stop it (immediate); callers put it in their EXIT trap
#   pg_kill9        kill -9 the postmaster and its backends (by pid)
#   pg_restart      start again after pg_kill9 / pg_stop
#   pg_sql [-U ROLE] SQL   psql over the socket (ON_ERROR_STOP), quiet, tuples only
# Sets PG_DIR, PG_SOCK, PG_PORT, PG_OWNER (the superuser/owner role
# "fxowner"), PG_DB (database "fleet"). Skips (exit 77) with a reason when
# the server binaries are missing.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_OWNER=fxowner
PG_DB=fleet

pg_as() { # run a server command as the server's user
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
		{ echo "skip: PostgreSQL 15 server binaries not found in $PG_BIN (scripts/install-deps)"; exit 77; }
	command -v openssl >/dev/null || { echo "skip: openssl not installed (scripts/install-deps)"; exit 77; }
	command -v psql >/dev/null || { echo "skip: psql not installed (scripts/install-deps)"; exit 77; }
	PG_DIR=$1/pg
	PG_SOCK=$PG_DIR
	if [ -f "$PG_DIR/data/PG_VERSION" ]; then # kept from an earlier run (benchmarks)
		PG_PORT=$((20000 + $$ % 40000))
		pg_restart || { cat "$PG_DIR/server.log"; echo "pg_start: server did not start"; return 1; }
		return 0
	fi
	mkdir -p "$PG_DIR"
	chmod 0755 "$1"
	[ "$(id -u)" -eq 0 ] && chown nobody "$PG_DIR"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_OWNER" -A trust -E UTF8 \
		--no-locale >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log"; echo "pg_start: initdb failed"; return 1; }
	# TLS: a CA and a server certificate for localhost / 127.0.0.1
	(cd "$PG_DIR" &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fxtest-ca \
			-keyout ca.key -out ca.crt >/dev/null 2>&1 &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
			-keyout server.key -out server.csr >/dev/null 2>&1 &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile san.ext -out server.crt >/dev/null 2>&1) ||
		{ echo "pg_start: openssl failed"; return 1; }
	chmod 0600 "$PG_DIR/server.key"
	[ "$(id -u)" -eq 0 ] && chown nobody "$PG_DIR/server.key" "$PG_DIR/server.crt"
	cat >>"$PG_DIR/data/postgresql.conf" <<EOC
unix_socket_directories = '$PG_SOCK'
listen_addresses = '127.0.0.1'
ssl = on
ssl_cert_file = '$PG_DIR/server.crt'
ssl_key_file = '$PG_DIR/server.key'
fsync = off
full_page_writes = off
shared_buffers = 128MB
max_connections = 40
log_min_messages = warning
log_statement = none
log_min_error_statement = error
EOC
	# the socket trusts (tests switch roles freely); TCP needs TLS + a password
	cat >"$PG_DIR/data/pg_hba.conf" <<EOC
local   all all                 trust
hostssl all all 127.0.0.1/32    scram-sha-256
EOC
	tries=0
	while :; do
		PG_PORT=$((20000 + ($$ + tries * 7919) % 40000))
		if pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
			-o "-p $PG_PORT" start >"$PG_DIR/pg_ctl.log" 2>&1; then
			break
		fi
		tries=$((tries + 1))
		[ $tries -lt 5 ] || { cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log"; echo "pg_start: server did not start"; return 1; }
	done
	PG_STARTED=1
	PG_SQL_DB=postgres pg_sql "CREATE DATABASE $PG_DB" >/dev/null
}

pg_stop() {
	[ "${PG_STARTED:-0}" -eq 1 ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	PG_STARTED=0
}

pg_restart() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-p $PG_PORT" start >"$PG_DIR/pg_ctl.log" 2>&1 ||
		{ cat "$PG_DIR/pg_ctl.log"; return 1; }
	PG_STARTED=1
}

pg_kill9() {
	pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
	kids=$(ps -o pid= --ppid "$pm")
	kill -9 "$pm" $kids 2>/dev/null
	while kill -0 "$pm" 2>/dev/null; do sleep 0.05; done
	for k in $kids; do while kill -0 "$k" 2>/dev/null; do sleep 0.05; done; done
	PG_STARTED=0
}

pg_sql() {
	u=$PG_OWNER
	if [ "$1" = "-U" ]; then u=$2; shift 2; fi
	psql -X -q -t -A -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U "$u" -d "${PG_SQL_DB:-$PG_DB}" -c "$1"
}

# the libpq URI of the socket server for ROLE (no password: the socket trusts)
pg_uri() { # ROLE
	echo "postgresql:///$PG_DB?host=$PG_SOCK&port=$PG_PORT&user=$1"
}
