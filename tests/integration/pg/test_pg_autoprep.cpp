// Automatic preparation on a real PostgreSQL 15: a statement text run through
// execute() prepare_threshold times on a connection is prepared there; the cache is
// bounded, and what the server drops or changes behind it does not break later
// statements.

#include "../../support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <pqxx/nontransaction>

#include <unistd.h>

#include <string>

using namespace appinfra;
using Catch::Matchers::Contains;
using PG = pg::PG<>;

namespace {
log::Logger quiet() { return log::Logger(log::Level::off); }
// One connection, so that every statement of a test runs on the same one.
db::DatabaseConfig one_conn(const std::string& name, db::Options o = {}) {
  o.set("url", test::pg_url());
  o.set("max_retries", 0);
  o.set("pool_size", 1);
  o.set("max_overflow", 0);
  return db::DatabaseConfig::from(name, o);
}
// What the server has prepared automatically on this connection, read through
// native() so that the reading is not counted itself.
template <class Connection>
long long auto_prepared(Connection& c) {
  pqxx::nontransaction t(c.native());
  return t.exec("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE '\\_appinfra\\_%'")[0][0].as<long long>();
}
std::string table(const std::string& stem) { return stem + "_" + std::to_string(::getpid()); }
}  // namespace

TEST_CASE("a statement is prepared at its prepare_threshold-th run on a connection, and counted", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_threshold", {{"prepare_threshold", 3}}));
  auto c = db.connect();
  for (int i = 1; i <= 2; ++i) CHECK(c.execute("SELECT $1::int + 1", i)[0][0].as<int>() == i + 1);
  CHECK(auto_prepared(c) == 0);
  CHECK(db.get_pool_status().statement_cache_misses_total == 0);
  CHECK(c.execute("SELECT $1::int + 1", 3)[0][0].as<int>() == 4);  // prepared now
  CHECK(auto_prepared(c) == 1);
  for (int i = 4; i <= 6; ++i) CHECK(c.execute("SELECT $1::int + 1", i)[0][0].as<int>() == i + 1);
  const auto s = db.get_pool_status();
  CHECK(s.statement_cache_misses_total == 1);
  CHECK(s.statement_cache_hits_total == 3);
  CHECK(auto_prepared(c) == 1);
}

TEST_CASE("prepare_threshold 0 prepares nothing", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_off", {{"prepare_threshold", 0}}));
  auto c = db.connect();
  for (int i = 0; i < 10; ++i) c.execute("SELECT 1");
  CHECK(auto_prepared(c) == 0);
  CHECK(db.get_pool_status().statement_cache_misses_total == 0);
}

TEST_CASE("the cache keeps prepared_cache_size statements and deallocates the least recently used", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_lru", {{"prepare_threshold", 1}, {"prepared_cache_size", 2}}));
  auto c = db.connect();
  c.execute("SELECT 1");
  c.execute("SELECT 2");
  CHECK(auto_prepared(c) == 2);
  c.execute("SELECT 1");  // most recent now: SELECT 2 goes next
  c.execute("SELECT 3");
  CHECK(auto_prepared(c) == 2);
  CHECK(db.get_pool_status().statement_cache_evictions_total == 1);
  {
    pqxx::nontransaction t(c.native());
    CHECK(t.exec("SELECT statement FROM pg_prepared_statements WHERE statement = 'SELECT 2'").empty());
  }
  CHECK(c.execute("SELECT 2")[0][0].as<int>() == 2);  // prepared again, evicting SELECT 1
  CHECK(db.get_pool_status().statement_cache_evictions_total == 2);
}

TEST_CASE("statements that are not one plain statement are never prepared", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_plain", {{"prepare_threshold", 1}}));
  auto c = db.connect();
  c.execute("SELECT 1; SELECT 2");
  c.execute("SET application_name = 'autoprep'");  // changes the session
  c.execute("SELECT set_config('application_name', 'x', false)");
  c.execute("SHOW application_name");
  CHECK(auto_prepared(c) == 0);
  c.execute("SELECT 1;");  // a trailing ';' is still one statement
  CHECK(auto_prepared(c) == 1);
}

