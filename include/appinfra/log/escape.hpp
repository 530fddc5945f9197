#pragma once
// Control characters made visible, so that a logged value cannot start a new,
// forged log line (a newline), rewrite the current one (a carriage return, an
// escape sequence) or cut a C string short (a NUL).

#include <appinfra/detail/decl.hpp>

#include <string>
#include <string_view>

namespace appinfra::log {

/// True when `c` is a control character: below 0x20, or 0x7f (DEL).
constexpr bool is_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

/// True when `text` holds a control character.
constexpr bool has_control(std::string_view text) noexcept {
  for (char c : text)
    if (is_control(c)) return true;
  return false;
}

/// Appends `text` to `out` with each control character written as \n, \r, \t or
/// \xNN. Everything else, backslashes and UTF-8 included, is kept as it is.
APPINFRA_DECL void append_escaped(std::string& out, std::string_view text);

/// `text` with its control characters escaped (see append_escaped).
APPINFRA_DECL std::string escape_control(std::string_view text);

}  // namespace appinfra::log

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/log/impl/escape.ipp>
#endif
