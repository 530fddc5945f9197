#pragma once
// PostgreSQL's options, declared here without libpqxx so that the configuration
// (the core) parses them without depending on the backend; pg/ re-exports them as
// pg::Options.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace appinfra::db {

/// A DatabaseConfig's `pg`: the keys only PostgreSQL reads. Value type.
struct PgOptions {
  using Seconds = std::chrono::duration<double>;

  std::optional<Seconds> statement_timeout;  ///< set on every connection when given
  bool keepalives = true;                    ///< TCP keepalives, unless the url sets them
  /// Runs of one statement text through execute() on a connection after which it
  /// is prepared there (pgjdbc's prepareThreshold, psycopg's prepare_threshold); 0: never.
  std::size_t prepare_threshold = 5;
  // Migrations: created before the migrations run.
  std::vector<std::string> extensions;  ///< CREATE EXTENSION IF NOT EXISTS each; names [a-z][a-z0-9_-]*
  std::string schema;                   ///< CREATE SCHEMA IF NOT EXISTS; name [a-z][a-z0-9_]*
  /// A file holding the password, read for each new connection (a rotated secret
  /// takes effect without a restart); empty: none. Never with a password in the url.
  std::string password_file;
};

}  // namespace appinfra::db
