#!/usr/bin/env bash
# Runs the demo: installs what is missing (Debian 12 packages), builds, and runs the
# examples on the embedded SQLite default, or on PostgreSQL when DATABASE_URL is set
# (postgresql://user:password@host:port/dbname). On a throwaway server:
#   pg_virtualenv -t bash -c 'DATABASE_URL="postgresql://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${PGDATABASE}" bash scripts/demo.sh'
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
build=${APPINFRA_BUILD_DIR:-build}
source scripts/meson-setup.sh
[ -f "$build/build.ninja" ] || meson_setup "$build" -Dpg=enabled -Dsqlite=enabled
examples=(basic_usage health_monitoring session_management static_service)
# The spdlog example is built when spdlog is (install-deps.sh installs it).
ninja -C "$build" -t targets all | grep -q '^examples/spdlog_logging:' && examples+=(spdlog_logging)
ninja -C "$build" "${examples[@]/#/examples/}"

if [ -n "${DATABASE_URL:-}" ]; then
  # Only host, port and database: everything up to the last '@' (user and password)
  # and the query (which may hold a password too) are left out.
  at=${DATABASE_URL#*://}
  at=${at##*@}
  db="PostgreSQL at ${at%%\?*}"
else
  db=SQLite
  if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ]; then
    echo "demo: PGHOST/PGPORT/PGDATABASE are set but DATABASE_URL is not: the examples read only DATABASE_URL, so they run on SQLite (README: running the demo on PostgreSQL)"
  else
    echo "demo: DATABASE_URL is not set: running on SQLite (set it to run on PostgreSQL; README: running the demo on PostgreSQL)"
  fi
fi
for ex in "${examples[@]}"; do
  case $ex in
    health_monitoring) label="$db; its 'legacy' database is a mysql:// url with no MySQL backend: that setup failure is intended" ;;
    static_service | spdlog_logging) label="SQLite always: its databases are sqlite:// urls fixed in the example" ;;
    *) label=$db ;;
  esac
  echo
  echo "== $ex ($label)"
  "$build/examples/$ex"
done
