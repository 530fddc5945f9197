#pragma once
// The PostgreSQL backend, through libpqxx 6.

#include <appinfra/db/access.hpp>
#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/identifier.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/pooled_backend.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/pool/queue_pool.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/log/logger.hpp>
#include <appinfra/pg/detail/connector.hpp>

#include <fmt/core.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::pg {

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
template <db::Access A = db::ReadWrite, class PoolP = db::UseQueuePool<>, db::Logger L = log::Logger>
class PG : public db::detail::PooledBackend<detail::Connector<L>, PoolP, L> {
  using Base = db::detail::PooledBackend<detail::Connector<L>, PoolP, L>;
  using handle_type = typename Base::handle_type;
  using transaction_type = std::conditional_t<A::read_only, pqxx::read_transaction, pqxx::work>;

  template <class F>
  static decltype(auto) guarded(handle_type& h, F&& f) {
    auto& c = h.connector();
    return detail::translate(c.name(), c.password(), A::read_only, [&] { h.invalidate(); }, std::forward<F>(f));
  }

  // One statement, logged, on transaction `t` of connection `h`.
  template <class... Args>
  static db::Result run(handle_type& h, pqxx::transaction_base& t, std::string_view sql, const Args&... args) {
    return h.connector().query_log().run(
        sql,
        [&] {
          return guarded(h, [&] {
            if constexpr (sizeof...(Args) == 0) return detail::to_result(t.exec(std::string(sql)), detail::is_query(sql));
            else return detail::to_result(t.exec_params(std::string(sql), detail::param(args)...), detail::is_query(sql));
          });
        },
        args...);
  }

  // A registered prepared statement, declared on this connection at its first use.
  template <class... Args>
  static db::Result run_prepared(handle_type& h, pqxx::transaction_base& t, const std::string& name,
                                 const Args&... args) {
    return h.connector().query_log().run(
        "EXECUTE " + name,
        [&] {
          return guarded(h, [&] {
            const bool query = h.connector().declare(h.get(), name);
            return detail::to_result(t.exec_prepared(name, detail::param(args)...), query);
          });
        },
        args...);
  }

  // Statements sent together and answered together: one round trip for the batch.
  static std::vector<db::Result> run_pipeline(handle_type& h, pqxx::transaction_base& t,
                                              const std::vector<std::string>& statements) {
    return h.connector().query_log().run(
        fmt::format("pipeline of {} statements", statements.size()),
        [&] {
          return guarded(h, [&] {
            pqxx::pipeline p(t);
            std::vector<pqxx::pipeline::query_id> ids;
            ids.reserve(statements.size());
            for (const auto& s : statements) ids.push_back(p.insert(s));
            p.complete();
            Batch out;
            out.results.reserve(statements.size());
            for (std::size_t i = 0; i < ids.size(); ++i) out.results.push_back(detail::to_result(p.retrieve(ids[i]), detail::is_query(statements[i])));
            return out;
          });
        }).results;
  }
  // What the query log needs of a result: a size and a change count.
  struct Batch {
    std::vector<db::Result> results;
    [[nodiscard]] std::size_t size() const noexcept { return results.size(); }
    [[nodiscard]] std::int64_t affected_rows() const noexcept {
      std::int64_t n = 0;
      for (const auto& r : results) n += r.affected_rows();
      return n;
    }
  };

 public:
  using access_type = A;
  static constexpr std::string_view schemes = "postgresql, postgres";

  static bool accepts(const db::DatabaseConfig& c) noexcept {
    const auto& s = c.url.scheme();
    return (s == "postgresql" || s == "postgres") && c.readonly == A::read_only;
  }

  /// Creates the database first when create_db is set, then warms the pool up.
  /// Throws ConfigError, ConnectionError or db::ReadOnlyServerError.
  PG(const L& logger, db::DatabaseConfig config)
      : Base(logger, config, detail::Connector<L>(logger, config, A::read_only), db::PoolOptions::from(config)) {}

  /// The seed's `PG(logger, config, query_lg_level="debug")`: the query log level
  /// given apart from the configuration.
  PG(const L& logger, db::DatabaseConfig config, log::Level query_lg_level)
      : PG(logger, with_level(std::move(config), query_lg_level)) {}

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

  /// A pooled connection in autocommit mode. Move-only; gives the connection back
  /// when destroyed or close()d.
  class Connection {
   public:
    /// Runs one statement in its own transaction; parameters bind to $1, $2, ...
    /// Throws QueryError (with its SQLSTATE and Failure kind) or ConnectionError.
    template <class... Args>
    db::Result execute(std::string_view sql, const Args&... args) {
      check();
      track_transaction(sql);
      pqxx::nontransaction t(*h_.get().pq);
      return run(h_, t, sql, args...);
    }
    /// Runs a statement registered with PG::prepare().
    template <class... Args>
    db::Result execute_prepared(const std::string& name, const Args&... args) {
      check();
      pqxx::nontransaction t(*h_.get().pq);
      return run_prepared(h_, t, name, args...);
    }
    /// Sends the statements together and waits once (libpqxx's pipeline), each in
    /// autocommit mode; returns their results in order. The first failing one
    /// throws, and later ones are not run.
    std::vector<db::Result> pipeline(const std::vector<std::string>& statements) {
      check();
      pqxx::nontransaction t(*h_.get().pq);
      return run_pipeline(h_, t, statements);
    }
    /// The libpqxx connection, for anything the common API lacks. If it breaks,
    /// call invalidate() so that the pool replaces it. The connection is rolled
    /// back when returned, since what native code left open is unknown.
    [[nodiscard]] pqxx::connection& native() {
      check();
      h_.get().dirty = true;
      return *h_.get().pq;
    }
    void invalidate() noexcept { h_.invalidate(); }
    void close() noexcept { h_.release(); }

