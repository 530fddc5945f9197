#!/usr/bin/env bash
# Runs the demo: installs what is missing (Debian 12 packages), builds, and runs the
# examples on the embedded SQLite default, or on PostgreSQL when DATABASE_URL is
# set (postgresql://user:password@host:port/dbname).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
build=${APPINFRA_BUILD_DIR:-build}
source scripts/meson-setup.sh
[ -f "$build/build.ninja" ] || meson_setup "$build" -Dpg=enabled -Dsqlite=enabled
ninja -C "$build" examples/basic_usage examples/health_monitoring examples/session_management examples/static_service
for ex in basic_usage health_monitoring session_management static_service; do
  echo "== $ex (${DATABASE_URL:+PostgreSQL}${DATABASE_URL:-SQLite})" | sed -E 's#//[^:@/]+:[^@]*@#//***@#'
  "$build/examples/$ex"
done
