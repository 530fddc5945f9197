#pragma once
// A clock that moves only when a test says so.

#include <atomic>
#include <chrono>

namespace appinfra::test {

struct ManualClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<ManualClock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept { return time_point(duration(ticks().load())); }
  static void advance(duration d) noexcept { ticks() += d.count(); }
  static void reset() noexcept { ticks() = 0; }

 private:
  static std::atomic<rep>& ticks() noexcept {
    static std::atomic<rep> t{0};
    return t;
  }
};

}  // namespace appinfra::test
