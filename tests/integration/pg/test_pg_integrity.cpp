// Connection integrity on a real server: what one borrower does to a pooled
// connection never reaches the next one; failures are typed; deadlines hold.

#include "../../support/capture_logger.hpp"
#include "../../support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;

namespace {
log::Logger quiet() { return log::Logger(log::Level::off); }
db::DatabaseConfig one_conn(const std::string& name, bool readonly, db::Options o = {}) {
  o.set("url", test::pg_url());
  o.set("pool_size", 1);
  o.set("max_overflow", 0);
  o.set("readonly", readonly);
  return db::DatabaseConfig::from(name, test::with_pooler(o));
}

// What the next borrower of the database's one connection sees.
template <class B>
void check_clean(B& db, int pid) {
  auto c = db.connect();
  REQUIRE(c.execute("SELECT pg_backend_pid()").template scalar<int>() == pid);  // the same connection
  CHECK(c.execute("SELECT now() = statement_timestamp()").template scalar<bool>());  // no open transaction
  CHECK(c.execute("SHOW search_path").template scalar<std::string>() == "\"$user\", public");
  CHECK(c.execute("SELECT setting = reset_val FROM pg_settings WHERE name = 'work_mem'").template scalar<bool>());
  CHECK(c.execute("SELECT count(*) FROM pg_listening_channels()").template scalar<int>() == 0);
  CHECK(c.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()").template scalar<int>() == 0);
  const bool ro = B::access_type::read_only;
  CHECK(c.execute("SHOW default_transaction_read_only").template scalar<std::string>() == (ro ? "on" : "off"));
  if (ro) {
    const std::string t = test::unique_name("ro_guard");
    try {
      c.execute("CREATE TABLE " + t + " (x int)");
      FAIL("a read-only database created a table after a borrower's SET");
    } catch (const db::QueryError& e) {
      CHECK(e.failure() == db::Failure::read_only);
    }
  }
}

// The ways a borrower can change the session, each through one handle's path.
const char* const changes[] = {
    "SET default_transaction_read_only = off",
    "SET search_path TO pg_catalog",
    "SET work_mem = '7MB'",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "LISTEN appinfra_test_channel",
    "SELECT pg_advisory_lock(4242)",
    "BEGIN",
};
}  // namespace

TEMPLATE_TEST_CASE("the next borrower sees a clean session, whatever path changed it", "[session_state]", pg::PG<>,
                   pg::PG<db::ReadOnly>) {
  TestType db(quiet(), one_conn(test::unique_name("clean"), TestType::access_type::read_only));
  const int pid = db.connect().execute("SELECT pg_backend_pid()").template scalar<int>();
  for (const char* sql : changes) {
    CAPTURE(sql);
    SECTION(std::string("connection execute: ") + sql) {
      db.connect().execute(sql);
      check_clean(db, pid);
    }
    SECTION(std::string("pipeline: ") + sql) {
      db.connect().pipeline({"SELECT 1", sql});
      check_clean(db, pid);
    }
    SECTION(std::string("session, committed: ") + sql) {
      if (std::string(sql) == "BEGIN") continue;  // a warning inside a transaction: nothing to leak
      auto s = db.session();
      s.execute(sql);
      s.commit();
      s.close();
      check_clean(db, pid);
    }
    SECTION(std::string("session pipeline, rolled back: ") + sql) {
      if (std::string(sql) == "BEGIN") continue;
      auto s = db.session();
      s.pipeline({"SELECT 1", sql});
      s.rollback();
      s.close();
      check_clean(db, pid);
    }
    SECTION(std::string("prepared statement: ") + sql) {
      if (std::string(sql) == "BEGIN" || std::string(sql).rfind("SET", 0) == 0 || std::string(sql).rfind("LISTEN", 0) == 0)
        continue;  // utility statements cannot be prepared
      const std::string name = "changes_" + std::to_string(std::hash<std::string>{}(sql) % 100000);
      db.prepare(name, sql);
      db.connect().execute_prepared(name);
      check_clean(db, pid);
      {
        auto s = db.session();
        s.execute_prepared(name);
        s.commit();
      }
      check_clean(db, pid);
    }
  }
  SECTION("native() on a connection") {
    {
      auto c = db.connect();
      pqxx::nontransaction t(c.native());
      t.exec("SET default_transaction_read_only = off; SET search_path TO pg_catalog; BEGIN");
    }
    check_clean(db, pid);
  }
  SECTION("native() on a session") {
    {
      auto s = db.session();
      s.native().exec("SET search_path TO pg_catalog");
      s.native().exec("SET work_mem = '7MB'");
      s.commit();
    }
    check_clean(db, pid);
  }
}

TEST_CASE("a reset keeps the registry's prepared statements working", "[session_state][prepared]") {
  pg::PG<> db(quiet(), one_conn(test::unique_name("keep_prepared"), false));
  db.prepare("keep_prepared_one", "SELECT $1::int + 1");
  CHECK(db.connect().execute_prepared("keep_prepared_one", 1).scalar<int>() == 2);
  db.connect().execute("SET work_mem = '7MB'");  // dirty: reset on return
  CHECK(db.connect().execute_prepared("keep_prepared_one", 2).scalar<int>() == 3);
  CHECK(db.connect().execute("SELECT count(*) FROM pg_prepared_statements").scalar<int>() == 1);
}

TEST_CASE("a committed or rolled-back session of plain statements costs no reset round trip", "[server_backend]") {
  pg::PG<> db(quiet(), one_conn(test::unique_name("no_reset"), false));
  pg::PG<> observer(quiet(), db::DatabaseConfig::from("observer", {{"url", test::pg_url()}}));
  const std::string t = test::unique_name("noreset");
  db.connect().execute("CREATE TABLE " + t + " (x int)");
  const int pid = db.connect().execute("SELECT pg_backend_pid()").scalar<int>();
  const auto last_query = [&] {
    return observer.connect().execute("SELECT query FROM pg_stat_activity WHERE pid = $1", pid).scalar<std::string>();
  };
  {
    auto s = db.session();
    s.execute("INSERT INTO " + t + " VALUES (1)");
    s.commit();
  }
  CHECK(last_query() == "COMMIT");  // the last thing the server saw: no reset after it
  {
    auto s = db.session();
    s.execute("INSERT INTO " + t + " VALUES (2)");
    s.rollback();
  }
  CHECK(last_query() == "ROLLBACK");
  { db.connect().execute("SET work_mem = '7MB'"); }
  CHECK_THAT(last_query(), Contains("RESET ALL"));  // a dirty one is reset
  db.connect().execute("DROP TABLE " + t);
}

TEST_CASE("fewer parameters than placeholders is a usage error, and the connection stays") {
  pg::PG<> db(quiet(), one_conn(test::unique_name("params"), false));
  auto c = db.connect();
  const int pid = c.execute("SELECT pg_backend_pid()").scalar<int>();
  CHECK_THROWS_AS(c.execute("SELECT $1::int + $2::int", 1), db::UsageError);
  CHECK(c.execute("SELECT pg_backend_pid()").scalar<int>() == pid);
  c.close();
  CHECK(db.get_pool_status().invalidated_total == 0);
}

TEST_CASE("after an error in a session, the next statement says the transaction is aborted") {
  pg::PG<> db(quiet(), one_conn(test::unique_name("aborted"), false));
  auto s = db.session();
  CHECK_THROWS_AS(s.execute("SELECT 1/0"), db::QueryError);
  try {
    s.execute("SELECT 1");
    FAIL("a statement ran in an aborted transaction");
  } catch (const db::UsageError& e) {
    CHECK_THAT(e.what(), Contains("aborted") && Contains("rollback()"));
  }
  CHECK_THROWS_AS(s.commit(), db::UsageError);
  s.rollback();
  CHECK(s.execute("SELECT 2").scalar<int>() == 2);  // a new transaction
  s.commit();
}

TEST_CASE("an error raised before a statement reaches the server does not abort the session") {
  pg::PG<> db(quiet(), one_conn(test::unique_name("not_aborted"), false));
  auto s = db.session();
  s.execute("SELECT 1");
  CHECK_THROWS_AS(s.execute_prepared("no_such_statement"), db::UsageError);
  CHECK(s.execute("SELECT 2").scalar<int>() == 2);
  s.commit();
}

TEST_CASE("a read-write database on a server that cannot take writes fails setup with a nested ReadOnlyServerError", "[server_backend]") {
  pg::PG<> admin(quiet(), db::DatabaseConfig::from("admin", {{"url", test::pg_url()}}));
  const std::string role = test::unique_name("ro_role");
  admin.connect().execute("CREATE ROLE " + role + " LOGIN PASSWORD 'ro_pw_123' IN ROLE " +
                          db::Url::parse(test::pg_url()).user());
  admin.connect().execute("ALTER ROLE " + role + " SET default_transaction_read_only = on");
  auto u = db::Url::parse(test::pg_url());
  const std::string url = "postgresql://" + role + ":ro_pw_123@" + u.host() + "/" + u.path();
  db::Manager<pg::PG<>> m(quiet(), {{"primary", {{"url", url}, {"max_retries", 0}, {"setup_retry", false}}}});
  CHECK_THROWS_AS(m.setup(), db::SetupError);
  try {
    (void)m.db("primary");
    FAIL("db() of a failed database");
  } catch (const db::SetupError& e) {
    bool found = false;
    try {
      std::rethrow_if_nested(e);
    } catch (const db::ConnectionError& inner) {
      try {
        std::rethrow_if_nested(inner);
        found = dynamic_cast<const db::ReadOnlyServerError*>(&inner) != nullptr;
      } catch (const db::ReadOnlyServerError& ro) {
        found = true;
        CHECK(ro.failure() == db::Failure::read_only);
      }
    }
    CHECK(found);
  }
  admin.connect().execute("DROP ROLE " + role);
}

TEST_CASE("a SIGKILLed backend: every entry point throws a db:: error and the connection is replaced", "[server_backend]") {
  pg::PG<> db(quiet(), db::DatabaseConfig::from("killed", {{"url", test::pg_url()}, {"pool_size", 2}}));
  db.prepare("killed_one", "SELECT 1");
  const std::vector<std::function<void(pg::PG<>::Connection&)>> calls = {
      [](auto& c) { c.execute("SELECT 1"); },
      [](auto& c) { c.execute_prepared("killed_one"); },
      [](auto& c) { c.pipeline({"SELECT 1", "SELECT 2"}); },
  };
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CAPTURE(i);
    const auto before = db.get_pool_status().invalidated_total;
    {
      auto c = db.connect();
      const int pid = c.execute("SELECT pg_backend_pid()").scalar<int>();
      REQUIRE(::kill(pid, SIGKILL) == 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      try {
        calls[i](c);
        FAIL("a statement ran on a killed backend");
      } catch (const db::ConnectionError& e) {
        CHECK(e.failure() == db::Failure::connection_lost);
      } catch (const db::Error& e) {
        FAIL(std::string("not a ConnectionError: ") + e.what());
      }
    }
    CHECK(db.get_pool_status().invalidated_total > before);
    // The postmaster restarts every backend after a SIGKILL: wait until it takes connections again.
    for (int tries = 0; tries < 100; ++tries) {
      try {
        db.connect().execute("SELECT 1");
        break;
      } catch (const db::Error&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
}

TEST_CASE("a statement blocked on a lock past its deadline is cancelled in time, and the connection stays usable",
          "[server_backend]") {
  pg::PG<> db(quiet(), db::DatabaseConfig::from("deadline", test::with_pooler({{"url", test::pg_url()}, {"pool_size", 3}})));
  const std::string t = test::unique_name("locked");
  db.connect().execute("CREATE TABLE " + t + " (x int)");
  auto holder = db.session();
  holder.execute("LOCK TABLE " + t + " IN ACCESS EXCLUSIVE MODE");

  SECTION("a deadline per statement") {
    auto c = db.connect();
    const int pid = c.execute("SELECT pg_backend_pid()").scalar<int>();
    const auto start = std::chrono::steady_clock::now();
    try {
      c.execute(db::Deadline::in(std::chrono::milliseconds(200)), "SELECT count(*) FROM " + t);
      FAIL("a blocked statement returned");
    } catch (const db::QueryError& e) {
      CHECK(e.failure() == db::Failure::query_canceled);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300));
    CHECK(c.execute("SELECT pg_backend_pid()").scalar<int>() == pid);  // the same connection, usable
  }
  SECTION("a deadline for a session, for each of its statements") {
    auto s = db.session(db::Deadline::in(std::chrono::milliseconds(200)));
    const auto start = std::chrono::steady_clock::now();
    try {
      s.execute("SELECT count(*) FROM " + t);
      FAIL("a blocked statement returned");
    } catch (const db::QueryError& e) {
      CHECK(e.failure() == db::Failure::query_canceled);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300));
    s.rollback();
    CHECK_THROWS_AS(s.execute("SELECT 1"), db::QueryError);  // its deadline has passed: not sent
  }
  SECTION("a deadline already passed sends nothing") {
    auto c = db.connect();
    try {
      c.execute(db::Deadline::in(std::chrono::milliseconds(-1)), "SELECT 1");
      FAIL("a statement past its deadline was sent");
    } catch (const db::QueryError& e) {
      CHECK(e.failure() == db::Failure::query_canceled);
      CHECK_THAT(e.what(), Contains("before the statement was sent"));
    }
    CHECK(c.execute("SELECT 1").scalar<int>() == 1);
  }
  holder.rollback();
  db.connect().execute("DROP TABLE " + t);
}

TEST_CASE("a checkout waits no longer than the caller's deadline") {
  pg::PG<> db(quiet(), one_conn(test::unique_name("checkout_deadline"), false));
  auto held = db.connect();
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(db.connect(db::Deadline::in(std::chrono::milliseconds(200))), db::PoolTimeoutError);
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= std::chrono::milliseconds(150));
  CHECK(waited < std::chrono::milliseconds(300));
}

TEST_CASE("permission denied carries its SQLSTATE, which libpqxx 6 drops", "[auth]") {
  pg::PG<> admin(quiet(), db::DatabaseConfig::from("admin", {{"url", test::pg_url()}}));
  const std::string role = test::unique_name("np_role");
  const std::string t = test::unique_name("np_table");
  admin.connect().execute("CREATE TABLE " + t + " (x int)");
  admin.connect().execute("CREATE ROLE " + role + " LOGIN PASSWORD 'np_pw_123'");
  auto u = db::Url::parse(test::pg_url());
  pg::PG<> db(quiet(), db::DatabaseConfig::from("noperm", {{"url", "postgresql://" + role + ":np_pw_123@" + u.host() + "/" + u.path()}}));
  try {
    db.connect().execute("SELECT * FROM " + t);
    FAIL("read a table without the privilege");
  } catch (const db::QueryError& e) {
    CHECK(e.sqlstate() == "42501");
    CHECK_THAT(e.what(), Contains("SQLSTATE 42501"));
  }
  db.close();
  admin.connect().execute("DROP TABLE " + t);
  admin.connect().execute("DROP ROLE " + role);
}
