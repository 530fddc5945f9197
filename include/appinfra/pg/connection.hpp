#pragma once
// pg::Connection: a pooled PostgreSQL connection in autocommit mode.

#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/leased.hpp>
#include <appinfra/db/detail/pooled_backend.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/pg/detail/auto_prepare.hpp>
#include <appinfra/pg/detail/result.hpp>
#include <appinfra/pg/detail/statement.hpp>

#include <fmt/core.h>
#include <pqxx/nontransaction>
#include <pqxx/pipeline>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::pg {

namespace detail {

/// What the query log needs of a batch's results: a size and a change count.
struct Batch {
  std::vector<db::Result> results;
  [[nodiscard]] std::size_t size() const noexcept { return results.size(); }
  [[nodiscard]] std::int64_t affected_rows() const noexcept {
    std::int64_t n = 0;
    for (const auto& r : results) n += r.affected_rows();
    return n;
  }
};

/// A registered prepared statement on `t`, declared on the connection first.
/// Behind a pooler in transaction mode the registered text runs unprepared
/// (PgBouncer 1.18 does not carry a prepared statement from one server connection
/// to the next); its session state is refused as any statement's.
template <class Lease, class... Args>
db::Result exec_prepared(Lease& lease, pqxx::transaction_base& t, const std::string& name, const Args&... args) {
  const auto& connector = lease.connector();
  if (connector.behind_pooler()) {
    const std::string sql = connector.prepared().text(connector.name(), name);
    const SessionEffect effect = session_effect(sql);
    if (effect.session_state) throw session_state_refused(connector.name());
    track(lease, effect);
    return exec(t, sql, is_query(sql), args...);
  }
  const Declared& declared = connector.prepared().declare(connector.name(), lease.get(), name);
  track(lease, declared.effect);  // known once declared: the statement's text is the registry's
  return to_result(t.exec_prepared(name, param(args)...), declared.query);
}

/// libpqxx's pipeline on `t`: the statements sent together, answered together.
inline Batch exec_pipeline(pqxx::transaction_base& t, const std::vector<std::string>& statements) {
  pqxx::pipeline p(t);
  std::vector<pqxx::pipeline::query_id> ids;
  ids.reserve(statements.size());
  for (const auto& s : statements) ids.push_back(p.insert(s));
  p.complete();
  Batch out;
  out.results.reserve(statements.size());
  for (std::size_t i = 0; i < ids.size(); ++i) out.results.push_back(to_result(p.retrieve(ids[i]), is_query(statements[i])));
  return out;
}

inline SessionEffect effect_of(const std::vector<std::string>& statements) {
  SessionEffect e;
  for (const auto& s : statements) {
    const SessionEffect one = session_effect(s);
    e.dirty = e.dirty || one.dirty;
    e.drops_prepared = e.drops_prepared || one.drops_prepared;
    e.session_state = e.session_state || one.session_state;
  }
  return e;
}

}  // namespace detail

/// A pooled connection in autocommit mode: what PG::connect() returns. Move-only;
/// gives the connection back when destroyed or close()d. Used by one thread at a
/// time; may outlive its PG (the connection is then closed when it ends).
///
/// execute(sql, args...) runs one statement in its own transaction; parameters bind
/// to $1, $2, ... It throws QueryError (with its SQLSTATE and failure()),
/// ConnectionError (the connection broke; failure() says why), UsageError (a misuse:
/// a wrong number of parameters, say; the connection stays usable). With a deadline
/// (the earlier of it and the connection's own, from connect(deadline)), a statement
/// still running at it is cancelled.
///
/// A statement that changes the session (BEGIN, SET, LISTEN, a temporary table,
/// ...; see detail::session_effect) or native() access makes the connection
/// dirty: the pool resets it when it is returned, so the next borrower gets a
/// clean session (README: "What a reset undoes").
template <db::Access A, class Lease>
class Connection : public db::detail::LeasedConnection<Connection<A, Lease>, Lease> {
  using Base = db::detail::LeasedConnection<Connection<A, Lease>, Lease>;

