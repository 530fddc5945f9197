// The PostgreSQL backend against a real PostgreSQL server.

#include "../../support/capture_logger.hpp"
#include "../../support/laws/backend.hpp"
#include "../../support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;
using PG = pg::PG<>;
using PGRO = pg::PG<db::ReadOnly>;

static_assert(db::Interface<PG>);
static_assert(db::Interface<PGRO>);
static_assert(db::Interface<pg::PG<db::ReadWrite, db::UseQueuePool<>, log::NullLogger>>);
static_assert(requires(PG& b, const db::Migrations& m) { b.migrate(m); },
              "PG<ReadWrite> migrates (PooledBackend::migrate over its migration_dialect())");

namespace {
log::Logger quiet() { return log::Logger(log::Level::off); }
db::DatabaseConfig cfg(const std::string& name, db::Options o = {}) {
  if (o.find("url") == nullptr) o.set("url", test::pg_url());
  return db::DatabaseConfig::from(name, test::with_pooler(o));
}
}  // namespace

TEST_CASE("PG connects, runs statements with parameters and converts results") {
  PG db(quiet(), cfg("primary"));
  auto c = db.connect();
  const auto r = c.execute("SELECT $1::int + 1 AS n, $2::text AS s, NULL::int AS z", 41, "hi");
  CHECK(r.columns() == std::vector<std::string>{"n", "s", "z"});
  CHECK(r[0]["n"].as<int>() == 42);
  CHECK(r[0]["s"].view() == "hi");
  CHECK(r[0]["z"].is_null());
  CHECK(r.affected_rows() == 0);
}

TEST_CASE("affected_rows counts what a statement changed, from its command tag, never rows it returned") {
  PG db(quiet(), cfg("affected"));
  const std::string t = test::unique_name("aff");
  auto c = db.connect();
  CHECK(c.execute("CREATE TABLE " + t + " (x int)").affected_rows() == 0);
  CHECK(c.execute("INSERT INTO " + t + " VALUES (1), (2), (3)").affected_rows() == 3);
  CHECK(c.execute("UPDATE " + t + " SET x = x + 1 WHERE x > 1").affected_rows() == 2);
  // Queries whose first word is not SELECT, and a prepared SELECT, return rows but change none.
  CHECK(c.execute("WITH s AS (SELECT x FROM " + t + ") SELECT * FROM s").affected_rows() == 0);
  CHECK(c.execute("-- a comment\nWITH delete_me AS (SELECT ')' AS p), \"insert\" AS (SELECT 2) SELECT * FROM delete_me")
            .affected_rows() == 0);
  CHECK(c.execute("VALUES (1), (2)").affected_rows() == 0);
  CHECK(c.execute("TABLE " + t).size() == 3);
  CHECK(c.execute("TABLE " + t).affected_rows() == 0);
  db.prepare("aff_all", "SELECT x FROM " + t);
  db.prepare("aff_del", "DELETE FROM " + t + " WHERE x = $1");
  CHECK(c.execute_prepared("aff_all").size() == 3);
  CHECK(c.execute_prepared("aff_all").affected_rows() == 0);
  CHECK(c.execute("WITH select_ids AS (SELECT 3) UPDATE " + t + " SET x = x WHERE x = 3").affected_rows() == 1);
  CHECK(c.execute("WITH d AS (DELETE FROM " + t + " WHERE x = 4 RETURNING x) INSERT INTO " + t +
                  " SELECT x + 10 FROM d")
            .affected_rows() == 1);
  CHECK(c.execute_prepared("aff_del", 1).affected_rows() == 1);
  const auto piped = c.pipeline({"SELECT 1", "INSERT INTO " + t + " VALUES (7)"});
  CHECK(piped[0].affected_rows() == 0);
  CHECK(piped[1].affected_rows() == 1);
  c.execute("DROP TABLE " + t);
}

TEST_CASE("postgres:// works as well as postgresql://") {
  std::string url = test::pg_url();
  REQUIRE(url.rfind("postgresql://", 0) == 0);
  url.replace(0, std::string("postgresql").size(), "postgres");
  PG db(quiet(), cfg("short", {{"url", url}}));
  CHECK(db.connect().execute("SELECT 1").scalar<int>() == 1);
}

