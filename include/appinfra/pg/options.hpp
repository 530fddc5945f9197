#pragma once
// pg::Options: PostgreSQL's own keys (statement_timeout, keepalives, extensions,
// schema), a DatabaseConfig's `pg`. Declared in the core (db/config/pg_options.hpp)
// so that the configuration parses them without including libpqxx.

#include <appinfra/db/config/pg_options.hpp>

namespace appinfra::pg {

using Options = db::PgOptions;

}  // namespace appinfra::pg
