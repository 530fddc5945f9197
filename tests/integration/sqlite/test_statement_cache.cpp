// SQLite's per-connection statement cache (prepared_cache_size), against a real
// libsqlite3: what it counts, what it evicts, what it must not keep or reuse.

#include <appinfra/db.hpp>
#include <appinfra/sqlite.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

using namespace appinfra;
using Catch::Matchers::Contains;
using Manager = db::Manager<sqlite::SQLite<>>;
namespace fs = std::filesystem;

namespace {
log::Logger quiet() { return log::Logger(log::Level::off); }

struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / ("appinfra-sqlcache-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(reinterpret_cast<std::uintptr_t>(this)))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string url(const std::string& file) const { return "sqlite:///" + (path / file).string(); }
};

// The cache counters since `before`.
struct CacheCounts {
  std::uint64_t hits, misses, evictions;
  bool operator==(const CacheCounts&) const = default;
};
CacheCounts since(const db::PoolStatus& before, const db::PoolStatus& now) {
  return {now.statement_cache_hits_total - before.statement_cache_hits_total,
          now.statement_cache_misses_total - before.statement_cache_misses_total,
          now.statement_cache_evictions_total - before.statement_cache_evictions_total};
}

// The statements the connection holds prepared now.
int open_statements(sqlite3* db) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr; s = sqlite3_next_stmt(db, s)) ++n;
  return n;
}

// Whether this process holds `file` open.
bool holds_open(const fs::path& file) {
  const auto target = fs::canonical(file);
  for (const auto& fd : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(fd.path(), ec) == target) return true;
  }
  return false;
}
}  // namespace

namespace Catch {
template <>
struct StringMaker<CacheCounts> {
  static std::string convert(const CacheCounts& c) {
    return "{hits " + std::to_string(c.hits) + ", misses " + std::to_string(c.misses) + ", evictions " +
           std::to_string(c.evictions) + "}";
  }
};
}  // namespace Catch

TEST_CASE("a statement run again on a connection is found prepared: hits, misses in get_pool_status()",
          "[statement_cache]") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto& d = m.db("mem");
  d.connect().execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  const auto before = d.get_pool_status();
  for (int id : {1, 2, 1}) {
    auto c = d.connect();
    CHECK(c.execute("SELECT v FROM t WHERE id = $1", id).scalar<std::string>() == (id == 1 ? "a" : "b"));
  }
  CHECK(since(before, d.get_pool_status()) == CacheCounts{2, 1, 0});
}

TEST_CASE("a statement cache of 2 evicts the least recently used statement", "[statement_cache]") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}, {"prepared_cache_size", 2}}}});
  m.setup();
  auto& d = m.db("mem");
  auto c = d.get<sqlite::SQLite<>>().connect();
  const auto before = d.get_pool_status();
  const auto run = [&](int x) { CHECK(c.execute("SELECT " + std::to_string(x)).scalar<int>() == x); };
  run(1);  // miss          [1]
  run(2);  // miss          [2 1]
  run(1);  // hit           [1 2]
  run(3);  // miss, evicts 2 [3 1]
  run(1);  // hit           [1 3]
  run(2);  // miss, evicts 3 [2 1]
  CHECK(since(before, d.get_pool_status()) == CacheCounts{2, 4, 2});
  CHECK(open_statements(c.native()) == 2);
}

TEST_CASE("prepared_cache_size 0 turns the cache off: nothing kept, nothing counted", "[statement_cache]") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}, {"prepared_cache_size", 0}}}});
  m.setup();
  auto& d = m.db("mem");
  auto c = d.get<sqlite::SQLite<>>().connect();
  for (int i = 0; i < 3; ++i) CHECK(c.execute("SELECT $1 + 1", i).scalar<int>() == i + 1);
  const auto s = d.get_pool_status();
  CHECK(CacheCounts{s.statement_cache_hits_total, s.statement_cache_misses_total, s.statement_cache_evictions_total} ==
        CacheCounts{0, 0, 0});
  CHECK(open_statements(c.native()) == 0);
}

TEST_CASE("prepared_cache_size is checked like any integer key, naming the database and the key",
          "[statement_cache]") {
  CHECK_THROWS_WITH(db::DatabaseConfig::from("mem", {{"url", "sqlite:///:memory:"}, {"prepared_cache_size", -1}}),
                    Contains("'mem'") && Contains("prepared_cache_size") && Contains("-1"));
  CHECK(db::DatabaseConfig::from("mem", {{"url", "sqlite:///:memory:"}}).prepared_cache_size == 100);
}

TEST_CASE("a kept statement after ALTER TABLE ADD COLUMN returns the new column", "[statement_cache]") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto& d = m.db("mem");
  auto c = d.connect();
  c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  c.execute("INSERT INTO t VALUES (1, 'a')");
  const std::string sql = "SELECT * FROM t WHERE id = $1";
  CHECK(c.execute(sql, 1).columns() == std::vector<std::string>{"id", "v"});
  c.execute("ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'new'");
  const auto before = d.get_pool_status();
  const auto r = c.execute(sql, 1);
  CHECK(since(before, d.get_pool_status()).hits == 1);
  REQUIRE(r.columns() == std::vector<std::string>{"id", "v", "w"});
  CHECK(r[0]["w"].as<std::string>() == "new");
  // No row: the columns are still those of the statement as prepared again.
  c.execute("ALTER TABLE t ADD COLUMN x INTEGER");
  CHECK(c.execute(sql, 2).columns() == std::vector<std::string>{"id", "v", "w", "x"});
}

