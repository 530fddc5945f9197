#pragma once
// The SQLite backend.

#include <appinfra/db/access.hpp>
#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/leased.hpp>
#include <appinfra/db/detail/pooled_backend.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/pool/queue_pool.hpp>
#include <appinfra/db/pool/static_pool.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/log/logger.hpp>
#include <appinfra/sqlite/detail/connector.hpp>
#include <appinfra/sqlite/detail/deadline.hpp>
#include <appinfra/sqlite/fwd.hpp>
#ifdef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/sqlite/compiled.hpp>  // SQLite<> and SQLite<db::ReadOnly> are the library's
#endif

#include <fmt/core.h>
#include <sqlite3.h>

#include <source_location>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::sqlite {

namespace detail {

/// SQLite's definition (see SQLite), header-only: what SQLite is, and what the
/// library compiles for the default policies (APPINFRA_SEPARATE_COMPILATION).
template <db::Access A, class PoolP, db::Logger L>
class BasicSQLite : public db::detail::PooledBackend<BasicSQLite<A, PoolP, L>, Connector<L>, PoolP, L> {
  using Base = db::detail::PooledBackend<BasicSQLite<A, PoolP, L>, Connector<L>, PoolP, L>;
  friend Base;
  using lease_type = typename Base::lease_type;

  // The one path of every statement on a pooled connection (Connection, Session,
  // migrations): prepared once per connection and text (detail::Statements, up to
  // prepared_cache_size), logged with its parameters, errors translated (QueryError,
  // UsageError), and what it changes on the connection recorded in it (the
  // authorizer marks the detail::SqliteConn dirty; see detail::changes_connection), so
  // that Connector::reset() undoes it when the connection is returned. With a
  // deadline, bounded by it (detail::exec_until); without one, nothing more is done.
  // A failure is counted by kind (the connector's failures()).
  // A clean connection has the configured busy timeout; a dirty one may not.
  template <class... Args>
  static db::Result run_statement(lease_type& lease, db::Deadline deadline, std::string_view sql, const Args&... args) {
    auto& connector = lease.connector();
    return connector.query_log().run(
        sql,
        [&] {
          return connector.failures().counting([&] {
            detail::SqliteConn& conn = lease.get();
            if (!deadline) [[likely]]
              return detail::exec_kept(conn.statements(), conn.get(), connector.name(), sql, args...);
            return detail::exec_until(conn.statements(), conn.get(), deadline,
                                      conn.dirty() ? -1 : connector.busy_timeout_ms(), connector.name(), sql, args...);
          });
        },
        args...);
  }

 public:
  using access_type = A;
  static constexpr std::string_view schemes = "sqlite";

  static bool accepts(const db::DatabaseConfig& c) noexcept {
    return c.url.scheme() == "sqlite" && c.readonly == A::read_only;
  }

  /// Opens the database (one connection, kept in the pool). Throws ConfigError
  /// for a bad url, ConnectionError when the file cannot be opened.
  BasicSQLite(const L& logger, db::DatabaseConfig config)
      : Base(logger, checked(config), detail::Connector<L>(logger, config, A::read_only), pool_options(config)) {}

  /// A pooled connection in autocommit mode. Move-only; gives the connection back
  /// when destroyed or close()d.
  ///
  /// execute(sql, args...) runs one statement (or, without parameters, several
  /// separated by ';'); parameters bind to $1, $2, ... It throws QueryError, or
  /// UsageError when the parameters do not fit the statement (the connection stays
  /// usable). With a deadline (the earlier of it and the connection's own, from
  /// connect(deadline)), a statement still running at it is interrupted, its wait for
  /// another connection's lock ends at it (QueryError, failure() query_canceled), and
  /// it is not run at all when the deadline has passed. The connection stays usable.
  class Connection : public db::detail::LeasedConnection<Connection, lease_type> {
    using LeaseBase = db::detail::LeasedConnection<Connection, lease_type>;

   public:
    /// The sqlite3 handle, for anything the common API lacks; null when closed.
    /// What native code changes is unknown, so the connection is reset in full
    /// when returned (see the README, "What reset undoes").
    [[nodiscard]] sqlite3* native() noexcept {
      if (!this->lease_) return nullptr;
      this->lease_.get().mark_dirty();
      return this->lease_.get().get();
    }

   private:
    friend LeaseBase;
    friend Base;  // connect()
    Connection(lease_type lease, db::Deadline deadline) noexcept : LeaseBase(std::move(lease), deadline) {}
    template <class... Args>
    db::Result run(db::Deadline deadline, std::string_view sql, const Args&... args) {
      return run_statement(this->lease_, deadline, sql, args...);
    }
  };

  /// A transaction on a pooled connection (BEGIN IMMEDIATE, or BEGIN when
  /// read-only): begun at the first execute(), committed only by commit();
  /// rollback(), close() and the destructor roll back. After commit() or rollback()
  /// the next execute() begins a new transaction. A session from session(deadline)
  /// bounds each statement, its BEGIN and its COMMIT by that deadline; a rollback
  /// runs past it.
  ///
  /// If SQLite rolled the whole transaction back because of a statement (ON
  /// CONFLICT ROLLBACK, a full disk, a write interrupted at its deadline, ...), the
  /// session refuses further statements and commit() until rollback(), as
  /// PostgreSQL does: they would otherwise run in autocommit mode and persist. An
  /// interrupted read leaves the transaction open. A commit that fails with
  /// SQLITE_BUSY (readers still hold the file) leaves the transaction open: commit()
  /// again, or roll back. A failed ROLLBACK on close() is left to the pool's reset,
  /// which tries again and closes the connection if that fails too.
  class Session : public db::detail::LeasedSession<Session, lease_type, bool> {
    using LeaseBase = db::detail::LeasedSession<Session, lease_type, bool>;

