// Migrations on SQLite and PostgreSQL: applying, skipping, checksums, failures,
// racing runners, status, dry runs, hooks, and the Manager-level call.

#include "../../support/pg_env.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace appinfra;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
log::Logger quiet() { return log::Logger(log::Level::off); }

struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / test::unique_name("appinfra-mig")) { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string url(const std::string& f) const { return "sqlite:///" + (path / f).string(); }
};

db::Migrations three(const std::string& table) {
  db::Migrations m;
  m.add(1, "create", "CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT)");
  m.add(2, "seed", "INSERT INTO " + table + " (id, name) VALUES (1, 'ann'); INSERT INTO " + table +
                       " (id, name) VALUES (2, 'bob')");
  m.add(3, "index", "CREATE INDEX " + table + "_name ON " + table + " (name)");
  return m;
}

// The same behaviours, run on each backend by the test cases below.
template <class Backend>
void applies_in_order_and_skips_what_is_applied(Backend& db, const std::string& table) {
  const auto r = db.migrate(three(table));
  CHECK(r.applied == std::vector<std::int64_t>{1, 2, 3});
  CHECK(r.skipped == 0);
  CHECK(db.connect().execute("SELECT count(*) FROM " + table).template scalar<int>() == 2);
  const auto again = db.migrate(three(table));
  CHECK(again.applied.empty());
  CHECK(again.skipped == 3);
  const auto rec = db.connect().execute("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version");
  REQUIRE(rec.size() == 3);
  CHECK(rec[1]["name"].view() == "seed");
  CHECK(rec[1]["checksum"].view() == three(table).list()[1].checksum());
  CHECK_FALSE(rec[0]["applied_at"].view().empty());
}

template <class Backend>
void detects_an_edited_migration(Backend& db, const std::string& table) {
  db.migrate(three(table));
  db::Migrations edited = db::Migrations()
                              .add(1, "create", "CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT, x INT)")
                              .add(4, "more", "SELECT 1");
  try {
    db.migrate(edited);
    FAIL("an edited migration was accepted");
  } catch (const db::MigrationError& e) {
    CHECK(e.version() == 1);
    CHECK_THAT(e.what(), Contains("migration 1 'create' was edited"));
  }
  const auto st = db.migration_status(edited);
  REQUIRE(st.size() == 4);  // 1 modified, 2 and 3 unknown, 4 pending
  CHECK(st[0].state == db::MigrationState::modified);
  CHECK(st[1].state == db::MigrationState::unknown);
  CHECK(st[3].state == db::MigrationState::pending);
  CHECK(db.connect().execute("SELECT count(*) FROM schema_migrations").template scalar<int>() == 3);  // 4 not applied
}

template <class Backend>
void a_failure_rolls_back_and_stops(Backend& db, const std::string& table) {
  db::Migrations m = three(table);
  m.add(4, "broken", "INSERT INTO " + table + " (id, name) VALUES (3, 'cat'); INSERT INTO no_such_table VALUES (1)");
  m.add(5, "after", "INSERT INTO " + table + " (id, name) VALUES (9, 'never')");
  try {
    db.migrate(m);
    FAIL("a broken migration was applied");
  } catch (const db::MigrationError& e) {
    CHECK(e.version() == 4);
    CHECK(e.name() == "broken");
    CHECK_THAT(e.what(), Contains("migration 4 'broken' failed and was rolled back") && Contains("no_such_table"));
  }
  CHECK(db.connect().execute("SELECT count(*) FROM " + table).template scalar<int>() == 2);  // 4's insert undone
  CHECK(db.connect().execute("SELECT max(version) FROM schema_migrations").template scalar<int>() == 3);
  const auto st = db.migration_status(m);
  CHECK(st[3].state == db::MigrationState::pending);
  CHECK(st[4].state == db::MigrationState::pending);
}

template <class Backend>
void status_and_dry_run_change_nothing(Backend& db, const std::string& table) {
  auto m = three(table);
  const auto dry = db.migrate(m, {.dry_run = true});
  CHECK(dry.dry_run);
  CHECK(dry.applied == std::vector<std::int64_t>{1, 2, 3});
  const auto st = db.migration_status(m);
  CHECK(std::all_of(st.begin(), st.end(), [](const auto& s) { return s.state == db::MigrationState::pending; }));
  db.migrate(db::Migrations().add(1, "create", m.list()[0].sql));
  const auto after = db.migration_status(m);
  CHECK(after[0].state == db::MigrationState::applied);
  CHECK_FALSE(after[0].applied_at.empty());
  CHECK(after[1].state == db::MigrationState::pending);
}

template <class Backend>
void hooks_run_around(Backend& db, const std::string& table) {
  std::vector<std::string> order;
  db::Migrations m = three(table);
  m.before([&](const db::MigrationExecutor& ex) {
    order.push_back("before");
    ex("CREATE TABLE IF NOT EXISTS " + table + "_audit (note TEXT)");
  });
  m.after([&](const db::MigrationExecutor& ex) {
    order.push_back("after:" + ex("SELECT count(*) FROM " + table).template scalar<std::string>());
  });
  db.migrate(m);
  CHECK(order == std::vector<std::string>{"before", "after:2"});
}
}  // namespace

