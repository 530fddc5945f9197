#pragma once
// The exceptions appinfra throws. Every message names the database and, for
// configuration errors, the key and the value; a password never appears in one.

#include <stdexcept>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::db {

/// Base of every appinfra::db error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What kind of failure an error is, from its SQLSTATE: what a caller can do
/// about it differs (retry the transaction, reconnect, fix the query).
enum class Failure {
  query,               ///< an error in the statement itself (syntax, constraint, ...)
  serialization,       ///< 40001: run the whole transaction again
  deadlock,            ///< 40P01: run the whole transaction again
  read_only,           ///< 25006: a write on a read-only transaction or a standby
  server_shutdown,     ///< 57P01: the server (or an administrator) ended the session
  server_crashed,      ///< 57P02: the server crashed; it is restarting
  server_starting,     ///< 57P03: the server is starting up or in recovery
  connection_lost,     ///< the connection broke (08xxx, or no answer), or an idle timeout ended it (57P05, 25P03)
  query_canceled,      ///< 57014 or SQLite's INTERRUPT: statement_timeout, a deadline or a cancel request
  busy,                ///< SQLite's BUSY or LOCKED: another connection holds the lock; run the transaction again
  in_doubt,            ///< 08007, 40003: the connection was lost during COMMIT; it may or may not have committed
};

/// How many Failure kinds there are: Failure's values are 0 to failure_kinds - 1.
inline constexpr std::size_t failure_kinds = static_cast<std::size_t>(Failure::in_doubt) + 1;

constexpr std::string_view to_string(Failure f) noexcept {
  constexpr std::string_view names[] = {"query",           "serialization",  "deadlock",       "read_only",
                                        "server_shutdown", "server_crashed", "server_starting", "connection_lost",
                                        "query_canceled",  "busy",           "in_doubt"};
  return names[static_cast<int>(f)];
}

/// The Failure a SQLSTATE stands for; SQLite's result codes are given as
/// "SQLITE_<extended code>".
constexpr Failure classify(std::string_view sqlstate) noexcept {
  if (sqlstate == "40001") return Failure::serialization;
  if (sqlstate == "40P01") return Failure::deadlock;
  if (sqlstate == "25006") return Failure::read_only;
  if (sqlstate == "57P01") return Failure::server_shutdown;
  if (sqlstate == "57P02") return Failure::server_crashed;
  if (sqlstate == "57P03") return Failure::server_starting;
  if (sqlstate == "57014") return Failure::query_canceled;
  if (sqlstate == "08007" || sqlstate == "40003") return Failure::in_doubt;
  // 08: connection exceptions; 57P05, 25P03: the session ended for idling.
  if (sqlstate.substr(0, 2) == "08" || sqlstate == "57P05" || sqlstate == "25P03") return Failure::connection_lost;
  if (sqlstate.substr(0, 7) == "SQLITE_") {
    int code = 0;
    for (char c : sqlstate.substr(7)) {
      if (c < '0' || c > '9' || code > 1'000'000) return Failure::query;
      code = code * 10 + (c - '0');
    }
    const int primary = code & 0xff;  // the extended code's low byte: SQLITE_BUSY_SNAPSHOT is a BUSY
    if (primary == 5 || primary == 6) return Failure::busy;  // SQLITE_BUSY, SQLITE_LOCKED
    if (primary == 9) return Failure::query_canceled;         // SQLITE_INTERRUPT: a deadline or sqlite3_interrupt()
  }
  return Failure::query;
}

namespace detail {
/// The SQLSTATE (or SQLite code) an error carries, and what it means.
class Classified {
 public:
  explicit Classified(std::string sqlstate) noexcept : sqlstate_(std::move(sqlstate)) {}
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
  [[nodiscard]] Failure failure() const noexcept { return classify(sqlstate_); }
  /// Running the whole transaction again may succeed: a serialization failure, a
  /// deadlock, or SQLite's BUSY/LOCKED. Never for in_doubt: it may have committed.
  [[nodiscard]] bool retryable() const noexcept {
    const Failure f = failure();
    return f == Failure::serialization || f == Failure::deadlock || f == Failure::busy;
  }

 private:
  std::string sqlstate_;
};
}  // namespace detail

/// The connection could not be opened, or broke. sqlstate() is what the server
/// said when it ended the session (57P01 shutdown or terminated, 57P02 crash of
/// another backend, 57P03 starting), when that could be recovered; otherwise
/// 08006 (connection_lost). failure() classifies it.
class ConnectionError : public Error, public detail::Classified {
 public:
  explicit ConnectionError(const std::string& what, std::string sqlstate = "08006")
      : Error(what), Classified(std::move(sqlstate)) {}
};

/// A read-write database found a server that cannot take writes: in recovery (a
/// standby) or read-only (after a failover, say). failure() is read_only.
class ReadOnlyServerError : public ConnectionError {
 public:
  explicit ReadOnlyServerError(const std::string& what) : ConnectionError(what, "25006") {}
};


/// A configuration value is missing or invalid (the seed's ValueError).
/// database(), key() and value() say which; value() is already redacted.
class ConfigError : public Error {
 public:
  ConfigError(std::string database, std::string key, std::string value, const std::string& what)
      : Error(what), database_(std::move(database)), key_(std::move(key)), value_(std::move(value)) {}
  [[nodiscard]] const std::string& database() const noexcept { return database_; }
  [[nodiscard]] const std::string& key() const noexcept { return key_; }
  [[nodiscard]] const std::string& value() const noexcept { return value_; }

 private:
  std::string database_, key_, value_;
};

/// The url's scheme is not accepted by any backend of the Manager.
class UnknownDBTypeException : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

/// setup() could not set up any database, or db() was asked for one whose setup failed.
class SetupError : public Error {
 public:
  using Error::Error;
};

/// db() was asked for a name that is not configured.
class NotFoundError : public Error {
 public:
  using Error::Error;
};


/// No connection became free within pool_timeout.
class PoolTimeoutError : public Error {
 public:
  using Error::Error;
};

/// The database or its pool is closed.
class ClosedError : public Error {
 public:
  using Error::Error;
};

/// A statement failed. sqlstate() holds the SQLSTATE (PostgreSQL) or the
/// extended result code (SQLite) when known; failure() says what kind it is.
class QueryError : public Error, public detail::Classified {
 public:
  QueryError(const std::string& what, std::string sqlstate) : Error(what), Classified(std::move(sqlstate)) {}
};

/// A migration failed, or the recorded ones disagree with the given ones (a
/// checksum mismatch). version() and name() say which; 0 and "" when none is.
class MigrationError : public Error {
 public:
  MigrationError(const std::string& what, std::int64_t version, std::string name)
      : Error(what), version_(version), name_(std::move(name)) {}
  [[nodiscard]] std::int64_t version() const noexcept { return version_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  std::int64_t version_;
  std::string name_;
};

/// A session was used in a way its state does not allow (after close(), say).
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace appinfra::db
