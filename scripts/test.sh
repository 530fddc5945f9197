#!/usr/bin/env bash
# Runs every test: installs what is missing (Debian 12 packages), builds, starts a
# throwaway PostgreSQL 15 cluster with pg_virtualenv and runs the whole suite
# against it (unit, SQLite and PostgreSQL integration, must-not-compile, header,
# example and benchmark smoke tests). PostgreSQL tests never skip.
# Extra arguments go to `meson test` (for example: --suite unit).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh

build=${APPINFRA_BUILD_DIR:-build}
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure --wrap-mode=nofallback "$build" >/dev/null
else
  meson setup --wrap-mode=nofallback "$build" >/dev/null
fi
ninja -C "$build"

# pg_virtualenv creates a cluster, exports PGHOST, PGPORT, PGUSER, PGPASSWORD and
# PGDATABASE, runs the command and drops the cluster (-t: also as root).
status=0
pg_virtualenv -t bash -c '
  set -u
  export DATABASE_URL="postgresql://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${PGDATABASE}"
  meson test -C "$0" --print-errorlogs --num-processes 2 "${@}"
' "$build" "$@" || status=$?

# One closing line with the counts, from meson's own log.
python3 - "$build/meson-logs/testlog.json" <<'PY' || true
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): passed += 1
    elif r == "SKIP": skipped += 1
    else: failed += 1
print(f"tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
