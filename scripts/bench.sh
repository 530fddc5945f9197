#!/usr/bin/env bash
# Runs the benchmark suite (issue 6): installs what is missing (Debian 12 packages),
# builds a release build in build-bench, starts a throwaway PostgreSQL 15 cluster
# with pg_virtualenv and measures appinfra beside its peers in the same run:
# pooled SELECT 1 (raw libpqxx, pgbench simple/prepared, a new connection per
# query, SQLAlchemy's QueuePool), pool acquire/release (SOCI), a pipelined batch
# (pgbench), connections opened under a steady load above pool_size (pool churn), a
# SQLite point query (raw sqlite3) and the quickstart's compile time and size (a
# libpqxx hello world).
# Writes benchmarks/results/results.md, results.svg and results.json.
#
#   bash scripts/bench.sh [--runs N] [--seconds S]     (defaults: 7 rounds of 3 s)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh --bench

build=${APPINFRA_BENCH_BUILD_DIR:-build-bench}
source scripts/meson-setup.sh
meson_setup "$build" -Dbuildtype=release -Dpg=enabled -Dsqlite=enabled
ninja -C "$build" benchmarks/pool_bench benchmarks/suite/pg_select1 benchmarks/suite/pg_select1_compiled \
  benchmarks/suite/pg_churn \
  benchmarks/suite/sqlite_point

# pg_virtualenv creates a cluster, exports PGHOST, PGPORT, PGUSER, PGPASSWORD and
# PGDATABASE, runs the command and drops the cluster (-t: also as root).
pg_virtualenv -t bash -c '
  set -eu
  export DATABASE_URL="postgresql://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${PGDATABASE}"
  exec /usr/bin/python3 benchmarks/suite/run_suite.py "$@"
' _ "$build" "$@"