TEST_CASE("SQLite migrations: applied in order, recorded with checksum and time, skipped once applied") {
  sqlite::SQLite<> db(quiet(), db::DatabaseConfig::from("m", {{"url", "sqlite:///:memory:"}}));
  applies_in_order_and_skips_what_is_applied(db, "users");
}

TEST_CASE("SQLite migrations: an edited migration is a checksum-mismatch error naming it") {
  sqlite::SQLite<> db(quiet(), db::DatabaseConfig::from("m", {{"url", "sqlite:///:memory:"}}));
  detects_an_edited_migration(db, "users");
}

TEST_CASE("SQLite migrations: a failing one rolls back and stops; earlier ones stay") {
  sqlite::SQLite<> db(quiet(), db::DatabaseConfig::from("m", {{"url", "sqlite:///:memory:"}}));
  a_failure_rolls_back_and_stops(db, "users");
}

TEST_CASE("SQLite migrations: status and dry run") {
  sqlite::SQLite<> db(quiet(), db::DatabaseConfig::from("m", {{"url", "sqlite:///:memory:"}}));
  status_and_dry_run_change_nothing(db, "users");
}

TEST_CASE("SQLite migrations: before and after hooks") {
  sqlite::SQLite<> db(quiet(), db::DatabaseConfig::from("m", {{"url", "sqlite:///:memory:"}}));
  hooks_run_around(db, "users");
}

TEST_CASE("migrations read from a folder of numbered .sql files") {
  TempDir dir;
  std::ofstream(dir.path / "0002_seed.sql") << "INSERT INTO t VALUES (1);";
  std::ofstream(dir.path / "0001_create.sql") << "CREATE TABLE t (x INTEGER);";
  std::ofstream(dir.path / "README.md") << "not a migration";
  const auto m = db::Migrations::from_directory(dir.path);
  REQUIRE(m.list().size() == 2);
  CHECK(m.list()[0].version == 1);
  CHECK(m.list()[0].name == "create");
  CHECK(m.list()[1].name == "seed");
  std::ofstream(dir.path / "oops.sql") << "SELECT 1;";
  CHECK_THROWS_WITH(db::Migrations::from_directory(dir.path), Contains("oops.sql") && Contains("version number"));
  CHECK_THROWS_AS(db::Migrations().add(1, "a", "").add(1, "b", ""), db::MigrationError);
  fs::create_directory(dir.path / "0003_folder.sql");  // not a file: ignored
  fs::remove(dir.path / "oops.sql");
  CHECK(db::Migrations::from_directory(dir.path).list().size() == 2);
  fs::create_symlink(dir.path / "nowhere", dir.path / "0004_dangling.sql");  // ignored, as before
  CHECK(db::Migrations::from_directory(std::string_view(dir.path.native())).list().size() == 2);
  fs::create_symlink(dir.path / "0005_loop.sql", dir.path / "0005_loop.sql");  // unreadable: an error
  CHECK_THROWS_WITH(db::Migrations::from_directory(dir.path), Contains("0005_loop.sql") && Contains("symbolic links"));
  fs::remove(dir.path / "0005_loop.sql");
  CHECK_THROWS_WITH(db::Migrations::from_directory((dir.path / "missing").string()),
                    Contains("cannot read the migrations folder") && Contains("missing") &&
                        Contains("No such file or directory"));
}