   private:
    friend class PG;
    explicit Connection(handle_type h) noexcept : h_(std::move(h)) {}
    void check() const {
      if (!h_) throw db::UsageError("the connection was closed (close(), or moved from)");
    }
    // A BEGIN sent through execute() leaves a transaction open on the connection,
    // and a SET changes its session: either makes it dirty, and the pool rolls it
    // back (and, for a read-only database, restores read-only) on return. Nothing
    // parsed here ever makes it clean again: a COMMIT in a literal, or a ROLLBACK
    // TO SAVEPOINT, must not hand an open transaction to the next caller. Each
    // ';'-separated piece counts, so a statement after a literal's ';' is seen too;
    // a false "dirty" costs one ROLLBACK on return.
    void track_transaction(std::string_view sql) {
      for (std::size_t start = 0; start <= sql.size() && !h_.get().dirty;) {
        const std::size_t end = std::min(sql.find(';', start), sql.size());
        const std::string w = detail::first_keyword(sql.substr(start, end - start));
        if (w == "begin" || w == "start" || w == "set" || w == "reset") h_.get().dirty = true;
        start = end + 1;
      }
    }
    handle_type h_;
  };

  /// A transaction on a pooled connection: begun at the first execute() (READ
  /// ONLY for a ReadOnly database), committed only by commit(); rollback(),
  /// close() and the destructor roll back. After commit() or rollback() the next
  /// execute() begins a new transaction. A session scoped to a schema sets
  /// `search_path` with SET LOCAL in each transaction, so the pooled connection
  /// never keeps it.
  class Session {
   public:
    Session(Session&& o) noexcept = default;
    Session& operator=(Session&& o) noexcept {
      if (this != &o) {
        close();
        h_ = std::move(o.h_);
        txn_ = std::move(o.txn_);
        schema_ = std::move(o.schema_);
      }
      return *this;
    }
    ~Session() { close(); }

    template <class... Args>
    db::Result execute(std::string_view sql, const Args&... args) {
      return run(h_, begin(), sql, args...);
    }
    template <class... Args>
    db::Result execute_prepared(const std::string& name, const Args&... args) {
      return run_prepared(h_, begin(), name, args...);
    }
    /// The statements sent together in this transaction; see Connection::pipeline.
    std::vector<db::Result> pipeline(const std::vector<std::string>& statements) {
      return run_pipeline(h_, begin(), statements);
    }
    /// Commits the transaction; nothing to commit is fine. On failure the
    /// transaction is gone (rolled back by the server) and the error is thrown.
    void commit() {
      if (!h_) throw db::UsageError("commit() on a closed session");
      if (!txn_) return;
      auto t = std::move(txn_);
      guarded(h_, [&] { t->commit(); });
    }
    void rollback() {
      if (!h_) throw db::UsageError("rollback() on a closed session");
      if (!txn_) return;
      auto t = std::move(txn_);
      guarded(h_, [&] { t->abort(); });
    }
    /// Rolls back what is uncommitted and gives the connection back. Idempotent.
    void close() noexcept {
      if (!h_) return;
      if (txn_) {
        try {
          txn_->abort();
        } catch (...) {
          h_.invalidate();
        }
        txn_.reset();
      }
      h_.release();
    }
    [[nodiscard]] bool in_transaction() const noexcept { return txn_ != nullptr; }
    /// The libpqxx transaction (begun first), for anything the common API lacks.
    [[nodiscard]] transaction_type& native() { return begin(); }

   private:
    friend class PG;
    Session(handle_type h, std::string schema) noexcept : h_(std::move(h)), schema_(std::move(schema)) {}
    transaction_type& begin() {
      if (!h_) throw db::UsageError("the session is closed");
      if (!txn_) {
        txn_ = guarded(h_, [&] { return std::make_unique<transaction_type>(*h_.get().pq); });
        if (!schema_.empty()) run(h_, *txn_, "SET LOCAL search_path TO \"" + schema_ + "\", public");
      }
      return *txn_;
    }
    handle_type h_;                           // declared first: destroyed after the transaction
    std::unique_ptr<transaction_type> txn_;
    std::string schema_;                      // empty: the connection's search_path
  };

