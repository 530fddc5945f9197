// The Manager with real PostgreSQL and SQLite databases side by side.

#include "../../support/capture_logger.hpp"
#include "../../support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <catch2/catch.hpp>

using namespace appinfra;
using Catch::Matchers::Contains;
using Manager = db::Manager<pg::PG<>, pg::PG<db::ReadOnly>, sqlite::SQLite<>>;

TEST_CASE("one Manager serves PostgreSQL, read-only PostgreSQL and SQLite; a bad database does not stop the others") {
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  const std::string url = test::pg_url();
  const std::string password = test::pg_password();
  REQUIRE_FALSE(password.empty());
  auto bad_pw = db::Url::parse(url);
  Manager m(lg, {{"primary", {{"url", url}, {"pool_size", 3}, {"echo", true}, {"pooler", test::pg_pooler()}}},
                 {"replica", {{"url", url}, {"readonly", true}, {"pool_size", 2}, {"pooler", test::pg_pooler()}}},
                 {"cache", {{"url", "sqlite:///:memory:"}}},
                 {"legacy", {{"url", "mysql://root:" + password + "@h/db"}}},
                 {"broken", {{"url", "postgresql://x:" + password + "@127.0.0.1:1/db"}, {"max_retries", 0}}}});
  m.setup();

  CHECK(m.list_databases() == std::vector<std::string>{"primary", "replica", "cache"});
  CHECK(m.db("primary").holds<pg::PG<>>());
  CHECK(m.db("replica").holds<pg::PG<db::ReadOnly>>());
  CHECK(m.db("cache").holds<sqlite::SQLite<>>());

  const auto errors = m.get_setup_errors();
  CHECK(errors.size() == 2);
  CHECK_THAT(errors.at("legacy"), Contains("unknown database type 'mysql'"));
  CHECK_THAT(errors.at("broken"), Contains("cannot connect"));
  CHECK_THROWS_WITH(m.db("broken"), Contains("Database 'broken' setup failed"));

  const auto st = m.get_stats();
  CHECK(st.total_configured == 5);
  CHECK(st.successful_setups == 3);
  CHECK(st.failed_setups == 2);
  CHECK(st.failed_databases == std::vector<std::string>{"legacy", "broken"});

  CHECK(m.db("primary").connect().execute("SELECT 1").scalar<int>() == 1);
  CHECK(m.db("cache").connect().execute("SELECT 2").scalar<int>() == 2);
  CHECK_THROWS_AS(m.db("replica").session().execute("CREATE TABLE nope_ro (x int)"), db::QueryError);

  const auto h = m.health_check();
  REQUIRE(h.size() == 5);
  for (const char* name : {"primary", "replica", "cache"}) {
    INFO(name);
    CHECK(h.at(name).healthy());
    CHECK(h.at(name).response_time_ms > 0.0);
  }
  CHECK_FALSE(h.at("broken").healthy());

  m.close_all();
  m.close_all();
  CHECK(m.list_databases().empty());

  // The password appears nowhere: not in logs, errors, health or statistics.
  CHECK_FALSE(cap->contains(password));
  for (const auto& [n, e] : errors) CHECK_THAT(e, !Contains(password));
  for (const auto& [n, r] : h) CHECK_THAT(r.error, !Contains(password));
}

TEST_CASE("a StaticManager over PostgreSQL and SQLite returns concrete backends") {
  using Service = db::StaticManager<db::Named<"primary", pg::PG<>>, db::Named<"cache", sqlite::SQLite<>>>;
  Service s(log::Logger(log::Level::off), {{"primary", {{"url", test::pg_url()}, {"pooler", test::pg_pooler()}}}, {"cache", {{"url", "sqlite://"}}}});
  s.setup();
  pg::PG<>& primary = s.db<"primary">();
  sqlite::SQLite<>& cache = s.db<"cache">();
  CHECK(primary.connect().execute("SELECT 5").scalar<int>() == 5);
  CHECK(cache.connect().execute("SELECT 6").scalar<int>() == 6);
}
