#pragma once
// A clock that moves only when a test says so. Each test case has its own time,
// starting at 0: no test depends on what ran before it.

#include "test_case.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace appinfra::test {

struct ManualClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<ManualClock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept { return time_point(duration(ticks().load())); }
  static void advance(duration d) noexcept { ticks() += d.count(); }
  /// Back to 0 within the running test case (each test case starts at 0 anyway).
  static void reset() noexcept { ticks() = 0; }

 private:
  // The running test case's ticks; entries are never erased, so the reference stays valid.
  static std::atomic<rep>& ticks() noexcept {
    static std::mutex m;
    static std::map<std::string, std::unique_ptr<std::atomic<rep>>> all;
    std::string test;
    try {
      test = current_test_case();
    } catch (...) {  // out of memory for a name: share the unnamed clock
    }
    std::lock_guard lock(m);
    auto& t = all[test];
    if (!t) t = std::make_unique<std::atomic<rep>>(0);
    return *t;
  }
};

}  // namespace appinfra::test
