// The seed's "Advanced Usage with Health Monitoring": several databases, one of
// them read-only, one misconfigured; health and statistics.

#include "example_url.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>

#include <cstdio>

using namespace appinfra;

int main() {
  auto logger = log::LoggerFactory::create_root(log::LogConfig::from_params("warning"));
  const std::string url = example_url();
  db::Config config{
      {"primary", {{"url", url}, {"pool_size", 10}}},
      {"readonly", {{"url", url}, {"readonly", true}, {"pool_size", 5}}},
      {"legacy", {{"url", "mysql://app:secret@legacy-host/app"}}},  // no MySQL backend: recorded, not fatal
  };

  db::Manager<pg::PG<>, pg::PG<db::ReadOnly>, sqlite::SQLite<>, sqlite::SQLite<db::ReadOnly>> manager(logger, config);
  // Said first, because the warning setup() logs for 'legacy' looks like a real failure.
  fmt::print("'legacy' is a mysql:// url and there is no MySQL backend: its setup fails on purpose, "
             "to show that a failed database is recorded and the others still work.\n");
  std::fflush(stdout);  // before setup()'s warning on stderr
  manager.setup();

  // Health monitoring
  int healthy = 0;
  for (const auto& [db_name, result] : manager.health_check()) {
    if (result.healthy()) {
      fmt::print("✓ {}: {:.2f}ms\n", db_name, result.response_time_ms);
      ++healthy;
    } else {
      fmt::print("✗ {}: {}\n", db_name, result.error);
    }
  }

  // Connection statistics: what each pool holds right now. One connection is kept
  // checked out meanwhile, as a request in progress would.
  auto in_use = manager.db("primary").connect();
  std::size_t active = 0;
  for (const auto& name : manager.list_databases()) {
    const auto pool = manager.db(name).get_pool_status();
    fmt::print("{}: {} checked out, {} idle, {} open (pool_size {})\n", name, pool.checked_out, pool.checked_in,
               pool.total_connections, pool.pool_size);
    active += pool.checked_out;
  }
  fmt::print("Active connections: {}\n", active);
  in_use.close();

  // Setup statistics: databases, not connections.
  const auto stats = manager.get_stats();
  fmt::print("Databases set up: {} of {}\n", stats.successful_setups, stats.total_configured);
  fmt::print("Failed setups: {}\n", stats.failed_setups);
  for (const auto& [name, error] : manager.get_setup_errors()) fmt::print("  {}: {}\n", name, error);

  manager.close_all();
  return healthy == 2 && active == 1 && stats.failed_setups == 1 ? 0 : 1;
}
