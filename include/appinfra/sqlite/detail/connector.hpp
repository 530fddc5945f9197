#pragma once
// SQLite internals: the connector, which opens and resets pooled connections.

#include <appinfra/db/detail/failure_counter.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/detail/statement_cache.hpp>
#include <appinfra/db/stats.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/sqlite/detail/defaults.hpp>
#include <appinfra/sqlite/detail/exec.hpp>
#include <appinfra/sqlite/detail/sqlite_conn.hpp>
#include <appinfra/sqlite/detail/target.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

namespace appinfra::sqlite::detail {

/// Opens connections to one SQLite database and makes returned ones clean; holds
/// its query log and the counters of its connections' statement caches (each
/// connection keeps up to `prepared_cache_size` prepared statements: Statements).
template <class L>
class Connector {
 public:
  using connection_type = SqliteConn;

  Connector(const L& logger, const db::DatabaseConfig& c, bool read_only)
      : name_(c.name), target_(Target::from(c)), read_only_(read_only), create_(c.create_db),
        busy_timeout_ms_(static_cast<int>(std::min(c.pool.timeout.count() * 1000.0, 2e9))),
        cache_size_(c.prepared_cache_size), cache_counters_(std::make_shared<Statements::Counters>()), logger_(logger),
        query_log_(logger, c.name, c.query_log_level(), c.query_log.params) {}

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const db::detail::QueryLog<L>& query_log() const noexcept { return query_log_; }
  [[nodiscard]] const Target& target() const noexcept { return target_; }

  /// One connection; a ConnectionError it throws is counted (failures()).
  [[nodiscard]] SqliteConn open() const {
    return failures_.counting([&] { return open_once(); });
  }

  /// Failures by kind, for get_pool_status() (statements count theirs through it).
  [[nodiscard]] const db::detail::FailureCounter& failures() const noexcept { return failures_; }

 private:
  [[nodiscard]] SqliteConn open_once() const {
    int flags = SQLITE_OPEN_NOMUTEX;  // a pooled connection is used by one thread at a time
    // An in-memory database is always created; read-only, query_only guards it.
    if (target_.memory) flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    else if (read_only_) flags |= SQLITE_OPEN_READONLY;
    else flags |= SQLITE_OPEN_READWRITE | (create_ ? SQLITE_OPEN_CREATE : 0);
    if (target_.uri) flags |= SQLITE_OPEN_URI;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(target_.filename.c_str(), &raw, flags, nullptr);
    SqliteConn conn(raw);  // closes it on every path below
    if (rc != SQLITE_OK)
      throw db::ConnectionError(
          fmt::format("database '{}': cannot open {}: {}", name_, target_.described(), why_not_opened(raw, rc)));
    sqlite3_extended_result_codes(raw, 1);
    if (!target_.memory) check_file(raw);
    sqlite3_busy_timeout(raw, busy_timeout_ms_);
    // Enforced by SQLite itself: any write fails with SQLITE_READONLY.
    if (read_only_) {
      try {
        exec(raw, name_, "PRAGMA query_only = ON");
      } catch (const db::QueryError& e) {
        throw db::ConnectionError(e.what());
      }
    }
    // What reset() puts back; a file connection is reopened instead.
    if (target_.memory) conn.keep_defaults();
    conn.watch();
    conn.cache_statements(cache_size_, cache_counters_);
    return conn;
  }

 public:
  /// An embedded database has no socket to lose.
  bool alive(SqliteConn& conn) const noexcept { return conn.get() != nullptr; }

