#pragma once
// Automatic preparation: a statement text run through execute() prepare_threshold
// times on a connection is prepared there and executed as prepared from then on
// (pgjdbc's prepareThreshold, psycopg 3's prepare_threshold). The parse and plan
// that a simple query pays on every run are then paid once per connection.

#include <appinfra/db/detail/statement_cache.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/pg/detail/pg_conn.hpp>
#include <appinfra/pg/detail/result.hpp>
#include <appinfra/pg/detail/sql_text.hpp>

#include <fmt/core.h>
#include <pqxx/except>
#include <pqxx/transaction_base>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace appinfra::pg::detail {

/// One statement with its parameters on transaction `t`, unprepared (the simple
/// query protocol without parameters, libpq's PQexecParams with them); `query`: its
/// row count is not a change count.
template <class... Args>
db::Result exec(pqxx::transaction_base& t, std::string_view sql, bool query, const Args&... args) {
  if constexpr (sizeof...(Args) > 0)
    if (db::detail::param_count(args...) > 0) return to_result(t.exec_params(std::string(sql), param(args)...), query);
  // Without parameters: the simple query protocol, which runs several statements.
  return to_result(t.exec(std::string(sql)), query);
}

/// Whether `sql` may be prepared: one plain statement (no ';' but a trailing one)
/// that leaves nothing on the session, of a kind PostgreSQL prepares.
inline bool preparable(std::string_view sql, SessionEffect effect) {
  if (effect.dirty) return false;
  const auto semicolon = sql.find(';');
  if (semicolon != std::string_view::npos &&
      sql.find_first_not_of(" \t\r\n;", semicolon) != std::string_view::npos)
    return false;
  const std::string w = first_keyword(sql);
  return w == "select" || w == "insert" || w == "update" || w == "delete" || w == "with" || w == "values" ||
         w == "table";
}

/// The name of automatically prepared statement `id` on a connection. It starts
/// with '_': a name given to PG::prepare() cannot (`[a-z][a-z0-9_]*`).
inline std::string auto_name(std::uint32_t id) { return fmt::format("_appinfra_{}", id); }

/// Drops automatically prepared statement `id` (an LRU eviction): DEALLOCATE on
/// the server, through libpqxx, which forgets its definition too. A failure is not
/// the running statement's: it is left to that statement to meet (a broken
/// connection), or the statement stays on the server until the connection closes.
inline void deallocate(PgConn& conn, std::uint32_t id) noexcept {
  try {
    conn.pq->unprepare(auto_name(id));
  } catch (...) {
  }
}

/// Forgets what the server dropped by itself (DISCARD ALL, DEALLOCATE ALL): none of
/// this connection's statements is prepared any more, and the connection is closed
/// on return (the caller invalidates it), so nothing is prepared again on it.
inline void auto_prepare_off(PgConn& conn) noexcept {
  conn.auto_statements.clear();
  conn.auto_runs.clear();
  conn.auto_prepare_off = true;
}

/// What to do with a statement: run it as a simple (unprepared) one, or as the
/// prepared `id`.
struct AutoPlan {
  bool prepared = false;
  bool fresh = false;  ///< prepared just now: declared on the server by this run
  bool query = false;
  std::uint32_t id = 0;
};

/// Counts a run of `sql` on `conn` and says how to run it (see AutoPlan). A
/// preparable text is counted until its threshold-th run, which prepares it; the
/// least recently used prepared statement is then deallocated if the cache is full
/// (its capacity is not 0).
template <class Counters>
AutoPlan plan_run(PgConn& conn, std::size_t threshold, Counters& counters, std::string_view sql,
                  SessionEffect effect) {
  if (AutoStatement* s = conn.auto_statements.find(sql)) {
    counters.hit();
    return AutoPlan{true, false, s->query, s->id};
  }
  const bool query = is_query(sql);
  if (!preparable(sql, effect)) return AutoPlan{false, false, query, 0};
  std::size_t runs = 1;
  if (std::size_t* n = conn.auto_runs.find(sql)) runs = ++*n;
  if (runs < threshold) {
    if (runs == 1) (void)conn.auto_runs.insert(std::string(sql), runs);  // the oldest count goes, if full
    return AutoPlan{false, false, query, 0};
  }
  if (runs > 1) (void)conn.auto_runs.erase(sql);
  const AutoStatement prepared{++conn.auto_prepared_count, query};
  if (auto evicted = conn.auto_statements.insert(std::string(sql), prepared)) {
    counters.evicted();
    deallocate(conn, evicted->second.id);
  }
  counters.miss();
  return AutoPlan{true, true, query, prepared.id};
}

