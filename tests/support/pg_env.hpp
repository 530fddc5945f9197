#pragma once
// The PostgreSQL server of the integration tests: DATABASE_URL, set by the README's
// test command after it starts a throwaway cluster. Without it a test fails; it
// never skips.

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

/// A name no other test or process uses, for tables and databases.
inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
}

}  // namespace appinfra::test
