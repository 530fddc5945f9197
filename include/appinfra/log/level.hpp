#pragma once
// Log levels and their names, shared by every logger.

#include <appinfra/detail/decl.hpp>

#include <array>
#include <optional>
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

/// The level a name stands for ("debug", "info", "warn"/"warning", "fatal"/"critical",
/// ...), case-insensitive; nullopt for any other text. Usable at compile time.
constexpr std::optional<Level> find_level(std::string_view text) noexcept {
  const auto same = [text](std::string_view name) {
    if (name.size() != text.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
      if (c != name[i]) return false;
    }
    return true;
  };
  if (same("warn")) return Level::warning;
  if (same("fatal")) return Level::critical;
  for (std::size_t i = 0; i < level_names.size(); ++i)
    if (same(level_names[i])) return static_cast<Level>(i);
  return std::nullopt;
}

/// Parses a level name (see find_level).
/// Throws std::invalid_argument naming the bad value and the valid ones.
APPINFRA_DECL Level parse_level(std::string_view text);

}  // namespace appinfra::log

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/log/impl/level.ipp>
#endif
