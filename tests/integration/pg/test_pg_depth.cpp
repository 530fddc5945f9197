// The PostgreSQL backend in depth, on a real PostgreSQL 15: connecting, failures,
// role awareness, prepared statements, pipelines, query logging, schemas.

#include "../../support/capture_logger.hpp"
#include "../../support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace appinfra;
using Catch::Matchers::Contains;
using PG = pg::PG<>;

namespace {
log::Logger quiet() { return log::Logger(log::Level::off); }
db::DatabaseConfig cfg(const std::string& name, db::Options o = {}) {
  if (o.find("url") == nullptr) o.set("url", test::pg_url());
  if (o.find("max_retries") == nullptr) o.set("max_retries", 0);
  return db::DatabaseConfig::from(name, test::with_pooler(o));
}
std::string with_query(const std::string& url, const std::string& q) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + q;
}
}  // namespace

TEST_CASE("a multi-host url falls through a dead host to a live one") {
  const auto u = db::Url::parse(test::pg_url());
  const std::string url = "postgresql://" + u.user() + ":" + u.password() + "@127.0.0.1:1," + u.host() + "/" + u.path();
  PG db(quiet(), cfg("multi", {{"url", url}}));
  CHECK(db.connect().execute("SELECT 1").scalar<int>() == 1);
}

TEST_CASE("target_session_attrs passes through to libpq") {
  PG rw(quiet(), cfg("tsa_rw", {{"url", with_query(test::pg_url(), "target_session_attrs=read-write")}}));
  CHECK(rw.connect().execute("SELECT 1").scalar<int>() == 1);
  // The only server is a primary: asking libpq for a standby must fail.
  CHECK_THROWS_WITH(PG(quiet(), cfg("tsa_standby", {{"url", with_query(test::pg_url(), "target_session_attrs=standby")}})),
                    Contains("'tsa_standby'"));
}

TEST_CASE("TCP keepalives are on by default, and off when the configuration says so") {
  const auto keepalive = [](PG& db) {
    auto c = db.connect();
    const int fd = c.native().sock();
    int on = 0, idle = 0;
    socklen_t len = sizeof on;
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len);
    len = sizeof idle;
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len);
    return std::pair{on, idle};
  };
  const auto u = db::Url::parse(test::pg_url());
  if (u.host().rfind("/", 0) == 0) FAIL("the tests need a TCP connection to check keepalives");
  PG on(quiet(), cfg("ka_on"));
  CHECK(keepalive(on) == std::pair{1, 60});
  PG off(quiet(), cfg("ka_off", {{"keepalives", false}}));
  CHECK(keepalive(off).second != 60);
}

TEST_CASE("statement_timeout cancels a long statement: a QueryError of kind query_canceled") {
  PG db(quiet(), cfg("stmt_timeout", {{"statement_timeout", 0.2}}));
  try {
    db.connect().execute("SELECT pg_sleep(3)");
    FAIL("pg_sleep(3) was not canceled");
  } catch (const db::QueryError& e) {
    CHECK(e.sqlstate() == "57014");
    CHECK(e.failure() == db::Failure::query_canceled);
    CHECK_THAT(e.what(), Contains("query_canceled"));
  }
  CHECK(db.connect().execute("SELECT 1").scalar<int>() == 1);  // the connection survives
}

