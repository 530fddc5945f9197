// Behind PgBouncer 1.18 in transaction mode (`pooler: transaction`): nothing one
// client does reaches another. tests/integration/pgbouncer/run.sh starts PgBouncer
// and sets APPINFRA_TEST_PGBOUNCER_ONE_URL, a database of pool_size 1: every client
// of it shares one server connection, which a plain libpqxx connection (`other`)
// then inspects. Each leak check is shown to be able to fail: with `pooler: none`
// the same client leaks, and `other` sees it.

#include "../../support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;

namespace {
log::Logger quiet() { return log::Logger(log::Level::off); }

std::string env_url(const char* name) {
  const char* url = std::getenv(name);
  if (url == nullptr || *url == '\0') FAIL(name << " is not set: run these tests through tests/integration/pgbouncer/run.sh");
  return url;
}
std::string one_url() { return env_url("APPINFRA_TEST_PGBOUNCER_ONE_URL"); }
std::string pool_url() { return env_url("APPINFRA_TEST_PGBOUNCER_URL"); }

db::DatabaseConfig cfg(const std::string& name, const std::string& pooler, db::Options o = {}) {
  if (o.find("url") == nullptr) o.set("url", one_url());
  o.set("pooler", pooler);
  o.set("pool_size", 1);
  o.set("max_overflow", 0);
  return db::DatabaseConfig::from(name, o);
}

// Another client of the same PgBouncer database: with pool_size 1 its statements
// run on the server connection the client under test used.
std::string seen_by_other(const std::string& sql) {
  pqxx::connection c(one_url());
  pqxx::nontransaction t(c);
  return t.exec(sql)[0][0].c_str();
}
void reset_shared_connection() {
  pqxx::connection c(one_url());
  pqxx::nontransaction t(c);
  t.exec("RESET ALL");
  t.exec("DEALLOCATE ALL");
}
}  // namespace

TEST_CASE("behind PgBouncer a client's statement_timeout applies to its transactions and never reaches another client") {
  reset_shared_connection();
  REQUIRE(seen_by_other("SHOW statement_timeout") == "0");
  SECTION("pooler: transaction") {
    pg::PG<> db(quiet(), cfg("timeout", "transaction", {{"statement_timeout", 0.2}}));
    CHECK(db.connect().execute("SELECT 1").scalar<int>() == 1);
    CHECK(seen_by_other("SHOW statement_timeout") == "0");
    // Applied to its own statements, autocommit and in a session, per transaction.
    CHECK(db.connect().execute("SHOW statement_timeout").scalar<std::string>() == "200ms");
    try {
      db.connect().execute("SELECT pg_sleep(2)");
      FAIL("statement_timeout did not cancel an autocommit statement");
    } catch (const db::QueryError& e) {
      CHECK(e.failure() == db::Failure::query_canceled);
    }
    {
      auto s = db.session();
      CHECK(s.execute("SHOW statement_timeout").scalar<std::string>() == "200ms");
      CHECK_THROWS_AS(s.execute("SELECT pg_sleep(2)"), db::QueryError);
    }
    CHECK(seen_by_other("SHOW statement_timeout") == "0");
  }
  SECTION("pooler: none, the same client leaks (what the option prevents)") {
    { pg::PG<> db(quiet(), cfg("timeout_leak", "none", {{"statement_timeout", 0.2}})); }
    CHECK(seen_by_other("SHOW statement_timeout") == "200ms");
    reset_shared_connection();
  }
}