TEST_CASE("a prepared statement whose table changed is prepared again in autocommit", "[prepared]") {
  const std::string t = table("autoprep_ddl");
  PG db(quiet(), one_conn("autoprep_ddl", {{"prepare_threshold", 1}}));
  auto c = db.connect();
  c.execute("DROP TABLE IF EXISTS " + t);
  c.execute("CREATE TABLE " + t + " (a int)");
  c.execute("INSERT INTO " + t + " VALUES (1)");
  const std::string select = "SELECT * FROM " + t;
  CHECK(c.execute(select).columns().size() == 1);
  c.execute("ALTER TABLE " + t + " ADD COLUMN b int DEFAULT 7");
  const auto r = c.execute(select);  // 0A000 "cached plan must not change result type", retried
  REQUIRE(r.columns().size() == 2);
  CHECK(r[0]["b"].as<int>() == 7);
  c.execute("DROP TABLE " + t);
}

TEST_CASE("in a transaction a stale prepared statement is a clear error, and the next transaction works", "[prepared]") {
  const std::string t = table("autoprep_ddl_txn");
  PG db(quiet(), one_conn("autoprep_ddl_txn", {{"prepare_threshold", 1}}));
  const std::string select = "SELECT * FROM " + t;
  {
    auto c = db.connect();
    c.execute("DROP TABLE IF EXISTS " + t);
    c.execute("CREATE TABLE " + t + " (a int)");
    c.execute(select);
    c.execute("ALTER TABLE " + t + " ADD COLUMN b int");
  }
  {
    auto s = db.session();
    try {
      s.execute(select);
      FAIL("the stale plan was not reported");
    } catch (const db::QueryError& e) {
      CHECK(e.sqlstate() == "0A000");
      CHECK_THAT(e.what(), Contains("autoprep_ddl_txn") && Contains("schema change") && Contains("roll back"));
    }
    s.rollback();
  }
  {
    auto s = db.session();  // on a new connection: the old one was closed on return
    CHECK(s.execute(select).columns().size() == 2);
    s.commit();
  }
  db.connect().execute("DROP TABLE " + t);
}

TEST_CASE("DISCARD ALL through execute() turns automatic preparation off on that connection", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_discard", {{"prepare_threshold", 1}}));
  int pid = 0;
  {
    auto c = db.connect();
    pid = c.execute("SELECT pg_backend_pid()")[0][0].as<int>();
    c.execute("SELECT 41 + 1");
    c.execute("DISCARD ALL");
    CHECK(c.execute("SELECT 41 + 1")[0][0].as<int>() == 42);
    CHECK(c.execute("SELECT 41 + 1")[0][0].as<int>() == 42);
  }
  auto c = db.connect();  // the connection was closed on return
  CHECK(c.execute("SELECT pg_backend_pid()")[0][0].as<int>() != pid);
  CHECK(c.execute("SELECT 41 + 1")[0][0].as<int>() == 42);
}

TEST_CASE("a DEALLOCATE ALL the pool did not see makes no later statement fail", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_unseen", {{"prepare_threshold", 1}}));
  auto c = db.connect();
  c.execute("SELECT 6 * 7");
  {
    pqxx::nontransaction t(c.native());
    t.exec("DEALLOCATE ALL");
  }
  CHECK(c.execute("SELECT 6 * 7")[0][0].as<int>() == 42);  // 26000: run unprepared
  CHECK(c.execute("SELECT 6 * 7")[0][0].as<int>() == 42);
  CHECK(auto_prepared(c) == 0);
}