TEST_CASE("SQLite migrations: processes migrating one file at once apply each migration exactly once") {
  TempDir dir;
  const std::string url = dir.url("race.db");
  { sqlite::SQLite<>(quiet(), db::DatabaseConfig::from("init", {{"url", url}, {"create_db", true}})); }
  db::Migrations m;
  m.add(1, "create", "CREATE TABLE hits (n INTEGER)");
  for (int v = 2; v <= 20; ++v) m.add(v, "hit" + std::to_string(v), "INSERT INTO hits VALUES (" + std::to_string(v) + ")");
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p) {
    const pid_t pid = fork();
    if (pid == 0) {  // a separate process with its own connections
      int rc = 0;
      try {
        sqlite::SQLite<> db(quiet(), db::DatabaseConfig::from("racer", {{"url", url}, {"pool_timeout", 30}}));
        db.migrate(m);
      } catch (...) {
        rc = 1;
      }
      _exit(rc);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  sqlite::SQLite<> db(quiet(), db::DatabaseConfig::from("check", {{"url", url}}));
  CHECK(db.connect().execute("SELECT count(*) FROM hits").scalar<int>() == 19);
  CHECK(db.connect().execute("SELECT count(*) FROM schema_migrations").scalar<int>() == 20);
}

TEST_CASE("SQLite has no extensions or schemas to migrate") {
  CHECK_THROWS_WITH(sqlite::SQLite<>(quiet(), db::DatabaseConfig::from("x", {{"url", "sqlite://"}, {"extensions", "pgcrypto"}})),
                    Contains("'extensions'") && Contains("PostgreSQL"));
}

// --- PostgreSQL ---------------------------------------------------------------

namespace {
db::DatabaseConfig pg_cfg(const std::string& name, db::Options o = {}) {
  if (o.find("url") == nullptr) o.set("url", test::pg_url());
  return db::DatabaseConfig::from(name, o);
}
// A fresh database per test: migrations share the schema_migrations table.
struct FreshPgDatabase {
  std::string name = test::unique_name("appinfra_mig");
  std::string url = db::Url::parse(test::pg_url()).with_path(name);
  ~FreshPgDatabase() {
    try {
      pg::PG<> admin(quiet(), pg_cfg("admin"));
      admin.connect().execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
    } catch (...) {
    }
  }
  db::DatabaseConfig cfg(db::Options o = {}) const {
    o.set("url", url);
    o.set("create_db", true);
    return db::DatabaseConfig::from("mig", o);
  }
};
}  // namespace

TEST_CASE("PostgreSQL migrations: applied in order, recorded, skipped once applied") {
  FreshPgDatabase fresh;
  pg::PG<> db(quiet(), fresh.cfg());
  applies_in_order_and_skips_what_is_applied(db, "users");
}

TEST_CASE("PostgreSQL migrations: checksum mismatch, failure midway, status, dry run, hooks") {
  {
    FreshPgDatabase fresh;
    pg::PG<> db(quiet(), fresh.cfg());
    detects_an_edited_migration(db, "users");
  }
  {
    FreshPgDatabase fresh;
    pg::PG<> db(quiet(), fresh.cfg());
    a_failure_rolls_back_and_stops(db, "users");
  }
  {
    FreshPgDatabase fresh;
    pg::PG<> db(quiet(), fresh.cfg());
    status_and_dry_run_change_nothing(db, "users");
  }
  {
    FreshPgDatabase fresh;
    pg::PG<> db(quiet(), fresh.cfg());
    hooks_run_around(db, "users");
  }
}

TEST_CASE("PostgreSQL migrations: racing runners are serialised by the advisory lock") {
  FreshPgDatabase fresh;
  { pg::PG<> init(quiet(), fresh.cfg()); }
  db::Migrations m;
  m.add(1, "create", "CREATE TABLE hits (n int)");
  for (int v = 2; v <= 30; ++v) m.add(v, "hit" + std::to_string(v), "INSERT INTO hits VALUES (" + std::to_string(v) + ")");
  std::vector<std::thread> ts;
  std::atomic<int> applied{0}, failures{0};
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      try {
        pg::PG<> db(quiet(), fresh.cfg());  // its own pool and server sessions, like another process
        applied += static_cast<int>(db.migrate(m).applied.size());
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO(e.what());
      }
    });
  for (auto& t : ts) t.join();
  CHECK(failures == 0);
  CHECK(applied == 30);  // each exactly once, across all runners
  pg::PG<> db(quiet(), fresh.cfg());
  CHECK(db.connect().execute("SELECT count(*) FROM hits").scalar<int>() == 29);
}

TEST_CASE("PostgreSQL migrations create the configured schema and extensions first") {
  FreshPgDatabase fresh;
  pg::PG<> db(quiet(), fresh.cfg({{"schema", "app"}, {"extensions", "pgcrypto, uuid-ossp"}}));
  db.migrate(db::Migrations().add(1, "in_schema", "CREATE TABLE app.keys (k bytea DEFAULT gen_random_bytes(8))"));
  CHECK(db.connect().execute("SELECT count(*) FROM pg_extension WHERE extname IN ('pgcrypto', 'uuid-ossp')").scalar<int>() == 2);
  CHECK(db.connect().execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'app'").scalar<int>() == 1);
  CHECK_THROWS_AS(db::DatabaseConfig::from("bad", {{"url", "postgresql://h/d"}, {"extensions", "ok, Bad;DROP"}}),
                  db::ConfigError);
}

TEST_CASE("Manager::migrate migrates every writable database and skips read-only ones") {
  FreshPgDatabase fresh;
  TempDir dir;
  db::Manager<pg::PG<>, pg::PG<db::ReadOnly>, sqlite::SQLite<>> m(
      quiet(), {{"primary", {{"url", fresh.url}, {"create_db", true}}},
                {"replica", {{"url", fresh.url}, {"readonly", true}}},
                {"local", {{"url", dir.url("local.db")}, {"create_db", true}}}});
  m.setup();
  const auto results = m.migrate(three("users"));
  CHECK(results.size() == 2);
  CHECK(results.at("primary").applied.size() == 3);
  CHECK(results.at("local").applied.size() == 3);
  CHECK_FALSE(results.contains("replica"));
  CHECK(m.db("replica").connect().execute("SELECT count(*) FROM users").scalar<int>() == 2);
}
