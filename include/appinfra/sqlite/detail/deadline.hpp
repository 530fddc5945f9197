#pragma once
// A statement's deadline on a sqlite3 connection: SQLite has no server to send a
// cancel request to, so the statement interrupts itself (a progress handler) and
// waits for a lock no longer than the deadline (the busy timeout, shortened).

#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/sqlite/detail/exec.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>

namespace appinfra::sqlite::detail {

/// How many virtual machine instructions run between two looks at the clock: a
/// few microseconds of work, so a statement overruns its deadline by about that,
/// and reading the steady clock costs well under 1 % of it.
inline constexpr int deadline_check_every = 1000;

/// SQLite's code for a statement ended by its progress handler or sqlite3_interrupt().
inline constexpr int interrupted = SQLITE_INTERRUPT;

/// While it lives, the statements on `db` end with SQLITE_INTERRUPT once
/// `deadline` passes, and wait for another connection's lock (the busy timeout)
/// no longer than the time left. Made only for a statement with a deadline, so a
/// statement without one runs exactly as before. Not movable: SQLite holds its
/// address. On destruction the progress handler is removed (one set through
/// native() is lost: the connection is dirty then, and reset on return) and the
/// busy timeout set back.
class DeadlineGuard {
 public:
  /// `busy_ms`: the busy timeout in force on `db`, when known (the configured one
  /// on a clean connection); negative: read it (PRAGMA busy_timeout or native code
  /// may have changed it), which costs a statement.
  DeadlineGuard(sqlite3* db, db::Deadline deadline, int busy_ms) : db_(db), at_(deadline.at), busy_ms_(busy_ms) {
    // Shortened only when the deadline comes first.
    if (busy_ms_ < 0) {
      const auto v = query_value(db_, "PRAGMA busy_timeout");
      busy_ms_ = v ? std::atoi(v->c_str()) : 0;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(at_ - db::Deadline::clock::now()).count();
    if (busy_ms_ > 0 && left < busy_ms_) {
      sqlite3_busy_timeout(db_, static_cast<int>(std::max<decltype(left)>(left, 1)));
      shortened_ = true;
    }
    sqlite3_progress_handler(db_, deadline_check_every, &DeadlineGuard::past, this);
  }
  DeadlineGuard(const DeadlineGuard&) = delete;
  DeadlineGuard& operator=(const DeadlineGuard&) = delete;
  ~DeadlineGuard() {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    if (shortened_) sqlite3_busy_timeout(db_, busy_ms_);
  }

  /// Whether a failure with (extended) code `rc` is the deadline's doing: the
  /// statement was interrupted, or its wait for a lock was cut short by the deadline.
  [[nodiscard]] bool caused(int rc) const noexcept {
    const int primary = rc & 0xff;
    return primary == SQLITE_INTERRUPT || (primary == SQLITE_BUSY && shortened_ && passed());
  }
  [[nodiscard]] bool passed() const noexcept { return db::Deadline::clock::now() >= at_; }

 private:
  static int past(void* self) noexcept {
    return db::Deadline::clock::now() >= static_cast<DeadlineGuard*>(self)->at_ ? 1 : 0;
  }

  sqlite3* db_;
  db::Deadline::clock::time_point at_;
  int busy_ms_ = 0;
  bool shortened_ = false;
};

/// The QueryError of a statement its deadline ended: failure() query_canceled
/// ("SQLITE_9", SQLITE_INTERRUPT, whichever way it ended). `why` is SQLite's own
/// message ("interrupted", "database is locked").
inline db::QueryError deadline_error(std::string_view database, std::string_view why, std::string_view sql) {
  return db::QueryError(fmt::format("database '{}': the deadline passed while the statement ran ({}) in: {}",
                                    database, why, db::detail::normalize_sql(sql)),
                        fmt::format("SQLITE_{}", interrupted));
}

/// exec_kept() bounded by `deadline` (none: exec_kept() itself); `busy_ms` as for
/// DeadlineGuard. A deadline already passed
/// sends nothing: QueryError, failure() query_canceled. A statement still running
/// at it is interrupted, and a wait for a lock ends at it: the same error. The
/// connection stays usable; what SQLite does to an open transaction on an
/// interrupt (it rolls back the whole transaction when a write is interrupted)
/// is left to the caller to see (sqlite3_get_autocommit()).
template <class... Args>
db::Result exec_until(Statements* kept, sqlite3* db, db::Deadline deadline, int busy_ms,
                      const std::string& database, std::string_view sql, const Args&... args) {
  if (!deadline) return exec_kept(kept, db, database, sql, args...);
  if (deadline.passed())
    throw db::QueryError(
        fmt::format("database '{}': the deadline passed before the statement was sent to SQLite", database),
        fmt::format("SQLITE_{}", interrupted));
  DeadlineGuard guard(db, deadline, busy_ms);
  try {
    return exec_kept(kept, db, database, sql, args...);
  } catch (const db::QueryError& e) {
    // The code is read from the error: the connection's may have changed since
    // (the statement was finalized while the exception left exec()).
    const std::string& state = e.sqlstate();  // "SQLITE_<extended code>"
    const int rc = state.rfind("SQLITE_", 0) == 0 ? std::atoi(state.c_str() + 7) : 0;
    if (guard.caused(rc)) throw deadline_error(database, sqlite3_errstr(rc), sql);
    throw;
  }
}

}  // namespace appinfra::sqlite::detail