/// Runs `sql` with `args` through automatic preparation on the transaction that
/// `txn()` gives (a fresh nontransaction each call in autocommit, the session's
/// transaction otherwise); unprepared when `enabled` is false (a session scoped to
/// a schema, whose search_path would change what a prepared text means). In autocommit, a statement the server no longer accepts
/// as prepared (SQLSTATE 0A000 "cached plan must not change result type" after
/// DDL) is prepared again and run once more; one the server does not have (26000,
/// 42P05: a DEALLOCATE or DISCARD the pool did not see, or a pooler in transaction
/// mode in front) turns automatic preparation off on this connection, which is
/// closed on return, and runs unprepared. In a transaction, where the error has
/// aborted it, both are a QueryError that says so.
template <class Lease, class Txn, class... Args>
db::Result exec_auto(Lease& lease, Txn&& txn, bool autocommit, bool enabled, std::string_view sql,
                     SessionEffect effect, const Args&... args) {
  PgConn& conn = lease.get();
  const auto& connector = lease.connector();
  const std::size_t threshold = connector.prepare_threshold();
  if (threshold == 0 || !enabled || conn.auto_prepare_off || conn.auto_statements.capacity() == 0)
    return exec(txn(), sql, is_query(sql), args...);
  const AutoPlan plan = plan_run(conn, threshold, connector.statement_cache_counters(), sql, effect);
  if (!plan.prepared) return exec(txn(), sql, plan.query, args...);
  const std::string name = auto_name(plan.id);
  if (plan.fresh) conn.pq->prepare(name, std::string(sql));  // declared by its first run
  try {
    return to_result(txn().exec_prepared(name, param(args)...), plan.query);
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    // 0A000 is also an ordinary error ("FOR UPDATE is not allowed with aggregate
    // functions"): stale only when said so, of a statement prepared before this run.
    const bool stale_plan = state == "0A000" && !plan.fresh &&
                            std::string_view(e.what()).find("cached plan must not change result type") !=
                                std::string_view::npos;
    const bool gone = state == "26000" || state == "42P05";
    // The statement's own error (one found when it is prepared, a syntax error
    // say, leaves it undeclared: libpqxx prepares it again at the next run).
    if (!stale_plan && !gone) throw;
    if (gone) {
      auto_prepare_off(conn);
      lease.invalidate();
    } else if (autocommit) {
      conn.pq->unprepare(name);  // DEALLOCATE: the server still has it
      conn.pq->prepare(name, std::string(sql));
      return to_result(txn().exec_prepared(name, param(args)...), plan.query);
    } else {
      // Cannot DEALLOCATE in the aborted transaction: the connection goes.
      auto_prepare_off(conn);
      lease.invalidate();
    }
    if (autocommit) return exec(txn(), sql, plan.query, args...);
    throw db::QueryError(
        fmt::format("database '{}': a statement prepared automatically on this connection {} (SQLSTATE {}); the "
                    "transaction is aborted: roll back and run it again (the connection is replaced{})",
                    connector.name(),
                    stale_plan ? "no longer matches its tables after a schema change"
                    : state == "42P05" ? "has a name the server already has for another"
                                       : "is not on the server any more",
                    state,
                    stale_plan ? "" : "; behind a pooler in transaction mode set prepare_threshold: 0"),
        state);
  }
}

}  // namespace appinfra::pg::detail
