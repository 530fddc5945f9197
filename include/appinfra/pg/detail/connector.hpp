#pragma once
// PostgreSQL internals: the connector, error translation, result conversion and
// create_db. The only place besides pg/pg.hpp that includes libpqxx.

#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/identifier.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>

#include <fmt/core.h>
#include <pqxx/pqxx>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::pg::detail {

/// Removes a password from a server or library message: URL credentials,
/// password=... pairs, and the literal password itself.
inline std::string scrub(std::string_view text, const std::string& password) {
  std::string out = db::Url::redact(text);
  if (password.size() >= 1)
    for (std::size_t p = 0; (p = out.find(password, p)) != std::string::npos; p += 3)
      out.replace(p, password.size(), "***");
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

/// Decodes %XX escapes of a url component.
inline std::string percent_decode(std::string_view s) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// Where the first keyword of a statement starts: after white space, parentheses
/// and comments.
inline std::size_t keyword_start(std::string_view sql) {
  std::size_t i = 0;
  for (;;) {
    while (i < sql.size() && (sql[i] == ' ' || (sql[i] >= '\t' && sql[i] <= '\r') || sql[i] == '(')) ++i;
    if (sql.substr(i, 2) == "--") {
      const auto nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      return i;
    }
  }
}

/// The first keyword of a statement, lower case.
inline std::string first_keyword(std::string_view sql) {
  std::string word;  // at most 12 letters: no allocation
  for (std::size_t i = keyword_start(sql); i < sql.size() && word.size() < 12; ++i) {
    const char c = sql[i];
    if (c >= 'a' && c <= 'z') word += c;
    else if (c >= 'A' && c <= 'Z') word += static_cast<char>(c - 'A' + 'a');
    else break;
  }
  return word;
}

/// Whether `word` (lower case) appears in `text`, in any case.
inline bool contains_word(std::string_view text, std::string_view word) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find(word) != std::string::npos;
}

/// True when `sql` only reads, so that the row count libpq reports (for a SELECT,
/// the rows returned) is not a change count. A WITH statement is judged by its main
/// statement, after the parenthesised CTEs (skipping quoted text).
inline bool is_query(std::string_view sql) {
  const auto query_word = [](std::string_view w) {
    return w == "select" || w == "values" || w == "show" || w == "table" || w == "explain";
  };
  const std::string first = first_keyword(sql);
  if (first != "with") return query_word(first);
  int depth = 0;
  for (std::size_t i = keyword_start(sql) + 4; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      const auto end = sql.find(c, i + 1);
      if (end == std::string_view::npos) return false;
      i = end;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (depth == 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      std::string w;  // the whole word (a name like select_ids is not SELECT), lower case
      std::size_t j = i;
      for (; j < sql.size(); ++j) {
        const char d = sql[j];
        if (d >= 'A' && d <= 'Z') w += static_cast<char>(d - 'A' + 'a');
        else if ((d >= 'a' && d <= 'z') || (d >= '0' && d <= '9') || d == '_' || d == '$') w += d;
        else break;
      }
      if (query_word(w)) return true;
      if (w == "insert" || w == "update" || w == "delete" || w == "merge") return false;
      i = j - 1;
    }
  }
  return false;
}

/// A db::Result holding a copy of `r`; `query`: its row count is not a change count.
inline db::Result to_result(const pqxx::result& r, bool query) {
  std::vector<std::string> columns;
  const auto ncols = r.columns();
  columns.reserve(ncols);
  for (pqxx::row::size_type c = 0; c < ncols; ++c) columns.emplace_back(r.column_name(c));
  std::vector<std::optional<std::string>> cells;
  cells.reserve(r.size() * ncols);
  for (const auto& row : r)
    for (const auto& f : row) {
      if (f.is_null()) cells.emplace_back();
      else cells.emplace_back(std::string(f.c_str(), f.size()));
    }
  return db::Result(std::move(columns), std::move(cells), query ? 0 : static_cast<std::int64_t>(r.affected_rows()));
}

/// Adapts a parameter to what libpqxx 6 binds.
template <class T>
decltype(auto) param(const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) return std::string(v);
  else if constexpr (std::is_same_v<T, std::nullopt_t>) return nullptr;
  else return (v);
}

