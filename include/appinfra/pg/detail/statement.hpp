#pragma once
// The one path of every statement on a pooled PostgreSQL connection, whichever
// handle sends it: it records what the statement may leave on the session, watches
// its deadline, logs it, and translates what fails.

#include <appinfra/db/deadline.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/pg/detail/auto_prepare.hpp>
#include <appinfra/pg/detail/pg_conn.hpp>
#include <appinfra/pg/detail/pooler.hpp>
#include <appinfra/pg/detail/sql_text.hpp>
#include <appinfra/pg/detail/translate.hpp>
#include <appinfra/pg/detail/watchdog.hpp>

#include <fmt/core.h>

#include <optional>
#include <string_view>

namespace appinfra::pg::detail {

/// Records `effect` on the lease's connection before the statement is sent (it may
/// take effect even if the statement then fails): dirty, the pool resets it on
/// return; prepared statements dropped, the pool closes it on return (the registry's
/// declarations on it can no longer be trusted).
template <class Lease>
void track(Lease& lease, SessionEffect effect) noexcept {
  PgConn& conn = lease.get();
  conn.dirty = conn.dirty || effect.dirty;
  if (effect.drops_prepared) {
    lease.invalidate();
    auto_prepare_off(conn);
  }
}

/// Runs `body(conn)` on the lease's connection as one statement (or a batch): the
/// path of every statement of Connection, Session and pipelines. `log_text` is
/// what the query log shows (nothing when empty), `args` the parameters it may
/// show. With a deadline, a statement still running at it is cancelled
/// (QueryError, query_canceled); one already past it is not sent. Every libpqxx
/// exception becomes appinfra's, a connection that must not be used again is
/// invalidated, and the failure is counted by kind (the connector's failures()).
/// Behind a pooler in transaction mode, a statement that would leave session state
/// is refused (UsageError) before anything is sent.
template <class Lease, class Body, class... Args>
decltype(auto) run_statement(Lease& lease, db::Deadline deadline, std::string_view log_text, SessionEffect effect,
                             Body&& body, const Args&... args) {
  PgConn& conn = lease.get();
  const auto& connector = lease.connector();
  if (effect.session_state && connector.behind_pooler()) throw session_state_refused(connector.name());
  track(lease, effect);
  const auto guarded = [&]() -> decltype(auto) {
    return connector.failures().counting([&]() -> decltype(auto) {
      return translate(connector.errors(), &conn, [&] { lease.invalidate(); }, [&]() -> decltype(auto) {
        std::optional<DeadlineGuard> watch;
        if (deadline) {
          if (deadline.passed())
            throw db::QueryError(fmt::format("database '{}': the deadline passed before the statement was sent",
                                             connector.name()),
                                 "57014");
          if (PGconn* r = raw(*conn.pq)) watch.emplace(r, deadline.at);
        }
        return body(conn);
      });
    });
  };
  if (log_text.empty()) return guarded();
  return connector.query_log().run(log_text, guarded, args...);
}

/// native() access: the caller may do anything to the session, so the connection
/// is reset on return.
template <class Lease>
PgConn& native_access(Lease& lease) noexcept {
  lease.get().dirty = true;
  return lease.get();
}

}  // namespace appinfra::pg::detail
