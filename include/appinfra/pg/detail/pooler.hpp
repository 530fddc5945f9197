#pragma once
// Behind a pooler in transaction mode (key `pooler: transaction`, PgBouncer's
// `pool_mode = transaction`): each transaction may run on another server connection,
// and whatever a client leaves on one is seen by the next client there. So the
// connection's settings (read-only, statement_timeout) are applied per transaction,
// and a statement that would leave session state is refused before it is sent.

#include <appinfra/db/config.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/pg/detail/conninfo.hpp>
#include <appinfra/pg/detail/pg_conn.hpp>
#include <appinfra/pg/detail/sql_text.hpp>

#include <fmt/core.h>
#include <libpq-fe.h>
#include <pqxx/nontransaction>

#include <string>
#include <string_view>
#include <utility>

namespace appinfra::pg::detail {

/// What a database behind a pooler in transaction mode sends around an autocommit
/// statement; both empty when nothing is needed (not behind a pooler, or a
/// read-write database without statement_timeout: then nothing is wrapped).
struct PooledTransaction {
  /// Sent in place of the connection's settings before an autocommit statement, in
  /// one round trip: `BEGIN [READ ONLY]; SET LOCAL ...`.
  std::string begin;
  /// Sent after a BEGIN or START that the caller sent itself (execute("BEGIN")):
  /// `SET TRANSACTION READ ONLY; SET LOCAL ...`.
  std::string after_begin;
  /// The SET LOCALs alone, for a session's transaction (which says READ ONLY itself).
  std::string settings;

  static PooledTransaction of(const db::DatabaseConfig& c, bool read_only) {
    if (!behind_transaction_pooler(c)) return {};
    const std::string settings = transaction_settings(c);
    if (!read_only && settings.empty()) return {};
    PooledTransaction p;
    p.settings = settings;
    p.begin = std::string(read_only ? "BEGIN READ ONLY" : "BEGIN") + (settings.empty() ? "" : "; " + settings);
    p.after_begin = read_only ? "SET TRANSACTION READ ONLY" + (settings.empty() ? "" : "; " + settings) : settings;
    return p;
  }
};

/// The UsageError for a statement that would leave session state behind a pooler in
/// transaction mode (SessionEffect::session_state).
inline db::UsageError session_state_refused(std::string_view database) {
  return db::UsageError(fmt::format(
      "database '{}': statement refused: it would leave session state (a SET or RESET, LISTEN, PREPARE, LOAD, a "
      "temporary object, a WITH HOLD cursor, set_config() or a session advisory lock) on a server connection that the "
      "pooler in transaction mode (key 'pooler') hands to other clients next; use SET LOCAL, "
      "pg_advisory_xact_lock() and the like inside a session(), or connect to the server directly (no pooler)",
      database));
}

/// The UsageError for a text of several statements, one of which begins or ends a
/// transaction, where the database's settings are applied per transaction
/// (controls_transaction_among_others): it could run part of the text outside the
/// transaction that carries them (a write on a read-only database, say).
inline db::UsageError transaction_control_refused(std::string_view database) {
  return db::UsageError(fmt::format(
      "database '{}': statement refused: several statements in one text, one of them BEGIN, START, COMMIT, END, "
      "ROLLBACK or ABORT; behind the pooler in transaction mode (key 'pooler') the database's settings (read-only, "
      "statement_timeout) hold for one transaction only: send them one at a time, or use a session()",
      database));
}

/// Runs `statement()`, an autocommit statement given as `sql`, with the database's
/// settings applied to its transaction (the connector's pooled_transaction()): in an explicit
/// transaction begun with them and committed after it (rolled back when it fails);
/// a BEGIN or START of the caller's own gets them right after it; a statement sent
/// while the caller's own transaction is open runs as it is (that transaction got
/// them at its BEGIN). With nothing to apply, `statement()` alone.
/// A text of several statements that begins or ends a transaction is refused
/// (transaction_control_refused), before anything is sent.
template <class Connector, class F>
decltype(auto) in_pooled_transaction(PgConn& conn, const Connector& connector, std::string_view sql, F&& statement) {
  const PooledTransaction& p = connector.pooled_transaction();
  if (p.begin.empty()) return statement();
  if (controls_transaction_among_others(sql)) throw transaction_control_refused(connector.name());
  PGconn* r = raw(*conn.pq);
  if (r == nullptr || PQtransactionStatus(r) != PQTRANS_IDLE) return statement();
  const std::string kw = first_keyword(sql);
  const auto send = [&](const std::string& text) {
    pqxx::nontransaction t(*conn.pq);
    t.exec(text);
  };
  if (kw == "begin" || kw == "start") {
    auto result = statement();
    if (PQtransactionStatus(r) == PQTRANS_INTRANS && !p.after_begin.empty()) send(p.after_begin);
    return result;
  }
  if (kw == "commit" || kw == "end" || kw == "rollback" || kw == "abort") return statement();  // nothing to wrap
  send(p.begin);
  try {
    auto result = statement();
    send("COMMIT");
    return result;
  } catch (...) {
    try {
      if (PQtransactionStatus(r) == PQTRANS_INTRANS || PQtransactionStatus(r) == PQTRANS_INERROR) send("ROLLBACK");
    } catch (...) {  // the error that matters is the statement's
    }
    throw;
  }
}

}  // namespace appinfra::pg::detail
