#pragma once
// The definitions of log/level.hpp (APPINFRA_DECL): included by it in header-only
// mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/log/level.hpp>

namespace appinfra::log {

APPINFRA_DECL Level parse_level(std::string_view text) {
  if (const auto level = find_level(text)) return *level;
  throw std::invalid_argument("unknown log level '" + std::string(text) +
                              "' (expected one of: trace, debug, info, warning, error, "
                              "critical, off)");
}

}  // namespace appinfra::log
