#pragma once
// The PostgreSQL backend, through libpqxx 6.

#include <appinfra/db/access.hpp>
#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/pooled_backend.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/queue_pool.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/log/logger.hpp>
#include <appinfra/pg/detail/connector.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace appinfra::pg {

/// A PostgreSQL database (postgresql:// or postgres:// urls, anything libpq accepts
/// after the scheme).
///
/// With ReadOnly, every session runs `BEGIN READ ONLY` and every connection has
/// `default_transaction_read_only` on, so the server refuses writes.
/// Connections are opened with libpqxx's automatic reactivation off: a broken
/// connection raises ConnectionError and is replaced by the pool.
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
    return detail::translate(c.name(), c.password(), [&] { h.invalidate(); }, std::forward<F>(f));
  }

 public:
  using access_type = A;
  static constexpr std::string_view schemes = "postgresql, postgres";

  static bool accepts(const db::DatabaseConfig& c) noexcept {
    const auto& s = c.url.scheme();
    return (s == "postgresql" || s == "postgres") && c.readonly == A::read_only;
  }

  /// Creates the database first when create_db is set, then opens one connection
  /// (kept in the pool). Throws ConfigError or ConnectionError.
  PG(const L& logger, db::DatabaseConfig config)
      : Base(logger, config, detail::Connector<L>(logger, config, A::read_only), db::PoolOptions::from(config)) {}

  /// A pooled connection in autocommit mode. Move-only; gives the connection back
  /// when destroyed or close()d.
  class Connection {
   public:
    /// Runs one statement in its own transaction; parameters bind to $1, $2, ...
    /// Throws QueryError (with its SQLSTATE) or ConnectionError.
    template <class... Args>
    db::Result execute(std::string_view sql, const Args&... args) {
      if (!h_) throw db::UsageError("connection is closed");
      track_transaction(sql);
      return h_.connector().query_log().run(sql, [&] {
        return guarded(h_, [&] {
          pqxx::nontransaction t(*h_.get().pq);
          if constexpr (sizeof...(Args) == 0) return detail::to_result(t.exec(std::string(sql)), sql);
          else return detail::to_result(t.exec_params(std::string(sql), detail::param(args)...), sql);
        });
      });
    }
    /// The libpqxx connection, for anything the common API lacks. If it breaks,
    /// call invalidate() so that the pool replaces it. The connection is rolled
    /// back when returned, since what native code left open is unknown.
    [[nodiscard]] pqxx::connection& native() {
      if (!h_) throw db::UsageError("native() on a closed connection");
      h_.get().dirty = true;
      return *h_.get().pq;
    }
    void invalidate() noexcept { h_.invalidate(); }
    void close() noexcept { h_.release(); }

   private:
    friend class PG;
    explicit Connection(handle_type h) noexcept : h_(std::move(h)) {}
    // A BEGIN sent through execute() leaves a transaction open on the connection:
    // the pool rolls it back on return unless a later COMMIT or ROLLBACK closed it.
    // Each ';'-separated statement counts ("SELECT 1; BEGIN" opens one too); a
    // ';' inside a literal can only make the connection look dirty, which costs
    // one ROLLBACK on return, never a transaction left open.
    void track_transaction(std::string_view sql) {
      for (std::size_t start = 0; start <= sql.size();) {
        const std::size_t end = std::min(sql.find(';', start), sql.size());
        const std::string w = detail::first_keyword(sql.substr(start, end - start));
        if (w == "begin" || w == "start") h_.get().dirty = true;
        else if (w == "commit" || w == "rollback" || w == "end" || w == "abort")
          h_.get().dirty = detail::contains_word(sql.substr(start, end - start), "chain");  // AND CHAIN begins anew
        start = end + 1;
      }
    }
    handle_type h_;
  };

  /// A transaction on a pooled connection: begun at the first execute(), committed
  /// only by commit(); rollback(), close() and the destructor roll back. After
  /// commit() or rollback() the next execute() begins a new transaction.
  class Session {
   public:
    Session(Session&& o) noexcept = default;
    Session& operator=(Session&& o) noexcept {
      if (this != &o) {
        close();
        h_ = std::move(o.h_);
        txn_ = std::move(o.txn_);
      }
      return *this;
    }
    ~Session() { close(); }

    template <class... Args>
    db::Result execute(std::string_view sql, const Args&... args) {
      transaction_type& t = begin();
      return h_.connector().query_log().run(sql, [&] {
        return guarded(h_, [&] {
          if constexpr (sizeof...(Args) == 0) return detail::to_result(t.exec(std::string(sql)), sql);
          else return detail::to_result(t.exec_params(std::string(sql), detail::param(args)...), sql);
        });
      });
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
    explicit Session(handle_type h) noexcept : h_(std::move(h)) {}
    transaction_type& begin() {
      if (!h_) throw db::UsageError("the session is closed");
      if (!txn_) txn_ = guarded(h_, [&] { return std::make_unique<transaction_type>(*h_.get().pq); });
      return *txn_;
    }
    handle_type h_;                           // declared first: destroyed after the transaction
    std::unique_ptr<transaction_type> txn_;
  };

  /// `where` is recorded for pool diagnostics (leave the default).
  [[nodiscard]] Connection connect(std::source_location where = std::source_location::current()) {
    return Connection(this->pool_.acquire(where));
  }
  [[nodiscard]] Session session(std::source_location where = std::source_location::current()) {
    return Session(this->pool_.acquire(where));
  }
};

}  // namespace appinfra::pg

static_assert(appinfra::db::Interface<appinfra::pg::PG<>>);
static_assert(appinfra::db::Interface<appinfra::pg::PG<appinfra::db::ReadOnly>>);
