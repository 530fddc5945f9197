// The bad-configuration corpus, SQLite part: configurations that pass
// DatabaseConfig::from() but that the SQLite backend must reject when it is
// built (at setup), naming the database, the key and the value: a file that is
// not a database or cannot be written, a path SQLite cannot open, keys that are
// PostgreSQL's. Cases marked unprivileged run in a child process without root,
// which would otherwise bypass file permissions.

#include "../../support/bad_config.hpp"

#include <appinfra/sqlite.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

using namespace appinfra;
using namespace std::string_literals;
using test::BadConfig;
using test::Outcome;
using test::Raises;
using test::Verdict;
namespace fs = std::filesystem;

namespace {

constexpr uid_t nobody = 65534;

// Files the cases point at, in a folder every user may read.
struct Fixture {
  fs::path dir;
  Fixture() {
    char tmpl[] = "/tmp/appinfra-bad-config-XXXXXX";
    dir = ::mkdtemp(tmpl);
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    std::ofstream(dir / "notes.txt") << "these are my notes, not a database\n";
    std::ofstream(dir / "truncated.db") << std::string("SQLite format 3\0", 16) << "\x10\x00\x01";
    fs::create_directory(dir / "adir");
    fs::create_directory(dir / "locked");
    fs::permissions(dir / "locked", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                        fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    {
      auto w = sqlite::SQLite<>(log::Logger(log::Level::off),
                                db::DatabaseConfig::from("make", {{"url", url("theirs.db")}, {"create_db", true}}));
      w.connect().execute("CREATE TABLE t(x)");
    }
    // Not writable by this process unless it is root (then the case runs as nobody).
    fs::permissions(dir / "theirs.db", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  }
  ~Fixture() {
    std::error_code ec;
    fs::permissions(dir / "locked", fs::perms::owner_all, ec);
    fs::remove_all(dir, ec);
  }
  [[nodiscard]] std::string path(const std::string& file) const { return (dir / file).string(); }
  [[nodiscard]] std::string url(const std::string& file) const { return "sqlite:///" + path(file); }
};

struct SqliteCase {
  BadConfig c;
  bool unprivileged = false;
};

std::vector<SqliteCase> corpus(const Fixture& f) {
  const auto conn = Raises::connection;
  const auto cfg = Raises::config;
  const std::string mb(1 << 20, 'y');
  return {
      // PostgreSQL's keys on a SQLite database.
      {{"schema on SQLite", "cache", {{"url", f.url("a.db")}, {"schema", "app"}}, cfg, "schema", "'app'"}},
      {{"extensions on SQLite", "cache", {{"url", f.url("a.db")}, {"extensions", "pgcrypto"}}, cfg, "extensions",
        "'pgcrypto'"}},
      {{"keepalives on SQLite", "cache", {{"url", f.url("a.db")}, {"keepalives", false}}, cfg, "keepalives",
        "false"}},
      {{"a host in a SQLite url", "cache", {{"url", "sqlite://somehost/x.db"}}, cfg, "url", "somehost/x.db"}},
      // Files that are not databases, or cannot be written.
      {{"a text file", "cache", {{"url", f.url("notes.txt")}}, conn, "url", f.path("notes.txt")}},
      {{"a text file, read-only", "cache", {{"url", f.url("notes.txt")}, {"readonly", true}}, conn, "url",
        f.path("notes.txt")}},
      {{"a file with a truncated SQLite header", "cache", {{"url", f.url("truncated.db")}}, conn, "url",
        f.path("truncated.db")}},
      {{"a read-write database on a file this process cannot write", "cache", {{"url", f.url("theirs.db")}}, conn,
        "url", f.path("theirs.db")},
       true},
      {{"a read-write database with ?mode=ro", "cache", {{"url", f.url("theirs.db") + "?mode=ro"}}, conn, "url",
        f.path("theirs.db")}},
      {{"a read-only database with ?mode=rwc", "cache",
        {{"url", f.url("theirs.db") + "?mode=rwc"}, {"readonly", true}}, conn, "url", f.path("theirs.db")}},
      // Paths SQLite cannot open.
      {{"a missing file", "cache", {{"url", f.url("missing.db")}}, conn, "url", f.path("missing.db")}},
      {{"a missing file, read-only (create_db is no advice)", "cache",
        {{"url", f.url("missing.db")}, {"readonly", true}}, conn, "url", f.path("missing.db"), "create_db: true"}},
      {{"a directory", "cache", {{"url", f.url("adir")}}, conn, "url", f.path("adir")}},
      {{"a directory, read-only", "cache", {{"url", f.url("adir")}, {"readonly", true}}, conn, "url",
        f.path("adir")}},
      {{"a directory with create_db", "cache", {{"url", f.url("adir")}, {"create_db", true}}, conn, "url",
        f.path("adir")}},
      {{"a missing directory with create_db", "cache", {{"url", f.url("nodir/x.db")}, {"create_db", true}}, conn,
        "url", f.path("nodir/x.db")}},
      {{"a file as the directory with create_db", "cache", {{"url", f.url("notes.txt/x.db")}, {"create_db", true}},
        conn, "url", f.path("notes.txt/x.db")}},
      {{"a directory this process cannot write, with create_db", "cache",
        {{"url", f.url("locked/x.db")}, {"create_db", true}}, conn, "url", f.path("locked/x.db")},
       true},
      {{"a NUL in the path (cut there)", "cache", {{"url", f.url("new.db") + "\0.bak"s}, {"create_db", true}}, cfg,
        "url", "new.db\\x00.bak"}},
      {{"a 1 MB path", "cache", {{"url", f.url(mb)}}, conn, "url", "(1048"}},
      {{"a 1 MB path with create_db", "cache", {{"url", f.url(mb)}, {"create_db", true}}, conn, "url", "(1048"}},
  };
}

// Builds the case's database as setup() would.
void build(const BadConfig& c) {
  const auto config = db::DatabaseConfig::from(c.db, c.options);
  if (config.readonly)
    (void)sqlite::SQLite<db::ReadOnly>(log::Logger(log::Level::off), config);
  else
    (void)sqlite::SQLite<>(log::Logger(log::Level::off), config);
}

// Judges the case in a child process running as nobody: root may write any file.
Verdict judge_unprivileged(const BadConfig& c) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgid(nobody) != 0 || ::setuid(nobody) != 0) ::_exit(2);
    const Verdict v = test::judge(c, [&] { build(c); });
    const std::string out = std::to_string(static_cast<int>(v.outcome)) + v.detail;
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(!out.empty());
  return {static_cast<Outcome>(out[0] - '0'), out.substr(1)};
}

}  // namespace

TEST_CASE("every SQLite configuration in the bad-configuration corpus is rejected at setup, naming the database, "
          "key and value") {
  const Fixture f;
  std::vector<BadConfig> cases;
  std::vector<bool> unprivileged;
  for (auto& sc : corpus(f)) {
    cases.push_back(sc.c);
    unprivileged.push_back(sc.unprivileged);
  }
  std::size_t i = 0;
  test::run_corpus("bad configuration (SQLite setup)", cases, [&](const BadConfig& c) {
    const bool drop = unprivileged[i++] && ::geteuid() == 0;
    return drop ? judge_unprivileged(c) : test::judge(c, [&] { build(c); });
  });
  // Nothing was created where a case was rejected.
  CHECK_FALSE(fs::exists(f.dir / "new.db"));
  CHECK_FALSE(fs::exists(f.dir / "locked" / "x.db"));
}
