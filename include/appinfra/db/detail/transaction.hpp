#pragma once
// The retry loop behind every backend's transaction(): one place for what is
// retried, how long to wait between attempts, and what is logged.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/detail/backoff.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <source_location>
#include <thread>
#include <type_traits>
#include <utility>

namespace appinfra::db::detail {

/// The wait after the first failed attempt; it doubles after each further one.
inline constexpr std::chrono::milliseconds first_retry_delay{10};
/// The longest wait between two attempts.
inline constexpr std::chrono::milliseconds max_retry_delay{1000};

/// How long to wait after failed attempt `attempt` (1, 2, ...): 10 ms doubled for
/// each attempt after the first, at most 1 s, times a jitter of 0.5 to 1 (`unit`,
/// from 0 to 1, picks it), so that transactions that failed together do not all
/// come back together.
inline std::chrono::microseconds retry_delay(int attempt, double unit) noexcept {
  const int doublings = std::clamp(attempt - 1, 0, 20);
  const auto full = std::min<std::chrono::microseconds>(first_retry_delay * (std::int64_t{1} << doublings),
                                                        max_retry_delay);
  const double jitter = 0.5 + 0.5 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::microseconds(static_cast<std::int64_t>(static_cast<double>(full.count()) * jitter));
}

/// A number from 0 to 1, from a generator of this thread's own (splitmix64: a
/// jitter needs no more, and <random> would cost every translation unit).
inline double jitter_unit() noexcept {
  thread_local std::uint64_t state =
      mix64(std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
            static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  state += 0x9E3779B97F4A7C15ull;
  return unit_fraction(mix64(state));
}

/// Runs `f(session)` on a new `backend.session(where)` and commits; returns what
/// `f` returns. When a QueryError says running it again may succeed
/// (retryable(): serialization failure, deadlock, SQLite's BUSY or LOCKED), the
/// session is closed (rolled back, its locks released), the thread waits
/// retry_delay(), logs at info, and runs the whole function again on a new session:
/// at most `max_attempts` times in all (at least once). Every other error, and the
/// last attempt's, is thrown: a commit whose outcome is unknown (in_doubt) is never
/// sent again. `f` may run several times, so it should have no effect outside the
/// session.
template <class Backend, Logger L, class F>
decltype(auto) run_transaction(Backend& backend, const L& logger, F&& f, int max_attempts,
                               std::source_location where) {
  using Session = decltype(backend.session(where));
  using R = std::invoke_result_t<F&, Session&>;
  for (int attempt = 1;; ++attempt) {
    Failure failure{};
    {
      Session s = backend.session(where);
      try {
        if constexpr (std::is_void_v<R>) {
          f(s);
          s.commit();
          return;
        } else {
          R result = f(s);
          s.commit();
          return result;
        }
      } catch (const QueryError& e) {
        if (!e.retryable() || attempt >= max_attempts) throw;
        failure = e.failure();
      }
    }  // the session ends here: nothing is held while waiting
    const auto delay = retry_delay(attempt, jitter_unit());
    detail::log_at(logger, log::Level::info,
                   "database '{}': transaction attempt {} of {} failed ({}); retrying in {:.1f} ms", backend.name(),
                   attempt, max_attempts, to_string(failure),
                   std::chrono::duration<double, std::milli>(delay).count());
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace appinfra::db::detail