/// The appinfra exception for the libpqxx exception being handled (call it in a
/// catch block), without the password. Sets `lost` first, before any allocation,
/// when the connection must not be used again: broken, ended by the server
/// (57P01-57P03, 08xxx), or, for a read-write database, on a server that turned
/// read-only (25006 after a failover). Any other exception leaves it as it came.
/// Not a template, so that each statement path does not compile its own copy.
[[gnu::cold]] inline std::exception_ptr translate_current(const std::string& database, const std::string& password,
                                                         bool read_only_db, bool& lost) {
  const auto query_error = [&](const char* what, const std::string& state, const std::string& query) {
    const db::Failure kind = db::classify(state);
    lost = lost || kind == db::Failure::server_shutdown || kind == db::Failure::server_crashed ||
           kind == db::Failure::server_starting || kind == db::Failure::connection_lost ||
           (kind == db::Failure::read_only && !read_only_db);
    return std::make_exception_ptr(db::QueryError(
        fmt::format("database '{}': {} (SQLSTATE {}, {}){}{}", database, scrub(what, password), state,
                    db::to_string(kind), query.empty() ? "" : " in: ", db::detail::normalize_sql(scrub(query, password))),
        state));
  };
  const auto message = [&](const char* what) { return fmt::format("database '{}': {}", database, scrub(what, password)); };
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    lost = true;
    return std::make_exception_ptr(
        db::ConnectionError(fmt::format("database '{}': connection lost: {}", database, scrub(e.what(), password))));
  } catch (const pqxx::transaction_rollback& e) {
    // libpqxx 6 derives these from failure, not sql_error: they carry no SQLSTATE.
    const char* state = dynamic_cast<const pqxx::serialization_failure*>(&e)         ? "40001"
                        : dynamic_cast<const pqxx::deadlock_detected*>(&e)           ? "40P01"
                        : dynamic_cast<const pqxx::statement_completion_unknown*>(&e) ? "40003"
                                                                                      : "40000";
    lost = std::string_view(state) == "40003";
    return query_error(e.what(), state, "");
  } catch (const pqxx::in_doubt_error& e) {
    lost = true;
    return std::make_exception_ptr(
        db::Error(fmt::format("database '{}': commit outcome unknown (connection lost during commit): {}", database,
                              scrub(e.what(), password))));
  } catch (const pqxx::sql_error& e) {
    return query_error(e.what(), e.sqlstate(), e.query());
  } catch (const pqxx::usage_error& e) {
    return std::make_exception_ptr(db::UsageError(message(e.what())));
  } catch (const pqxx::conversion_error& e) {
    return std::make_exception_ptr(db::UsageError(message(e.what())));
  } catch (const pqxx::argument_error& e) {
    return std::make_exception_ptr(db::UsageError(message(e.what())));
  } catch (const pqxx::failure& e) {
    return std::make_exception_ptr(db::Error(message(e.what())));
  }
}

/// Runs `f`, translating libpqxx's exceptions into appinfra's (translate_current);
/// `invalidate()` is called when the connection must not be used again, also when
/// there is no memory left to describe why, and when the thread is cancelled in
/// the middle of a statement (its abi::__forced_unwind is rethrown as it came).
template <class F, class Invalidate>
decltype(auto) translate(const std::string& database, const std::string& password, bool read_only_db,
                         Invalidate&& invalidate, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const std::exception&) {
    bool lost = false;
    std::exception_ptr error;
    try {
      error = translate_current(database, password, read_only_db, lost);
    } catch (...) {  // not a libpqxx exception (rethrown as it came), or no memory for the message
      if (lost) invalidate();
      throw;
    }
    if (lost) invalidate();
    std::rethrow_exception(error);
  } catch (...) {  // the thread cancelled mid-statement (abi::__forced_unwind): must go on unwinding
    invalidate();
    throw;
  }
}

/// One pooled libpqxx connection (pqxx::connection cannot move, so it lives on the
/// heap) and whether it may be left in a transaction.
struct Handle {
  std::unique_ptr<pqxx::connection> pq;
  /// A transaction may be open on it (a BEGIN through execute(), or native() use):
  /// reset() rolls back on return. Clean connections need no round trip.
  bool dirty = false;
  /// Prepared statements declared on this connection (prepared by the server at
  /// their first use), and whether each only reads. A new connection starts with none.
  std::vector<std::pair<std::string, bool>> prepared;
};


/// Opens connections to one PostgreSQL database; holds its query log.
template <class L>
class Connector {
 public:
  using connection_type = Handle;

  Connector(const L& logger, const db::DatabaseConfig& c, bool read_only)
      : name_(c.name),
        password_(percent_decode(c.url.password())),
        conninfo_(conninfo(c)),
        target_(c.url.redacted()),
        url_(c.url),
        read_only_(read_only),
        setup_sql_(session_setup(c, read_only)),
        reset_sql_(session_reset(c, read_only)),
        logger_(logger),
        query_log_(logger, c.name, c.query_log_level(), c.query_log_params) {
    if (c.create_db) ensure_database();
  }

