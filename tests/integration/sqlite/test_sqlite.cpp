// SQLite backend against a real libsqlite3: files in a temporary folder and :memory:.

#include "../../support/capture_logger.hpp"
#include "../../support/laws/backend.hpp"

#include <appinfra/db.hpp>
#include <appinfra/db/metrics.hpp>
#include <appinfra/sqlite.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;
using Manager = db::Manager<sqlite::SQLite<>, sqlite::SQLite<db::ReadOnly>>;
namespace fs = std::filesystem;

static_assert(db::Interface<sqlite::SQLite<>>);
static_assert(db::Interface<sqlite::SQLite<db::ReadOnly, db::UseQueuePool<>, log::NullLogger>>);
static_assert(requires(sqlite::SQLite<>& b, const db::Migrations& m) { b.migrate(m); },
              "SQLite<ReadWrite> migrates (PooledBackend::migrate over its migration_dialect())");

namespace {
struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / ("appinfra-sqlite-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(reinterpret_cast<std::uintptr_t>(this)))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string url(const std::string& file) const { return "sqlite:///" + (path / file).string(); }
};
log::Logger quiet() { return log::Logger(log::Level::off); }
}  // namespace

TEST_CASE("sqlite:////absolute/path opens a file database; create_db creates it") {
  TempDir dir;
  const std::string url = dir.url("app.db");  // sqlite:/// + /tmp/... = four slashes
  REQUIRE(url.rfind("sqlite:////", 0) == 0);
  Manager m(quiet(), {{"main", {{"url", url}, {"create_db", true}}}});
  m.setup();
  auto c = m.db("main").connect();
  c.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)");
  CHECK(c.execute("INSERT INTO users(name) VALUES ($1), ($2)", "ann", "bob").affected_rows() == 2);
  CHECK(c.execute("SELECT count(*) FROM users").scalar<int>() == 2);
  CHECK(fs::exists(dir.path / "app.db"));
}

TEST_CASE("sqlite:///relative/path is relative to the working directory") {
  TempDir dir;
  const auto old = fs::current_path();
  fs::current_path(dir.path);
  {
    Manager m(quiet(), {{"rel", {{"url", "sqlite:///rel.db"}, {"create_db", true}}}});
    m.setup();
    m.db("rel").connect().execute("CREATE TABLE t(x)");
  }
  fs::current_path(old);
  CHECK(fs::exists(dir.path / "rel.db"));
}

TEST_CASE("a missing file without create_db is a setup error that says how to fix it") {
  TempDir dir;
  Manager m(quiet(), {{"missing", {{"url", dir.url("nope.db")}}}, {"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  CHECK_THAT(m.get_setup_errors().at("missing"), Contains("'missing'") && Contains("nope.db") && Contains("create_db"));
}

TEST_CASE("a SQLite url with a host is rejected naming the url") {
  Manager m(quiet(), {{"h", {{"url", "sqlite://somehost/x.db"}}}, {"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  CHECK_THAT(m.get_setup_errors().at("h"), Contains("'url'") && Contains("no host"));
}

TEST_CASE("sqlite:///:memory: is one database shared by turns, not one per connection") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}, {"pool_size", 5}}}});
  m.setup();
  auto& d = m.db("mem");
  d.connect().execute("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  CHECK(d.connect().execute("SELECT x FROM t").scalar<int>() == 1);
  CHECK(d.get_pool_status().pool_size == 1);
}

TEST_CASE("a session commits only when asked") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto& d = m.db("mem");
  d.connect().execute("CREATE TABLE users(name TEXT)");
  {
    auto s = d.session();
    s.execute("INSERT INTO users VALUES ('lost')");
    CHECK(s.in_transaction());
  }  // rolled back
  CHECK(d.connect().execute("SELECT count(*) FROM users").scalar<int>() == 0);
  {
    auto s = d.session();
    s.execute("INSERT INTO users VALUES ('kept')");
    s.commit();
    s.execute("INSERT INTO users VALUES ('rolled back')");
    s.rollback();
    s.execute("INSERT INTO users VALUES ('closed')");
    s.close();
    CHECK_THROWS_AS(s.execute("SELECT 1"), db::UsageError);
  }
  const auto r = d.connect().execute("SELECT name FROM users");
  REQUIRE(r.size() == 1);
  CHECK(r[0][0].view() == "kept");
}

TEST_CASE("a failed statement is a QueryError naming the database and the statement") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  try {
    m.db("mem").connect().execute("SELEC 1");
    FAIL("expected QueryError");
  } catch (const db::QueryError& e) {
    CHECK_THAT(e.what(), Contains("'mem'") && Contains("syntax error") && Contains("SELEC 1"));
    CHECK_FALSE(e.sqlstate().empty());
  }
}

