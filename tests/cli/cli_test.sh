#!/usr/bin/env bash
# End-to-end test of appinfra-db: runs the built binary as a user would.
#   cli_test.sh BINARY sqlite   on SQLite files and migrations in a temp folder (no
#                               server; also an unreachable PostgreSQL url)
#   cli_test.sh BINARY pg       on the PostgreSQL server of DATABASE_URL (required:
#                               PostgreSQL tests never skip)
set -uo pipefail
bin=$(realpath "$1") mode=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0 passed=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { passed=$((passed + 1)); }

# run EXPECTED_RC ARGS...: runs the tool; its stdout in $out, stderr in $err.
run() {
  local want=$1; shift
  "$bin" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  out=$(cat "$work/out") err=$(cat "$work/err")
  if [ "$rc" != "$want" ]; then
    fail "appinfra-db $* exited $rc, expected $want"
    printf '  stdout: %s\n  stderr: %s\n' "$out" "$err"
    return 1
  fi
  ok
}
has() {  # has WHAT TEXT NEEDLE: TEXT contains NEEDLE
  if [[ $2 == *"$3"* ]]; then ok; else fail "$1 lacks '$3':"; printf '%s\n' "$2"; fi
}
lacks() {
  if [[ $2 != *"$3"* ]]; then ok; else fail "$1 shows '$3':"; printf '%s\n' "$2"; fi
}
sql() {  # sql FILE QUERY: one value from a SQLite file
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}
json_ok() {  # json_ok TEXT PYTHON-EXPR: TEXT parses as JSON and the expression on it (j) is true
  if python3 -c 'import json, sys; j = json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"; then
    ok
  else
    fail "status --json: not JSON, or not $2:"; printf '%s\n' "$1"
  fi
}

if [ "$mode" = sqlite ]; then
  unset DATABASE_URL
  mkdir -p etc migrations
  db=$work/app.db
  cat >etc/infra.yaml <<YAML
dbs:
  primary:
    url: sqlite:///$db
    create_db: true
YAML
  printf 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n' >migrations/0001_create_users.sql
  printf 'ALTER TABLE users ADD COLUMN email TEXT;\n' >migrations/0002_add_email.sql

  # migrate --dry-run lists both and changes nothing.
  run 0 migrate --dry-run && has "migrate --dry-run" "$out" "would apply 2 add_email"
  [ "$(sql "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'users'")" = 0 ] && ok ||
    fail "migrate --dry-run created the table users"
  [ "$(sql "$db" "SELECT count(*) FROM schema_migrations")" = 0 ] && ok || fail "migrate --dry-run recorded a migration"

  # --to applies up to that version; then migrate applies the rest, each timed.
  run 0 migrate --to 1 && has "migrate --to 1" "$out" "applying 1 create_users ... done in"
  lacks "migrate --to 1" "$out" "add_email"
  run 0 migration-status && has "migration-status" "$out" "add_email     pending"
  run 0 migrate && has "migrate" "$out" "applying 2 add_email ... done in"
  [ "$(sql "$db" "SELECT count(*) FROM schema_migrations")" = 2 ] && ok || fail "migrate did not record 2 migrations"
  sql "$db" "SELECT count(email) FROM users" >/dev/null 2>&1 && ok || fail "migrate did not add users.email"
  run 0 migration-status && has "migration-status" "$out" "create_users  applied" &&
    has "migration-status" "$out" "add_email     applied"
  run 0 migrate && has "migrate, twice" "$out" "primary: up to date (2 applied)"
  run 2 migrate --to 7 && has "migrate --to 7" "$err" "--to 7: no migration has that version"

  # An applied migration edited afterwards: migrate refuses, migration-status says so.
  printf '\n-- edited\n' >>migrations/0002_add_email.sql
  run 1 migrate && has "migrate of an edited migration" "$err" "migration 2 'add_email' was edited after it was applied"
  run 1 migration-status && has "migration-status" "$out" "modified"

  run 0 check && has "check" "$out" "primary  healthy"
  run 0 status && has "status" "$out" "primary: up" && has "status" "$out" "1 configured, 1 set up, 0 failed"
  run 0 status --json && json_ok "$out" 'j["databases"][0]["name"] == "primary" and j["databases"][0]["state"] == "up"'

  # A misspelled key: exit 2, naming the file, the database and the key.
  cat >bad.yaml <<YAML
dbs:
  primary:
    url: sqlite:///$db
    pool_sise: 3
YAML
  run 2 --config bad.yaml check && has "bad key" "$err" "bad.yaml:4:" && has "bad key" "$err" "database 'primary'" &&
    has "bad key" "$err" "pool_sise"
  run 2 --config missing.yaml check && has "missing file" "$err" "missing.yaml"
  run 2 --config etc/infra.yaml --db nosuch check && has "--db nosuch" "$err" "no database 'nosuch'" &&
    has "--db nosuch" "$err" "'primary'"

  # Broken and unreachable databases: check exits 1, one line each, no password.
  printf 'this is a text file, not a SQLite database: it fails the header check. %s\n' "$(seq 1 30)" >notadb.db
  cat >broken.yaml <<YAML
