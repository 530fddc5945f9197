// A custom policy beside the compiled defaults, in the same program: PG with
// NullPool and SQLite with StaticPool come header-only from their own headers
// (which include libpqxx and sqlite3.h), while PG<> and SQLite<> stay the
// library's (test_compiled.cpp).

#include "support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/db/pool/null_pool.hpp>
#include <appinfra/db/pool/static_pool.hpp>
#include <appinfra/pg/native.hpp>
#include <appinfra/pg/pg.hpp>
#include <appinfra/sqlite/sqlite.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <type_traits>

using namespace appinfra;

using CustomPG = pg::PG<db::ReadWrite, db::UseNullPool<>>;
using CustomSQLite = sqlite::SQLite<db::ReadWrite, db::UseStaticPool<>>;
static_assert(std::is_base_of_v<pg::detail::BasicPG<db::ReadWrite, db::UseNullPool<>, log::Logger>, CustomPG>,
              "a custom policy is header-only");
static_assert(std::is_base_of_v<pg::detail::CompiledPG<db::ReadWrite>, pg::PG<>>,
              "PG<> stays the library's where the header-only definition is seen too");

TEST_CASE("compiled mode: custom policies work header-only beside the compiled defaults") {
  const log::Logger quiet(log::Level::warning);
  db::Manager<pg::PG<>, CustomPG, CustomSQLite> m(
      quiet, {{"pg", test::with_pooler({{"url", test::pg_url()}})}, {"lite", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  CHECK(m.db("pg").holds<pg::PG<>>());  // the first backend that accepts it
  CHECK(m.db("lite").holds<CustomSQLite>());
  CHECK(m.db("lite").connect().execute("SELECT $1 + 1", 41).scalar<int>() == 42);

  CustomPG custom(quiet, db::DatabaseConfig::from("custom", test::with_pooler({{"url", test::pg_url()}})));
  CHECK(custom.connect().execute("SELECT $1::int", 42).scalar<int>() == 42);
  CHECK(custom.get_pool_status().checked_in == 0);  // NullPool keeps nothing

  // native() of the library's PG<>: libpqxx's types, defined by pg/native.hpp.
  auto c = m.db("pg").get<pg::PG<>>().connect();
  CHECK(c.native().server_version() > 0);
  auto s = m.db("pg").get<pg::PG<>>().session();
  CHECK(s.native().exec("SELECT 42")[0][0].as<int>() == 42);
  s.rollback();
  auto lite = m.db("lite").get<CustomSQLite>().connect();
  CHECK(sqlite3_threadsafe() != 0);
  CHECK(lite.native() != nullptr);
}
