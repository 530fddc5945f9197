#pragma once
// The examples run on the embedded SQLite default, or on PostgreSQL when
// DATABASE_URL is set (postgresql://user:password@host:port/dbname).

#include <cstdlib>
#include <string>

inline std::string example_url() {
  const char* url = std::getenv("DATABASE_URL");
  return url != nullptr && *url != '\0' ? url : "sqlite:///:memory:";
}