   public:
    Session(Session&&) noexcept = default;
    Session& operator=(Session&&) noexcept = default;  // closes this one first (LeaseBase)
    ~Session() { this->close(); }

    /// The sqlite3 handle; the transaction is begun first. As with
    /// Connection::native(), the connection is reset in full when returned.
    [[nodiscard]] sqlite3* native() {
      this->begin(this->deadline_);
      this->lease_.get().mark_dirty();
      return this->lease_.get().get();
    }

   private:
    friend LeaseBase;
    friend Base;  // session()
    static constexpr std::string_view aborted_by = "rolled back by SQLite after an error";

    Session(lease_type lease, db::Deadline deadline) noexcept : LeaseBase(std::move(lease), deadline) {}

    template <class... Args>
    db::Result run(db::Deadline deadline, std::string_view sql, const Args&... args) {
      try {
        return run_statement(this->lease_, deadline, sql, args...);
      } catch (...) {
        if (autocommit()) this->aborted_ = true;
        throw;
      }
    }
    void begin_transaction(db::Deadline deadline) {
      // IMMEDIATE takes the write lock at once, waiting up to pool_timeout: a
      // deferred transaction that reads and then writes can fail with SQLITE_BUSY
      // at once when another writer holds the lock (SQLite's deadlock rule).
      run_statement(this->lease_, deadline, A::read_only ? "BEGIN" : "BEGIN IMMEDIATE");
      this->txn_ = true;
    }
    void commit_transaction() {
      run_statement(this->lease_, this->deadline_, "COMMIT");
      this->txn_ = false;
    }
    void rollback_transaction() {
      // SQLite may have rolled back already; a rollback runs past any deadline.
      if (!autocommit()) run_statement(this->lease_, db::Deadline{}, "ROLLBACK");
      this->txn_ = false;
    }
    void abandon_transaction() noexcept {
      try {
        if (!autocommit()) run_statement(this->lease_, db::Deadline{}, "ROLLBACK");
      } catch (...) {
      }
    }
    // No transaction is open on the connection (SQLite ended it, or none began).
    bool autocommit() noexcept { return sqlite3_get_autocommit(this->lease_.get().get()) != 0; }
  };

  // connect() and session(), with or without a deadline: from Base.
  // migrate() and migration_status() (read-write only): from Base, with
  // MigrationDialect: each migration in its own BEGIN EXCLUSIVE transaction, the
  // exclusive lock serialising processes migrating at once.

 private:
  // How migrations lock on SQLite: BEGIN EXCLUSIVE is the lock. While migrating,
  // it waits up to an hour for another runner rather than pool_timeout.
  struct MigrationDialect {
    int busy_timeout_ms;
    static constexpr std::string_view begin = "BEGIN EXCLUSIVE";
    static constexpr std::string_view now = "datetime('now')";
    static void lock(Connection& c) { c.execute("PRAGMA busy_timeout = 3600000"); }
    void unlock(Connection& c) const { c.execute(fmt::format("PRAGMA busy_timeout = {}", busy_timeout_ms)); }
    static void setup(Connection&) {}
  };
  MigrationDialect migration_dialect() { return MigrationDialect{this->pool_.connector().busy_timeout_ms()}; }

  static db::DatabaseConfig checked(db::DatabaseConfig c) {
    if (!c.pg.extensions.empty() || !c.pg.schema.empty())
      throw db::ConfigError(c.name, c.pg.schema.empty() ? "extensions" : "schema", "",
                            fmt::format("database '{}': key '{}' is for PostgreSQL; SQLite has no {}", c.name,
                                        c.pg.schema.empty() ? "extensions" : "schema",
                                        c.pg.schema.empty() ? "extensions" : "schemas"));
    return c;
  }

  // An in-memory database gets StaticPool's options whatever the pool policy:
  // closing or adding a connection would lose or split the database.
  static db::PoolOptions pool_options(const db::DatabaseConfig& c) {
    if constexpr (!Base::pool_type::keeps_connections)
      if (detail::Target::from(c).memory)
        throw db::ConfigError(c.name, "url", "'" + c.url.redacted() + "'",
                              fmt::format("database '{}': an in-memory SQLite database lives in its one connection; "
                                          "a pool that closes connections on return (NullPool) would lose it",
                                          c.name));
    db::PoolOptions o = c.pool_options();
    o.max_retries = 0;  // a file that cannot be opened now will not open in a second either
    return detail::Target::from(c).memory ? db::StaticPool<detail::Connector<L>>::adjust(o) : o;
  }
};

}  // namespace detail

/// A SQLite database (sqlite:///relative/path, sqlite:////absolute/path,
/// sqlite:///:memory:), the embedded default.
///
/// With ReadOnly, connections are opened read-only and with `PRAGMA query_only`,
/// so SQLite itself refuses every write. An in-memory database lives in one
/// connection (every other connection would be a different, empty database), so
/// its pool holds exactly one, shared by turns. A file that does not exist is an
/// error unless `create_db: true`.
///
/// Thread safety: all members are thread-safe but close(); each Connection and
/// Session is used by one thread at a time. Lifetime: connections and sessions may
/// outlive the backend; their connection is then closed when they end.
template <db::Access A, class PoolP, db::Logger L>
class SQLite : public detail::BasicSQLite<A, PoolP, L> {
 public:
  using detail::BasicSQLite<A, PoolP, L>::BasicSQLite;
};

}  // namespace appinfra::sqlite
