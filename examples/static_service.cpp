// A service whose databases are fixed at compile time: db<"name">() returns the
// concrete backend type, with no lookup at run time; a misspelled name does not
// compile. Options still come from configuration.

#include "example_url.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>

using namespace appinfra;

// The service's own database layout, with the null logger: logging compiled out.
using Primary = sqlite::SQLite<db::ReadWrite, db::UseQueuePool<>, log::NullLogger>;
using Cache = sqlite::SQLite<db::ReadWrite, db::UseQueuePool<>, log::NullLogger>;
using Service = db::StaticManager<db::Named<"primary", Primary>, db::Named<"cache", Cache>>;

int main() {
  Service service(log::NullLogger{}, {{"primary", {{"url", "sqlite:///:memory:"}, {"pool_size", 2}}},
                                      {"cache", {{"url", "sqlite://"}}}});
  service.setup();

  Primary& primary = service.db<"primary">();  // the concrete type, no lookup
  primary.connect().execute("CREATE TABLE hits (n INTEGER); INSERT INTO hits VALUES (41)");
  const int n = primary.connect().execute("SELECT n + 1 FROM hits").scalar<int>();
  fmt::print("primary answered {}\n", n);

  // service.db<"primry">();  // does not compile: no database of this name is declared

  auto health = service.health_check();
  fmt::print("cache is {}\n", db::to_string(health.at("cache").status));
  return n == 42 && health.at("cache").healthy() ? 0 : 1;
}