  /// `where` is recorded for pool diagnostics (leave the default).
  [[nodiscard]] Connection connect(std::source_location where = std::source_location::current()) {
    return Connection(this->pool_.acquire(where));
  }
  [[nodiscard]] Session session(std::source_location where = std::source_location::current()) {
    return Session(this->pool_.acquire(where), {});
  }
  /// A session whose statements resolve names in `schema` first, then public (the
  /// original's ScopedPG). The name must match [a-z][a-z0-9_]*; throws UsageError
  /// otherwise.
  [[nodiscard]] Session session_in_schema(std::string_view schema,
                                          std::source_location where = std::source_location::current()) {
    if (!db::detail::is_identifier(schema))
      throw db::UsageError(fmt::format("database '{}': invalid schema name '{}' (expected [a-z][a-z0-9_]*)",
                                       this->name(), schema));
    return Session(this->pool_.acquire(where), std::string(schema));
  }

  /// Applies the pending migrations, in version order, each in its own
  /// transaction with its record in `schema_migrations` (version, name, checksum,
  /// time). Before them: the configured schema and extensions, then the before
  /// hooks; after them, the after hooks. Processes migrating at once are serialised
  /// by an advisory lock: each migration is applied exactly once. Throws
  /// MigrationError naming the migration that failed (it is rolled back, earlier
  /// ones stay) or one edited after it was applied (nothing is applied then).
  /// Read-write databases only: PG<ReadOnly> has no migrate().
  db::MigrateResult migrate(const db::Migrations& m, db::MigrateOptions o = {},
                            std::source_location where = std::source_location::current())
    requires(!A::read_only)
  {
    auto c = connect(where);
    c.invalidate();  // its session timeouts are changed for the run: not reused
    db::detail::MigrationRunner runner(c, MigrationDialect{&this->config()}, this->name());
    return runner.migrate(m, o);
  }

  /// Where each given (and each recorded but unknown) migration stands.
  std::vector<db::MigrationState> migration_status(const db::Migrations& m,
                                                   std::source_location where = std::source_location::current())
    requires(!A::read_only)
  {
    auto c = connect(where);
    db::detail::MigrationRunner runner(c, MigrationDialect{&this->config()}, this->name());
    return runner.status(m);
  }

  /// Runs `f(session)` in a transaction and commits; when the server aborts it
  /// with a serialization failure (40001) or a deadlock (40P01), runs the whole
  /// function again in a new transaction, at most `max_attempts` times in all. Any
  /// other error, and one whose outcome is unknown (the connection lost during
  /// commit), is thrown at once: nothing that may have run is sent again. Returns
  /// what `f` returns.
  template <class F>
  decltype(auto) transaction(F&& f, int max_attempts = 3,
                             std::source_location where = std::source_location::current()) {
    for (int attempt = 1;; ++attempt) {
      Session s = session(where);
      try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, Session&>>) {
          f(s);
          s.commit();
          return;
        } else {
          auto result = f(s);
          s.commit();
          return result;
        }
      } catch (const db::QueryError& e) {
        if (!e.retryable() || attempt >= max_attempts) throw;
        db::detail::log(this->logger_, log::Level::info, "database '{}': transaction attempt {} of {} failed ({}); retrying",
                        this->name(), attempt, max_attempts, db::to_string(e.failure()));
      }
    }
  }

 private:
  // How migrations lock and prepare on PostgreSQL.
  struct MigrationDialect {
    const db::DatabaseConfig* config;
    static constexpr std::string_view begin = "BEGIN";
    static constexpr std::string_view now = "now()::text";
    // Waits for another runner however long it takes (a configured
    // statement_timeout would end the wait, and a long migration, with 57014).
    static void lock(Connection& c) {
      c.execute("SET statement_timeout = 0; SET lock_timeout = 0");
      c.execute("SELECT pg_advisory_lock(hashtext('appinfra.migrations'))");
    }
    static void unlock(Connection& c) { c.execute("SELECT pg_advisory_unlock(hashtext('appinfra.migrations'))"); }
    void setup(Connection& c) const {
      // Checked again here: a DatabaseConfig may have been built in code.
      const auto quoted = [&](const std::string& name, std::string_view key) {
        if (!db::detail::is_identifier(name, key == "extensions"))
          throw db::ConfigError(config->name, std::string(key), "'" + name + "'",
                                fmt::format("database '{}': key '{}' has invalid name '{}'", config->name, key, name));
        return "\"" + name + "\"";
      };
      if (!config->schema.empty()) c.execute("CREATE SCHEMA IF NOT EXISTS " + quoted(config->schema, "schema"));
      for (const auto& e : config->extensions) c.execute("CREATE EXTENSION IF NOT EXISTS " + quoted(e, "extensions"));
    }
  };

  static db::DatabaseConfig with_level(db::DatabaseConfig c, log::Level level) {
    c.query_lg_level = level;
    return c;
  }
};

}  // namespace appinfra::pg

static_assert(appinfra::db::Interface<appinfra::pg::PG<>>);
static_assert(appinfra::db::Interface<appinfra::pg::PG<appinfra::db::ReadOnly>>);