TEST_CASE("a thread cancelled in the middle of a statement unwinds, and its connection is not reused") {
  PG db(quiet(), cfg("cancelled", {{"pool_size", 1}, {"max_overflow", 0}}));
  struct Arg {
    PG* db;
    std::atomic<bool> started{false};
  } arg{&db};
  pthread_t t{};
  REQUIRE(::pthread_create(
              &t, nullptr,
              [](void* p) -> void* {
                auto* a = static_cast<Arg*>(p);
                auto c = a->db->connect();
                a->started = true;
                c.execute("SELECT pg_sleep(30)");  // libpq waits in poll(): a cancellation point
                return nullptr;
              },
              &arg) == 0);
  while (!arg.started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE(::pthread_cancel(t) == 0);
  void* result = nullptr;
  REQUIRE(::pthread_join(t, &result) == 0);  // before the fix: "exception not rethrown", abort
  CHECK(result == PTHREAD_CANCELED);
  // The connection was mid-statement: it is closed, and the next caller gets a new one.
  CHECK(db.connect().execute("SELECT 1").scalar<int>() == 1);
  CHECK(db.get_pool_status().invalidated_total == 1);
}

TEST_CASE("failures are classified from their SQLSTATE") {
  CHECK(db::classify("40001") == db::Failure::serialization);
  CHECK(db::classify("40P01") == db::Failure::deadlock);
  CHECK(db::classify("25006") == db::Failure::read_only);
  CHECK(db::classify("57P01") == db::Failure::server_shutdown);
  CHECK(db::classify("57P02") == db::Failure::server_crashed);
  CHECK(db::classify("57P03") == db::Failure::server_starting);
  CHECK(db::classify("08006") == db::Failure::connection_lost);
  CHECK(db::classify("42601") == db::Failure::query);
  PG db(quiet(), cfg("classify"));
  try {
    db.connect().execute("SELEC 1");
    FAIL("a syntax error ran");
  } catch (const db::QueryError& e) {
    CHECK(e.failure() == db::Failure::query);
    CHECK_FALSE(e.retryable());
  }
  // An error the server raises with a given SQLSTATE keeps it.
  try {
    db.connect().execute("DO $$ BEGIN RAISE EXCEPTION 'going away' USING ERRCODE = '57P01'; END $$");
  } catch (const db::QueryError& e) {
    CHECK(e.failure() == db::Failure::server_shutdown);
  }
  CHECK(db.get_pool_status().invalidated_total >= 1);  // a session the server ended is not reused
}

TEST_CASE("transaction() runs the whole function again on a serialization failure, and only then") {
  PG db(quiet(), cfg("retry"));
  const std::string t = test::unique_name("retry");
  db.connect().execute("CREATE TABLE " + t + " (n int)");
  int calls = 0;
  const int n = db.transaction([&](PG::Session& s) {
    ++calls;
    s.execute("INSERT INTO " + t + " VALUES ($1)", calls);
    if (calls == 1)  // the server aborts the transaction as a concurrent writer would make it
      s.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$");
    return calls;
  });
  CHECK(n == 2);
  CHECK(db.connect().execute("SELECT string_agg(n::text, ',') FROM " + t).scalar<std::string>() == "2");

  calls = 0;
  CHECK_THROWS_AS(db.transaction([&](PG::Session& s) {
                    ++calls;
                    s.execute("SELEC 1");
                  }),
                  db::QueryError);
  CHECK(calls == 1);  // not retryable: not run again

  calls = 0;
  CHECK_THROWS_AS(db.transaction(
                      [&](PG::Session& s) {
                        ++calls;
                        s.execute("DO $$ BEGIN RAISE EXCEPTION 'always' USING ERRCODE = '40P01'; END $$");
                      },
                      3),
                  db::QueryError);
  CHECK(calls == 3);
  db.connect().execute("DROP TABLE " + t);
}

TEST_CASE("a read-write database refuses a server that turned read-only; a read-only one keeps working", "[session_state]") {
  // Plain libpqxx for the switch: a read-write backend rightly refuses the server
  // once it is read-only, which would leave the test unable to switch it back.
  const auto set_read_only = [](bool on) {
    pqxx::connection c(test::pg_url());
    pqxx::nontransaction t(c);
    t.exec("SET default_transaction_read_only = off");
    t.exec(on ? "ALTER SYSTEM SET default_transaction_read_only = on" : "ALTER SYSTEM RESET default_transaction_read_only");
    t.exec("SELECT pg_reload_conf()");
  };
  // pre_ping_window 0: every checkout asks the server its role (the window trades
  // that round trip for a delay in noticing).
  PG rw(quiet(), cfg("rw_role", {{"pool_size", 1}, {"max_overflow", 0}, {"pool_timeout", 0.5}, {"pre_ping_window", 0}}));
  pg::PG<db::ReadOnly> ro(quiet(), cfg("ro_role", {{"readonly", true}}));
  CHECK(rw.connect().execute("SELECT 1").scalar<int>() == 1);
  set_read_only(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the reload reaches the backends
  try {
    CHECK_THROWS_WITH(PG(quiet(), cfg("rw_new")), Contains("read-only") && Contains("'rw_new'"));
    try {
      (void)rw.connect();
      FAIL("a read-write database handed out a connection to a read-only server");
    } catch (const db::PoolTimeoutError& e) {
      CHECK_THAT(e.what(), Contains("unreachable") && Contains("read-only"));
    }
    CHECK(ro.connect().execute("SELECT 1").scalar<int>() == 1);
  } catch (...) {
    set_read_only(false);
    throw;
  }
  set_read_only(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(rw.connect().execute("SELECT 1").scalar<int>() == 1);  // the primary is back: so is the database
}

TEST_CASE("prepared statements are registered once and prepared on each connection at first use", "[prepared]") {
  PG db(quiet(), cfg("prep", {{"pool_size", 2}, {"pool_recycle", 0.05}, {"pool_recycle_jitter", 0}}));
  db.prepare("add_one", "SELECT $1::int + 1");
  db.prepare("add_one", "SELECT $1::int + 1");  // the same again is fine
  CHECK_THROWS_AS(db.prepare("add_one", "SELECT 2"), db::UsageError);
  CHECK_THROWS_AS(db.prepare("Bad Name", "SELECT 2"), db::UsageError);
  {
    auto a = db.connect();
    auto b = db.connect();  // two connections, both prepare it
    CHECK(a.execute_prepared("add_one", 41).scalar<int>() == 42);
    CHECK(b.execute_prepared("add_one", 1).scalar<int>() == 2);
    CHECK(a.execute_prepared("add_one", 2).scalar<int>() == 3);
    CHECK(a.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'add_one'").scalar<int>() == 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // every connection is past pool_recycle
  auto s = db.session();
  CHECK(s.execute_prepared("add_one", 9).scalar<int>() == 10);  // on a new connection
  CHECK(db.get_pool_status().recycled_total >= 1);
  CHECK_THROWS_AS(s.execute_prepared("nope", 1), db::UsageError);
}

TEST_CASE("a pipeline sends a batch in one go through the pooled API") {
  PG db(quiet(), cfg("pipe"));
  std::vector<std::string> batch;
  for (int i = 0; i < 100; ++i) batch.push_back("SELECT " + std::to_string(i));
  const auto results = db.connect().pipeline(batch);
  REQUIRE(results.size() == 100);
  CHECK(results[0].scalar<int>() == 0);
  CHECK(results[99].scalar<int>() == 99);
  auto s = db.session();
  const auto in_txn = s.pipeline({"SELECT txid_current()", "SELECT txid_current()"});
  CHECK(in_txn[0].scalar<std::int64_t>() == in_txn[1].scalar<std::int64_t>());  // one transaction
  s.rollback();
  CHECK_THROWS_AS(db.connect().pipeline({"SELECT 1", "SELEC 2", "SELECT 3"}), db::QueryError);
}

TEST_CASE("query logging shows the statement, duration and rows; parameter values only when asked") {
  auto [lg, cap] = test::capture_logger(log::Level::debug);
  PG hidden(lg, cfg("log_hidden"), log::Level::debug);  // the seed's PG(logger, config, query_lg_level)
  hidden.connect().execute("SELECT $1::text  AS\n secret", "hunter2");
  CHECK(cap->contains("SELECT $1::text AS secret [1 parameters, values not logged]"));
  CHECK_FALSE(cap->contains("hunter2"));
  PG shown(lg, cfg("log_shown", {{"query_log_params", true}, {"query_lg_level", "debug"}}));
  shown.connect().execute("SELECT $1::int + $2::int", 1, 2);
  CHECK(cap->contains("[$1=1, $2=2]"));
}

TEST_CASE("a session scoped to a schema resolves names there, and the connection forgets it") {
  PG db(quiet(), cfg("scoped", {{"pool_size", 1}, {"max_overflow", 0}}));
  const std::string schema = test::unique_name("tenant");
  db.connect().execute("CREATE SCHEMA " + schema + "; CREATE TABLE " + schema + ".items (n int); INSERT INTO " +
                       schema + ".items VALUES (7)");
  {
    auto s = db.session_in_schema(schema);
    CHECK(s.execute("SELECT n FROM items").scalar<int>() == 7);
    s.commit();
    CHECK(s.execute("SELECT n FROM items").scalar<int>() == 7);  // the next transaction too
  }
  auto c = db.connect();  // the same pooled connection
  CHECK_THAT(c.execute("SHOW search_path").scalar<std::string>(), !Contains(schema));
  CHECK_THROWS_AS(c.execute("SELECT n FROM items"), db::QueryError);
  CHECK_THROWS_AS(db.session_in_schema("Robert'); DROP TABLE x; --"), db::UsageError);
  c.execute("DROP SCHEMA " + schema + " CASCADE");
}

TEST_CASE("create_database() creates a missing database; PG<ReadOnly> has none", "[create_db]") {
  const std::string name = test::unique_name("appinfra_explicit");
  PG admin(quiet(), cfg("admin"));
  PG db(quiet(), cfg("maker"));
  // Point a second backend at the new name only after it exists.
  const auto url = db::Url::parse(test::pg_url()).with_path(name);
  {
    auto maker = PG(quiet(), cfg("made", {{"url", url}, {"create_db", true}}));
    maker.create_database();  // already there: nothing happens
    CHECK(maker.connect().execute("SELECT current_database()").scalar<std::string>() == name);
  }
  admin.connect().execute("DROP DATABASE \"" + name + "\"");
}

TEST_CASE("nothing in the SQL text makes a connection with an open transaction look clean") {
  PG db(quiet(), cfg("dirty3", {{"pool_size", 1}, {"max_overflow", 0}}));
  const std::string t = test::unique_name("d3");
  db.connect().execute("CREATE TABLE " + t + " (s text)");
  { db.connect().execute("BEGIN; INSERT INTO " + t + " VALUES ('x;commit')"); }
  CHECK(db.connect().execute("SELECT now() = statement_timestamp()").scalar<bool>());
  { db.connect().execute("BEGIN; SAVEPOINT a; ROLLBACK TO SAVEPOINT a"); }
  CHECK(db.connect().execute("SELECT now() = statement_timestamp()").scalar<bool>());
  CHECK(db.connect().execute("SELECT count(*) FROM " + t).scalar<int>() == 0);
  db.connect().execute("DROP TABLE " + t);
}

TEST_CASE("a SET on a read-only database's connection does not outlive the checkout", "[session_state]") {
  pg::PG<db::ReadOnly> ro(quiet(), cfg("ro_set", {{"readonly", true}, {"pool_size", 1}, {"max_overflow", 0}}));
  { ro.connect().execute("SET default_transaction_read_only = off"); }
  CHECK(ro.connect().execute("SHOW default_transaction_read_only").scalar<std::string>() == "on");
  CHECK_THROWS_AS(ro.connect().execute("CREATE TABLE ro_set_never (x int)"), db::QueryError);
}

TEST_CASE("migrations wait for another runner even with a statement_timeout configured", "[create_db]") {
  const std::string name = test::unique_name("appinfra_mig_timeout");
  const std::string url = db::Url::parse(test::pg_url()).with_path(name);
  const auto conf = [&] { return cfg("mt", {{"url", url}, {"create_db", true}, {"statement_timeout", 0.2}}); };
  { PG init(quiet(), conf()); }
  db::Migrations slow;
  slow.add(1, "slow", "SELECT pg_sleep(0.5)");  // longer than statement_timeout: migrations lift it
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 2; ++i)
    ts.emplace_back([&] {
      try {
        PG db(quiet(), conf());
        db.migrate(slow);
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO(e.what());
      }
    });
  for (auto& t : ts) t.join();
  CHECK(failures == 0);
  PG admin(quiet(), cfg("admin"));
  admin.connect().execute("DROP DATABASE \"" + name + "\" WITH (FORCE)");
}
