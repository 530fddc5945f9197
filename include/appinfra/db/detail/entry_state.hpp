#pragma once
// The state every named database of a manager has, whatever its backend storage:
// whether it is set up, why its setup failed, and its background retry schedule.

#include <appinfra/detail/decl.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/errors.hpp>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace appinfra::db::detail {

/// The state every named database entry has, whatever its backend storage.
///
/// Threads: `set_up` is stored (release) once the backend is in place and loaded
/// (acquire) before the backend is touched, so a database set up by the retry thread
/// is safe to use from any thread. What the retry thread changes after setup() (the
/// error, its cause and the retry schedule) is read and written under `mutex`.
struct EntryState {
  using Clock = std::chrono::steady_clock;

  explicit EntryState(std::string n) : name(std::move(n)) {}
  const std::string name;
  bool configured = true;         // false: declared (StaticManager) but missing from the config; fixed by setup()
  std::atomic<bool> set_up{false};
  std::atomic<bool> closed{false};

  mutable std::mutex mutex;       // guards the members below
  std::string error;              // why setup failed (the last attempt); empty otherwise
  std::exception_ptr cause;       // the original exception, nested into db()'s SetupError
  std::optional<DatabaseConfig> retry_config;  // engaged while setup is retried in the background
  int attempts = 0;               // setup attempts made; setup() is the first
  bool attempt_running = false;   // the retry thread is trying now
  Clock::time_point next_attempt{};

  [[nodiscard]] bool available() const noexcept {
    return set_up.load(std::memory_order_acquire) && !closed.load(std::memory_order_acquire);
  }
  /// Why setup failed (a copy), empty if it did not or has since succeeded.
  [[nodiscard]] APPINFRA_DECL std::string setup_error() const;
  [[nodiscard]] bool retrying() const {
    std::lock_guard lock(mutex);
    return retry_config.has_value();
  }

  /// "; retrying, next attempt in 1.6 s (attempt 4)" while setup is retried, else
  /// empty. Call with `mutex` held.
  [[nodiscard]] APPINFRA_DECL std::string retry_note_locked(Clock::time_point now) const;

  /// Returns when the entry is available; otherwise throws the error db(name) gives.
  APPINFRA_DECL void require_available() const;
};

}  // namespace appinfra::db::detail

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/db/detail/impl/entry_state.ipp>
#endif
