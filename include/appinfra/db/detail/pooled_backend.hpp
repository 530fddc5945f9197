#pragma once
// What every pooled backend shares: its configuration, logger, query log and pool,
// connect(), session(), transaction() and migrations, the health check and the pool
// status.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/concepts/pool.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/transaction.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/pool/clock.hpp>
#include <appinfra/db/pool/options.hpp>
#include <appinfra/db/stats.hpp>

#include <chrono>
#include <exception>
#include <source_location>
#include <string>
#include <utility>
#include <vector>

namespace appinfra::db::detail {

/// CRTP base of a backend built on a Connector and a pool policy. The connector
/// must also provide `round_trip(conn)`: one `SELECT 1`, throwing on failure. It
/// holds what connections need after the backend is gone (the query log), since it
/// lives in the pool's state.
///
/// Derived names what it hands out, `Derived::Connection` and `Derived::Session`,
/// each made by this base (a friend) from a lease and the deadline (`Deadline{}`:
/// none). A read-write Derived that has `migration_dialect()` (how migrations lock
/// and prepare; see MigrationRunner) gets migrate() and migration_status().
template <class Derived, class C, class Policy, Logger L>
  requires PoolPolicy<Policy, C, CoarseClock>
class PooledBackend {
 public:
  using logger_type = L;
  using pool_type = typename Policy::template pool<C, CoarseClock>;
  using lease_type = typename pool_type::lease_type;

  /// A pooled connection. `where` is recorded for pool diagnostics (leave the
  /// default).
  [[nodiscard]] auto connect(std::source_location where = std::source_location::current()) {
    return typename Derived::Connection(pool_.acquire(where), Deadline{});
  }
  /// A connection whose checkout waits no longer than `deadline` (PoolTimeoutError)
  /// and whose every statement is bounded by it.
  [[nodiscard]] auto connect(Deadline deadline, std::source_location where = std::source_location::current()) {
    return typename Derived::Connection(pool_.acquire(where, deadline), deadline);
  }
  /// A session; `where` is recorded for pool diagnostics (leave the default).
  [[nodiscard]] auto session(std::source_location where = std::source_location::current()) {
    return typename Derived::Session(pool_.acquire(where), Deadline{});
  }
  /// A session whose checkout waits no longer than `deadline` and whose statements,
  /// BEGIN and COMMIT are bounded by it (a rollback runs past it).
  [[nodiscard]] auto session(Deadline deadline, std::source_location where = std::source_location::current()) {
    return typename Derived::Session(pool_.acquire(where, deadline), deadline);
  }

  /// connect(deadline) whose checkout also gives up at `checkout` (a router that
  /// tries one host for a while, then another: pg::Replicated); the statements
  /// are bounded by `deadline` only.
  [[nodiscard]] auto connect_within(Deadline checkout, Deadline deadline,
                                    std::source_location where = std::source_location::current()) {
    return typename Derived::Connection(pool_.acquire(where, earliest(checkout, deadline)), deadline);
  }
  /// session(deadline) whose checkout also gives up at `checkout` (see connect_within).
  [[nodiscard]] auto session_within(Deadline checkout, Deadline deadline,
                                    std::source_location where = std::source_location::current()) {
    return typename Derived::Session(pool_.acquire(where, earliest(checkout, deadline)), deadline);
  }

  /// Runs `f(session)` in a transaction and commits; when the attempt fails for a
  /// reason a new attempt may cure (QueryError::retryable(): PostgreSQL's
  /// serialization failure 40001 or deadlock 40P01, SQLite's BUSY or LOCKED), runs
  /// the whole function again in a new transaction after a growing wait (10 ms,
  /// doubling, at most 1 s, with jitter), at most `max_attempts` times in all (see
  /// run_transaction). Any other error, and one whose outcome is unknown (in_doubt:
  /// the connection lost during commit), is thrown at once: nothing that may have
  /// run is sent again. Returns what `f` returns.
  template <class F>
  decltype(auto) transaction(F&& f, int max_attempts = 3,
                             std::source_location where = std::source_location::current()) {
    return run_transaction(derived(), logger_, std::forward<F>(f), max_attempts, where);
  }

