#pragma once
// The query log's options: whether statements are logged, at which level, and
// with their parameter values.

#include <appinfra/log/level.hpp>

#include <optional>

namespace appinfra::db {

/// A DatabaseConfig's `query_log`. Value type.
struct QueryLogOptions {
  bool echo = false;                ///< log every statement (at info, unless `level` says otherwise)
  std::optional<log::Level> level;  ///< key `query_lg_level` (the seed's name)
  bool params = false;              ///< log parameter values (redacted otherwise); key `query_log_params`

  /// Level at which statements are logged, or Level::off.
  [[nodiscard]] constexpr log::Level effective_level() const noexcept {
    if (level) return *level;
    return echo ? log::Level::info : log::Level::off;
  }
};

}  // namespace appinfra::db
