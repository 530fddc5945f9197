#pragma once
// Background setup retry: a database whose setup failed for a reason that may pass
// is set up again by one thread per manager, with backoff and jitter.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/entry_state.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/detail/backoff.hpp>
#include <appinfra/detail/decl.hpp>

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
#include <vector>

namespace appinfra::db::detail {

/// Whether a setup failure may pass by itself, so that setup is tried again: the
/// server refused, was starting, was a standby (ReadOnlyServerError, a standby may be
/// promoted) or did not answer in time. A bad configuration or an unknown url scheme
/// (ConfigError, UnknownDBTypeException) and anything else never pass.
APPINFRA_DECL bool setup_failure_may_pass(const std::exception_ptr& e) noexcept;

/// The wait before background setup attempt `n` (0 for the first after setup()):
/// retry_delay * 2^n (retry_delay at least 10 ms, so that 0 does not spin), capped at
/// setup_retry_max_interval, times a jitter of 0.5 to 1 (`fraction` in [0, 1)), so
/// that processes started together do not retry in lockstep. Never above the cap.
APPINFRA_DECL std::chrono::duration<double> setup_retry_interval(const DatabaseConfig& c, int n, double fraction) noexcept;

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
  template <class Build, Logger L>
  void start(std::vector<EntryState*> entries, Build build, const L& logger) {
    entries_ = std::move(entries);
    thread_ = std::thread([this, build, &logger]() mutable { loop(build, logger); });
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
  template <class Build, Logger L>
  void loop(Build& build, const L& logger) noexcept {
    try {
      std::unique_lock lock(mutex_);
      while (!stop_) {
        const Due due = next_due(entries_);
        if (due.entry != nullptr) {
          lock.unlock();  // close_all() may ask to stop meanwhile
          try_once(*due.entry, build, logger);
          lock.lock();
          continue;
        }
        if (!due.next) return;  // nothing left to retry
        cv_.wait_until(lock, *due.next, [&] { return stop_; });
      }
    } catch (...) {  // a lock that cannot be taken: stop retrying rather than terminate
    }
  }

  // One attempt: begun and recorded by code that knows neither the backends nor
  // the logger (compiled once in compiled mode); only the build and the log line
  // are the manager's.
  template <class Build, Logger L>
  void try_once(EntryState& s, Build& build, const L& logger) {
    Attempt attempt = begin_attempt(s);
    std::exception_ptr failure;
    try {
      build(s, attempt.config);
    } catch (...) {
      failure = std::current_exception();
    }
    // end_attempt() records the outcome before it formats the line: a failure to
    // format or write it loses the line only.
    try {
      const LogRecord record = end_attempt(s, attempt, failure, random_fraction());
      log_at(logger, record.level, "{}", record.message);
    } catch (...) {
    }
  }

  /// The entry whose attempt is due (the first), or when the next one is.
  struct Due {
    EntryState* entry = nullptr;
    std::optional<EntryState::Clock::time_point> next;
  };
  static APPINFRA_DECL Due next_due(const std::vector<EntryState*>& entries);

  /// What an attempt starts from, read under the entry's lock.
  struct Attempt {
    DatabaseConfig config;
    int number = 0;
    std::string previous;  ///< the last attempt's error
  };
  static APPINFRA_DECL Attempt begin_attempt(EntryState& s);
  /// Records the attempt's outcome (`failure` null: set up) and schedules the next
  /// one when the failure may pass; returns the line to log.
  static APPINFRA_DECL LogRecord end_attempt(EntryState& s, const Attempt& attempt, const std::exception_ptr& failure,
                                             double random_fraction);

  std::vector<EntryState*> entries_;  // the manager's: they outlive this thread (stop() first)
  std::uint64_t seed_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace appinfra::db::detail

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/db/detail/impl/setup_retry.ipp>
#endif
