#pragma once
// Background setup retry: a database whose setup failed for a reason that may pass
// is set up again by one thread per manager, with backoff and jitter.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/entry_state.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/detail/backoff.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace appinfra::db::detail {

/// Whether a setup failure may pass by itself, so that setup is tried again: the
/// server refused, was starting, was a standby (ReadOnlyServerError, a standby may be
/// promoted) or did not answer in time. A bad configuration or an unknown url scheme
/// (ConfigError, UnknownDBTypeException) and anything else never pass.
inline bool setup_failure_may_pass(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const ConnectionError&) {
    return true;
  } catch (const PoolTimeoutError&) {
    return true;
  } catch (...) {
    return false;
  }
}

/// The wait before background setup attempt `n` (0 for the first after setup()):
/// retry_delay * 2^n (retry_delay at least 10 ms, so that 0 does not spin), capped at
/// setup_retry_max_interval, times a jitter of 0.5 to 1 (`fraction` in [0, 1)), so
/// that processes started together do not retry in lockstep. Never above the cap.
inline std::chrono::duration<double> setup_retry_interval(const DatabaseConfig& c, int n, double fraction) noexcept {
  const double step = std::max(c.pool.retry_delay.count(), 0.01) * std::pow(2.0, std::clamp(n, 0, 60));
  return std::chrono::duration<double>(std::min(step, c.setup.retry_max_interval.count()) *
                                       (0.5 + 0.5 * std::clamp(fraction, 0.0, 1.0)));
}

/// The retry thread of one manager. Started by setup() only when a database failed
/// for a reason that may pass (setup_failure_may_pass) and has `setup_retry` on. It
/// sleeps on a condition variable until the earliest next attempt of any entry
/// (EntryState::next_attempt), so stop() (close_all(), the destructor) wakes it and
/// joins it at once, waiting at most for an attempt already under way (one connect:
/// each background attempt makes a single connection attempt, the thread's schedule
/// being the backoff). Ends by itself when no entry is left to retry.
class SetupRetry {
 public:
  SetupRetry() = default;
  SetupRetry(const SetupRetry&) = delete;
  SetupRetry& operator=(const SetupRetry&) = delete;
  ~SetupRetry() { stop(); }

  /// Starts the thread. `for_each_entry(f)` calls f(EntryState&, backend*) for each
  /// entry of the manager; `build(state, config)` builds an entry's backend or
  /// throws. Both, and `logger`, must outlive the thread (until stop()).
  template <class ForEachEntry, class Build, Logger L>
  void start(ForEachEntry for_each_entry, Build build, const L& logger) {
    thread_ = std::thread([this, for_each_entry, build, &logger]() mutable { loop(for_each_entry, build, logger); });
  }

  /// Wakes the thread and joins it. Never throws; safe to call twice.
  void stop() noexcept {
    try {
      {
        std::lock_guard lock(mutex_);
        stop_ = true;
      }
      cv_.notify_all();
      if (thread_.joinable()) thread_.join();
    } catch (...) {  // join() cannot fail here (joinable, not this thread); a lock failure leaves it running
    }
  }

  /// Jitter for the schedule, in [0, 1): splitmix64 over a counter and the clock.
  /// Used by setup() before the thread starts, then by the thread only.
  double random_fraction() noexcept {
    return unit_fraction(mix64((seed_ += 0x9E3779B97F4A7C15ull) ^
                               static_cast<std::uint64_t>(EntryState::Clock::now().time_since_epoch().count())));
  }

 private:
  // Sleeps until the earliest next attempt of any retried entry, tries the due
  // ones, and ends when none is left or stop() is called.
  template <class ForEachEntry, class Build, Logger L>
  void loop(ForEachEntry& for_each_entry, Build& build, const L& logger) noexcept {
    try {
      std::unique_lock lock(mutex_);
      while (!stop_) {
        const auto now = EntryState::Clock::now();
        EntryState* due = nullptr;
        std::optional<EntryState::Clock::time_point> next;
        for_each_entry([&](EntryState& s, auto*) {
          std::lock_guard entry_lock(s.mutex);
          if (!s.retry_config) return;
          if (s.next_attempt <= now) {
            if (due == nullptr) due = &s;
          } else if (!next || s.next_attempt < *next) {
            next = s.next_attempt;
          }
        });
        if (due != nullptr) {
          lock.unlock();  // close_all() may ask to stop meanwhile
          try_once(*due, build, logger);
          lock.lock();
          continue;
        }
        if (!next) return;  // nothing left to retry
        cv_.wait_until(lock, *next, [&] { return stop_; });
      }
    } catch (...) {  // a lock that cannot be taken: stop retrying rather than terminate
    }
  }

  template <class Build, Logger L>
  void try_once(EntryState& s, Build& build, const L& logger) {
    DatabaseConfig config;
    int attempt = 0;
    std::string previous;
    {
      std::lock_guard lock(s.mutex);
      config = *s.retry_config;
      attempt = s.attempts + 1;
      s.attempt_running = true;
      previous = s.error;
    }
    config.pool.max_retries = 0;  // one connection attempt: this thread's schedule is the backoff
    std::exception_ptr failure;
    try {
      build(s, config);
    } catch (...) {
      failure = std::current_exception();
    }
    if (!failure) {
      {
        std::lock_guard lock(s.mutex);
        s.error.clear();
        s.cause = nullptr;
        s.retry_config.reset();
        s.attempts = attempt;
        s.attempt_running = false;
        s.set_up.store(true, std::memory_order_release);
      }
      try {
        log_at(logger, log::Level::info, "database '{}' is set up and available (attempt {}, after: {})", s.name,
               attempt, without_db(previous, s.name));
      } catch (...) {
      }
      return;
    }
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    const bool again = setup_failure_may_pass(failure);
    std::chrono::duration<double> wait{0};
    {
      std::lock_guard lock(s.mutex);
      s.error = what;
      s.cause = failure;
      s.attempts = attempt;
      s.attempt_running = false;
      if (again) {
        wait = setup_retry_interval(*s.retry_config, attempt - 1, random_fraction());
        s.next_attempt = EntryState::Clock::now() + std::chrono::duration_cast<EntryState::Clock::duration>(wait);
      } else {
        s.retry_config.reset();
      }
    }
    try {
      if (!again)
        log_at(logger, log::Level::error, "database '{}': setup attempt {} failed ({}); not retried: this error "
               "does not pass by itself", s.name, attempt, without_db(what, s.name));
      else  // a database down for long would fill the log: say it again when it changes, or at attempts 2, 4, 8, ...
        log_at(logger, what != previous || (attempt & (attempt - 1)) == 0 ? log::Level::warning : log::Level::debug,
               "database '{}': setup attempt {} failed ({}); next attempt in {:.3f} s", s.name, attempt,
               without_db(what, s.name), wait.count());
    } catch (...) {
    }
  }

  std::uint64_t seed_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace appinfra::db::detail
