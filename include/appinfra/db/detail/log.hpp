#pragma once
// Formats a record only when its logger would write it.

#include <appinfra/db/concepts/logger.hpp>

#include <fmt/core.h>

#include <string>
#include <string_view>
#include <utility>

namespace appinfra::db::detail {

/// `error` without a leading "database '<name>': ", for messages that name the
/// database already.
inline std::string_view without_db(std::string_view error, std::string_view name) noexcept {
  if (error.substr(0, 10) == "database '" && error.substr(10, name.size()) == name &&
      error.substr(10 + name.size(), 3) == "': ")
    return error.substr(13 + name.size());
  return error;
}

/// A log line made by code that does not know the logger's type (compiled once
/// in compiled mode); the caller writes it with log_at(logger, level, "{}", message).
struct LogRecord {
  log::Level level = log::Level::off;
  std::string message;
};

template <Logger L, class... Args>
void log_at(const L& lg, log::Level level, fmt::format_string<Args...> f, Args&&... args) {
  if (lg.enabled(level)) lg.write(level, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace appinfra::db::detail
