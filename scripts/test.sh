#!/usr/bin/env bash
# Runs every test: installs what is missing (Debian 12 packages), builds, starts a
# throwaway PostgreSQL 15 cluster with pg_virtualenv and runs the whole suite
# against it: unit, SQLite and PostgreSQL integration, concurrency, must-not-compile,
# header, binary, consumer, example and benchmark smoke tests, and the fault suite
# (which starts clusters of its own, as the postgres user when run as root, on
# ports APPINFRA_TEST_PG_PORTS, default 55300-55399); then the concurrency tests
# and the unit tests that start threads under ThreadSanitizer, and the unit,
# concurrency and compiled-mode tests under AddressSanitizer with UndefinedBehaviorSanitizer; then each fuzz target (tests/fuzz) for
# APPINFRA_FUZZ_SECONDS (default 25) under libFuzzer. PostgreSQL tests never skip.
# Extra arguments go to the main `meson test` (for example: --suite unit).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh

build=${APPINFRA_BUILD_DIR:-build}
source scripts/meson-setup.sh
# PostgreSQL and SQLite tests never skip: a missing backend library is an error here.
# Unoptimized and without debug information: the tests wait on servers, not on the
# CPU, and this build compiles in less than half the time of -O2 -g (measured on
# tests/integration/pg/test_pg.cpp: 11.5 s against 29.5 s).
meson_setup "$build" -Dpg=enabled -Dsqlite=enabled -Dspdlog=enabled -Dyaml=enabled -Dcli=enabled \
  -Doptimization=0 -Ddebug=false
ninja -C "$build"

# ThreadSanitizer: the concurrency tests and the unit tests that start threads;
# AddressSanitizer with UndefinedBehaviorSanitizer: every unit test, and the compiled
# mode's (its handles live in place, in storage the library checks the size of).
# -O1, as the sanitizers' documentation advises: fast enough to run, reports still
# exact; -g1 (line tables, no variable tracking) gives the reports their file and
# line at a fraction of -g's compile time.
sanitizer_flags=(-Doptimization=1 -Ddebug=false -Dcpp_args=-g1 -Dexamples=false -Dbenchmarks=false)
meson_setup "$build-tsan" -Db_sanitize=thread "${sanitizer_flags[@]}"
ninja -C "$build-tsan" tests/threaded_unit_tests tests/concurrency_tests
meson_setup "$build-asan" -Db_sanitize=address,undefined -Db_lundef=false "${sanitizer_flags[@]}"
ninja -C "$build-asan" tests/unit_tests tests/concurrency_tests tests/compiled_tests
# The fuzz targets need clang and libFuzzer: a build dir of their own.
CXX=clang++-14 meson_setup "$build-fuzz" -Dfuzz=true
ninja -C "$build-fuzz"

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
  echo "== threaded unit and concurrency tests under tsan"
  meson test -C "$build-tsan" --no-rebuild --print-errorlogs --suite threaded --suite concurrency || rc=1
  echo "== unit, concurrency and compiled-mode tests under asan"
  meson test -C "$build-asan" --no-rebuild --print-errorlogs --suite unit --suite concurrency --suite compiled || rc=1
  exit $rc
' _ "$build" "$@" || status=$?

# Fuzzing: each target for a bounded time on a copy of its committed seed corpus
# (at most 2 minutes in all by default). A crash or a broken invariant fails the
# run; libFuzzer saves the input in $build-fuzz/runs/<target>/findings/, and
# `$build-fuzz/tests/fuzz/<target>_fuzz <that file>` reproduces it.
fuzz_seconds=${APPINFRA_FUZZ_SECONDS:-25}
fuzz_summary=()
for target in url config migrations sql_text; do
  exe=$build-fuzz/tests/fuzz/${target}_fuzz
  [ -x "$exe" ] || continue  # url_fuzz needs libpq
  work=$build-fuzz/runs/$target
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/findings"
  cp tests/fuzz/corpus/"$target"/* "$work/corpus/"
  echo "== fuzzing $target for ${fuzz_seconds}s"
  rc=0
  ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer UBSAN_OPTIONS=print_stacktrace=1 \
    "$exe" -max_total_time="$fuzz_seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/findings/" "$work/corpus" >"$work/log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  findings=$(find "$work/findings" -type f ! -name 'slow-unit-*' | wc -l)
  fuzz_summary+=("$target: ${runs:-?} runs, $findings findings")
  if [ "$rc" != 0 ] || [ "$findings" != 0 ]; then
    status=1
    echo "fuzz target $target failed (exit $rc); input saved in $work/findings/:"
    grep -v '^#' "$work/log" | tail -40
  fi
done

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
[ ${#fuzz_summary[@]} -gt 0 ] && echo "fuzz: $(IFS=';'; echo "${fuzz_summary[*]}" | sed 's/;/; /g')"
exit $status
