#pragma once
// SQLite internals: the connection handle, the connector and statement execution.

#include <appinfra/db/config.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/db/detail/query_log.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::sqlite::detail {

/// Owns one sqlite3 connection.
class Handle {
 public:
  Handle() = default;
  explicit Handle(sqlite3* db) noexcept : db_(db) {}
  Handle(Handle&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      db_ = std::exchange(o.db_, nullptr);
    }
    return *this;
  }
  ~Handle() { reset(); }
  [[nodiscard]] sqlite3* get() const noexcept { return db_; }

 private:
  void reset() noexcept {
    if (db_ != nullptr) sqlite3_close_v2(std::exchange(db_, nullptr));
  }
  sqlite3* db_ = nullptr;
};

/// Where a sqlite:// url points.
struct Target {
  std::string filename;  // as given to sqlite3_open_v2
  bool memory = false;
  bool uri = false;

  /// sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory: (and
  /// sqlite://, SQLAlchemy's spelling of in-memory). A query string is passed on as
  /// SQLite URI parameters (sqlite:///app.db?mode=ro).
  static Target from(const db::DatabaseConfig& c) {
    const db::Url& u = c.url;
    if (!u.host().empty())
      throw db::ConfigError(c.name, "url", "'" + u.redacted() + "'",
                            fmt::format("database '{}': key 'url' has invalid value '{}': a SQLite url "
                                        "has no host (sqlite:///relative/path, sqlite:////absolute/path "
                                        "or sqlite:///:memory:)",
                                        c.name, u.redacted()));
    Target t;
    t.memory = u.path().empty() || u.path() == ":memory:";
    t.filename = u.path().empty() ? ":memory:" : u.path();
    if (!u.query().empty()) {
      t.uri = true;
      t.filename = "file:" + t.filename + "?" + u.query();
    }
    return t;
  }
};

inline std::string error_text(sqlite3* db, int rc) {
  return db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
}

/// Binds one parameter; integers, floating point, bool, texts, nullptr and
/// std::optional of those.
template <class T>
int bind_one(sqlite3_stmt* st, int i, const T& v) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, std::nullptr_t> || std::is_same_v<U, std::nullopt_t>) {
    return sqlite3_bind_null(st, i);
  } else if constexpr (requires { v.has_value(); *v; }) {
    return v.has_value() ? bind_one(st, i, *v) : sqlite3_bind_null(st, i);
  } else if constexpr (std::is_same_v<U, bool> || std::is_integral_v<U>) {
    return sqlite3_bind_int64(st, i, static_cast<sqlite3_int64>(v));
  } else if constexpr (std::is_floating_point_v<U>) {
    return sqlite3_bind_double(st, i, static_cast<double>(v));
  } else {
    const std::string_view s(v);
    return sqlite3_bind_text64(st, i, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
}

/// Runs `sql` on `db`. Without parameters, several statements separated by ';' may
/// be given and the rows of the last one are returned. Parameters are numbered
/// $1, $2, ... as in PostgreSQL (`?` works too).
template <class... Args>
db::Result exec(sqlite3* db, const std::string& database, std::string_view sql, const Args&... args) {
  const auto fail = [&](int rc) -> db::QueryError {
    return db::QueryError(fmt::format("database '{}': {} (SQLite error {}) in: {}", database,
                                      error_text(db, rc), rc, db::detail::normalize_sql(sql)),
                          fmt::format("SQLITE_{}", rc));
  };
  std::vector<std::string> columns;
  std::vector<std::optional<std::string>> cells;
  std::int64_t affected = 0;
  const char* tail = sql.data();
  const char* const end = sql.data() + sql.size();
  bool ran = false;
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &raw, &tail);
    if (rc != SQLITE_OK) throw fail(rc);
    if (raw == nullptr) continue;  // white space or a comment
    const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(raw, sqlite3_finalize);
    if constexpr (sizeof...(Args) > 0) {
      if (ran) throw db::UsageError(fmt::format("database '{}': parameters need a single statement, got several in: {}", database, db::detail::normalize_sql(sql)));
      const int expected = sqlite3_bind_parameter_count(raw);
      if (expected != static_cast<int>(sizeof...(Args)))
        throw db::UsageError(fmt::format("database '{}': statement has {} parameters, {} given: {}",
                                         database, expected, sizeof...(Args), db::detail::normalize_sql(sql)));
      int i = 0;
      const auto bind = [&](const auto& a) {
        ++i;
        const std::string name = "$" + std::to_string(i);
        const int at = sqlite3_bind_parameter_index(raw, name.c_str());
        const int brc = bind_one(raw, at > 0 ? at : i, a);
        if (brc != SQLITE_OK) throw fail(brc);
      };
      (bind(args), ...);
    }
    ran = true;
    const sqlite3_int64 changes_before = sqlite3_total_changes64(db);
    columns.clear();
    cells.clear();
    const int ncols = sqlite3_column_count(raw);
    for (int c = 0; c < ncols; ++c) columns.emplace_back(sqlite3_column_name(raw, c));
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      for (int c = 0; c < ncols; ++c) {
        if (sqlite3_column_type(raw, c) == SQLITE_NULL) {
          cells.emplace_back();
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
          cells.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(raw, c))));
        }
      }
    }
    if (rc != SQLITE_DONE) throw fail(rc);
    // sqlite3_changes64() keeps the count of the last INSERT, UPDATE or DELETE
    // through other statements (DDL, say); the difference of the totals does not.
    affected = sqlite3_total_changes64(db) - changes_before;
  }
  return db::Result(std::move(columns), std::move(cells), affected);
}

