#pragma once
// pg::Session: a transaction on a pooled PostgreSQL connection.

#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/leased.hpp>
#include <appinfra/db/detail/pooled_backend.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/pg/connection.hpp>
#include <appinfra/pg/detail/statement.hpp>
#include <appinfra/pg/fwd.hpp>

#include <fmt/core.h>
#include <pqxx/transaction>

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::pg {

namespace detail {
template <db::Access A>
using transaction_type = std::conditional_t<A::read_only, pqxx::read_transaction, pqxx::work>;
}  // namespace detail

/// A transaction on a pooled connection: what PG::session() returns. Begun at the
/// first statement (READ ONLY for a ReadOnly database), committed only by
/// commit(); rollback(), close() and the destructor roll back. After commit() or
/// rollback() the next statement begins a new transaction. After a statement fails,
/// the server has aborted the transaction: further statements and commit() throw
/// UsageError until rollback(). A statement with a deadline (or the session's own,
/// the earlier) is cancelled if still running at it. commit() that fails leaves the
/// transaction gone (rolled back by the server) and throws; when the connection
/// broke during COMMIT, a QueryError whose failure() is in_doubt: it may or may not
/// have committed, and is not retried. A session scoped to a schema sets
/// `search_path` with SET LOCAL in each transaction, so the pooled connection never
/// keeps it. Move-only; used by one thread at a time; may outlive its PG.
template <db::Access A, class Lease>
class Session
    : public db::detail::LeasedSession<Session<A, Lease>, Lease, std::unique_ptr<detail::transaction_type<A>>> {
  using Base = db::detail::LeasedSession<Session<A, Lease>, Lease, std::unique_ptr<detail::transaction_type<A>>>;

 public:
  using transaction_type = detail::transaction_type<A>;

  Session(Session&&) noexcept = default;
  Session& operator=(Session&&) noexcept = default;  // closes this one first (Base)
  ~Session() { this->close(); }

  template <class... Args>
  db::Result execute_prepared(const std::string& name, const Args&... args) {
    return execute_prepared(db::Deadline{}, name, args...);
  }
  template <class... Args>
  db::Result execute_prepared(db::Deadline deadline, const std::string& name, const Args&... args) {
    const db::Deadline d = this->bounded(deadline);
    auto& t = *this->begin(d);
    return in_transaction_run(d, "EXECUTE " + name, {},
                              [&](detail::PgConn&) { return detail::exec_prepared(this->lease_, t, name, args...); },
                              args...);
  }
  /// The statements sent together in this transaction; see Connection::pipeline.
  std::vector<db::Result> pipeline(const std::vector<std::string>& statements, db::Deadline deadline = {}) {
    const db::Deadline d = this->bounded(deadline);
    auto& t = *this->begin(d);
    return in_transaction_run(d, fmt::format("pipeline of {} statements", statements.size()),
                              detail::effect_of(statements),
                              [&](detail::PgConn&) { return detail::exec_pipeline(t, statements); })
        .results;
  }

  /// The libpqxx transaction (begun first), for anything the common API lacks. The
  /// connection is reset when returned.
  [[nodiscard]] transaction_type& native() {
    auto& t = *this->begin(this->deadline_);
    detail::native_access(this->lease_);
    return t;
  }

 private:
  friend Base;
  template <db::Access, class, db::Logger>
  friend class detail::BasicPG;  // session_in_schema()
  template <class D, class C, class P, db::Logger L>
    requires db::PoolPolicy<P, C, db::CoarseClock>
  friend class db::detail::PooledBackend;  // session()
  static constexpr std::string_view aborted_by = "aborted by an earlier error";

  Session(Lease lease, db::Deadline deadline, std::string schema = {}) noexcept
      : Base(std::move(lease), deadline), schema_(std::move(schema)) {}

  // Base::execute(): a statement of the open transaction, prepared automatically
  // once run often enough on this connection (detail::exec_auto).
  template <class... Args>
  db::Result run(db::Deadline d, std::string_view sql, const Args&... args) {
    transaction_type& t = *this->txn_;
    const detail::SessionEffect effect = detail::session_effect(sql);
    return in_transaction_run(d, sql, effect, [&](detail::PgConn&) {
      return detail::exec_auto(this->lease_, [&]() -> transaction_type& { return t; }, false, schema_.empty(), sql,
                               effect, args...);
    }, args...);
  }

  void begin_transaction(db::Deadline d) {
    // The BEGIN is not logged; the search_path of a schema session is, and so are
    // the settings applied per transaction behind a pooler (one round trip).
    // (READ ONLY is the session's own BEGIN: pqxx::read_transaction.)
    std::string log = this->lease_.connector().pooled_transaction().settings;
    if (!schema_.empty()) log += (log.empty() ? "" : "; ") + ("SET LOCAL search_path TO \"" + schema_ + "\", public");
    in_transaction_run(d, log, {}, [&](detail::PgConn& conn) {
      auto t = std::make_unique<transaction_type>(*conn.pq);
      if (!log.empty()) t->exec(log);
      this->txn_ = std::move(t);
      return db::Result();
    });
  }
  void commit_transaction() {
    auto t = std::move(this->txn_);
    detail::run_statement(this->lease_, this->deadline_, "", {}, [&](detail::PgConn&) {
      t->commit();
      return db::Result();
    });
  }
  void rollback_transaction() {
    auto t = std::move(this->txn_);
    // A rollback runs past any deadline.
    detail::run_statement(this->lease_, db::Deadline{}, "", {}, [&](detail::PgConn&) {
      t->abort();
      return db::Result();
    });
  }
  void abandon_transaction() noexcept {
    try {
      detail::run_statement(this->lease_, db::Deadline{}, "", {}, [&](detail::PgConn&) {
        this->txn_->abort();
        return db::Result();
      });
    } catch (...) {  // its connection cannot say whether the rollback happened: closed on return
      this->lease_.invalidate();
    }
  }

  // A statement of the transaction: when it fails, the server has aborted the
  // transaction (or the connection is gone), and the session says so.
  template <class Body, class... Args>
  decltype(auto) in_transaction_run(db::Deadline d, std::string_view log, detail::SessionEffect effect, Body&& body,
                                    const Args&... args) {
    try {
      return detail::run_statement(this->lease_, d, log, effect, std::forward<Body>(body), args...);
    } catch (const db::Error&) {
      this->aborted_ = this->txn_ != nullptr && !transaction_ok(this->lease_.get());
      throw;
    }
  }
  static bool transaction_ok(detail::PgConn& conn) noexcept {  // in a transaction block that has not failed
    PGconn* r = conn.pq ? detail::raw(*conn.pq) : nullptr;
    return r != nullptr && PQtransactionStatus(r) == PQTRANS_INTRANS;
  }

  std::string schema_;  // empty: the connection's search_path
};

}  // namespace appinfra::pg