TEST_CASE("parameters bind to $1, $2 in any order, with NULLs") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto c = m.db("mem").connect();
  const auto r = c.execute("SELECT $2 AS b, $1 AS a, $3 AS n", 1, std::string("two"), std::optional<int>());
  CHECK(r[0]["a"].as<int>() == 1);
  CHECK(r[0]["b"].view() == "two");
  CHECK(r[0]["n"].is_null());
  CHECK_THROWS_AS(c.execute("SELECT $1", 1, 2), db::UsageError);
}

TEST_CASE("a read-only SQLite database refuses writes; SQLite enforces it") {
  TempDir dir;
  {
    Manager m(quiet(), {{"w", {{"url", dir.url("ro.db")}, {"create_db", true}}}});
    m.setup();
    m.db("w").connect().execute("CREATE TABLE t(x); INSERT INTO t VALUES (7)");
  }
  Manager m(quiet(), {{"r", {{"url", dir.url("ro.db")}, {"readonly", true}}}});
  m.setup();
  auto& d = m.db("r");
  CHECK(d.holds<sqlite::SQLite<db::ReadOnly>>());
  CHECK(d.connect().execute("SELECT x FROM t").scalar<int>() == 7);
  CHECK_THROWS_AS(d.connect().execute("INSERT INTO t VALUES (8)"), db::QueryError);
  CHECK_THROWS_AS(d.connect().execute("CREATE TABLE u(y)"), db::QueryError);
  auto s = d.session();
  CHECK_THROWS_AS(s.execute("DELETE FROM t"), db::QueryError);
}

TEST_CASE("health_check() on SQLite does a timed SELECT 1") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  const auto r = m.health_check().at("mem");
  CHECK(r.healthy());
  CHECK(r.response_time_ms > 0.0);
}

TEST_CASE("echo: true logs each statement with its duration") {
  auto [lg, cap] = test::capture_logger(log::Level::info);
  Manager m(lg, {{"mem", {{"url", "sqlite:///:memory:"}, {"echo", true}}}});
  m.setup();
  m.db("mem").connect().execute("SELECT\n   42");
  CHECK(cap->contains("[mem]"));
  CHECK(cap->contains("SELECT 42"));
  CHECK(cap->contains(" ms"));
}

TEST_CASE("several threads share a file database through the pool") {
  TempDir dir;
  Manager m(quiet(), {{"f", {{"url", dir.url("mt.db")}, {"create_db", true}, {"pool_size", 2}, {"max_overflow", 2}}}});
  m.setup();
  auto& d = m.db("f");
  d.connect().execute("CREATE TABLE c(n INTEGER)");
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto s = d.session();
        s.execute("INSERT INTO c VALUES (1)");
        s.commit();
      }
    });
  for (auto& t : ts) t.join();
  CHECK(d.connect().execute("SELECT count(*) FROM c").scalar<int>() == 100);
  const auto st = d.get_pool_status();
  CHECK(st.checked_out == 0);
  CHECK(st.total_connections <= 4);
}

TEST_CASE("the native handle is there for what the common API lacks") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto c = m.db("mem").get<sqlite::SQLite<>>().connect();
  CHECK(sqlite3_get_autocommit(c.native()) == 1);
}

TEST_CASE("a session whose transaction SQLite rolled back refuses statements until rollback()") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto& d = m.db("mem");
  d.connect().execute("CREATE TABLE u(id INTEGER PRIMARY KEY ON CONFLICT ROLLBACK)");
  {
    auto s = d.session();
    s.execute("INSERT INTO u VALUES (1)");
    CHECK_THROWS_AS(s.execute("INSERT INTO u VALUES (1)"), db::QueryError);  // SQLite rolls back everything
    CHECK_THROWS_AS(s.execute("INSERT INTO u VALUES (2)"), db::UsageError);  // not in autocommit behind our back
    CHECK_THROWS_AS(s.commit(), db::UsageError);
    s.rollback();
    s.execute("INSERT INTO u VALUES (3)");
    s.commit();
  }
  CHECK(d.connect().execute("SELECT group_concat(id) FROM u").scalar<std::string>() == "3");
}

TEST_CASE("affected_rows counts what the statement changed, not what an earlier one did") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto c = m.db("mem").connect();
  c.execute("CREATE TABLE t(x)");
  CHECK(c.execute("INSERT INTO t VALUES (1), (2), (3)").affected_rows() == 3);
  CHECK(c.execute("CREATE TABLE t2(y)").affected_rows() == 0);
  CHECK(c.execute("SELECT * FROM t").affected_rows() == 0);
  CHECK(c.execute("UPDATE t SET x = x + 1 WHERE x > 1").affected_rows() == 2);
}

// ---- What a borrower leaves on a connection does not reach the next one ----

