// SQLite backend against a real libsqlite3: files in a temporary folder and :memory:.

#include "../../support/capture_logger.hpp"

#include <appinfra/db.hpp>
#include <appinfra/sqlite.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;
using Manager = db::Manager<sqlite::SQLite<>, sqlite::SQLite<db::ReadOnly>>;
namespace fs = std::filesystem;

static_assert(db::Interface<sqlite::SQLite<>>);
static_assert(db::Interface<sqlite::SQLite<db::ReadOnly, db::UseQueuePool<>, log::NullLogger>>);

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
