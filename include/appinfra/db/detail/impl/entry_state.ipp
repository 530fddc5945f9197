#pragma once
// The definitions of db/detail/entry_state.hpp (APPINFRA_DECL): included by it in header-only
// mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/db/detail/entry_state.hpp>

namespace appinfra::db::detail {

APPINFRA_DECL std::string EntryState::setup_error() const {
  std::lock_guard lock(mutex);
  return error;
}

APPINFRA_DECL std::string EntryState::retry_note_locked(Clock::time_point now) const {
  if (!retry_config) return {};
  if (attempt_running || next_attempt <= now) return fmt::format("; retrying, attempt {} under way", attempts + 1);
  return fmt::format("; retrying, next attempt in {:.1f} s (attempt {})",
                     std::chrono::duration<double>(next_attempt - now).count(), attempts + 1);
}

APPINFRA_DECL void EntryState::require_available() const {
  if (available()) return;
  std::string why;
  std::exception_ptr original;
  {
    std::lock_guard lock(mutex);
    // Again, under the lock: the retry thread may have set it up since the check
    // above, and it clears the error and sets set_up together, under this lock.
    if (available()) return;
    if (!error.empty()) why = std::string(without_db(error, name)) + retry_note_locked(Clock::now());
    original = cause;
  }
  if (!why.empty()) {
    if (!original) throw SetupError(fmt::format("Database '{}' setup failed: {}", name, why));
    try {
      std::rethrow_exception(original);
    } catch (...) {
      std::throw_with_nested(SetupError(fmt::format("Database '{}' setup failed: {}", name, why)));
    }
  }
  if (closed) throw ClosedError(fmt::format("Database '{}' is closed (close_all() was called)", name));
  throw UsageError(fmt::format("Database '{}' is not set up: db() was called before setup(); call setup() first",
                               name));
}

}  // namespace appinfra::db::detail