namespace {
enum class Path { connection, session, native };
const char* to_string(Path p) {
  return p == Path::connection ? "Connection::execute" : p == Path::session ? "Session::execute" : "native()";
}

// One database (pool of one connection, so the next borrower gets the same one)
// on a file or in memory, read-only or read-write.
struct Place {
  bool memory;
  bool read_only;
  std::string label() const {
    return std::string(memory ? ":memory:" : "file") + (read_only ? ", read-only" : ", read-write");
  }
};

db::Options place_options(const TempDir& dir, const Place& p) {
  return {{"url", p.memory ? std::string("sqlite:///:memory:") : dir.url("state.db")},
          {"readonly", p.read_only}, {"pool_size", 1}, {"max_overflow", 0}, {"pool_timeout", 0.25}};
}

// Changes all that a connection keeps beyond a transaction, through one path.
template <class B>
void leave_state(B& d, Path path) {
  const std::vector<std::string> outside = {
      "PRAGMA query_only = OFF", "PRAGMA foreign_keys = ON", "PRAGMA recursive_triggers = ON",
      "PRAGMA case_sensitive_like = ON", "PRAGMA busy_timeout = 1", "ATTACH ':memory:' AS aux",
      "CREATE TEMP TABLE tmp(x)", "CREATE TABLE temp.tmp2(y)", "BEGIN"};
  switch (path) {
    case Path::connection: {
      auto c = d.connect();
      for (const auto& sql : outside) c.execute(sql);
      break;
    }
    case Path::session: {
      auto s = d.session();
      for (const auto& sql : outside)
        if (sql.rfind("ATTACH", 0) != 0 && sql != "BEGIN") s.execute(sql);  // not allowed in a transaction
      s.execute("SAVEPOINT sp");
      s.commit();
      break;
    }
    case Path::native: {
      auto c = d.connect();
      for (const auto& sql : outside) REQUIRE(sqlite3_exec(c.native(), sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_busy_timeout(c.native(), 0);
      sqlite3_limit(c.native(), SQLITE_LIMIT_ATTACHED, 0);
      break;
    }
  }
}

// What the next borrower must see: as freshly opened.
template <class B>
void expect_clean(B& d, const Place& p) {
  auto c = d.connect();
  CHECK(c.execute("PRAGMA query_only").template scalar<int>() == (p.read_only ? 1 : 0));
  CHECK(c.execute("PRAGMA foreign_keys").template scalar<int>() == 0);
  CHECK(c.execute("PRAGMA recursive_triggers").template scalar<int>() == 0);
  CHECK(c.execute("SELECT 'a' LIKE 'A'").template scalar<int>() == 1);
  CHECK(c.execute("PRAGMA busy_timeout").template scalar<int>() == 250);
  CHECK(c.execute("SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp')").template scalar<int>() == 0);
  CHECK(c.execute("SELECT count(*) FROM temp.sqlite_master").template scalar<int>() == 0);
  c.execute("BEGIN");  // fails if a transaction is still open
  c.execute("ROLLBACK");
  if (p.read_only) {
    CHECK_THROWS_AS(c.execute("CREATE TABLE w(x)"), db::QueryError);
  } else {
    CHECK(c.execute("SELECT count(*) FROM kept").template scalar<int>() == 1);  // the data survived the reset
    c.execute("CREATE TABLE w(x); DROP TABLE w");
  }
  c.close();
  auto s = d.session();
  CHECK(s.execute("SELECT count(*) FROM temp.sqlite_master").template scalar<int>() == 0);
  if (p.read_only) CHECK_THROWS_AS(s.execute("CREATE TABLE w(x)"), db::QueryError);
  s.close();
  CHECK(sqlite3_get_autocommit(d.connect().native()) == 1);
}

template <class B>
void check_path(const Place& p, Path path) {
  TempDir dir;
  if (!p.memory) {
    Manager w(quiet(), {{"w", {{"url", dir.url("state.db")}, {"create_db", true}}}});
    w.setup();
    w.db("w").connect().execute("CREATE TABLE kept(x); INSERT INTO kept VALUES (1)");
  }
  Manager m(quiet(), {{"d", place_options(dir, p)}});
  m.setup();
  auto& d = m.db("d").get<B>();
  if (p.memory && !p.read_only) d.connect().execute("CREATE TABLE kept(x); INSERT INTO kept VALUES (1)");
  leave_state(d, path);
  expect_clean(d, p);
  const auto st = d.get_pool_status();
  CHECK(st.invalidated_total == 0);  // reset, not thrown away
  CHECK(st.checked_out == 0);
}
}  // namespace

TEST_CASE("the next borrower sees a clean connection, whatever path changed it, on every kind of database") {
  for (const Place& p : {Place{false, false}, Place{false, true}, Place{true, false}, Place{true, true}})
    for (Path path : {Path::connection, Path::session, Path::native}) {
      INFO(p.label() << " through " << to_string(path));
      if (p.read_only) check_path<sqlite::SQLite<db::ReadOnly>>(p, path);
      else check_path<sqlite::SQLite<>>(p, path);
    }
}

TEST_CASE("PRAGMA query_only = OFF on a read-only in-memory database does not let the next connection write") {
  Manager m(quiet(), {{"ro", {{"url", "sqlite:///:memory:"}, {"readonly", true}}}});
  m.setup();
  auto& d = m.db("ro");
  d.connect().execute("PRAGMA query_only = OFF");
  CHECK_THROWS_AS(d.connect().execute("CREATE TABLE t(x)"), db::QueryError);
  {
    auto s = d.session();
    s.execute("PRAGMA query_only = OFF");
    s.commit();
  }
  CHECK_THROWS_AS(d.connect().execute("CREATE TABLE t(x)"), db::QueryError);
}

TEST_CASE("a connection left in a plain state is handed on as it is, not reopened") {
  // total_changes() counts since the connection was opened: a reopened one says 0.
  TempDir dir;
  Manager m(quiet(), {{"f", {{"url", dir.url("cost.db")}, {"create_db", true}, {"pool_size", 1}, {"max_overflow", 0}}}});
  m.setup();
  auto& d = m.db("f").get<sqlite::SQLite<>>();
  d.connect().execute("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  CHECK(d.connect().execute("SELECT total_changes()").scalar<int>() == 1);
  {
    auto s = d.session();
    s.execute("INSERT INTO t VALUES (2)");
    s.execute("PRAGMA table_info(t)");  // reads; sets nothing
    s.commit();
    s.execute("INSERT INTO t VALUES (3)");
    s.rollback();
  }
  { d.connect().execute("BEGIN; INSERT INTO t VALUES (4)"); }  // left open: rolled back, not reopened
  CHECK(d.connect().execute("SELECT total_changes()").scalar<int>() == 4);
  CHECK(d.connect().execute("SELECT count(*) FROM t").scalar<int>() == 2);
  d.connect().execute("PRAGMA foreign_keys = ON");
  CHECK(d.connect().execute("SELECT total_changes()").scalar<int>() == 0);  // dirty: reopened
  CHECK(d.get_pool_status().invalidated_total == 0);

  // SQLite's parser decides, not the text: a schema-qualified TEMP table, a PRAGMA
  // behind a comment and another statement.
  for (const char* sql : {"CREATE TABLE temp.x(y)", "SELECT 1; /* PRAGMA? */ PRAGMA recursive_triggers = 1"}) {
    INFO(sql);
    d.connect().execute("INSERT INTO t VALUES (5)");
    REQUIRE(d.connect().execute("SELECT total_changes()").scalar<int>() == 1);
    d.connect().execute(sql);
    CHECK(d.connect().execute("SELECT total_changes()").scalar<int>() == 0);
  }
}

// ---- Errors, retries and the query log ----

TEST_CASE("a parameter count that does not fit is a UsageError and the connection stays usable") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto& d = m.db("mem");
  {
    auto c = d.connect();
    c.execute("CREATE TABLE t(x, y)");
    CHECK_THROWS_AS(c.execute("INSERT INTO t VALUES ($1, 0)"), db::UsageError);  // SQLite would bind NULL
    CHECK_THROWS_AS(c.execute("INSERT INTO t VALUES ($1, $2)", 1), db::UsageError);
    CHECK_THROWS_AS(c.execute("INSERT INTO t VALUES ($1, 0)", 1, 2), db::UsageError);
    CHECK(c.execute("INSERT INTO t VALUES ($1, 0)", 1).affected_rows() == 1);
  }
  {
    auto s = d.session();
    s.execute("INSERT INTO t VALUES ($1, 0)", 2);
    CHECK_THROWS_AS(s.execute("INSERT INTO t VALUES ($1, 0)"), db::UsageError);
    CHECK_THROWS_AS(s.execute("INSERT INTO t VALUES ($1, 0)", 3, 4), db::UsageError);
    s.execute("INSERT INTO t VALUES ($1, 0)", 5);
    s.commit();
  }
  CHECK(d.connect().execute("SELECT group_concat(x) FROM t").scalar<std::string>() == "1,2,5");
}

TEST_CASE("SQLite errors carry the extended result code") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto c = m.db("mem").connect();
  c.execute("CREATE TABLE u(id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
  c.execute("INSERT INTO u(name) VALUES ('ann')");
  try {
    c.execute("INSERT INTO u(name) VALUES ('ann')");
    FAIL("expected QueryError");
  } catch (const db::QueryError& e) {
    CHECK(e.sqlstate() == "SQLITE_" + std::to_string(SQLITE_CONSTRAINT_UNIQUE));
    CHECK(e.failure() == db::Failure::query);
    CHECK_FALSE(e.retryable());
  }
}

TEST_CASE("transaction() runs again after SQLITE_BUSY and succeeds once the writer commits") {
  TempDir dir;
  auto [lg, cap] = test::capture_logger(log::Level::info);
  // pool_timeout is also SQLite's busy_timeout: a short one makes BUSY come fast.
  Manager m(lg, {{"f", {{"url", dir.url("busy.db")}, {"create_db", true}, {"pool_size", 2}, {"pool_timeout", 0.05}}}});
  m.setup();
  auto& d = m.db("f").get<sqlite::SQLite<>>();
  d.connect().execute("CREATE TABLE t(who TEXT)");

  SECTION("a single attempt gives the BUSY error, classified busy and retryable") {
    auto holder = d.session();
    holder.execute("INSERT INTO t VALUES ('holder')");  // BEGIN IMMEDIATE: the write lock
    try {
      d.transaction([](auto& s) { s.execute("INSERT INTO t VALUES ('other')"); }, 1);
      FAIL("expected QueryError");
    } catch (const db::QueryError& e) {
      CHECK(e.failure() == db::Failure::busy);
      CHECK(e.retryable());
      CHECK(e.sqlstate().rfind("SQLITE_", 0) == 0);
    }
    CHECK_FALSE(cap->contains("retrying"));
  }

  SECTION("retries wait and succeed when the lock is released") {
    auto holder = d.session();
    holder.execute("INSERT INTO t VALUES ('holder')");
    std::thread release([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      holder.commit();
    });
    int attempts = 0;
    const auto start = std::chrono::steady_clock::now();
    const int n = d.transaction(
        [&](sqlite::SQLite<>::Session& s) {
          ++attempts;
          s.execute("INSERT INTO t VALUES ('other')");
          return s.execute("SELECT count(*) FROM t").scalar<int>();
        },
        20);
    release.join();
    CHECK(n == 2);
    CHECK(attempts >= 2);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(cap->contains("transaction attempt 1 of 20 failed (busy); retrying in"));
    CHECK(d.connect().execute("SELECT count(*) FROM t").scalar<int>() == 2);
  }
  CHECK(d.get_pool_status().checked_out == 0);
}

TEST_CASE("transaction() does not retry an error that is not retryable, and rolls back") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto& d = m.db("mem").get<sqlite::SQLite<>>();
  d.connect().execute("CREATE TABLE t(x INTEGER NOT NULL)");
  int attempts = 0;
  CHECK_THROWS_AS(d.transaction([&](auto& s) {
    ++attempts;
    s.execute("INSERT INTO t VALUES (1)");
    s.execute("INSERT INTO t VALUES (NULL)");
  }),
                  db::QueryError);
  CHECK(attempts == 1);
  CHECK(d.connect().execute("SELECT count(*) FROM t").scalar<int>() == 0);
  d.transaction([](auto& s) { s.execute("INSERT INTO t VALUES (7)"); });
  CHECK(d.connect().execute("SELECT x FROM t").scalar<int>() == 7);
}

TEST_CASE("retry waits start at about 10 ms, double, and stop growing at 1 s, with jitter") {
  using std::chrono::microseconds;
  using db::detail::retry_delay;
  CHECK(retry_delay(1, 1.0) == microseconds(10'000));
  CHECK(retry_delay(1, 0.0) == microseconds(5'000));
  CHECK(retry_delay(2, 1.0) == microseconds(20'000));
  CHECK(retry_delay(7, 1.0) == microseconds(640'000));
  CHECK(retry_delay(8, 1.0) == microseconds(1'000'000));
  CHECK(retry_delay(1000, 1.0) == microseconds(1'000'000));
  CHECK(retry_delay(1000, 0.0) == microseconds(500'000));
  for (int i = 0; i < 100; ++i) {
    const double u = db::detail::jitter_unit();
    CHECK((u >= 0.0 && u <= 1.0));
  }
}

TEST_CASE("query_log_params logs parameter values on SQLite; otherwise only how many") {
  SECTION("on") {
    auto [lg, cap] = test::capture_logger(log::Level::info);
    Manager m(lg, {{"mem", {{"url", "sqlite:///:memory:"}, {"echo", true}, {"query_log_params", true}}}});
    m.setup();
    m.db("mem").connect().execute("SELECT $1, $2, $3", 42, std::string("ann"), nullptr);
    CHECK(cap->contains("$1=42, $2='ann', $3=NULL"));
  }
  SECTION("a null C string is NULL, one by one or in a db::Params, as in the log") {
    auto [lg, cap] = test::capture_logger(log::Level::info);
    Manager m(lg, {{"mem", {{"url", "sqlite:///:memory:"}, {"echo", true}, {"query_log_params", true}}}});
    m.setup();
    const char* none = nullptr;
    auto c = m.db("mem").connect();
    CHECK(c.execute("SELECT typeof($1)", none).scalar<std::string>() == "null");
    CHECK(cap->contains("$1=NULL"));
    const std::vector<db::Param> values{7, none, "x"};
    CHECK(c.execute("SELECT typeof($1) || typeof($2) || typeof($3)", db::Params(values)).scalar<std::string>() ==
          "integernulltext");
    CHECK(cap->contains("$1=7, $2=NULL, $3='x'"));
  }
  SECTION("off") {
    auto [lg, cap] = test::capture_logger(log::Level::info);
    Manager m(lg, {{"mem", {{"url", "sqlite:///:memory:"}, {"echo", true}}}});
    m.setup();
    auto s = m.db("mem").session();
    s.execute("SELECT $1, $2", 42, std::string("secret"));
    CHECK(cap->contains("[2 parameters, values not logged]"));
    CHECK_FALSE(cap->contains("secret"));
  }
}

// ---- Deadlines ----

namespace {
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;
// Counts to a trillion: runs for hours unless something stops it.
constexpr const char* endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000000) "
                                "SELECT count(*) FROM c";

// Runs `f`, which must throw QueryError query_canceled; how long it took.
template <class F>
Steady::duration canceled_after(F f) {
  const auto start = Steady::now();
  try {
    f();
    FAIL("the statement was not stopped by its deadline");
  } catch (const db::QueryError& e) {
    INFO(e.what());
    CHECK(e.failure() == db::Failure::query_canceled);
    CHECK(e.sqlstate() == "SQLITE_" + std::to_string(SQLITE_INTERRUPT));
    CHECK_THAT(e.what(), Contains("deadline"));
  }
  return Steady::now() - start;
}
}  // namespace

TEST_CASE("a SQLite statement still running at its deadline is interrupted in time, and the connection stays usable") {
  sqlite::SQLite<> d(quiet(), db::DatabaseConfig::from("mem", {{"url", "sqlite:///:memory:"}, {"pool_timeout", 30}}));
  auto c = d.connect();
  c.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  SECTION("a deadline per statement") {
    const auto took = canceled_after([&] { c.execute(db::Deadline::in(milliseconds(200)), endless); });
    CHECK(took >= milliseconds(190));
    CHECK(took < milliseconds(300));
    CHECK(c.execute("SELECT x FROM t").scalar<int>() == 1);
    // The interrupt is gone with the statement: one without a deadline runs to its end.
    CHECK(c.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
                    "SELECT count(*) FROM c")
              .scalar<int>() == 300000);
  }
  SECTION("the connection's own deadline, for each of its statements") {
    c.close();
    auto own = d.connect(db::Deadline::in(milliseconds(200)));
    CHECK(own.execute("SELECT x FROM t").scalar<int>() == 1);
    const auto took = canceled_after([&] { own.execute(endless); });
    CHECK(took < milliseconds(300));
    // An earlier one given to the statement wins.
    own.close();
    auto other = d.connect(db::Deadline::in(std::chrono::seconds(30)));
    CHECK(canceled_after([&] { other.execute(db::Deadline::in(milliseconds(50)), endless); }) < milliseconds(150));
  }
}

TEST_CASE("a SQLite statement waiting for another connection's lock gives up at its deadline, not at pool_timeout") {
  TempDir dir;
  sqlite::SQLite<> d(quiet(), db::DatabaseConfig::from("f", {{"url", dir.url("lock.db")},
                                                             {"create_db", true},
                                                             {"pool_size", 2},
                                                             {"pool_timeout", 30}}));
  d.connect().execute("CREATE TABLE t(x)");
  auto holder = d.session();
  holder.execute("INSERT INTO t VALUES (1)");  // BEGIN IMMEDIATE: holds the write lock
  SECTION("a write on a connection") {
    auto c = d.connect();
    CHECK(canceled_after([&] { c.execute(db::Deadline::in(milliseconds(200)), "INSERT INTO t VALUES (2)"); }) <
          milliseconds(300));
    CHECK(c.execute("SELECT count(*) FROM t").scalar<int>() == 0);  // usable; reads go on beside the writer
    CHECK(c.execute("PRAGMA busy_timeout").scalar<int>() == 30000);  // set back after the statement
  }
  SECTION("a busy timeout shorter than the deadline still applies, as the connection has it") {
    auto c = d.connect();
    c.execute("PRAGMA busy_timeout = 100");
    const auto start = Steady::now();
    try {
      c.execute(db::Deadline::in(std::chrono::seconds(10)), "INSERT INTO t VALUES (2)");
      FAIL("a write got the lock another connection holds");
    } catch (const db::QueryError& e) {
      CHECK(e.failure() == db::Failure::busy);  // the wait ran out, not the deadline
    }
    CHECK(Steady::now() - start < milliseconds(1000));
    CHECK(c.execute("PRAGMA busy_timeout").scalar<int>() == 100);
  }
  SECTION("a session's BEGIN IMMEDIATE") {
    auto s = d.session(db::Deadline::in(milliseconds(200)));
    CHECK(canceled_after([&] { s.execute("INSERT INTO t VALUES (2)"); }) < milliseconds(300));
    CHECK_FALSE(s.in_transaction());
  }
  holder.commit();
  CHECK(d.connect().execute("SELECT count(*) FROM t").scalar<int>() == 1);
}

TEST_CASE("a SQLite statement whose deadline has passed is not run") {
  sqlite::SQLite<> d(quiet(), db::DatabaseConfig::from("mem", {{"url", "sqlite:///:memory:"}}));
  auto c = d.connect();
  c.execute("CREATE TABLE t(x)");
  try {
    c.execute(db::Deadline::in(milliseconds(-1)), "INSERT INTO t VALUES (1)");
    FAIL("a statement past its deadline was run");
  } catch (const db::QueryError& e) {
    CHECK(e.failure() == db::Failure::query_canceled);
    CHECK_THAT(e.what(), Contains("'mem'") && Contains("before the statement was sent"));
  }
  CHECK(c.execute("SELECT count(*) FROM t").scalar<int>() == 0);
  c.close();
  // A session past its deadline: nothing sent, not even COMMIT; a rollback still runs.
  auto s = d.session(db::Deadline::in(milliseconds(100)));
  s.execute("INSERT INTO t VALUES (1)");
  std::this_thread::sleep_for(milliseconds(150));
  CHECK_THROWS_AS(s.execute("INSERT INTO t VALUES (2)"), db::QueryError);
  CHECK_THROWS_AS(s.commit(), db::QueryError);
  CHECK(s.in_transaction());
  s.rollback();
  s.close();
  CHECK(d.connect().execute("SELECT count(*) FROM t").scalar<int>() == 0);
}

TEST_CASE("an interrupted read leaves a SQLite session's transaction open; an interrupted write ends it") {
  sqlite::SQLite<> d(quiet(), db::DatabaseConfig::from("mem", {{"url", "sqlite:///:memory:"}}));
  d.connect().execute("CREATE TABLE t(x)");
  auto s = d.session();
  s.execute("INSERT INTO t VALUES (1)");
  SECTION("a read") {
    canceled_after([&] { s.execute(db::Deadline::in(milliseconds(50)), endless); });
    s.execute("INSERT INTO t VALUES (2)");
    s.commit();
    s.close();
    CHECK(d.connect().execute("SELECT count(*) FROM t").scalar<int>() == 2);
  }
  SECTION("a write: SQLite rolls the transaction back, and the session says so") {
    canceled_after([&] {
      s.execute(db::Deadline::in(milliseconds(50)),
                "INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < "
                "1000000000000) SELECT x FROM c");
    });
    CHECK_THROWS_AS(s.execute("INSERT INTO t VALUES (2)"), db::UsageError);
    s.rollback();
    s.close();
    CHECK(d.connect().execute("SELECT count(*) FROM t").scalar<int>() == 0);
  }
}

TEST_CASE("a SQLite checkout waits no longer than the caller's deadline") {
  sqlite::SQLite<> d(quiet(), db::DatabaseConfig::from("mem", {{"url", "sqlite:///:memory:"}, {"pool_timeout", 30}}));
  auto held = d.connect();  // the in-memory database's one connection
  for (int i = 0; i < 2; ++i) {
    const auto start = Steady::now();
    if (i == 0) CHECK_THROWS_AS(d.connect(db::Deadline::in(milliseconds(200))), db::PoolTimeoutError);
    else CHECK_THROWS_AS(d.session(db::Deadline::in(milliseconds(200))), db::PoolTimeoutError);
    const auto waited = Steady::now() - start;
    CHECK(waited >= milliseconds(150));
    CHECK(waited < milliseconds(300));
  }
}

TEST_CASE("a run-time Manager's connections and sessions take deadlines on SQLite") {
  db::Manager<sqlite::SQLite<>> m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}, {"pool_timeout", 30}}}});
  m.setup();
  auto& d = m.db("mem");
  {
    auto c = d.connect(db::Deadline::in(std::chrono::seconds(30)));
    c.execute("CREATE TABLE t(x)");
    CHECK(canceled_after([&] { c.execute(db::Deadline::in(milliseconds(200)), endless); }) < milliseconds(300));
    CHECK(c.execute(db::Deadline::in(std::chrono::seconds(1)), "SELECT count(*) FROM t").scalar<int>() == 0);
    // The connection is held: a checkout with a deadline gives up at it.
    const auto start = Steady::now();
    CHECK_THROWS_AS(d.session(db::Deadline::in(milliseconds(100))), db::PoolTimeoutError);
    CHECK(Steady::now() - start < milliseconds(200));
  }
  {
    auto s = d.session(db::Deadline::in(milliseconds(200)));
    s.execute(db::Deadline::in(std::chrono::seconds(1)), "INSERT INTO t VALUES (1)");
    CHECK(canceled_after([&] { s.execute(endless); }) < milliseconds(300));  // the session's own deadline
    CHECK(s.in_transaction());
  }
  CHECK(d.connect().execute("SELECT count(*) FROM t").scalar<int>() == 0);
}

TEST_CASE("a file that is not a database is a setup error naming the key and the path, not a healthy database") {
  TempDir dir;
  std::ofstream(dir.path / "notes.txt") << "not a database\n";
  Manager m(quiet(), {{"notes", {{"url", dir.url("notes.txt")}, {"setup_retry", false}}},
                      {"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  const std::string error = m.get_setup_errors().at("notes");
  CHECK_THAT(error, Contains("'notes'") && Contains("'url'") && Contains((dir.path / "notes.txt").string()) &&
                        Contains("not a SQLite database"));
  CHECK_FALSE(m.health_check().at("notes").healthy());
  // An empty file is an empty database.
  std::ofstream(dir.path / "empty.db").flush();
  Manager ok(quiet(), {{"empty", {{"url", dir.url("empty.db")}}}});
  ok.setup();
  CHECK(ok.health_check().at("empty").healthy());
}

TEST_CASE("a read-write database that SQLite could only open read-only is a setup error") {
  TempDir dir;
  {
    Manager w(quiet(), {{"w", {{"url", dir.url("app.db")}, {"create_db", true}}}});
    w.setup();
  }
  // mode=ro is the way to get a read-only open as root too; an unwritable file
  // (as a user other than root) is in the bad-configuration corpus.
  Manager m(quiet(), {{"rw", {{"url", dir.url("app.db") + "?mode=ro"}, {"setup_retry", false}}},
                      {"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  CHECK_THAT(m.get_setup_errors().at("rw"),
             Contains("'rw'") && Contains("'url'") && Contains("opened read-only") && Contains("readonly: true"));
  // A read-only database may say mode=ro.
  Manager r(quiet(), {{"ro", {{"url", dir.url("app.db") + "?mode=ro"}, {"readonly", true}}}});
  r.setup();
  CHECK(r.health_check().at("ro").healthy());
}

TEST_CASE("checking the file at open does not wait for a writer holding the lock") {
  TempDir dir;
  {
    Manager w(quiet(), {{"w", {{"url", dir.url("busy.db")}, {"create_db", true}}}});
    w.setup();
    w.db("w").connect().execute("CREATE TABLE t(x)");
  }
  // Another process's writer: BEGIN EXCLUSIVE (rollback journal) locks readers out.
  sqlite3* writer = nullptr;
  REQUIRE(sqlite3_open((dir.path / "busy.db").c_str(), &writer) == SQLITE_OK);
  REQUIRE(sqlite3_exec(writer, "BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto start = std::chrono::steady_clock::now();
  Manager other(quiet(), {{"o", {{"url", dir.url("busy.db")}, {"pool_timeout", 5}}}});
  other.setup();
  const auto took = std::chrono::steady_clock::now() - start;
  sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
  CHECK(other.get_setup_errors().empty());
  CHECK(took < std::chrono::seconds(2));  // not the 5 s busy timeout
  CHECK(other.db("o").connect().execute("SELECT count(*) FROM t").scalar<int>() == 0);
}

TEST_CASE("SQLite keeps the laws of db::Interface") {
  TempDir dir;
  const std::string url = dir.url("laws.db");
  const auto make = [&] {
    return std::make_unique<sqlite::SQLite<>>(
        quiet(), db::DatabaseConfig::from("laws", {{"url", url}, {"create_db", true}, {"pool_size", 2}}));
  };
  test::laws::backend_laws<sqlite::SQLite<>>(make);
  test::laws::backend_session_rolls_back_unless_committed<sqlite::SQLite<>>(make, "laws_t");
}

TEST_CASE("failed statements are counted by kind in the pool status, once each; a success is not") {
  Manager m(log::Logger(log::Level::off), {{"errs", {{"url", "sqlite:///:memory:"}, {"pool_size", 1}}}});
  m.setup();
  auto& d = m.db("errs");
  const auto kind = [&](db::Failure f) { return d.get_pool_status().errors_total[static_cast<std::size_t>(f)]; };
  CHECK(kind(db::Failure::query) == 0);
  auto c = d.connect();
  (void)c.execute("SELECT 1");
  CHECK_THROWS_AS(c.execute("SELEKT 1"), db::QueryError);
  CHECK_THROWS_AS(c.execute("SELECT * FROM no_such_table"), db::QueryError);
  CHECK(kind(db::Failure::query) == 2);
  c.close();  // an in-memory database has one connection
  {
    auto s = d.session();
    CHECK_THROWS_AS(s.execute("SELECT nope()"), db::QueryError);
  }
  CHECK(kind(db::Failure::query) == 3);
  std::uint64_t total = 0;
  for (auto n : d.get_pool_status().errors_total) total += n;
  CHECK(total == 3);
  CHECK_THAT(db::prometheus_text(m), Contains("appinfra_errors_total{db=\"errs\",kind=\"query\"} 3\n"));
}
