#pragma once
// The definitions of db/detail/setup_retry.hpp (APPINFRA_DECL): included by it in
// header-only mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/db/detail/setup_retry.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace appinfra::db::detail {

APPINFRA_DECL bool setup_failure_may_pass(const std::exception_ptr& e) noexcept {
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

APPINFRA_DECL std::chrono::duration<double> setup_retry_interval(const DatabaseConfig& c, int n, double fraction) noexcept {
  const double step = std::max(c.pool.retry_delay.count(), 0.01) * std::pow(2.0, std::clamp(n, 0, 60));
  return std::chrono::duration<double>(std::min(step, c.setup.retry_max_interval.count()) *
                                       (0.5 + 0.5 * std::clamp(fraction, 0.0, 1.0)));
}

APPINFRA_DECL SetupRetry::Due SetupRetry::next_due(const std::vector<EntryState*>& entries) {
  const auto now = EntryState::Clock::now();
  Due due;
  for (EntryState* s : entries) {
    std::lock_guard entry_lock(s->mutex);
    if (!s->retry_config) continue;
    if (s->next_attempt <= now) {
      if (due.entry == nullptr) due.entry = s;
    } else if (!due.next || s->next_attempt < *due.next) {
      due.next = s->next_attempt;
    }
  }
  return due;
}

APPINFRA_DECL SetupRetry::Attempt SetupRetry::begin_attempt(EntryState& s) {
  Attempt a;
  {
    std::lock_guard lock(s.mutex);
    a.config = *s.retry_config;
    a.number = s.attempts + 1;
    s.attempt_running = true;
    a.previous = s.error;
  }
  a.config.pool.max_retries = 0;  // one connection attempt: this thread's schedule is the backoff
  return a;
}

APPINFRA_DECL LogRecord SetupRetry::end_attempt(EntryState& s, const Attempt& attempt,
                                                const std::exception_ptr& failure, double random_fraction) {
  if (!failure) {
    {
      std::lock_guard lock(s.mutex);
      s.error.clear();
      s.cause = nullptr;
      s.retry_config.reset();
      s.attempts = attempt.number;
      s.attempt_running = false;
      s.set_up.store(true, std::memory_order_release);
    }
    return {log::Level::info, fmt::format("database '{}' is set up and available (attempt {}, after: {})", s.name,
                                          attempt.number, without_db(attempt.previous, s.name))};
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
    s.attempts = attempt.number;
    s.attempt_running = false;
    if (again) {
      wait = setup_retry_interval(*s.retry_config, attempt.number - 1, random_fraction);
      s.next_attempt = EntryState::Clock::now() + std::chrono::duration_cast<EntryState::Clock::duration>(wait);
    } else {
      s.retry_config.reset();
    }
  }
  if (!again)
    return {log::Level::error, fmt::format("database '{}': setup attempt {} failed ({}); not retried: this error does "
                                           "not pass by itself",
                                           s.name, attempt.number, without_db(what, s.name))};
  // A database down for long would fill the log: say it again when it changes, or
  // at attempts 2, 4, 8, ...
  const int n = attempt.number;
  return {what != attempt.previous || (n & (n - 1)) == 0 ? log::Level::warning : log::Level::debug,
          fmt::format("database '{}': setup attempt {} failed ({}); next attempt in {:.3f} s", s.name, n,
                      without_db(what, s.name), wait.count())};
}

}  // namespace appinfra::db::detail