TEST_CASE("a PG session commits only when asked and rolls back otherwise") {
  PG db(quiet(), cfg("primary"));
  const std::string t = test::unique_name("users");
  db.connect().execute("CREATE TABLE " + t + " (name text)");
  {
    auto s = db.session();
    s.execute("INSERT INTO " + t + " VALUES ($1)", "lost");
  }
  CHECK(db.connect().execute("SELECT count(*) FROM " + t).scalar<int>() == 0);
  {
    auto s = db.session();
    CHECK(s.execute("INSERT INTO " + t + " VALUES ($1), ($2)", "a", "b").affected_rows() == 2);
    s.commit();
    s.execute("INSERT INTO " + t + " VALUES ('rolled back')");
    s.rollback();
    s.execute("INSERT INTO " + t + " VALUES ('closed')");
    s.close();
    CHECK_THROWS_AS(s.execute("SELECT 1"), db::UsageError);
  }
  CHECK(db.connect().execute("SELECT count(*) FROM " + t).scalar<int>() == 2);
  db.connect().execute("DROP TABLE " + t);
  CHECK(db.get_pool_status().checked_out == 0);
}

TEST_CASE("a failed statement is a QueryError with its SQLSTATE; the session can roll back") {
  PG db(quiet(), cfg("primary"));
  auto s = db.session();
  try {
    s.execute("SELECT * FROM no_such_table_here");
    FAIL("expected QueryError");
  } catch (const db::QueryError& e) {
    CHECK(e.sqlstate() == "42P01");
    CHECK_THAT(e.what(), Contains("'primary'") && Contains("no_such_table_here"));
  }
  s.rollback();
  CHECK(s.execute("SELECT 1").scalar<int>() == 1);
}

TEST_CASE("PG<ReadOnly> refuses INSERT, UPDATE, DELETE and DDL; the server enforces it") {
  PG rw(quiet(), cfg("rw"));
  const std::string t = test::unique_name("ro");
  rw.connect().execute("CREATE TABLE " + t + " (x int); INSERT INTO " + t + " VALUES (1)");
  PGRO ro(quiet(), cfg("ro", {{"readonly", true}}));
  CHECK(ro.connect().execute("SELECT x FROM " + t).scalar<int>() == 1);
  for (const std::string& sql : {"INSERT INTO " + t + " VALUES (2)", "UPDATE " + t + " SET x = 3",
                                "DELETE FROM " + t, "CREATE TABLE " + t + "_new (y int)", "DROP TABLE " + t}) {
    INFO(sql);
    auto s = ro.session();
    try {
      s.execute(sql);
      FAIL("a read-only session ran: " + sql);
    } catch (const db::QueryError& e) {
      CHECK(e.sqlstate() == "25006");  // read_only_sql_transaction
      CHECK_THAT(e.what(), Contains("read-only transaction"));
    }
    CHECK_THROWS_AS(ro.connect().execute(sql), db::QueryError);
  }
  CHECK(rw.connect().execute("SELECT count(*) FROM " + t).scalar<int>() == 1);
  rw.connect().execute("DROP TABLE " + t);
}

TEST_CASE("health_check() times a real SELECT 1") {
  PG db(quiet(), cfg("primary"));
  const auto r = db.health_check();
  CHECK(r.healthy());
  CHECK(r.response_time_ms > 0.0);
  CHECK(r.error.empty());
}

TEST_CASE("the pool keeps pool_size connections, overflows under load and times out with a clear error") {
  PG db(quiet(),
        cfg("small", {{"pool_size", 1}, {"max_overflow", 1}, {"pool_timeout", 0.2}, {"overflow_idle_timeout", 0}}));
  auto a = db.connect();
  auto b = db.connect();
  auto st = db.get_pool_status();
  CHECK(st.checked_out == 2);
  CHECK(st.overflow == 1);
  CHECK(st.total_connections == 2);
  CHECK_THROWS_AS(db.connect(), db::PoolTimeoutError);
  b.close();
  a.close();
  st = db.get_pool_status();
  CHECK(st.checked_in == 1);
  CHECK(st.overflow == 0);
  CHECK(st.total_connections == 1);
}

