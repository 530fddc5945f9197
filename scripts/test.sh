#!/usr/bin/env bash
# Runs every test: installs what is missing (Debian 12 packages), builds, starts a
# throwaway PostgreSQL 15 cluster with pg_virtualenv and runs the whole suite
# against it: unit, SQLite and PostgreSQL integration, concurrency, must-not-compile,
# header, binary, consumer, example and benchmark smoke tests, and the fault suite
# (which starts clusters of its own, as the postgres user when run as root, on
# ports APPINFRA_TEST_PG_PORTS, default 55300-55399); then the unit and
# concurrency tests again under ThreadSanitizer and under AddressSanitizer with
# UndefinedBehaviorSanitizer. PostgreSQL tests never skip.
# Extra arguments go to the main `meson test` (for example: --suite unit).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh

build=${APPINFRA_BUILD_DIR:-build}
setup() {  # setup DIR [meson options...]
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure --wrap-mode=nofallback "$dir" "$@" >/dev/null
  else
    meson setup --wrap-mode=nofallback "$dir" "$@" >/dev/null
  fi
}
setup "$build"
ninja -C "$build"

sanitized=(tests/unit_tests tests/concurrency_tests)
setup "$build-tsan" -Db_sanitize=thread -Dexamples=false -Dbenchmarks=false
ninja -C "$build-tsan" "${sanitized[@]}"
setup "$build-asan" -Db_sanitize=address,undefined -Db_lundef=false -Dexamples=false -Dbenchmarks=false
ninja -C "$build-asan" "${sanitized[@]}"

# pg_virtualenv creates a cluster, exports PGHOST, PGPORT, PGUSER, PGPASSWORD and
# PGDATABASE, runs the command and drops the cluster (-t: also as root).
status=0
pg_virtualenv -t bash -c '
  set -u
  export DATABASE_URL="postgresql://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${PGDATABASE}"
  build=$1; shift
  rc=0
  meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || rc=1
  export TSAN_OPTIONS=halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  for san in tsan asan; do
    echo "== unit and concurrency tests under $san"
    meson test -C "$build-$san" --no-rebuild --print-errorlogs --suite unit --suite concurrency || rc=1
  done
  exit $rc
' _ "$build" "$@" || status=$?

# One closing line with the counts, from meson's own logs.
python3 - "$build" "$build-tsan" "$build-asan" <<'PY' || true
import json, os, sys
passed = failed = skipped = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        continue
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
print(f"tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
