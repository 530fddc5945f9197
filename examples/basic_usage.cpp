// The seed's "Basic Usage": a logger, one database, a connection.

#include "example_url.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>

using namespace appinfra;

int main() {
  // Setup logging
  auto config = log::LogConfig::from_params("info");
  auto logger = log::LoggerFactory::create_root(config);

  // Database configuration
  db::Config db_config{{"primary", {{"url", example_url()}}}};

  // Initialize manager: the backends it can build are part of its type
  db::Manager<pg::PG<>, sqlite::SQLite<>> manager(logger, db_config);
  manager.setup();

  // Use database
  auto& primary = manager.db("primary");
  auto conn = primary.connect();
  auto result = conn.execute("SELECT $1 || ', ' || $2 AS greeting", "hello", "appinfra");
  fmt::print("{}\n", result[0]["greeting"].view());
  conn.close();  // or let it go out of scope: it goes back to the pool either way

  const auto pool = primary.get_pool_status();
  fmt::print("pool: size {}, checked out {}, idle {}\n", pool.pool_size, pool.checked_out, pool.checked_in);
  return pool.checked_out == 0 ? 0 : 1;
}