  [[nodiscard]] bool read_only() const noexcept { return read_only_; }

  /// Creates the database when it is missing, through the maintenance database.
  /// Several processes may start at once: an advisory lock serialises them, and a
  /// duplicate_database error from a racing creator counts as success.
  void ensure_database() const {
    const std::string dbname = percent_decode(url_.path());
    if (dbname.empty())
      throw db::ConfigError(name_, "create_db", "true",
                            fmt::format("database '{}': key 'create_db' is true but url '{}' names no database",
                                        name_, target_));
    try {
      pqxx::connection admin(admin_conninfo());
      no_reactivation(admin);
      pqxx::nontransaction t(admin);
      t.exec("SELECT pg_advisory_lock(hashtext('appinfra.create_db'))");
      if (t.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", dbname).empty()) {
        try {
          t.exec("CREATE DATABASE " + admin.quote_name(dbname));
          db::detail::log(logger_, log::Level::info, "database '{}': created database {}", name_, dbname);
        } catch (const pqxx::sql_error& e) {
          if (e.sqlstate() != "42P04") throw;  // 42P04: duplicate_database
        }
      }
      t.exec("SELECT pg_advisory_unlock(hashtext('appinfra.create_db'))");
    } catch (const pqxx::failure& e) {
      throw db::ConnectionError(fmt::format("database '{}': create_db: cannot create database '{}' on {}: {}", name_,
                                            dbname, target_, scrub(e.what(), password_)));
    }
  }

  /// Registers a prepared statement for every connection of this database.
  /// Throws UsageError for a bad name, or a name registered with another text.
  void prepare(const std::string& name, const std::string& sql) {
    if (!db::detail::is_identifier(name))
      throw db::UsageError(fmt::format("database '{}': invalid prepared statement name '{}' (expected [a-z][a-z0-9_]*)",
                                       name_, name));
    std::lock_guard lock(prepared_->mutex);
    for (const auto& [n, text] : prepared_->statements)
      if (n == name) {
        if (text != sql)
          throw db::UsageError(
              fmt::format("database '{}': prepared statement '{}' is already registered with another text", name_, name));
        return;
      }
    prepared_->statements.emplace_back(name, sql);
  }

