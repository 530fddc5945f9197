#pragma once
// A logger that is never enabled: every log statement guarded by enabled()
// folds away at compile time.

#include <appinfra/log/level.hpp>

#include <string_view>

namespace appinfra::log {

/// Discards everything. `enabled()` is a constant false, so formatting code behind
/// it is removed by the compiler. Thread-safe; trivially copyable.
struct NullLogger {
  static constexpr bool enabled(Level) noexcept { return false; }
  static constexpr void write(Level, std::string_view) noexcept {}
};

}  // namespace appinfra::log
