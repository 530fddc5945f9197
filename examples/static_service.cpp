// A service whose databases are fixed at compile time: db<"name">() returns the
// concrete backend type, with no lookup at run time; a misspelled name does not
// compile. Options may be fixed too, and checked when it compiles (a pool_size of 0
// would not compile); the run-time configuration overrides the keys it gives.

#include "example_url.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>

#include <chrono>

using namespace appinfra;
using namespace std::chrono_literals;

// The service's own database layout, with the null logger: logging compiled out.
using Primary = sqlite::SQLite<db::ReadWrite, db::UseQueuePool<>, log::NullLogger>;
using Cache = sqlite::SQLite<db::ReadWrite, db::UseQueuePool<>, log::NullLogger>;
constexpr auto primary_options = db::fixed_options(db::option<"url">("sqlite:///:memory:"), db::option<"pool_size">(2),
                                                   db::option<"pool_timeout">(5s));
using Service = db::StaticManager<db::Named<"primary", Primary, primary_options>, db::Named<"cache", Cache>>;

int main() {
  // "primary" needs no entry: its fixed options hold its url. An entry would
  // override the keys it gives ({"pool_size", 4}, a url from the environment).
  Service service(log::NullLogger{}, {{"cache", {{"url", "sqlite://"}}}});
  service.setup();

  Primary& primary = service.db<"primary">();  // the concrete type, no lookup
  primary.connect().execute("CREATE TABLE hits (n INTEGER); INSERT INTO hits VALUES (41)");
  const int n = primary.connect().execute("SELECT n + 1 FROM hits").scalar<int>();
  fmt::print("primary answered {} (pool_size {}, fixed at compile time)\n", n, primary.config().pool.pool_size);

  // service.db<"primry">();  // does not compile: no database of this name is declared

  auto health = service.health_check();
  fmt::print("cache is {}\n", db::to_string(health.at("cache").status));
  return n == 42 && health.at("cache").healthy() ? 0 : 1;
}