namespace {
// pg_terminate_backend() only signals: wait until the backend is gone.
void terminate(PG& admin, int pid) {
  admin.connect().execute("SELECT pg_terminate_backend($1)", pid);
  for (int i = 0; i < 500; ++i) {
    if (admin.connect().execute("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).scalar<int>() == 0)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("backend " << pid << " did not exit");
}
}  // namespace

TEST_CASE("a connection the server kills is invalidated and replaced, never handed out again", "[server_backend]") {
  PG db(quiet(), cfg("victim", {{"pool_size", 1}, {"max_overflow", 0}, {"pool_pre_ping", false}}));
  PG admin(quiet(), cfg("admin"));
  int pid = 0;
  {
    auto c = db.connect();
    pid = c.execute("SELECT pg_backend_pid()").scalar<int>();
    terminate(admin, pid);
    CHECK_THROWS_AS(c.execute("SELECT 1"), db::ConnectionError);
  }
  CHECK(db.get_pool_status().total_connections == 0);
  auto c = db.connect();
  CHECK(c.execute("SELECT pg_backend_pid()").scalar<int>() != pid);
}


TEST_CASE("pre-ping's socket check, without a round trip, replaces a connection the server closed while idle", "[server_backend]") {
  // A long window: no SELECT 1 is sent, so only the socket-level check can notice.
  // No grace: the check must run however soon after the kill the checkout comes.
  PG db(quiet(), cfg("preping", {{"pool_size", 1}, {"max_overflow", 0}, {"pre_ping_window", 3600}, {"pre_ping_grace", 0}}));
  PG admin(quiet(), cfg("admin"));
  const int pid = db.connect().execute("SELECT pg_backend_pid()").scalar<int>();
  terminate(admin, pid);
  CHECK(db.connect().execute("SELECT pg_backend_pid()").scalar<int>() != pid);
  CHECK(db.get_pool_status().invalidated_total == 1);
}

TEST_CASE("a transaction left open on a returned connection is rolled back, and only then") {
  PG db(quiet(), cfg("dirty", {{"pool_size", 1}, {"max_overflow", 0}}));
  const std::string t = test::unique_name("dirty");
  {
    auto c = db.connect();
    c.execute("BEGIN");
    c.execute("CREATE TABLE " + t + " (x int)");
  }  // returned inside a transaction: the pool rolls it back
  auto c = db.connect();
  CHECK(c.execute("SELECT count(*) FROM pg_class WHERE relname = $1", t).scalar<int>() == 0);
  CHECK(c.execute("SELECT now() = statement_timestamp()").scalar<bool>());  // not inside a transaction
}

TEST_CASE("a wrong password fails with an error that does not contain it") {
  auto u = db::Url::parse(test::pg_url());
  const std::string bad = "postgresql://" + u.user() + ":Wr0ngPassw0rd@" + u.host() + "/" + u.path();
  try {
    PG db(quiet(), cfg("badpw", {{"url", bad}, {"max_retries", 0}}));
    FAIL("connected with a wrong password");
  } catch (const db::ConnectionError& e) {
    CHECK_THAT(e.what(), Contains("'badpw'") && Contains("1 attempt") && !Contains("Wr0ngPassw0rd"));
  }
}

TEST_CASE("an unreachable server fails after max_retries with backoff, naming the attempts") {
  auto [lg, cap] = test::capture_logger(log::Level::warning);
  const auto start = std::chrono::steady_clock::now();
  try {
    PG db(lg, cfg("gone", {{"url", "postgresql://nobody:pw123456@127.0.0.1:1/x"}, {"max_retries", 2}, {"retry_delay", 0.01}}));
    FAIL("connected to port 1");
  } catch (const db::ConnectionError& e) {
    CHECK_THAT(e.what(), Contains("'gone'") && Contains("3 attempts") && Contains("127.0.0.1:1") &&
                             !Contains("pw123456"));
  }
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(15));  // (10 ms + 20 ms) x jitter of at least 0.5
  CHECK(cap->contains("retrying"));
  CHECK_FALSE(cap->contains("pw123456"));
}

TEST_CASE("create_db creates a missing database once, even from parallel setups", "[create_db]") {
  const std::string name = test::unique_name("appinfra_created");
  auto u = db::Url::parse(test::pg_url());
  const std::string url = u.with_path(name);
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      try {
        PG db(quiet(), cfg("created", {{"url", url}, {"create_db", true}}));
        if (db.connect().execute("SELECT current_database()").scalar<std::string>() == name) ++ok;
      } catch (const std::exception& e) {
        UNSCOPED_INFO(e.what());
      }
    });
  for (auto& t : ts) t.join();
  CHECK(ok == 4);
  PG admin(quiet(), cfg("admin"));
  CHECK(admin.connect().execute("SELECT count(*) FROM pg_database WHERE datname = $1", name).scalar<int>() == 1);
  admin.connect().execute("DROP DATABASE \"" + name + "\"");
}

TEST_CASE("query logging writes statement, duration and rows, never the password") {
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  PG db(lg, cfg("logged", {{"query_lg_level", "debug"}}));
  db.connect().execute("SELECT   1  AS\n one");
  CHECK(cap->contains("debug test: [logged]"));
  CHECK(cap->contains("SELECT 1 AS one"));
  CHECK(cap->contains("1 rows"));
  CHECK_FALSE(test::pg_password().empty());
  CHECK_FALSE(cap->contains(test::pg_password()));
}