  bool ping(SqliteConn& conn) const noexcept {
    return conn.get() != nullptr && sqlite3_exec(conn.get(), "SELECT 1", nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  /// Makes a returned connection as it was opened. A clean one costs a
  /// sqlite3_get_autocommit() call, plus a ROLLBACK when a transaction was left
  /// open. A dirty one (see SqliteConn) to a file is replaced by a new connection to
  /// the same file; an in-memory one, whose data would go with it, is rolled back
  /// and restore()d. False (the pool closes it): the ROLLBACK failed, a file could
  /// not be reopened, or a read-only in-memory database could not be restored
  /// (it holds no data to lose, and may not be handed out writable).
  bool reset(SqliteConn& conn) const noexcept {
    sqlite3* db = conn.get();
    if (db == nullptr) return false;
    if (!conn.dirty()) return sqlite3_get_autocommit(db) != 0 || rollback(db);
    if (!target_.memory) {
      try {
        conn = open();  // the old connection, closed, rolls back what it had open
        return true;
      } catch (const std::exception& e) {
        db::detail::log_at(logger_, log::Level::warning, "database '{}': could not reopen a connection to reset it: {}",
                           name_, db::detail::without_db(e.what(), name_));
        return false;
      } catch (...) {
        return false;
      }
    }
    if (sqlite3_get_autocommit(db) == 0 && !rollback(db)) return false;
    // Statements prepared while native code may have replaced the authorizer could
    // change the connection unseen when run again: prepared anew, they are seen.
    if (Statements* kept = conn.statements()) kept->finalize_all();
    const bool restored = conn.defaults() != nullptr && restore(db, *conn.defaults());
    conn.watch();
    if (restored) return true;
    db::detail::log_at(logger_, log::Level::warning,
                       "database '{}': a setting of the in-memory connection could not be restored{}", name_,
                       read_only_ ? "; the connection is closed" : "");
    return !read_only_;
  }

  [[nodiscard]] const L& logger() const noexcept { return logger_; }
  [[nodiscard]] int busy_timeout_ms() const noexcept { return busy_timeout_ms_; }

  /// Adds the statement cache counters of every connection it opened to `s`
  /// (get_pool_status()). Thread-safe.
  void add_to(db::PoolStatus& s) const noexcept { cache_counters_->add_to(s); }

  void round_trip(SqliteConn& conn) const {
    failures_.counting([&] { exec(conn.get(), name_, "SELECT 1"); });
  }

 private:
  // SQLite's reason ("unable to open database file") and what the file system
  // says about the path, with advice that fits the configuration.
  [[nodiscard]] std::string why_not_opened(sqlite3* raw, int rc) const {
    std::string why = error_text(raw, rc);
    if (target_.memory) return why;
    const int sys = raw != nullptr ? sqlite3_system_errno(raw) : 0;
    const auto reason = [](int e) { return std::error_code(e, std::generic_category()).message(); };
    const std::string& p = target_.path;
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return why + ": it is a directory, not a file";
      return sys != 0 ? why + ": " + reason(sys) : why;
    }
    const int missing = errno;
    if (missing != ENOENT) return why + ": " + reason(missing);  // ENOTDIR, ENAMETOOLONG, EACCES, ...
    const auto slash = p.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
    if (::stat(dir.c_str(), &st) != 0)
      return why + fmt::format(": the directory {} does not exist (create_db creates the file, not its directory)",
                               db::detail::shown(dir));
    if (read_only_)
      return why + ": the file does not exist, and a read-only database never creates it: create the file "
                   "first (through a read-write configuration of it, or as a copy)";
    if (!create_) return why + ": the file does not exist (set create_db: true to create it)";
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      return why + fmt::format(": cannot create the file in the directory {}: {}", db::detail::shown(dir),
                               reason(errno));
    return sys != 0 ? why + ": cannot create the file: " + reason(sys) : why;
  }

  // Checks, at open, what SQLite would otherwise let pass until later: a file
  // that is not a database opens fine and fails at the first statement, and a
  // file this process may not write is opened read-only without a word (as is
  // one whose url says mode=ro), then fails at the first write. Reading the
  // schema version reads the header: cheap, and without waiting for a writer
  // (a lock held shows the file is a database).
  void check_file(sqlite3* raw) const {
    sqlite3_busy_timeout(raw, 0);
    const int rc = sqlite3_exec(raw, "PRAGMA schema_version", nullptr, nullptr, nullptr);
    const int primary = rc & 0xff;
    if (rc != SQLITE_OK && primary != SQLITE_BUSY && primary != SQLITE_LOCKED)
      throw db::ConnectionError(fmt::format("database '{}': {} {}: {}", name_, target_.described(),
                                            primary == SQLITE_NOTADB ? "is not a SQLite database" : "cannot be read",
                                            error_text(raw, rc)));
    if (!read_only_ && sqlite3_db_readonly(raw, "main") == 1)
      throw db::ConnectionError(fmt::format(
          "database '{}': {} was opened read-only: this process may not write the file (or the url asks for "
          "mode=ro); give it write access, or set readonly: true",
          name_, target_.described()));
  }

  static bool rollback(sqlite3* db) noexcept {
    return sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  std::string name_;
  Target target_;
  bool read_only_;
  bool create_;
  int busy_timeout_ms_;
  std::size_t cache_size_;
  std::shared_ptr<Statements::Counters> cache_counters_;  // shared with the connections, which may outlive it
  L logger_;
  db::detail::QueryLog<L> query_log_;
  db::detail::FailureCounter failures_;
};

}  // namespace appinfra::sqlite::detail
