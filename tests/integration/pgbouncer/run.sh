#!/usr/bin/env bash
# Runs the PostgreSQL integration suite a second time through PgBouncer 1.18 in
# transaction mode, then the focused PgBouncer tests.
#
#   run.sh PG_TESTS PGBOUNCER_TESTS
#
# Needs DATABASE_URL (the server the `pg` suite uses; scripts/test.sh starts it with
# pg_virtualenv). Starts PgBouncer on 127.0.0.1, on the first free port of
# APPINFRA_TEST_PGBOUNCER_PORTS (default 55400-55419), as the postgres user when run
# as root, with two databases in front of that server:
#   appinfra      default_pool_size 20: the suite, with `pooler: transaction`
#                 (APPINFRA_TEST_POOLER, read by tests/support/pg_env.hpp)
#   appinfra_one  pool_size 1: every client shares one server connection, so any
#                 session state one client leaves is seen by the next
# Clients log in to PgBouncer with scram-sha-256 and the password of DATABASE_URL, and
# PgBouncer to the server with the same, from an auth_file readable by its owner only
# (never printed).
# Never skips: a missing pgbouncer is a failure.
set -euo pipefail
pg_tests=$1
pgbouncer_tests=$2
: "${DATABASE_URL:?DATABASE_URL is not set: run the tests through scripts/test.sh, which starts PostgreSQL}"

bin=$(command -v pgbouncer || true)
[ -z "$bin" ] && [ -x /usr/sbin/pgbouncer ] && bin=/usr/sbin/pgbouncer
if [ -z "$bin" ]; then
  echo "pgbouncer not found: install Debian's pgbouncer (scripts/install-deps.sh)" >&2
  exit 1
fi

# The server's parts, as libpq reads the url (Python's parser: no libpq call needed).
eval "$(python3 - <<'PY'
import os, shlex, urllib.parse as u
p = u.urlsplit(os.environ["DATABASE_URL"])
vals = dict(host=p.hostname or "localhost", port=str(p.port or 5432), user=u.unquote(p.username or ""),
            password=u.unquote(p.password or ""), dbname=u.unquote(p.path.lstrip("/")) or u.unquote(p.username or ""))
for k, v in vals.items():
    print(f"srv_{k}={shlex.quote(v)}")
PY
)"

range=${APPINFRA_TEST_PGBOUNCER_PORTS:-55400-55419}
port=""
for p in $(seq "${range%-*}" "${range#*-}"); do
  if ! ss -ltnH "sport = :$p" | grep -q .; then port=$p; break; fi
done
[ -n "$port" ] || { echo "no free port in $range for PgBouncer" >&2; exit 1; }

dir=$(mktemp -d)
run_as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  run_as=(runuser -u postgres --)
fi
cleanup() {
  if [ -f "$dir/pgbouncer.pid" ]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
  sleep 0.2
  rm -rf "$dir"
}
trap cleanup EXIT

umask 077
# userlist.txt: "user" "password", a '"' doubled.
printf '"%s" "%s"\n' "${srv_user//\"/\"\"}" "${srv_password//\"/\"\"}" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<EOF
[databases]
appinfra = host=$srv_host port=$srv_port dbname=$srv_dbname
appinfra_one = host=$srv_host port=$srv_port dbname=$srv_dbname pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
[ "$(id -u)" = 0 ] && chown postgres: "$dir"/*

"${run_as[@]}" "$bin" -d "$dir/pgbouncer.ini"
for _ in $(seq 100); do
  pg_isready -q -h 127.0.0.1 -p "$port" -d appinfra && break
  sleep 0.1
done
pg_isready -h 127.0.0.1 -p "$port" -d appinfra || { cat "$dir/pgbouncer.log" >&2; exit 1; }
"$bin" --version | head -1

userinfo=$(srv_user=$srv_user srv_password=$srv_password python3 -c 'import os, urllib.parse as u; q = lambda s: u.quote(s, safe=""); print(q(os.environ["srv_user"]) + ":" + q(os.environ["srv_password"]))')
bouncer="postgresql://$userinfo@127.0.0.1:$port"
status=0

# What cannot apply through a pooler in transaction mode (README, "Behind PgBouncer
# (transaction mode)", says why for each tag).
excluded='~[server_backend]~[session_state]~[create_db]~[auth]~[prepared]~[own_server]'
echo "== the pg suite through PgBouncer (pooler: transaction), without $excluded"
start=$(date +%s.%N)
DATABASE_URL="$bouncer/appinfra" APPINFRA_TEST_POOLER=transaction "$pg_tests" "$excluded" || status=1
echo "pg suite through PgBouncer: $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)") s"

echo "== focused PgBouncer tests"
APPINFRA_TEST_PGBOUNCER_URL="$bouncer/appinfra" APPINFRA_TEST_PGBOUNCER_ONE_URL="$bouncer/appinfra_one" \
  "$pgbouncer_tests" || status=1

[ "$status" = 0 ] || { echo "-- pgbouncer.log (tail)"; tail -20 "$dir/pgbouncer.log"; }
exit $status