TEST_CASE("a kept statement after its table is dropped fails, and after it is created again reads the new table",
          "[statement_cache]") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto c = m.db("mem").connect();
  c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'old')");
  const std::string sql = "SELECT v FROM t WHERE id = $1";
  CHECK(c.execute(sql, 1).scalar<std::string>() == "old");
  c.execute("DROP TABLE t");
  CHECK_THROWS_AS(c.execute(sql, 1), db::QueryError);
  c.execute("CREATE TABLE t(v TEXT, id INTEGER PRIMARY KEY); INSERT INTO t(id, v) VALUES (1, 'new')");
  CHECK(c.execute(sql, 1).scalar<std::string>() == "new");
}

TEST_CASE("the same text run again from inside a running statement does not reset it under its reader",
          "[statement_cache]") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}, {"prepared_cache_size", 1}}}});
  m.setup();
  auto& d = m.db("mem");
  auto c = d.get<sqlite::SQLite<>>().connect();
  c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER)");
  c.execute("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)");
  // nested(v) runs the very statement it is called from, once more, on the same
  // connection, while the outer one is between rows.
  static const std::string sql = "SELECT nested(v) FROM t WHERE id >= $1 ORDER BY id";
  struct Ctx {
    sqlite::SQLite<>::Connection* c;
    int depth = 0;
  } ctx{&c};
  const auto nested = [](sqlite3_context* f, int, sqlite3_value** argv) {
    auto* x = static_cast<Ctx*>(sqlite3_user_data(f));
    std::int64_t v = sqlite3_value_int64(argv[0]);
    if (x->depth == 0) {
      ++x->depth;
      v += x->c->execute(sql, 3).scalar<std::int64_t>();  // 30, the inner call's one row
      // Another text, which would evict the outer statement from a cache of 1.
      v += x->c->execute("SELECT 0").scalar<std::int64_t>();
      --x->depth;
    }
    sqlite3_result_int64(f, v);
  };
  REQUIRE(sqlite3_create_function_v2(c.native(), "nested", 1, SQLITE_UTF8, &ctx, nested, nullptr, nullptr,
                                     nullptr) == SQLITE_OK);
  for (int round = 0; round < 2; ++round) {  // the first prepares and keeps it, the second finds it
    const auto r = c.execute(sql, 1);
    REQUIRE(r.size() == 3);
    CHECK(r[0][0].as<int>() == 40);
    CHECK(r[1][0].as<int>() == 50);
    CHECK(r[2][0].as<int>() == 60);
  }
  CHECK(since(db::PoolStatus{}, d.get_pool_status()).hits >= 1);
}

TEST_CASE("statements that change the connection, and texts of several statements, are prepared every time",
          "[statement_cache]") {
  Manager m(quiet(), {{"mem", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  auto& d = m.db("mem");
  auto c = d.connect();
  const auto before = d.get_pool_status();
  // Preparing a PRAGMA that sets is what marks the connection for a reset.
  c.execute("PRAGMA foreign_keys = ON");
  c.execute("PRAGMA foreign_keys = ON");
  CHECK(c.execute("SELECT 1; SELECT 2").scalar<int>() == 2);
  CHECK(c.execute("SELECT 1; SELECT 2").scalar<int>() == 2);
  CHECK(since(before, d.get_pool_status()) == CacheCounts{0, 4, 0});
}

TEST_CASE("closing the database finalizes the kept statements and closes the file", "[statement_cache]") {
  TempDir dir;
  {
    Manager m(quiet(), {{"f", {{"url", dir.url("close.db")}, {"create_db", true}, {"pool_size", 2}}}});
    m.setup();
    auto& d = m.db("f");
    d.connect().execute("CREATE TABLE t(id INTEGER PRIMARY KEY)");
    {
      auto a = d.connect();
      auto b = d.connect();
      for (int i = 0; i < 5; ++i) {
        a.execute("INSERT INTO t VALUES ($1)", i);
        b.execute("SELECT count(*) FROM t WHERE id < $1", i);
      }
    }
    REQUIRE(holds_open(dir.path / "close.db"));
    m.close_all();
    // A connection closed with statements still prepared would stay open (a zombie).
    CHECK_FALSE(holds_open(dir.path / "close.db"));
  }
  CHECK_FALSE(holds_open(dir.path / "close.db"));
}

TEST_CASE("get_pool_status() reads the cache counters while connections run statements", "[statement_cache]") {
  TempDir dir;
  Manager m(quiet(), {{"f", {{"url", dir.url("threads.db")}, {"create_db", true}, {"pool_size", 2}}}});
  m.setup();
  auto& d = m.db("f");
  d.connect().execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, 1)");
  const auto before = d.get_pool_status();
  constexpr int per_thread = 500;
  std::atomic<int> running{2};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) d.connect().execute("SELECT v FROM t WHERE id = $1", 1);
      --running;
    });
  std::uint64_t seen = 0;
  while (running > 0) {
    const auto now = since(before, d.get_pool_status());
    CHECK(now.hits + now.misses >= seen);  // totals only grow
    seen = now.hits + now.misses;
  }
  for (auto& t : threads) t.join();
  const auto after = since(before, d.get_pool_status());
  CHECK(after.hits + after.misses == 2 * per_thread);
  CHECK(after.misses <= 2);  // once per connection at most
}
