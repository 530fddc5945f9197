#!/usr/bin/env bash
# Installs, from Debian 12's packages, everything appinfra needs to build, test,
# benchmark and run its demo. Installs only what is missing; safe to run again.
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config
  # cmake: Meson's cmake module needs it to write the CMake package (appinfraConfig.cmake),
  # and the consumer test builds a CMake project against the installed copy.
  cmake
  libpqxx-dev libpq-dev libsqlite3-dev libboost-dev libfmt-dev
  catch2 libbenchmark-dev libsoci-dev
  # Optional for users; here the spdlog logger's test and example (log/spdlog_logger.hpp).
  libspdlog-dev
  # promtool checks the metrics' text format (tests/meson.build, suite 'metrics'); the
  # metrics_service example serves them with cpp-httplib, scraped by a real Prometheus.
  prometheus libcpp-httplib-dev curl
  # Optional for users; here the YAML config loader's tests (db/config/yaml.hpp).
  libyaml-cpp-dev
  # CLI11 2.1 (header-only): the command-line tool appinfra-db (tools/appinfra-db).
  libcli11-dev
  postgresql postgresql-common
  # PgBouncer 1.18: the pg suite runs again through it in transaction mode (tests/integration/pgbouncer).
  pgbouncer
  # The fuzz targets (tests/fuzz): clang 14, its libFuzzer and sanitizer runtimes
  # (-fsanitize=fuzzer,address,undefined), and llvm-symbolizer for readable stacks.
  clang-14 libclang-rt-14-dev llvm-14
)
# The benchmark suite against peers (scripts/bench.sh) also needs SQLAlchemy with
# psycopg2 (the original's engine) and matplotlib for its plot.
[ "${1:-}" = --bench ] && packages+=(python3-sqlalchemy python3-psycopg2 python3-matplotlib)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