  /// Declares `name` on connection `h` if it is not yet; returns whether the
  /// statement only reads (is_query). Throws UsageError for an unknown name.
  bool declare(Handle& h, const std::string& name) const {
    for (const auto& [p, query] : h.prepared)
      if (p == name) return query;
    std::string sql;
    {
      std::lock_guard lock(prepared_->mutex);
      for (const auto& [n, text] : prepared_->statements)
        if (n == name) sql = text;
    }
    if (sql.empty())
      throw db::UsageError(fmt::format("database '{}': no prepared statement named '{}' (call prepare() first)", name_, name));
    h.pq->prepare(name, sql);
    h.prepared.emplace_back(name, is_query(sql));
    return h.prepared.back().second;
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::string& password() const noexcept { return password_; }
  [[nodiscard]] const L& logger() const noexcept { return logger_; }
  [[nodiscard]] const db::detail::QueryLog<L>& query_log() const noexcept { return query_log_; }

  /// One connection attempt (the pool retries). Throws ConnectionError naming the
  /// database and the url without its password.
  [[nodiscard]] Handle open() const {
    std::unique_ptr<pqxx::connection> c;
    bool server_read_only = false;
    try {
      c = std::make_unique<pqxx::connection>(conninfo_);
      no_reactivation(*c);
      // One round trip: the session's settings, and for a read-write database the
      // server's role.
      pqxx::nontransaction t(*c);
      const pqxx::result r = t.exec(setup_sql_);
      server_read_only = !read_only_ && r[0][0].as<bool>();
    } catch (const pqxx::failure& e) {
      throw db::ConnectionError(
          fmt::format("database '{}': cannot connect to {}: {}", name_, target_, scrub(e.what(), password_)));
    }
    if (server_read_only)
      throw db::ReadOnlyServerError(fmt::format("database '{}': the server at {} is read-only (in recovery, or "
                                            "default_transaction_read_only is on); a read-write database needs the "
                                            "primary",
                                            name_, target_));
    return Handle{std::move(c), false, {}};
  }

  /// Without a round trip: is the socket still open, with nothing but benign
  /// messages waiting? A server that terminated the session (shutdown, restart,
  /// pg_terminate_backend) sends an ErrorResponse and closes the socket; both show
  /// here. Anything unrecognised (TLS records, say) gets a real ping instead.
  bool alive(Handle& h) const noexcept {
    if (!h.pq || !h.pq->is_open()) return false;
    const int fd = h.pq->sock();
    if (fd < 0) return false;
    char type = 0;
    const ssize_t n = ::recv(fd, &type, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;                                                     // closed by the server
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;  // nothing waiting
    if (type == 'N' || type == 'A') return true;  // a notice or a notification
    if (type == 'E') return false;                // an error out of band: terminated
    // 'S', a parameter changed (default_transaction_read_only after a failover, say),
    // or anything unrecognised: ask the server.
    return ping(h);
  }

  /// A round trip on a connection that libpq still thinks is open: `SELECT 1`, or
  /// for a read-write database the role check, which a `SELECT 1` would pass on a
  /// server that turned read-only after a failover.
  bool ping(Handle& h) const noexcept {
    if (!h.pq || !h.pq->is_open()) return false;
    try {
      pqxx::nontransaction t(*h.pq);
      if (read_only_) {
        t.exec("SELECT 1");
        return true;
      }
      return !t.exec(role_sql)[0][0].as<bool>();
    } catch (...) {
      return false;
    }
  }

  /// Rolls back a connection that may be inside a transaction; a clean one costs
  /// nothing.
  bool reset(Handle& h) const noexcept {
    if (!h.dirty) return true;
    try {
      pqxx::nontransaction t(*h.pq);
      t.exec("ROLLBACK");  // only a notice when no transaction is open
      // A SET may have changed the session: put back what this database needs.
      t.exec(reset_sql_);
      h.dirty = false;
      return true;
    } catch (...) {
      return false;
    }
  }

  void round_trip(Handle& h) const {
    translate(name_, password_, read_only_, [] {}, [&] {
      pqxx::nontransaction t(*h.pq);
      t.exec("SELECT 1");
    });
  }


 private:
  // libpqxx 6 silently reconnects a broken connection on its next use, losing
  // session state unseen; replacing broken connections is the pool's job.
  static void no_reactivation(pqxx::connection& c) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    c.inhibit_reactivation(true);
#pragma GCC diagnostic pop
  }

  // True when the server cannot take writes: in recovery (a standby) or with
  // default_transaction_read_only on.
  static constexpr const char* role_sql =
      "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'";

  // RESET ALL, then the settings this database's connections are opened with.
  static std::string session_reset(const db::DatabaseConfig& c, bool read_only) {
    std::string sql = "RESET ALL";
    if (read_only) sql += "; SET default_transaction_read_only = on";
    if (c.statement_timeout)
      sql += fmt::format("; SET statement_timeout = {}", static_cast<long long>(c.statement_timeout->count() * 1000.0));
    return sql;
  }

  static std::string session_setup(const db::DatabaseConfig& c, bool read_only) {
    std::string sql;
    // Also the default for autocommit statements; sessions say READ ONLY themselves.
    if (read_only) sql += "SET default_transaction_read_only = on; ";
    if (c.statement_timeout)
      sql += fmt::format("SET statement_timeout = {}; ", static_cast<long long>(c.statement_timeout->count() * 1000.0));
    return sql + (read_only ? "SELECT false" : role_sql);
  }

  // The url as given, plus what it does not say: connect_timeout (without it libpq
  // waits for an unreachable host as long as TCP does) and TCP keepalives (a dead
  // peer is noticed in about two minutes, not hours). Multi-host lists and
  // target_session_attrs pass through to libpq untouched.
  static std::string conninfo(const db::DatabaseConfig& c) {
    std::string text = c.url.text();
    const auto add = [&](std::string_view key, const std::string& value) {
      if (text.find(std::string(key) + "=") != std::string::npos) return;
      text += (text.find('?') == std::string::npos ? "?" : "&") + std::string(key) + "=" + value;
    };
    add("connect_timeout", std::to_string(std::max(2L, static_cast<long>(std::ceil(c.pool_timeout.count())))));
    if (c.keepalives) {
      add("keepalives", "1");
      add("keepalives_idle", "60");
      add("keepalives_interval", "10");
      add("keepalives_count", "6");
    }
    return text;
  }

  std::string admin_conninfo() const {
    const std::string admin = url_.with_path("postgres");
    return admin + (admin.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10";
  }

  std::string name_;
  std::string password_;
  std::string conninfo_;
  std::string target_;
  db::Url url_;
  bool read_only_;
  std::string setup_sql_;
  std::string reset_sql_;
  L logger_;
  struct Prepared {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> statements;  // name, text
  };
  std::unique_ptr<Prepared> prepared_ = std::make_unique<Prepared>();  // keeps the connector movable
  db::detail::QueryLog<L> query_log_;
};

}  // namespace appinfra::pg::detail