TEST_CASE("several threads share the pool") {
  PG db(quiet(), cfg("mt", {{"pool_size", 2}, {"max_overflow", 1}}));
  std::atomic<int> sum{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 50; ++i) sum += db.connect().execute("SELECT 1").scalar<int>();
    });
  for (auto& t : ts) t.join();
  CHECK(sum == 200);
  const auto st = db.get_pool_status();
  CHECK(st.checked_out == 0);
  CHECK(st.total_connections <= 3);
  CHECK(st.checked_in == st.total_connections);
}

TEST_CASE("the native libpqxx objects are there for what the common API lacks") {
  PG db(quiet(), cfg("native"));
  auto s = db.session();
  pqxx::work& w = s.native();
  CHECK(w.exec("SELECT 7")[0][0].as<int>() == 7);
  auto c = db.connect();
  CHECK(c.native().is_open());
}

TEST_CASE("a deadlock is a QueryError with SQLSTATE 40P01, as libpqxx 6 does not say") {
  PG db(quiet(), cfg("deadlock", {{"pool_size", 2}}));
  const std::string t = test::unique_name("dl");
  db.connect().execute("CREATE TABLE " + t + " (id int primary key, v int); INSERT INTO " + t + " VALUES (1, 0), (2, 0)");
  auto a = db.session();
  auto b = db.session();
  a.execute("UPDATE " + t + " SET v = 1 WHERE id = 1");
  b.execute("UPDATE " + t + " SET v = 1 WHERE id = 2");
  std::string state_a, state_b;
  std::thread ta([&] {
    try {
      a.execute("UPDATE " + t + " SET v = 2 WHERE id = 2");
    } catch (const db::QueryError& e) {
      state_a = e.sqlstate();
    }
  });
  try {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    b.execute("UPDATE " + t + " SET v = 2 WHERE id = 1");
  } catch (const db::QueryError& e) {
    state_b = e.sqlstate();
  }
  if (state_b.empty()) b.rollback();  // b won: let a finish
  ta.join();
  CHECK((state_a == "40P01" || state_b == "40P01"));
  a.close();
  b.close();
  db.connect().execute("DROP TABLE " + t);
}

TEST_CASE("a BEGIN anywhere in a statement string leaves the connection to be rolled back") {
  PG db(quiet(), cfg("dirty2", {{"pool_size", 1}, {"max_overflow", 0}}));
  { db.connect().execute("SELECT 1; BEGIN"); }
  CHECK(db.connect().execute("SELECT now() = statement_timestamp()").scalar<bool>());
  { db.connect().execute("BEGIN; COMMIT AND CHAIN"); }
  CHECK(db.connect().execute("SELECT now() = statement_timestamp()").scalar<bool>());
}

TEST_CASE("native() on a closed connection is a usage error, not a crash") {
  PG db(quiet(), cfg("native_closed"));
  auto c = db.connect();
  c.close();
  CHECK_THROWS_AS(c.native(), db::UsageError);
}

TEST_CASE("PG with NullPool opens a server session per checkout; with StaticPool keeps one", "[server_backend]") {
  pg::PG<db::ReadWrite, db::UseNullPool<>> null_pool(quiet(), cfg("nullpool"));
  const int a = null_pool.connect().execute("SELECT pg_backend_pid()").scalar<int>();
  const int b = null_pool.connect().execute("SELECT pg_backend_pid()").scalar<int>();
  CHECK(a != b);
  CHECK(null_pool.get_pool_status().total_connections == 0);
  pg::PG<db::ReadWrite, db::UseStaticPool<>> static_pool(quiet(), cfg("staticpool", {{"pool_size", 5}}));
  const int c = static_pool.connect().execute("SELECT pg_backend_pid()").scalar<int>();
  CHECK(static_pool.connect().execute("SELECT pg_backend_pid()").scalar<int>() == c);
  CHECK(static_pool.get_pool_status().pool_size == 1);
}

TEST_CASE("pool statistics on a real server: checkouts, opens, hold times") {
  PG db(quiet(), cfg("pgstats", {{"pool_size", 2}}));
  for (int i = 0; i < 20; ++i) db.connect().execute("SELECT pg_sleep(0.001)");
  const auto s = db.get_pool_status();
  CHECK(s.statistics);
  CHECK(s.acquired_total == 20);
  CHECK(s.created_total == 1);  // the warm-up connection served them all
  CHECK(s.timeouts_total == 0);
}

TEST_CASE("PG keeps the laws of db::Interface") {
  const auto make = [] { return std::make_unique<PG>(quiet(), cfg("laws", {{"pool_size", 2}})); };
  test::laws::backend_laws<PG>(make);
  test::laws::backend_session_rolls_back_unless_committed<PG>(make, test::unique_name("laws"));
}