/// Opens connections to one SQLite database; holds its query log.
template <class L>
class Connector {
 public:
  using connection_type = Handle;

  Connector(const L& logger, const db::DatabaseConfig& c, bool read_only)
      : name_(c.name), target_(Target::from(c)), read_only_(read_only), create_(c.create_db),
        busy_timeout_ms_(static_cast<int>(std::min(c.pool_timeout.count() * 1000.0, 2e9))),
        logger_(logger),
        query_log_(logger, c.name, c.query_log_level()) {}

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const db::detail::QueryLog<L>& query_log() const noexcept { return query_log_; }
  [[nodiscard]] const Target& target() const noexcept { return target_; }

  [[nodiscard]] Handle open() const {
    int flags = SQLITE_OPEN_NOMUTEX;  // a pooled connection is used by one thread at a time
    // An in-memory database is always created; read-only, query_only guards it.
    if (target_.memory) flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    else if (read_only_) flags |= SQLITE_OPEN_READONLY;
    else flags |= SQLITE_OPEN_READWRITE | (create_ ? SQLITE_OPEN_CREATE : 0);
    if (target_.uri) flags |= SQLITE_OPEN_URI;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(target_.filename.c_str(), &raw, flags, nullptr);
    Handle h(raw);  // closes it on every path below
    if (rc != SQLITE_OK) {
      std::string why = error_text(raw, rc);
      if (rc == SQLITE_CANTOPEN && !create_ && !target_.memory)
        why += " (the file must exist; set create_db: true to create it)";
      throw db::ConnectionError(
          fmt::format("database '{}': cannot open SQLite database '{}': {}", name_, target_.filename, why));
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, busy_timeout_ms_);
    // Enforced by SQLite itself: any write fails with SQLITE_READONLY.
    if (read_only_) exec(raw, name_, "PRAGMA query_only = ON");
    return h;
  }

  /// An embedded database has no socket to lose.
  bool alive(Handle& h) const noexcept { return h.get() != nullptr; }

  bool ping(Handle& h) const noexcept {
    return h.get() != nullptr && sqlite3_exec(h.get(), "SELECT 1", nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  /// Rolls back a transaction a caller left open; SQLite says whether there is one,
  /// so a clean connection costs nothing.
  bool reset(Handle& h) const noexcept {
    if (sqlite3_get_autocommit(h.get()) != 0) return true;
    return sqlite3_exec(h.get(), "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  [[nodiscard]] const L& logger() const noexcept { return logger_; }
  [[nodiscard]] int busy_timeout_ms() const noexcept { return busy_timeout_ms_; }

  void round_trip(Handle& h) const { exec(h.get(), name_, "SELECT 1"); }

 private:
  std::string name_;
  Target target_;
  bool read_only_;
  bool create_;
  int busy_timeout_ms_;
  L logger_;
  db::detail::QueryLog<L> query_log_;
};

}  // namespace appinfra::sqlite::detail