TEST_CASE("behind PgBouncer a read-only database stays read-only and its default never reaches another client") {
  reset_shared_connection();
  SECTION("pooler: transaction") {
    pg::PG<db::ReadOnly> ro(quiet(), cfg("ro", "transaction", {{"readonly", true}, {"statement_timeout", 5}}));
    CHECK(ro.connect().execute("SELECT 1").scalar<int>() == 1);
    try {
      ro.connect().execute("CREATE TABLE pgbouncer_ro_never (x int)");
      FAIL("a read-only database wrote through PgBouncer");
    } catch (const db::QueryError& e) {
      CHECK(e.sqlstate() == "25006");
    }
    {
      auto s = ro.session();
      CHECK_THROWS_AS(s.execute("CREATE TABLE pgbouncer_ro_never (x int)"), db::QueryError);
    }
    { auto c = ro.connect(); c.execute("BEGIN"); CHECK_THROWS_AS(c.execute("CREATE TABLE pgbouncer_ro_never (x int)"), db::QueryError); }
    CHECK(seen_by_other("SHOW default_transaction_read_only") == "off");
    CHECK(seen_by_other("SHOW statement_timeout") == "0");
    CHECK(seen_by_other("SELECT count(*) FROM pg_class WHERE relname = 'pgbouncer_ro_never'") == "0");
  }
  SECTION("pooler: none, the same client leaks (what the option prevents)") {
    { pg::PG<db::ReadOnly> ro(quiet(), cfg("ro_leak", "none", {{"readonly", true}})); }
    CHECK(seen_by_other("SHOW default_transaction_read_only") == "on");
    reset_shared_connection();
  }
}

TEST_CASE("behind PgBouncer execute_prepared() and repeated statements leave no prepared statement on the server") {
  reset_shared_connection();
  const auto prepared_on_server = [] { return seen_by_other("SELECT count(*) FROM pg_prepared_statements"); };
  SECTION("pooler: transaction") {
    pg::PG<> db(quiet(), cfg("prep", "transaction"));
    CHECK(db.config().pg.prepare_threshold == 0);  // the default behind a pooler
    db.prepare("add_one", "SELECT $1::int + 1");
    for (int i = 0; i < 3; ++i) CHECK(db.connect().execute_prepared("add_one", i).scalar<int>() == i + 1);
    {
      auto s = db.session();
      CHECK(s.execute_prepared("add_one", 41).scalar<int>() == 42);
      s.commit();
    }
    for (int i = 0; i < 10; ++i) CHECK(db.connect().execute("SELECT $1::int * 2", i).scalar<int>() == 2 * i);
    CHECK(prepared_on_server() == "0");
  }
  SECTION("pooler: none, the same client leaves them (what the option prevents)") {
    pg::PG<> db(quiet(), cfg("prep_leak", "none"));
    db.prepare("add_one", "SELECT $1::int + 1");
    CHECK(db.connect().execute_prepared("add_one", 1).scalar<int>() == 2);
    CHECK(prepared_on_server() != "0");
    reset_shared_connection();
  }
}