TEST_CASE("after a reconnect the statements are prepared on the new connection", "[prepared]") {
  // pre_ping_grace 0: the checkout checks the connection, however soon after its last use.
  PG db(quiet(), one_conn("autoprep_reconnect", {{"prepare_threshold", 1}, {"pre_ping_grace", 0}}));
  PG admin(quiet(), one_conn("autoprep_admin"));
  int pid = 0;
  {
    auto c = db.connect();
    pid = c.execute("SELECT pg_backend_pid()")[0][0].as<int>();
    c.execute("SELECT 5");
  }
  admin.connect().execute("SELECT pg_terminate_backend($1)", pid);
  for (int i = 0; i < 500; ++i) {
    if (admin.connect().execute("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)[0][0].as<int>() == 0)
      break;
  }
  auto c = db.connect();  // pre-ping replaces the dead one
  CHECK(c.execute("SELECT 5")[0][0].as<int>() == 5);
  CHECK(auto_prepared(c) == 1);
}

TEST_CASE("sessions count and use prepared statements; an aborted transaction's statements are not run", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_session", {{"prepare_threshold", 2}}));
  {
    auto s = db.session();
    for (int i = 0; i < 3; ++i) CHECK(s.execute("SELECT $1::int * 2", i)[0][0].as<int>() == 2 * i);
    s.commit();
  }
  CHECK(db.get_pool_status().statement_cache_misses_total == 1);
  CHECK(db.get_pool_status().statement_cache_hits_total == 1);
  auto s = db.session();
  CHECK_THROWS_AS(s.execute("SELECT 1/0"), db::QueryError);
  CHECK_THROWS_AS(s.execute("SELECT $1::int * 2", 5), db::UsageError);  // aborted: not sent, not counted
  CHECK(db.get_pool_status().statement_cache_hits_total == 1);
  s.rollback();
  CHECK(s.execute("SELECT $1::int * 2", 5)[0][0].as<int>() == 10);
  CHECK(db.get_pool_status().statement_cache_hits_total == 2);
}

TEST_CASE("the registry of execute_prepared() works beside automatic preparation", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_registry", {{"prepare_threshold", 1}}));
  db.prepare("add_one", "SELECT $1::int + 1");
  auto c = db.connect();
  CHECK(c.execute("SELECT $1::int + 1", 1)[0][0].as<int>() == 2);
  CHECK(c.execute_prepared("add_one", 2)[0][0].as<int>() == 3);
  CHECK(c.execute("SELECT $1::int + 1", 3)[0][0].as<int>() == 4);
  pqxx::nontransaction t(c.native());
  CHECK(t.exec("SELECT count(*) FROM pg_prepared_statements")[0][0].as<int>() == 2);
}

TEST_CASE("a statement that fails when prepared fails as it would unprepared, and works once it can", "[prepared]") {
  const std::string t = table("autoprep_late");
  PG db(quiet(), one_conn("autoprep_late", {{"prepare_threshold", 1}}));
  const std::string select = "SELECT count(*) FROM " + t;
  {
    auto s = db.session();
    CHECK_THROWS_AS(s.execute(select), db::QueryError);  // no such table: 42P01, not a stale plan
    s.rollback();
  }
  auto c = db.connect();
  CHECK_THROWS_WITH(c.execute(select), Contains("42P01"));
  c.execute("CREATE TABLE " + t + " (a int)");
  CHECK(c.execute(select)[0][0].as<int>() == 0);
  c.execute("INSERT INTO " + t + " VALUES (1)");
  CHECK(c.execute(select)[0][0].as<int>() == 1);
  c.execute("DROP TABLE " + t);
}

TEST_CASE("an ordinary 0A000 error is reported as it is, not as a stale prepared statement", "[prepared]") {
  const std::string t = table("autoprep_0a000");
  PG db(quiet(), one_conn("autoprep_0a000", {{"prepare_threshold", 1}}));
  db.connect().execute("CREATE TABLE " + t + " (a int)");
  const std::string bad = "SELECT count(*) FROM " + t + " FOR UPDATE";  // not with aggregates: 0A000
  for (int i = 0; i < 2; ++i) {
    try {
      db.connect().execute(bad);
      FAIL("FOR UPDATE with an aggregate was accepted");
    } catch (const db::QueryError& e) {
      CHECK(e.sqlstate() == "0A000");
      CHECK_THAT(e.what(), Contains("FOR UPDATE") && !Contains("schema change"));
    }
  }
  {
    auto s = db.session();
    CHECK_THROWS_WITH(s.execute(bad), Contains("FOR UPDATE") && !Contains("schema change"));
  }
  db.connect().execute("DROP TABLE " + t);
}

TEST_CASE("texts run once do not push prepared statements out", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_one_off", {{"prepare_threshold", 2}, {"prepared_cache_size", 2}}));
  auto c = db.connect();
  c.execute("SELECT 1");
  c.execute("SELECT 1");  // prepared
  for (int i = 0; i < 10; ++i) c.execute("SELECT " + std::to_string(100 + i));  // each once
  CHECK(auto_prepared(c) == 1);
  c.execute("SELECT 1");
  CHECK(db.get_pool_status().statement_cache_hits_total == 1);
  CHECK(db.get_pool_status().statement_cache_evictions_total == 0);
}

TEST_CASE("a session scoped to a schema runs its statements unprepared", "[prepared]") {
  PG db(quiet(), one_conn("autoprep_schema", {{"prepare_threshold", 1}}));
  {
    auto s = db.session_in_schema("public");
    for (int i = 0; i < 3; ++i) s.execute("SELECT 1");
    s.commit();
  }
  auto c = db.connect();
  CHECK(auto_prepared(c) == 0);
}
