#pragma once
// The exceptions appinfra throws. Every message names the database and, for
// configuration errors, the key and the value; a password never appears in one.

#include <stdexcept>
#include <string>
#include <utility>

namespace appinfra::db {

/// Base of every appinfra::db error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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

/// Could not open a connection to the database.
class ConnectionError : public Error {
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
/// extended result code (SQLite) when known.
class QueryError : public Error {
 public:
  QueryError(const std::string& what, std::string sqlstate)
      : Error(what), sqlstate_(std::move(sqlstate)) {}
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  std::string sqlstate_;
};

/// A session was used in a way its state does not allow (after close(), say).
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace appinfra::db