dbs:
  primary:
    url: sqlite:///$db
  broken:
    url: sqlite:///$work/notadb.db
  unreachable:
    url: postgresql://app:sup3rsecret@127.0.0.1:9/app
    max_retries: 0
YAML
  run 1 --config broken.yaml check && has "check" "$out" "primary      healthy" &&
    has "check" "$out" "broken       unhealthy  setup failed: database 'broken'" &&
    has "check" "$out" "unreachable  unhealthy  setup failed: database 'unreachable'"
  lacks "check" "$out$err" "sup3rsecret"
  run 0 --config broken.yaml --db primary check
  run 1 --config broken.yaml status && has "status" "$out" "3 configured, 1 set up, 2 failed"
  lacks "status" "$out$err" "sup3rsecret"
  run 1 --config broken.yaml status --json && json_ok "$out" 'j["failed"] == 2'

  # create-db: a missing file is an error until create-db creates it.
  printf 'dbs:\n  fresh:\n    url: sqlite:///%s/fresh.db\n' "$work" >fresh.yaml
  run 1 --config fresh.yaml check && has "check of a missing file" "$out" "create_db"
  run 0 --config fresh.yaml create-db && [ -f fresh.db ] && ok || fail "create-db did not create fresh.db"
  run 0 --config fresh.yaml check
elif [ "$mode" = pg ]; then
  [ -n "${DATABASE_URL:-}" ] || { echo "FAIL: DATABASE_URL is not set: this test needs PostgreSQL"; exit 1; }
  password=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlparse(sys.argv[1]).password or "")' "$DATABASE_URL")
  no_password() { if [ ${#password} -ge 4 ]; then lacks "$1" "$2" "$password"; fi; }
  # Unique versions and table: the database is shared with the other PostgreSQL tests.
  mkdir migrations
  printf 'CREATE TABLE appinfra_cli_test (id BIGINT PRIMARY KEY);\n' >migrations/9150001_create_cli_test.sql
  printf 'ALTER TABLE appinfra_cli_test ADD COLUMN note TEXT;\n' >migrations/9150002_add_note.sql
  cleanup_pg() {
    psql -q -X "$DATABASE_URL" -c "DROP TABLE IF EXISTS appinfra_cli_test" \
      -c "DO \$\$ BEGIN DELETE FROM schema_migrations WHERE version IN (9150001, 9150002); EXCEPTION WHEN undefined_table THEN END \$\$" \
      -c "DROP DATABASE IF EXISTS appinfra_cli_created" >/dev/null 2>&1
  }
  cleanup_pg
  trap 'cleanup_pg; rm -rf "$work"' EXIT

  # No etc/infra.yaml here: the database is DATABASE_URL, as 'primary'.
  run 0 check && has "check" "$out" "primary  healthy"
  run 0 status && has "status" "$out" "primary: up"
  run 0 status --json && json_ok "$out" 'j["databases"][0]["state"] == "up" and j["databases"][0]["pool"]["pool_size"] == 5'
  run 0 migrate --dry-run && has "migrate --dry-run" "$out" "would apply 9150002 add_note"
  [ "$(psql -X -At "$DATABASE_URL" -c "SELECT to_regclass('appinfra_cli_test') IS NULL")" = t ] && ok ||
    fail "migrate --dry-run created the table"
  run 0 migrate && has "migrate" "$out" "applying 9150001 create_cli_test ... done in" &&
    has "migrate" "$out" "applying 9150002 add_note ... done in"
  run 0 migration-status && has "migration-status" "$out" "add_note         applied"
  [ "$(psql -X -At "$DATABASE_URL" -c "SELECT count(*) FROM appinfra_cli_test WHERE note IS NULL")" = 0 ] && ok ||
    fail "migrate did not create appinfra_cli_test.note"

  # A database that does not exist: check fails, create-db creates it, check passes.
  created=${DATABASE_URL%/*}/appinfra_cli_created
  printf 'dbs:\n  created:\n    url: ${CREATED_URL}\n    max_retries: 0\n' >created.yaml
  export CREATED_URL=$created
  run 1 --config created.yaml check && has "check of a missing database" "$out" "created  unhealthy"
  no_password "check" "$out$err"
  run 0 --config created.yaml create-db && has "create-db" "$out" "created: exists"
  run 0 --config created.yaml check && has "check" "$out" "created  healthy"
  no_password "all output" "$out$err"
else
  echo "usage: cli_test.sh BINARY sqlite|pg" >&2
  exit 2
fi

echo "$passed passed, $failures failed"
[ "$failures" = 0 ]
