#pragma once
// The PostgreSQL backend, through libpqxx 6.

#include <appinfra/db/access.hpp>
#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/identifier.hpp>
#include <appinfra/db/detail/pooled_backend.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/pool/queue_pool.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/log/logger.hpp>
#include <appinfra/pg/connection.hpp>
#include <appinfra/pg/detail/connector.hpp>
#include <appinfra/pg/fwd.hpp>
#include <appinfra/pg/options.hpp>
#include <appinfra/pg/session.hpp>
#ifdef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/pg/compiled.hpp>  // PG<> and PG<db::ReadOnly> are the library's
#endif

#include <fmt/core.h>

#include <source_location>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::pg {

namespace detail {

/// PG's definition (see PG), header-only: what PG is, and what the library
/// compiles for the default policies (APPINFRA_SEPARATE_COMPILATION).
template <db::Access A, class PoolP, db::Logger L>
class BasicPG : public db::detail::PooledBackend<BasicPG<A, PoolP, L>, Connector<L>, PoolP, L> {
  using Base = db::detail::PooledBackend<BasicPG<A, PoolP, L>, Connector<L>, PoolP, L>;
  friend Base;
  using lease_type = typename Base::lease_type;

 public:
  using access_type = A;
  static constexpr std::string_view schemes = "postgresql, postgres";

  static bool accepts(const db::DatabaseConfig& c) noexcept {
    const auto& s = c.url.scheme();
    return (s == "postgresql" || s == "postgres") && c.readonly == A::read_only && c.pg.replicas.empty();
  }

  /// Creates the database first when create_db is set, then warms the pool up.
  /// Throws ConfigError, ConnectionError or db::ReadOnlyServerError.
  BasicPG(const L& logger, db::DatabaseConfig config)
      : Base(logger, config, detail::Connector<L>(logger, config, A::read_only), config.pool_options()) {}

  /// The seed's `PG(logger, config, query_lg_level="debug")`: the query log level
  /// given apart from the configuration.
  BasicPG(const L& logger, db::DatabaseConfig config, log::Level query_lg_level)
      : BasicPG(logger, with_level(std::move(config), query_lg_level)) {}

  /// Creates the database if it is missing (as create_db does at setup), under an
  /// advisory lock so that processes starting together do not race. Read-write only.
  void create_database()
    requires(!A::read_only)
  {
    this->pool_.connector().ensure_database();
  }

  /// Registers a prepared statement on the database: every pooled connection
  /// prepares it at its first use there, new and recycled ones included. Names
  /// are [a-z][a-z0-9_]*; registering a name again with another text is an error.
  void prepare(const std::string& name, const std::string& sql) { this->pool_.connector().prepare(name, sql); }

  using Connection = pg::Connection<A, lease_type>;
  using Session = pg::Session<A, lease_type>;

  // connect() and session(), with or without a deadline: from Base. With a
  // deadline, every statement is cancelled if still running at it.

  /// A session whose statements resolve names in `schema` first, then public (the
  /// original's ScopedPG). The name must match [a-z][a-z0-9_]*; throws UsageError
  /// otherwise.
  [[nodiscard]] Session session_in_schema(std::string_view schema,
                                          std::source_location where = std::source_location::current()) {
    if (!db::detail::is_identifier(schema))
      throw db::UsageError(fmt::format("database '{}': invalid schema name '{}' (expected [a-z][a-z0-9_]*)",
                                       this->name(), schema));
    return Session(this->pool_.acquire(where), db::Deadline{}, std::string(schema));
  }

  // migrate() and migration_status() (read-write only): from Base, with
  // MigrationDialect. Before the migrations: the configured schema and extensions.
  // Processes migrating at once are serialised by an advisory lock; a migration
  // edited after it was applied fails the run before anything is applied.

 private:
  // How migrations lock and prepare on PostgreSQL.
  struct MigrationDialect {
    const db::DatabaseConfig* config;
    static constexpr std::string_view begin = "BEGIN";
    static constexpr std::string_view now = "now()::text";
    [[nodiscard]] bool pooled() const noexcept { return detail::behind_transaction_pooler(*config); }
    // Waits for another runner however long it takes (a configured
    // statement_timeout would end the wait, and a long migration, with 57014).
    // Behind a pooler in transaction mode a session lock would stay on whichever
    // server connection took it: each transaction takes a transaction-level lock
    // instead (each_transaction), and each migration's record is checked inside it.
    void lock(Connection& c) const {
      if (pooled()) return;
      c.invalidate();  // its session timeouts are changed for the run: not reused
      c.execute("SET statement_timeout = 0; SET lock_timeout = 0");
      c.execute("SELECT pg_advisory_lock(hashtext('appinfra.migrations'))");
    }
    void unlock(Connection& c) const {
      if (!pooled()) c.execute("SELECT pg_advisory_unlock(hashtext('appinfra.migrations'))");
    }
    void each_transaction(Connection& c) const {
      if (pooled())
        c.execute("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0; "
                  "SELECT pg_advisory_xact_lock(hashtext('appinfra.migrations'))");
    }
    void setup(Connection& c) const {
      // Checked again here: a DatabaseConfig may have been built in code.
      const auto quoted = [&](const std::string& name, std::string_view key) {
        if (!db::detail::is_identifier(name, key == "extensions"))
          throw db::ConfigError(config->name, std::string(key), "'" + name + "'",
                                fmt::format("database '{}': key '{}' has invalid name '{}'", config->name, key, name));
        return "\"" + name + "\"";
      };
      if (!config->pg.schema.empty()) c.execute("CREATE SCHEMA IF NOT EXISTS " + quoted(config->pg.schema, "schema"));
      for (const auto& e : config->pg.extensions)
        c.execute("CREATE EXTENSION IF NOT EXISTS " + quoted(e, "extensions"));
    }
  };

  MigrationDialect migration_dialect() const { return MigrationDialect{&this->config()}; }

  static db::DatabaseConfig with_level(db::DatabaseConfig c, log::Level level) {
    c.query_log.level = level;
    return c;
  }
};

}  // namespace detail

/// A PostgreSQL database (postgresql:// or postgres:// urls, anything libpq accepts
/// after the scheme, multi-host lists and target_session_attrs included).
///
/// With ReadOnly, every session runs `BEGIN READ ONLY` and every connection has
/// `default_transaction_read_only` on, so the server refuses writes; create_db,
/// create_database() and migrations do not exist for it. A read-write database
/// refuses a server that cannot take writes (in recovery, or read-only after a
/// failover): at connect, and when a checkout's check finds it changed.
/// Connections are opened with libpqxx's automatic reactivation off: a broken
/// connection raises ConnectionError and is replaced by the pool, never silently
/// reconnected with its session state lost.
///
/// Thread safety: all members are thread-safe but close(); each Connection and
/// Session is used by one thread at a time. Lifetime: connections and sessions may
/// outlive the backend; their connection is then closed when they end.
template <db::Access A, class PoolP, db::Logger L>
class PG : public detail::BasicPG<A, PoolP, L> {
 public:
  using detail::BasicPG<A, PoolP, L>::BasicPG;
};

}  // namespace appinfra::pg
