#pragma once
// Log levels and their names, shared by every logger.

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace appinfra::log {

/// Severity of a log line; `off` disables a logger or a query log.
enum class Level : int { trace = 0, debug, info, warning, error, critical, off };

inline constexpr std::array<std::string_view, 7> level_names{
    "trace", "debug", "info", "warning", "error", "critical", "off"};

constexpr std::string_view to_string(Level l) noexcept {
  return level_names[static_cast<std::size_t>(l)];
}

/// Parses a level name ("debug", "info", "warn"/"warning", ...), case-insensitive.
/// Throws std::invalid_argument naming the bad value and the valid ones.
inline Level parse_level(std::string_view text) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "warn") return Level::warning;
  if (lower == "fatal") return Level::critical;
  for (std::size_t i = 0; i < level_names.size(); ++i)
    if (level_names[i] == lower) return static_cast<Level>(i);
  throw std::invalid_argument("unknown log level '" + std::string(text) +
                              "' (expected one of: trace, debug, info, warning, error, "
                              "critical, off)");
}

}  // namespace appinfra::log