 public:
  /// Runs a statement registered with PG::prepare().
  template <class... Args>
  db::Result execute_prepared(const std::string& name, const Args&... args) {
    return execute_prepared(db::Deadline{}, name, args...);
  }
  template <class... Args>
  db::Result execute_prepared(db::Deadline deadline, const std::string& name, const Args&... args) {
    this->check();
    return detail::run_statement(this->lease_, this->bounded(deadline), "EXECUTE " + name, {},
                                 [&](detail::PgConn& conn) {
                                   return detail::in_pooled_transaction(conn, this->lease_.connector(), "", [&] {
                                     pqxx::nontransaction t(*conn.pq);
                                     return detail::exec_prepared(this->lease_, t, name, args...);
                                   });
                                 }, args...);
  }

  /// Sends the statements together and waits once (libpqxx's pipeline); returns
  /// their results in order. libpqxx 6 sends them as one query string, so they run
  /// in one implicit transaction: the first failing one throws, and the batch is
  /// rolled back. No parameters.
  std::vector<db::Result> pipeline(const std::vector<std::string>& statements, db::Deadline deadline = {}) {
    this->check();
    return detail::run_statement(this->lease_, this->bounded(deadline),
                                 fmt::format("pipeline of {} statements", statements.size()),
                                 detail::effect_of(statements), [&](detail::PgConn& conn) {
                                   // The statements are sent as one text: judged as one.
                                   const auto& connector = this->lease_.connector();
                                   std::string text;
                                   if (!connector.pooled_transaction().begin.empty())
                                     for (const auto& st : statements) text.append(st).append(";");
                                   return detail::in_pooled_transaction(conn, connector, text, [&] {
                                     pqxx::nontransaction t(*conn.pq);
                                     return detail::exec_pipeline(t, statements);
                                   });
                                 })
        .results;
  }

  /// The libpqxx connection, for anything the common API lacks. The connection is
  /// reset when returned, since what native code left on it is unknown. If it
  /// breaks, call invalidate() so that the pool replaces it.
  [[nodiscard]] pqxx::connection& native() {
    this->check();
    return *detail::native_access(this->lease_).pq;
  }
  void invalidate() noexcept { this->lease_.invalidate(); }

 private:
  friend Base;
  template <class D, class C, class P, db::Logger L>
    requires db::PoolPolicy<P, C, db::CoarseClock>
  friend class db::detail::PooledBackend;  // connect()
  Connection(Lease lease, db::Deadline deadline) noexcept : Base(std::move(lease), deadline) {}

  // Base::execute(): one statement in its own transaction, prepared automatically
  // once run often enough on this connection (detail::exec_auto); behind a pooler
  // in transaction mode, in an explicit one that applies the database's settings
  // (detail::in_pooled_transaction).
  template <class... Args>
  db::Result run(db::Deadline deadline, std::string_view sql, const Args&... args) {
    const detail::SessionEffect effect = detail::session_effect(sql);
    return detail::run_statement(this->lease_, deadline, sql, effect,
                                 [&](detail::PgConn& conn) {
                                   std::optional<pqxx::nontransaction> t;
                                   const auto txn = [&]() -> pqxx::nontransaction& {  // a new one for a retry
                                     t.reset();
                                     return t.emplace(*conn.pq);
                                   };
                                   return detail::in_pooled_transaction(conn, this->lease_.connector(), sql, [&] {
                                     // Ended before the COMMIT or ROLLBACK around it (libpqxx: one at a time).
                                     struct End {
                                       std::optional<pqxx::nontransaction>& t;
                                       ~End() { t.reset(); }
                                     } end{t};
                                     return detail::exec_auto(this->lease_, txn, true, true, sql, effect, args...);
                                   });
                                 }, args...);
  }
};

}  // namespace appinfra::pg
