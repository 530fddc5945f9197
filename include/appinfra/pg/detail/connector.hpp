#pragma once
// PostgreSQL internals: the connector, error translation, result conversion and
// create_db. The only place besides pg/pg.hpp that includes libpqxx.

#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>

#include <fmt/format.h>
#include <pqxx/pqxx>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <memory>
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

/// The first keyword of a statement, lower case.
inline std::string first_keyword(std::string_view sql) {
  std::size_t i = 0;
  for (;;) {  // white space, parentheses and comments
    while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) ++i;
    if (sql.substr(i, 2) == "--") {
      const auto nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  std::string word;
  while (i < sql.size() && word.size() < 12 && std::isalpha(static_cast<unsigned char>(sql[i])))
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i++])));
  return word;
}

/// Whether `word` (lower case) appears in `text`, in any case.
inline bool contains_word(std::string_view text, std::string_view word) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find(word) != std::string::npos;
}

/// True when `sql` only reads: its row count is not a change count.
inline bool is_query(std::string_view sql) {
  const std::string w = first_keyword(sql);
  return w == "select" || w == "values" || w == "show" || w == "table" || w == "explain";
}

inline db::Result to_result(const pqxx::result& r, std::string_view sql) {
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
  const std::int64_t affected = is_query(sql) ? 0 : static_cast<std::int64_t>(r.affected_rows());
  return db::Result(std::move(columns), std::move(cells), affected);
}

/// Adapts a parameter to what libpqxx 6 binds.
template <class T>
decltype(auto) param(const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) return std::string(v);
  else if constexpr (std::is_same_v<T, std::nullopt_t>) return nullptr;
  else return (v);
}

/// Runs `f` and translates libpqxx's exceptions into appinfra's, without the
/// password. `invalidate()` is called when the connection is broken, so that the
/// pool never hands it out again.
template <class F, class Invalidate>
decltype(auto) translate(const std::string& database, const std::string& password, Invalidate&& invalidate, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const pqxx::broken_connection& e) {
    invalidate();
    throw db::ConnectionError(fmt::format("database '{}': connection lost: {}", database, scrub(e.what(), password)));
  } catch (const pqxx::transaction_rollback& e) {
    // libpqxx 6 derives these from failure, not sql_error: they carry no SQLSTATE.
    const char* state = dynamic_cast<const pqxx::serialization_failure*>(&e)   ? "40001"
                        : dynamic_cast<const pqxx::deadlock_detected*>(&e)     ? "40P01"
                        : dynamic_cast<const pqxx::statement_completion_unknown*>(&e) ? "40003"
                                                                                      : "40000";
    if (std::string_view(state) == "40003") invalidate();
    throw db::QueryError(fmt::format("database '{}': {} (SQLSTATE {})", database, scrub(e.what(), password), state),
                         state);
  } catch (const pqxx::in_doubt_error& e) {
    invalidate();
    throw db::Error(fmt::format("database '{}': commit outcome unknown (connection lost during commit): {}",
                                database, scrub(e.what(), password)));
  } catch (const pqxx::sql_error& e) {
    throw db::QueryError(fmt::format("database '{}': {} (SQLSTATE {}) in: {}", database,
                                     scrub(e.what(), password), e.sqlstate(),
                                     db::detail::normalize_sql(scrub(e.query(), password))),
                         e.sqlstate());
  } catch (const pqxx::usage_error& e) {
    throw db::UsageError(fmt::format("database '{}': {}", database, scrub(e.what(), password)));
  } catch (const pqxx::conversion_error& e) {
    throw db::UsageError(fmt::format("database '{}': {}", database, scrub(e.what(), password)));
  } catch (const pqxx::argument_error& e) {
    throw db::UsageError(fmt::format("database '{}': {}", database, scrub(e.what(), password)));
  } catch (const pqxx::failure& e) {
    throw db::Error(fmt::format("database '{}': {}", database, scrub(e.what(), password)));
  }
}

/// One pooled libpqxx connection (pqxx::connection cannot move, so it lives on the
/// heap) and whether it may be left in a transaction.
struct Handle {
  std::unique_ptr<pqxx::connection> pq;
  /// A transaction may be open on it (a BEGIN through execute(), or native() use):
  /// reset() rolls back on return. Clean connections need no round trip.
  bool dirty = false;
};

