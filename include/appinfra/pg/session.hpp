#pragma once
// pg::Session: a transaction on a pooled PostgreSQL connection.

#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/pg/connection.hpp>
#include <appinfra/pg/detail/statement.hpp>

#include <fmt/core.h>
#include <pqxx/transaction>

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::pg {

/// A transaction on a pooled connection: what PG::session() returns. Begun at the
/// first statement (READ ONLY for a ReadOnly database), committed only by
/// commit(); rollback(), close() and the destructor roll back. After commit() or
/// rollback() the next statement begins a new transaction. After a statement fails,
/// the server has aborted the transaction: further statements and commit() throw
/// UsageError until rollback(). A session scoped to a schema sets `search_path`
/// with SET LOCAL in each transaction, so the pooled connection never keeps it.
/// Move-only; used by one thread at a time; may outlive its PG.
template <db::Access A, class Lease>
class Session {
 public:
  using transaction_type = std::conditional_t<A::read_only, pqxx::read_transaction, pqxx::work>;

  Session(Session&& o) noexcept = default;
  Session& operator=(Session&& o) noexcept {
    if (this != &o) {
      close();
      h_ = std::move(o.h_);
      txn_ = std::move(o.txn_);
      schema_ = std::move(o.schema_);
      deadline_ = o.deadline_;
      aborted_ = std::exchange(o.aborted_, false);
    }
    return *this;
  }
  ~Session() { close(); }

  template <class... Args>
  db::Result execute(std::string_view sql, const Args&... args) {
    return execute(db::Deadline{}, sql, args...);
  }
  /// A statement cancelled if still running at `deadline` (or the session's own).
  template <class... Args>
  db::Result execute(db::Deadline deadline, std::string_view sql, const Args&... args) {
    const db::Deadline d = earliest(deadline, deadline_);
    auto& t = begin(d);
    return in_transaction_run(d, sql, detail::session_effect(sql), [&](detail::PgConn&) { return detail::exec(t, sql, args...); },
                              args...);
  }
  template <class... Args>
  db::Result execute_prepared(const std::string& name, const Args&... args) {
    return execute_prepared(db::Deadline{}, name, args...);
  }
  template <class... Args>
  db::Result execute_prepared(db::Deadline deadline, const std::string& name, const Args&... args) {
    const db::Deadline d = earliest(deadline, deadline_);
    auto& t = begin(d);
    return in_transaction_run(d, "EXECUTE " + name, {},
                              [&](detail::PgConn&) { return detail::exec_prepared(h_, t, name, args...); }, args...);
  }
  /// The statements sent together in this transaction; see Connection::pipeline.
  std::vector<db::Result> pipeline(const std::vector<std::string>& statements, db::Deadline deadline = {}) {
    const db::Deadline d = earliest(deadline, deadline_);
    auto& t = begin(d);
    return in_transaction_run(d, fmt::format("pipeline of {} statements", statements.size()),
                              detail::effect_of(statements),
                              [&](detail::PgConn&) { return detail::exec_pipeline(t, statements); })
        .results;
  }

  /// Commits the transaction; nothing to commit is fine. On failure the
  /// transaction is gone (rolled back by the server) and the error is thrown; when
  /// the connection broke during COMMIT, a QueryError whose failure() is in_doubt:
  /// it may or may not have committed, and is not retried.
  void commit() {
    if (!h_) throw db::UsageError("commit() on a closed session");
    if (aborted_)
      throw db::UsageError(fmt::format("database '{}': commit() of a transaction aborted by an earlier error; "
                                       "call rollback()",
                                       h_.connector().name()));
    if (!txn_) return;
    auto t = std::move(txn_);
    detail::run_statement(h_, deadline_, "", {}, [&](detail::PgConn&) {
      t->commit();
      return db::Result();
    });
  }
  /// Rolls back; also what ends a transaction aborted by an error, and one whose
  /// deadline passed.
  void rollback() {
    if (!h_) throw db::UsageError("rollback() on a closed session");
    aborted_ = false;
    if (!txn_) return;
    auto t = std::move(txn_);
    detail::run_statement(h_, db::Deadline{}, "", {}, [&](detail::PgConn&) {  // a rollback runs past any deadline
      t->abort();
      return db::Result();
    });
  }
  /// Rolls back what is uncommitted and gives the connection back. Idempotent.
  void close() noexcept {
    if (!h_) return;
    if (txn_) {
      try {
        detail::run_statement(h_, db::Deadline{}, "", {}, [&](detail::PgConn&) {
          txn_->abort();
          return db::Result();
        });
      } catch (...) {  // its connection cannot say whether the rollback happened: closed on return
        h_.invalidate();
      }
      txn_.reset();
    }
    aborted_ = false;
    h_.release();
  }
  [[nodiscard]] bool in_transaction() const noexcept { return txn_ != nullptr; }
  /// The libpqxx transaction (begun first), for anything the common API lacks. The
  /// connection is reset when returned.
  [[nodiscard]] transaction_type& native() {
    auto& t = begin(deadline_);
    detail::native_access(h_);
    return t;
  }

 private:
  template <db::Access, class, db::Logger>
  friend class PG;
  Session(Lease h, std::string schema, db::Deadline deadline) noexcept
      : h_(std::move(h)), schema_(std::move(schema)), deadline_(deadline) {}

  transaction_type& begin(db::Deadline d) {
    if (!h_) throw db::UsageError("the session is closed");
    if (aborted_)
      throw db::UsageError(fmt::format("database '{}': the transaction was aborted by an earlier error; call "
                                       "rollback() before the next statement",
                                       h_.connector().name()));
    if (!txn_) {
      // The BEGIN is not logged; the search_path of a schema session is.
      const std::string log = schema_.empty() ? "" : "SET LOCAL search_path TO \"" + schema_ + "\", public";
      in_transaction_run(d, log, {}, [&](detail::PgConn& conn) {
        auto t = std::make_unique<transaction_type>(*conn.pq);
        if (!schema_.empty()) t->exec(log);
        txn_ = std::move(t);
        return db::Result();
      });
    }
    return *txn_;
  }

  // A statement of the transaction: when it fails, the server has aborted the
  // transaction (or the connection is gone), and the session says so.
  template <class Body, class... Args>
  decltype(auto) in_transaction_run(db::Deadline d, std::string_view log, detail::SessionEffect effect, Body&& body,
                                    const Args&... args) {
    try {
      return detail::run_statement(h_, d, log, effect, std::forward<Body>(body), args...);
    } catch (const db::Error&) {
      aborted_ = txn_ != nullptr && !transaction_ok(h_.get());
      throw;
    }
  }
  static bool transaction_ok(detail::PgConn& conn) noexcept {  // in a transaction block that has not failed
    PGconn* r = conn.pq ? detail::raw(*conn.pq) : nullptr;
    return r != nullptr && PQtransactionStatus(r) == PQTRANS_INTRANS;
  }

  Lease h_;  // declared first: destroyed after the transaction
  std::unique_ptr<transaction_type> txn_;
  std::string schema_;  // empty: the connection's search_path
  db::Deadline deadline_;
  bool aborted_ = false;  // a statement failed: only rollback() goes on
};

}  // namespace appinfra::pg