  /// Applies the pending migrations, in version order, each in its own transaction
  /// with its record in `schema_migrations`, serialised between processes by the
  /// dialect's lock, so that each is applied exactly once; hooks run before and
  /// after. Throws MigrationError naming the migration that failed (rolled back;
  /// earlier ones stay) or one edited after it was applied. Read-write only.
  template <class D = Derived>  // dependent: Derived is incomplete here (clang 14 checks early)
  MigrateResult migrate(const Migrations& m, MigrateOptions o = {},
                        std::source_location where = std::source_location::current())
    requires(std::same_as<D, Derived> && !D::access_type::read_only && requires(D& d) { d.migration_dialect(); })
  {
    auto c = connect(where);
    MigrationRunner runner(c, derived().migration_dialect(), name());
    return runner.migrate(m, o);
  }

  /// Where each given (and each recorded but unknown) migration stands.
  template <class D = Derived>
  std::vector<MigrationState> migration_status(const Migrations& m,
                                               std::source_location where = std::source_location::current())
    requires(std::same_as<D, Derived> && !D::access_type::read_only && requires(D& d) { d.migration_dialect(); })
  {
    auto c = connect(where);
    MigrationRunner runner(c, derived().migration_dialect(), name());
    return runner.status(m);
  }

  [[nodiscard]] const std::string& name() const noexcept { return config_.name; }
  [[nodiscard]] const DatabaseConfig& config() const noexcept { return config_; }
  [[nodiscard]] const L& logger() const noexcept { return logger_; }

  /// A timed `SELECT 1` on a pooled connection. Never throws.
  [[nodiscard]] HealthResult health_check(std::source_location where = std::source_location::current()) noexcept {
    HealthResult r;
    const auto start = std::chrono::steady_clock::now();
    try {
      lease_type lease = pool_.acquire(where);
      try {
        pool_.connector().round_trip(lease.get());
      } catch (...) {
        lease.invalidate();
        throw;
      }
      r.status = HealthStatus::healthy;
    } catch (const std::exception& e) {
      r.error = e.what();
    } catch (...) {
      r.error = "unknown error";
    }
    r.response_time_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return r;
  }

  /// The pool's status, with the connector's own counters (its statement cache)
  /// when it keeps any: a connector adds them with `add_to(PoolStatus&) const`;
  /// and its failures by kind when it counts them (`failures()`, a FailureCounter).
  [[nodiscard]] PoolStatus get_pool_status() const {
    PoolStatus s = pool_.status();
    if constexpr (requires(const pool_type& p) { p.connector().add_to(s); }) pool_.connector().add_to(s);
    if constexpr (requires(const pool_type& p) { p.connector().failures().add_to(s); })
      pool_.connector().failures().add_to(s);
    return s;
  }

  /// Closes the pool: idle connections now, checked-out ones when returned. Idempotent.
  void close() noexcept { pool_.close(); }

  /// Stops handing out connections, waits until `deadline` for checked-out ones to
  /// come back, closes everything. Returns how many were still out (closed when
  /// they are returned). Idempotent.
  std::size_t drain(std::chrono::steady_clock::time_point deadline) noexcept { return pool_.drain(deadline); }

 protected:
  /// Warms the pool up (min_idle connections, or one when lazy), so that setup()
  /// reports an unreachable database at once.
  PooledBackend(L logger, DatabaseConfig config, C connector, PoolOptions options)
      : logger_(std::move(logger)),
        config_(std::move(config)),
        pool_(std::move(connector), options) {
    pool_.warm_up();
    detail::log_at(logger_, log::Level::debug, "database '{}': connected to {}", config_.name,
                   config_.url.redacted());
  }
  ~PooledBackend() = default;

  Derived& derived() noexcept { return static_cast<Derived&>(*this); }

  L logger_;
  DatabaseConfig config_;
  pool_type pool_;
};

}  // namespace appinfra::db::detail
