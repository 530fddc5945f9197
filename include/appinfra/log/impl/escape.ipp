#pragma once
// The definitions of log/escape.hpp (APPINFRA_DECL): included by it in header-only
// mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/log/escape.hpp>

namespace appinfra::log {

APPINFRA_DECL void append_escaped(std::string& out, std::string_view text) {
  constexpr char hex[] = "0123456789abcdef";
  for (char c : text) {
    if (!is_control(c)) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    }
  }
}

APPINFRA_DECL std::string escape_control(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped(out, text);
  return out;
}

}  // namespace appinfra::log
