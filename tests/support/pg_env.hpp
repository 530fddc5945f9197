#pragma once
// The PostgreSQL server of the integration tests: DATABASE_URL, set by the README's
// test command after it starts a throwaway cluster. Without it a test fails; it
// never skips.

#include <appinfra/db/config/options.hpp>
#include <appinfra/db/url.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace appinfra::test {

inline std::string pg_url() {
  const char* url = std::getenv("DATABASE_URL");
  if (url == nullptr || *url == '\0')
    FAIL("DATABASE_URL is not set: run the tests through scripts/test.sh, which starts PostgreSQL");
  return url;
}

inline std::string pg_password() { return db::Url::parse(pg_url()).password(); }

/// The `pooler` key of the suite's databases: APPINFRA_TEST_POOLER (`transaction`
/// when tests/integration/pgbouncer/run.sh runs the suite again through PgBouncer,
/// with DATABASE_URL pointing at it), `none` otherwise.
inline std::string pg_pooler() {
  const char* p = std::getenv("APPINFRA_TEST_POOLER");
  return p == nullptr || *p == '\0' ? "none" : p;
}

/// `o` with the suite's `pooler`, unless it says one itself.
inline db::Options with_pooler(db::Options o) {
  if (o.find("pooler") == nullptr) o.set("pooler", pg_pooler());
  return o;
}

/// A name no other test or process uses, for tables and databases.
inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
}

}  // namespace appinfra::test
