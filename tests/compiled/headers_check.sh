#!/usr/bin/env bash
# headers_check.sh SOURCE_ROOT CXX: in compiled mode (APPINFRA_SEPARATE_COMPILATION)
# the public headers are declarations only. A translation unit that includes
# db.hpp, pg.hpp and sqlite.hpp must not include libpqxx, libpq, sqlite3.h, the
# pool's definition or the backends' header-only definitions; the same unit
# without the macro must (or this check could not fail).
set -euo pipefail
src=$1
cxx=${2:-g++}
tu=$(mktemp --suffix=.cpp)
trap 'rm -f "$tu"' EXIT
printf '#include <appinfra/db.hpp>\n#include <appinfra/pg.hpp>\n#include <appinfra/sqlite.hpp>\n' > "$tu"
forbidden='pqxx/|libpq-fe\.h|sqlite3\.h|appinfra/db/pool/queue_pool\.hpp|appinfra/db/pool/detail/(core|slots|waiters|housekeeping|checkout_rule|diagnostics)|appinfra/pg/pg\.hpp|appinfra/pg/detail/|appinfra/sqlite/sqlite\.hpp|appinfra/sqlite/detail/|appinfra/db/detail/pooled_backend\.hpp|appinfra/db/config/detail/reader\.hpp|appinfra/db/config/impl/'
deps() { "$cxx" -std=c++20 -I"$src/include" -I/usr/include/postgresql "$@" -M "$tu" | tr ' \\' '\n\n' | grep -v '^$'; }
header_only=$(deps | grep -cE "$forbidden" || true)
[ "$header_only" -gt 0 ] || { echo "FAIL: header-only mode includes none of the checked headers: the check is broken"; exit 1; }
found=$(deps -DAPPINFRA_SEPARATE_COMPILATION | grep -E "$forbidden" || true)
if [ -n "$found" ]; then
  echo "FAIL: in compiled mode the public headers include:"
  echo "$found"
  exit 1
fi
echo "compiled mode: db.hpp, pg.hpp and sqlite.hpp include no definitions ($header_only checked headers in header-only mode, 0 here)"
