#pragma once
// libpqxx's exceptions turned into appinfra's, without the password, with the
// server's reason recovered when libpqxx lost it.

#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/detail/redact.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/url.hpp>
#include <appinfra/pg/detail/pg_conn.hpp>
#include <appinfra/pg/detail/server_message.hpp>
#include <appinfra/pg/detail/sqlstate.hpp>

#include <fmt/core.h>
#include <pqxx/except>

#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::pg::detail {

/// Removes a database's passwords from a server or library message (see
/// db::detail::Redactor: the url, URL credentials, password=... pairs, and each
/// password of at least 4 characters itself), and the trailing newline.
inline std::string scrub(std::string_view text, const db::detail::Redactor& redact) {
  std::string out = redact(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

/// The same, for a literal password only.
inline std::string scrub(std::string_view text, const std::string& password) {
  return scrub(text, db::detail::Redactor::of_password(password));
}

/// What an error message needs to know of the database.
struct ErrorContext {
  const std::string& database;
  const db::detail::Redactor& redact;
  bool read_only_db;
};

/// Why a connection broke: the SQLSTATE the server gave (its goodbye notice, or its
/// last message as libpq kept it), or 08006 when it said nothing; and that message.
inline std::pair<std::string, std::string> why_lost(const PgConn* conn, std::string_view fallback) {
  std::string text(fallback);
  std::string state;
  if (conn != nullptr && conn->pq) {
    if (PGconn* r = raw(*conn->pq)) {
      const char* m = PQerrorMessage(r);
      if (m != nullptr && *m != '\0') text = m;
    }
    state = conn->goodbye->sqlstate;
  }
  if (state.empty()) state = sqlstate_of_goodbye(text);
  if (state.empty()) state = "08006";
  return {state, text};
}

/// Whether libpq still holds an open connection.
inline bool still_open(const PgConn* conn) noexcept {
  if (conn == nullptr || !conn->pq) return false;
  PGconn* r = raw(*conn->pq);
  return r != nullptr && PQstatus(r) == CONNECTION_OK;
}

/// The appinfra exception for the libpqxx exception being handled (call it in a
/// catch block), without the password. `conn` (may be null) is the connection the
/// statement ran on. Sets `lost` first, before any allocation, when the connection
/// must not be used again: broken, ended by the server (57P01-57P03, 08xxx with the
/// connection closed), or, for a read-write database, on a server that turned
/// read-only (25006 after a failover). Any other exception leaves it as it came.
/// Not a template, so that each statement path does not compile its own copy.
[[gnu::cold]] inline std::exception_ptr translate_current(const ErrorContext& ctx, const PgConn* conn, bool& lost) {
  const auto message = [&](std::string_view what) {
    return fmt::format("database '{}': {}", ctx.database, scrub(what, ctx.redact));
  };
  const auto query_error = [&](std::string_view what, const std::string& state, const std::string& query) {
    const db::Failure kind = db::classify(state);
    lost = lost || kind == db::Failure::server_shutdown || kind == db::Failure::server_crashed ||
           kind == db::Failure::server_starting || kind == db::Failure::connection_lost ||
           kind == db::Failure::in_doubt || (kind == db::Failure::read_only && !ctx.read_only_db);
    return std::make_exception_ptr(db::QueryError(
        fmt::format("{} (SQLSTATE {}, {}){}{}", message(what), state, db::to_string(kind), query.empty() ? "" : " in: ",
                    db::detail::normalize_sql(scrub(query, ctx.redact))),
        state));
  };
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    // libpqxx 6 throws this for any SQLSTATE of class 08, also for an ERROR after
    // which the connection is still open: a protocol violation (08P01), such as
    // fewer parameters than placeholders ("bind message supplies 1 parameters, but
    // prepared statement requires 2"). That is a misuse of the API; the connection stays.
    if (still_open(conn)) return std::make_exception_ptr(db::UsageError(message(e.what())));
    lost = true;
    // libpqxx 6 words a connection the server ended "Could not obtain client
    // encoding: not connected": libpq kept what the server said.
    const auto [state, text] = why_lost(conn, e.what());
    return std::make_exception_ptr(db::ConnectionError(
        fmt::format("database '{}': connection lost ({}, SQLSTATE {}): {}", ctx.database,
                    db::to_string(db::classify(state)), state, scrub(text, ctx.redact)),
        state));
  } catch (const pqxx::transaction_rollback& e) {
    // libpqxx 6 derives these from failure, not sql_error: they carry no SQLSTATE.
    const char* state = dynamic_cast<const pqxx::serialization_failure*>(&e)         ? "40001"
                        : dynamic_cast<const pqxx::deadlock_detected*>(&e)           ? "40P01"
                        : dynamic_cast<const pqxx::statement_completion_unknown*>(&e) ? "40003"
                                                                                      : "40000";
    return query_error(e.what(), state, "");
  } catch (const pqxx::in_doubt_error& e) {
    lost = true;
    return query_error(
        fmt::format("commit outcome unknown: the connection was lost during COMMIT, which may or may not have "
                    "taken effect: {}",
                    e.what()),
        "08007", "");
  } catch (const pqxx::sql_error& e) {
    // libpqxx 6.4 drops some SQLSTATEs (insufficient_privilege has none): its
    // class, or the server's wording, gives it back.
    std::string state = e.sqlstate();
    if (state.empty() && dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr) state = "42501";
    if (state.empty()) state = sqlstate_from_message(e.what());
    // A protocol violation answered on a connection that is still open is a misuse
    // of the API (fewer parameters than placeholders: "bind message supplies 1
    // parameters, but prepared statement requires 2"); the connection stays.
    if (state == "08P01" && still_open(conn))
      return std::make_exception_ptr(db::UsageError(fmt::format("{} in: {}", message(e.what()),
                                                                db::detail::normalize_sql(scrub(e.query(), ctx.redact)))));
    return query_error(e.what(), state, e.query());
  } catch (const pqxx::usage_error& e) {
    return std::make_exception_ptr(db::UsageError(message(e.what())));
  } catch (const pqxx::conversion_error& e) {
    return std::make_exception_ptr(db::UsageError(message(e.what())));
  } catch (const pqxx::argument_error& e) {
    return std::make_exception_ptr(db::UsageError(message(e.what())));
  } catch (const pqxx::failure& e) {
    return std::make_exception_ptr(db::Error(message(e.what())));
  }
}

/// Runs `f`, translating libpqxx's exceptions into appinfra's (translate_current);
/// `invalidate()` is called when the connection must not be used again, also when
/// there is no memory left to describe why, and when the thread is cancelled in
/// the middle of a statement (its abi::__forced_unwind is rethrown as it came).
template <class F, class Invalidate>
decltype(auto) translate(const ErrorContext& ctx, const PgConn* conn, Invalidate&& invalidate, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const db::Error&) {
    throw;  // already ours (a nested statement path)
  } catch (const std::exception&) {
    bool lost = false;
    std::exception_ptr error;
    try {
      error = translate_current(ctx, conn, lost);
    } catch (...) {  // not a libpqxx exception (rethrown as it came), or no memory for the message
      if (lost) invalidate();
      throw;
    }
    if (lost) invalidate();
    std::rethrow_exception(error);
  } catch (...) {  // the thread cancelled mid-statement (abi::__forced_unwind): must go on unwinding
    invalidate();
    throw;
  }
}

}  // namespace appinfra::pg::detail
