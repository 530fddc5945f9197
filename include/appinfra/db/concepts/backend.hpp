#pragma once
#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/db/stats.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <source_location>
#include <string_view>

namespace appinfra::db {

/// A transaction on one pooled connection (what a backend's `session()` returns,
/// and what AnySession dispatches to).
///
/// Requirements (`s` an S, `sql` a std::string_view, `deadline` a db::Deadline):
/// - S is movable (AnySession holds it in a std::variant).
/// - `s.execute(sql)` and `s.execute(deadline, sql)` -> Result: run a statement in
///   the transaction, beginning it at first use; the second is bounded by the
///   earlier of `deadline` and the session's own.
/// - `s.commit()`, `s.rollback()`: end the transaction.
/// - `s.close()`, noexcept: rolls back what is uncommitted and gives the connection back.
/// - `std::as_const(s).in_transaction()`, noexcept -> bool: a transaction is open.
/// Laws: a session that is destroyed or closed without commit() rolls back;
/// close() is idempotent; in_transaction() is false after commit() and rollback().
/// Models: pg::PG<>::Session, sqlite::SQLite<>::Session, the test stub backend's Session.
/// Minimal definition: the members above; execute may take further parameters
/// (`execute(sql, args...)`), which AnySession forwards.
template <class S>
concept Session = std::movable<S> && requires(S& s, const S& cs, std::string_view sql, Deadline deadline) {
  { s.execute(sql) } -> std::same_as<Result>;
  { s.execute(deadline, sql) } -> std::same_as<Result>;
  s.commit();
  s.rollback();
  { s.close() } noexcept;
  { cs.in_transaction() } noexcept -> std::convertible_to<bool>;
};

/// A pooled connection in autocommit mode (what a backend's `connect()` returns,
/// and what AnyConnection dispatches to).
///
/// Requirements: C is movable; `c.execute(sql)` and `c.execute(deadline, sql)`
/// -> Result; `c.close()`, noexcept: gives the connection back at once.
/// Laws: the connection goes back to its pool when closed or destroyed, once;
/// close() is idempotent.
/// Models: pg::PG<>::Connection, sqlite::SQLite<>::Connection, the stub's Connection.
template <class C>
concept Connection = std::movable<C> && requires(C& c, std::string_view sql, Deadline deadline) {
  { c.execute(sql) } -> std::same_as<Result>;
  { c.execute(deadline, sql) } -> std::same_as<Result>;
  { c.close() } noexcept;
};

/// The seed's `Interface`: what every database backend provides; exactly what
/// Manager, StaticManager (detail::ManagerBase) and Database call on it, so a type
/// that satisfies it compiles in both.
///
/// Requirements (`b` a B, `where` a std::source_location, `deadline` a db::Deadline,
/// `config` a const DatabaseConfig&):
/// - `B::logger_type`, a Logger (all backends of a Manager share it);
///   `B::access_type`, an Access policy (`B::access_type::read_only`).
/// - `B::accepts(config)` -> bool: whether this backend type serves that database
///   configuration (its url scheme and its readonly flag); the Manager's factory
///   instantiates the first backend of its type list that accepts it.
/// - `B::schemes` -> std::string_view: the url schemes it serves, for error messages.
/// - `B(logger, config)` from a `const logger_type&` and a `const DatabaseConfig&`:
///   connects, or throws ConfigError / ConnectionError. B need not be movable (the
///   managers build it in place).
/// - `b.connect()`, `b.connect(where)`, `b.connect(deadline)`, `b.connect(deadline, where)`:
///   the same Connection type; `where` is recorded for pool diagnostics, `deadline`
///   bounds the checkout (PoolTimeoutError) and every statement.
/// - `b.session()`, `b.session(where)`, `b.session(deadline)`, `b.session(deadline, where)`:
///   the same Session type, likewise.
/// - `b.health_check()`, `b.health_check(where)` -> HealthResult: a timed round
///   trip, never throws.
/// - `std::as_const(b).get_pool_status()` -> PoolStatus; `std::as_const(b).name()`.
/// - `b.close()`, noexcept; `b.drain(steady_clock::time_point)` -> the number of
///   connections still checked out when it gave up waiting.
/// - Optional: `b.migrate(migrations, options)`, called by ManagerBase::migrate()
///   when present (backends without it are skipped).
/// Laws: every member function but close() and drain() is thread-safe; close() and
/// drain() are idempotent; connections and sessions may outlive the backend (they
/// are closed on return); a session rolls back unless committed; get_pool_status()
/// counts each connection once (tests/support/laws/backend.hpp checks these).
/// Models: pg::PG, sqlite::SQLite, the test stub backend (tests/support/stub_backend.hpp)
/// and the custom-pool backend of tests/unit/test_custom_pool.cpp.
/// Minimal definition: derive from detail::PooledBackend<Self, Connector, PoolPolicy,
/// Logger> (it gives name(), connect(), session(), health_check(), get_pool_status(),
/// close(), drain()) and add access_type, schemes, accepts(), the constructor and the
/// Connection and Session types it hands out.
template <class B>
concept Interface = requires(B& b, const B& cb, const DatabaseConfig& config, std::source_location where,
                             Deadline deadline) {
  typename B::logger_type;
  requires Logger<typename B::logger_type>;
  typename B::access_type;
  requires Access<typename B::access_type>;
  { B::accepts(config) } -> std::convertible_to<bool>;
  { B::schemes } -> std::convertible_to<std::string_view>;
  requires std::constructible_from<B, const typename B::logger_type&, const DatabaseConfig&>;
  { b.connect() } -> Connection;
  { b.connect(where) } -> std::same_as<decltype(b.connect())>;
  { b.connect(deadline) } -> std::same_as<decltype(b.connect())>;
  { b.connect(deadline, where) } -> std::same_as<decltype(b.connect())>;
  { b.session() } -> Session;
  { b.session(where) } -> std::same_as<decltype(b.session())>;
  { b.session(deadline) } -> std::same_as<decltype(b.session())>;
  { b.session(deadline, where) } -> std::same_as<decltype(b.session())>;
  { b.health_check() } -> std::same_as<HealthResult>;
  { b.health_check(where) } -> std::same_as<HealthResult>;
  { cb.get_pool_status() } -> std::same_as<PoolStatus>;
  { b.close() } noexcept;
  { b.drain(std::chrono::steady_clock::time_point()) } -> std::convertible_to<std::size_t>;
  { cb.name() } -> std::convertible_to<std::string_view>;
};

}  // namespace appinfra::db
