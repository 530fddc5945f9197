#pragma once
#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/db/stats.hpp>

#include <chrono>
#include <concepts>
#include <string_view>

namespace appinfra::db {

/// A transaction: `execute(sql)` runs a statement in it (beginning it at first use);
/// `commit()` and `rollback()` end it; `close()` rolls back what is uncommitted and
/// gives the connection back. Destroying a session without commit() rolls back.
template <class S>
concept Session = std::movable<S> && requires(S& s, std::string_view sql) {
  { s.execute(sql) } -> std::same_as<Result>;
  s.commit();
  s.rollback();
  s.close();
};

/// A pooled connection in autocommit mode; goes back to the pool when destroyed.
template <class C>
concept Connection = std::movable<C> && requires(C& c, std::string_view sql) {
  { c.execute(sql) } -> std::same_as<Result>;
  c.close();
};

/// The seed's `Interface`: what every database backend provides.
///
/// Requirements:
/// - `B::accepts(config)`: whether this backend type serves that database
///   configuration (its url scheme and its readonly flag); the Manager's factory
///   instantiates the first backend of its type list that accepts it.
/// - `B::schemes`: the url schemes it serves, for error messages;
///   `B::access_type`: its Access policy.
/// - `B(logger, config)`: connects, or throws ConfigError / ConnectionError.
/// - `connect()`: a pooled Connection; `session()`: a Session (both take an
///   optional std::source_location, recorded for pool diagnostics).
/// - `health_check()`: a timed `SELECT 1` round trip, never throws.
/// - `get_pool_status()`, `close()` (idempotent, noexcept), `drain(deadline)`
///   (close, after waiting for checked-out connections), `name()`.
/// Laws: every member function but close() is thread-safe; the backend outlives
/// nothing it hands out (connections and sessions may outlive it; they are then
/// closed on return).
/// Models: pg::PG, sqlite::SQLite, the test stub backend.
template <class B>
concept Interface = requires(B& b, const B& cb, const DatabaseConfig& config) {
  typename B::logger_type;
  requires Logger<typename B::logger_type>;
  typename B::access_type;
  requires Access<typename B::access_type>;
  { B::accepts(config) } -> std::convertible_to<bool>;
  { B::schemes } -> std::convertible_to<std::string_view>;
  requires std::constructible_from<B, const typename B::logger_type&, DatabaseConfig>;
  { b.connect() } -> Connection;
  { b.session() } -> Session;
  { b.health_check() } -> std::same_as<HealthResult>;
  { cb.get_pool_status() } -> std::same_as<PoolStatus>;
  { b.close() } noexcept;
  { b.drain(std::chrono::steady_clock::time_point()) } -> std::convertible_to<std::size_t>;
  { cb.name() } -> std::convertible_to<std::string_view>;
};

}  // namespace appinfra::db
