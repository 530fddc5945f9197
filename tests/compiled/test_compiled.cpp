// The compiled mode (APPINFRA_SEPARATE_COMPILATION, the appinfra-compiled
// dependency): PG<>, PG<ReadOnly>, SQLite<> and SQLite<ReadOnly> come from
// libappinfra, and this translation unit sees their declarations only (no libpqxx,
// no sqlite3.h, no pool: tests/compiled/headers_check.sh checks that). Parameters
// are converted here (db::to_param) and bound in the library: each kind must bind
// as the header-only backends bind it.

#include "support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

using namespace appinfra;

static_assert(std::is_base_of_v<pg::detail::CompiledPG<db::ReadWrite>, pg::PG<>>, "PG<> is the library's here");
static_assert(std::is_base_of_v<sqlite::detail::CompiledSQLite<db::ReadOnly>, sqlite::SQLite<db::ReadOnly>>);
static_assert(db::Interface<pg::PG<>> && db::Interface<pg::PG<db::ReadOnly>>);
static_assert(db::Interface<sqlite::SQLite<>> && db::Interface<sqlite::SQLite<db::ReadOnly>>);
template <class B>
concept migrates = requires(B& b, const db::Migrations& m) { b.migrate(m); };
template <class B>
concept creates_database = requires(B& b) { b.create_database(); };
static_assert(migrates<pg::PG<>> && migrates<sqlite::SQLite<>> && creates_database<pg::PG<>>);
static_assert(!migrates<pg::PG<db::ReadOnly>> && !migrates<sqlite::SQLite<db::ReadOnly>> &&
                  !creates_database<pg::PG<db::ReadOnly>>,
              "a read-only database has no migrate() nor create_database(), compiled or not");

namespace {

using Manager = db::Manager<pg::PG<>, pg::PG<db::ReadOnly>, sqlite::SQLite<>, sqlite::SQLite<db::ReadOnly>>;
const log::Logger quiet(log::Level::warning);

db::Config config() {
  return {{"lite", {{"url", "sqlite:///:memory:"}}},
          {"pg", test::with_pooler({{"url", test::pg_url()}})},
          {"pg_ro", test::with_pooler({{"url", test::pg_url()}, {"readonly", true}})}};
}

}  // namespace

TEST_CASE("compiled mode: SQLite binds each kind of parameter as the header-only backend does") {
  Manager m(quiet, config());
  m.setup();
  auto c = m.db("lite").connect();
  const auto type_of = [&](const auto& v) { return c.execute("SELECT typeof($1)", v).template scalar<std::string>(); };
  CHECK(type_of(42) == "integer");
  CHECK(type_of(std::uint64_t{7}) == "integer");
  CHECK(type_of(true) == "integer");
  CHECK(type_of(0.5) == "real");
  CHECK(type_of(0.25f) == "real");
  CHECK(type_of(std::string("x")) == "text");
  CHECK(type_of(std::string_view("x")) == "text");
  CHECK(type_of("x") == "text");
  CHECK(type_of(nullptr) == "null");
  CHECK(type_of(std::optional<int>()) == "null");
  CHECK(type_of(static_cast<const char*>(nullptr)) == "null");
  CHECK(c.execute("SELECT $1 + $2, $3 || $4", 40, std::optional<long>(2), "a", std::string("b"))[0][0].as<int>() == 42);
  CHECK(c.execute("SELECT $1 || $2", "a", std::string("b")).scalar<std::string>() == "ab");
  CHECK(c.execute("SELECT $1 = 1 AND $2 = 0", true, false).scalar<int>() == 1);
}

TEST_CASE("compiled mode: a number of parameters known only at run time is passed as db::Params") {
  Manager m(quiet, config());
  m.setup();
  std::vector<db::Param> values{db::to_param(20), db::to_param(22)};
  CHECK(m.db("lite").connect().execute("SELECT $1 + $2", db::Params(values)).scalar<int>() == 42);
  CHECK(m.db("pg").connect().execute("SELECT $1::int + $2::int", db::Params(values)).scalar<int>() == 42);
  // Fewer parameters than the statement has: the same UsageError as header-only.
  values.pop_back();
  CHECK_THROWS_AS(m.db("lite").connect().execute("SELECT $1 + $2", db::Params(values)), db::UsageError);
}