/// Opens connections to one PostgreSQL database; holds its query log.
template <class L>
class Connector {
 public:
  using connection_type = Handle;

  Connector(const L& logger, const db::DatabaseConfig& c, bool read_only)
      : name_(c.name),
        password_(percent_decode(c.url.password())),
        conninfo_(with_connect_timeout(c)),
        target_(c.url.redacted()),
        read_only_(read_only),
        logger_(logger),
        query_log_(logger, c.name, c.query_log_level()) {
    if (c.create_db) ensure_database(c);
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::string& password() const noexcept { return password_; }
  [[nodiscard]] const L& logger() const noexcept { return logger_; }
  [[nodiscard]] const db::detail::QueryLog<L>& query_log() const noexcept { return query_log_; }

  /// One connection attempt (the pool retries). Throws ConnectionError naming the
  /// database and the url without its password.
  [[nodiscard]] Handle open() const {
    try {
      auto c = std::make_unique<pqxx::connection>(conninfo_);
      no_reactivation(*c);
      if (read_only_) {
        // Also the default for autocommit statements; sessions say READ ONLY themselves.
        pqxx::nontransaction t(*c);
        t.exec("SET default_transaction_read_only = on");
      }
      return Handle{std::move(c), false};
    } catch (const pqxx::failure& e) {
      throw db::ConnectionError(
          fmt::format("database '{}': cannot connect to {}: {}", name_, target_, scrub(e.what(), password_)));
    }
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
    if (type == 'N' || type == 'A' || type == 'S') return true;  // notice, notification, parameter
    if (type == 'E') return false;                               // an error out of band: terminated
    return ping(h);
  }

  /// A `SELECT 1` round trip on a connection that libpq still thinks is open.
  bool ping(Handle& h) const noexcept {
    if (!h.pq || !h.pq->is_open()) return false;
    try {
      pqxx::nontransaction t(*h.pq);
      t.exec("SELECT 1");
      return true;
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
      h.dirty = false;
      return true;
    } catch (...) {
      return false;
    }
  }

  void round_trip(Handle& h) const {
    translate(name_, password_, [] {}, [&] {
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

  // Without connect_timeout, libpq waits for an unreachable host as long as TCP does.
  static std::string with_connect_timeout(const db::DatabaseConfig& c) {
    const std::string& text = c.url.text();
    if (text.find("connect_timeout=") != std::string::npos) return text;
    const long seconds = std::max(2L, static_cast<long>(std::ceil(c.pool_timeout.count())));
    return text + (c.url.query().empty() ? "?" : "&") + "connect_timeout=" + std::to_string(seconds);
  }

  // Creates the database when it is missing, through the maintenance database.
  // Several processes may start at once: an advisory lock serialises them, and a
  // duplicate_database error from a racing creator counts as success.
  void ensure_database(const db::DatabaseConfig& c) const {
    const std::string dbname = percent_decode(c.url.path());
    if (dbname.empty())
      throw db::ConfigError(c.name, "create_db", "true",
                            fmt::format("database '{}': key 'create_db' is true but url '{}' names no database",
                                        c.name, c.url.redacted()));
    try {
      pqxx::connection admin(c.url.with_path("postgres"));
      no_reactivation(admin);
      pqxx::nontransaction t(admin);
      t.exec("SELECT pg_advisory_lock(hashtext('appinfra.create_db'))");
      if (t.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", dbname).empty()) {
        try {
          t.exec("CREATE DATABASE " + admin.quote_name(dbname));
          db::detail::log(logger_, log::Level::info, "database '{}': created database {}", c.name, dbname);
        } catch (const pqxx::sql_error& e) {
          if (e.sqlstate() != "42P04") throw;  // 42P04: duplicate_database
        }
      }
      t.exec("SELECT pg_advisory_unlock(hashtext('appinfra.create_db'))");
    } catch (const pqxx::failure& e) {
      throw db::ConnectionError(fmt::format("database '{}': create_db: cannot create database '{}' on {}: {}", c.name,
                                            dbname, c.url.redacted(), scrub(e.what(), password_)));
    }
  }

  std::string name_;
  std::string password_;
  std::string conninfo_;
  std::string target_;
  bool read_only_;
  L logger_;
  db::detail::QueryLog<L> query_log_;
};

}  // namespace appinfra::pg::detail
