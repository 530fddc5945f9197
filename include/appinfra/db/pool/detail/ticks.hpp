#pragma once
// The pool's bookkeeping time: its clock's ticks, as plain integers, so that
// they fit in atomics.

#include <chrono>

namespace appinfra::db::detail {

template <class Clock>
struct Ticks {
  using rep = typename Clock::duration::rep;

  static rep of(typename Clock::time_point t) noexcept { return t.time_since_epoch().count(); }
  static rep of(std::chrono::duration<double> d) noexcept {
    return std::chrono::duration_cast<typename Clock::duration>(d).count();
  }
  static rep now() noexcept { return of(Clock::now()); }
  static double seconds(rep t) noexcept { return std::chrono::duration<double>(typename Clock::duration(t)).count(); }
};

}  // namespace appinfra::db::detail