TEST_CASE("compiled mode: SQLite sessions, transactions, migrations, health and the pool") {
  Manager m(quiet, config());
  m.setup();
  auto& lite = m.db("lite").get<sqlite::SQLite<>>();
  db::Migrations migrations;
  migrations.add(1, "create t", "CREATE TABLE t (x INTEGER)");
  CHECK(lite.migrate(migrations).applied.size() == 1);
  {
    auto s = lite.session();
    s.execute("INSERT INTO t VALUES ($1)", 1);
    CHECK(s.in_transaction());
    s.rollback();
    s.execute("INSERT INTO t VALUES ($1)", 2);
    s.commit();
  }
  CHECK(lite.transaction([](auto& s) { return s.execute("SELECT sum(x) FROM t").template scalar<int>(); }) == 2);
  auto c = lite.connect();
  CHECK(c.native() != nullptr);
  c.close();
  CHECK(lite.health_check().status == db::HealthStatus::healthy);
  CHECK(lite.get_pool_status().checked_out == 0);
  CHECK(m.health_check().at("lite").status == db::HealthStatus::healthy);
}

TEST_CASE("compiled mode: PostgreSQL binds each kind of parameter as libpqxx converts it") {
  Manager m(quiet, config());
  m.setup();
  auto c = m.db("pg").connect();
  // The text the server received (NULL: none).
  const auto text_of = [&](const auto& v) {
    return c.execute("SELECT $1::text", v).template scalar<std::optional<std::string>>();
  };
  CHECK(text_of(-7) == "-7");
  CHECK(text_of(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
  CHECK(text_of(true) == "true");
  CHECK(text_of(0.5) == "0.5");
  CHECK(text_of(0.25f) == "0.25");
  CHECK(text_of(std::string_view("it's")) == "it's");
  CHECK(text_of(nullptr) == std::nullopt);
  CHECK(text_of(std::optional<std::string>()) == std::nullopt);
  CHECK(text_of(std::optional<std::string>("x")) == "x");
  CHECK(c.execute("SELECT $1::int + $2::int", 40, 2).scalar<int>() == 42);
}

TEST_CASE("compiled mode: PostgreSQL's own members: prepared statements, pipelines, schemas, read-only") {
  Manager m(quiet, config());
  m.setup();
  auto& pg = m.db("pg").get<pg::PG<>>();
  pg.prepare("compiled_add", "SELECT $1::int + $2::int");
  auto c = pg.connect();
  CHECK(c.execute_prepared("compiled_add", 40, 2).scalar<int>() == 42);
  const auto batch = c.pipeline({"SELECT 1", "SELECT 2"});
  REQUIRE(batch.size() == 2);
  CHECK(batch[1].scalar<int>() == 2);
  c.close();
  {
    auto s = pg.session_in_schema("pg_catalog");
    CHECK(s.execute("SELECT current_setting('search_path')").scalar<std::string>().find("pg_catalog") == 0);
    CHECK(s.execute_prepared("compiled_add", 1, 1).scalar<int>() == 2);
    s.commit();
  }
  CHECK(pg.transaction([](auto& s) { return s.execute("SELECT 7").template scalar<int>(); }) == 7);
  CHECK(pg.health_check().status == db::HealthStatus::healthy);
  auto ro = m.db("pg_ro").connect();
  CHECK_THROWS_AS(ro.execute("CREATE TEMPORARY TABLE compiled_ro (x int)"), db::QueryError);
  CHECK(m.get_stats().successful_setups == 3);
}

TEST_CASE("compiled mode: a StaticManager over the library's backends") {
  db::StaticManager<db::Named<"lite", sqlite::SQLite<>>> m(quiet, {{"lite", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  CHECK(m.db<"lite">().connect().execute("SELECT $1 * 2", 21).scalar<int>() == 42);
}