TEST_CASE("behind PgBouncer a statement that would leave session state is refused before it is sent") {
  reset_shared_connection();
  pg::PG<> db(quiet(), cfg("refused", "transaction"));
  const std::vector<std::string> refused = {
      "SET search_path TO pg_catalog",          "SELECT set_config('search_path', 'pg_catalog', false)",
      "RESET search_path",                      "LISTEN appinfra_pgbouncer",
      "SELECT pg_advisory_lock(4242)",          "CREATE TEMP TABLE pgbouncer_tmp (x int)",
      "PREPARE p AS SELECT 1"};
  for (const auto& sql : refused) {
    INFO(sql);
    CHECK_THROWS_WITH(db.connect().execute(sql), Contains("statement refused") && Contains("'pooler'") &&
                                                     Contains("'refused'") && Contains("SET LOCAL"));
    auto s = db.session();
    CHECK_THROWS_AS(s.execute(sql), db::UsageError);
  }
  CHECK(seen_by_other("SHOW search_path") == "\"$user\", public");
  CHECK(seen_by_other("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == "0");
  // What ends with the transaction works.
  auto s = db.session();
  s.execute("SET LOCAL search_path TO pg_catalog");
  CHECK(s.execute("SHOW search_path").scalar<std::string>() == "pg_catalog");
  s.execute("SELECT pg_advisory_xact_lock(4242)");
  s.execute("SELECT set_config('search_path', 'public', true)");  // is_local: ends with the transaction
  s.commit();
  CHECK(seen_by_other("SHOW search_path") == "\"$user\", public");
}

TEST_CASE("behind PgBouncer a text of several statements that begins or ends a transaction is refused where "
          "settings are applied per transaction") {
  reset_shared_connection();
  pg::PG<db::ReadOnly> ro(quiet(), cfg("ro_multi", "transaction", {{"readonly", true}}));
  for (const std::string sql : {"BEGIN; CREATE TABLE pgbouncer_ro_multi (x int); COMMIT",
                                "SELECT 1; COMMIT; CREATE TABLE pgbouncer_ro_multi (x int)"}) {
    INFO(sql);
    CHECK_THROWS_WITH(ro.connect().execute(sql), Contains("statement refused") && Contains("'ro_multi'"));
    CHECK_THROWS_AS(ro.connect().pipeline({"SELECT 1", "COMMIT", "CREATE TABLE pgbouncer_ro_multi (x int)"}),
                    db::UsageError);
  }
  CHECK(seen_by_other("SELECT count(*) FROM pg_class WHERE relname = 'pgbouncer_ro_multi'") == "0");
  CHECK(ro.connect().execute("SELECT 1; SELECT 2").scalar<int>() == 2);  // several statements without one: run
}

TEST_CASE("behind PgBouncer create_db and create_database() say to go to the server directly") {
  CHECK_THROWS_WITH(cfg("mk", "transaction", {{"create_db", true}}),
                    Contains("'create_db'") && Contains("'pooler'") && Contains("directly"));
  pg::PG<> db(quiet(), cfg("mk2", "transaction"));
  try {
    db.create_database();
    FAIL("create_database() ran behind a pooler in transaction mode");
  } catch (const db::ConfigError& e) {
    CHECK(e.key() == "pooler");
    CHECK_THAT(e.what(), Contains("'mk2'") && Contains("directly"));
  }
}

TEST_CASE("behind PgBouncer migrations from two runners at once apply each migration once, under transaction locks") {
  const std::string table = test::unique_name("pgb_mig");
  const std::int64_t base = static_cast<std::int64_t>(::getpid()) * 100;
  db::Migrations m;
  m.add(base + 1, "create", "CREATE TABLE " + table + " (x int)");
  m.add(base + 2, "slow", "SELECT pg_sleep(0.4); INSERT INTO " + table + " VALUES (1)");
  m.add(base + 3, "more", "INSERT INTO " + table + " VALUES (2)");
  std::atomic<int> failures{0};
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i)
    runners.emplace_back([&] {
      try {
        // statement_timeout below the slow migration: migrations lift it in their transactions.
        pg::PG<> db(quiet(), db::DatabaseConfig::from("mig", {{"url", pool_url()}, {"pooler", "transaction"},
                                                              {"statement_timeout", 0.2}}));
        db.migrate(m);
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO(e.what());
      }
    });
  for (auto& t : runners) t.join();
  CHECK(failures == 0);
  pqxx::connection direct(test::pg_url());
  pqxx::nontransaction t(direct);
  CHECK(t.exec("SELECT count(*) FROM " + table)[0][0].as<int>() == 2);  // each migration once
  CHECK(t.exec("SELECT count(*) FROM schema_migrations WHERE version BETWEEN " + std::to_string(base) + " AND " +
               std::to_string(base + 99))[0][0]
            .as<int>() == 3);
  CHECK(t.exec("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")[0][0].as<int>() == 0);
  t.exec("DROP TABLE " + table);
  t.exec("DELETE FROM schema_migrations WHERE version BETWEEN " + std::to_string(base) + " AND " +
         std::to_string(base + 99));
}
