#pragma once
// The examples run on the embedded SQLite default, or on PostgreSQL when
// DATABASE_URL is set (postgresql://user:password@host:port/dbname).

#include <cstdio>
#include <cstdlib>
#include <string>

inline std::string example_url() {
  const char* url = std::getenv("DATABASE_URL");
  if (url != nullptr && *url != '\0') return url;
  // The test suite runs each example on PostgreSQL too: there, no url is an error.
  if (std::getenv("APPINFRA_EXAMPLE_NEEDS_PG") != nullptr) {
    std::fprintf(stderr, "DATABASE_URL is not set: this run must use PostgreSQL\n");
    std::exit(2);
  }
  return "sqlite:///:memory:";
}
