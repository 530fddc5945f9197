#pragma once
// Deadline: the point in time by which a call must be done.

#include <chrono>

namespace appinfra::db {

/// A point on the steady clock by which a call must be done: checkout waits no
/// longer than it, and a PostgreSQL statement still running at it is cancelled
/// (QueryError, failure() query_canceled; the connection stays usable).
/// `Deadline{}` is none. Value type.
struct Deadline {
  using clock = std::chrono::steady_clock;
  clock::time_point at = clock::time_point::max();

  /// `d` from now: `db::Deadline::in(std::chrono::milliseconds(200))`.
  template <class Rep, class Period>
  [[nodiscard]] static Deadline in(std::chrono::duration<Rep, Period> d) noexcept {
    return Deadline{clock::now() + std::chrono::duration_cast<clock::duration>(d)};
  }
  /// Whether a deadline is set.
  [[nodiscard]] explicit operator bool() const noexcept { return at != clock::time_point::max(); }
  [[nodiscard]] bool passed() const noexcept { return clock::now() >= at; }
  /// The earlier of two deadlines.
  [[nodiscard]] friend Deadline earliest(Deadline a, Deadline b) noexcept { return a.at <= b.at ? a : b; }
};

}  // namespace appinfra::db
