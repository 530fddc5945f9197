#pragma once
// The definitions of db/config/value.hpp (APPINFRA_DECL): included by it in
// header-only mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/db/config/value.hpp>
#include <appinfra/db/detail/redact.hpp>
#include <appinfra/db/url.hpp>
#include <appinfra/log/escape.hpp>

#include <fmt/core.h>

#include <string>
#include <string_view>
#include <variant>

namespace appinfra::db {

APPINFRA_DECL std::string detail::shown(std::string_view text) {
  std::string out = "'";
  if (text.size() <= max_shown) {
    log::append_escaped(out, text);
    return out + "'";
  }
  std::size_t cut = 60;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 character
  log::append_escaped(out, text.substr(0, cut));
  return out + fmt::format("...' ({} bytes)", text.size());
}

APPINFRA_DECL std::string Origin::display() const {
  return fmt::format("{}:{}:{}", log::escape_control(file), line, column);
}

APPINFRA_DECL bool Value::holds_nul() const noexcept {
  if (const auto* s = std::get_if<std::string>(&v_)) return s->find('\0') != std::string::npos;
  if (const auto* l = std::get_if<List>(&v_))
    for (const auto& s : *l)
      if (s.find('\0') != std::string::npos) return true;
  return false;
}

APPINFRA_DECL std::string Value::display(std::string_view key) const { return display(key, detail::Redactor()); }

APPINFRA_DECL std::string Value::display(std::string_view key, const detail::Redactor& secrets) const {
  // A key naming a file holds its path, not the secret in it (password_file).
  if (key.ends_with("_file")) return display(secrets);
  for (std::string_view secret : {"pass", "secret", "token", "credential"})
    if (key.find(secret) != std::string_view::npos) return "***";
  return display(secrets);
}

APPINFRA_DECL std::string Value::display() const { return display(detail::Redactor()); }

// get_if rather than std::visit: visit's dispatch table would be instantiated in
// every translation unit, for five alternatives.
APPINFRA_DECL std::string Value::display(const detail::Redactor& secrets) const {
  if (const auto* b = std::get_if<bool>(&v_)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&v_)) return detail::shown(redacted_pieces(*s, &secrets));
  if (const auto* l = std::get_if<List>(&v_)) return list_display(*l, &secrets);
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return fmt::format("{}", *i);
  return fmt::format("{}", std::get<double>(v_));
}

APPINFRA_DECL std::string Value::redacted_pieces(std::string_view text, const detail::Redactor* secrets) {
  std::string out;
  for (std::size_t start = 0;;) {
    const std::size_t nul = text.find('\0', start);
    const std::string_view piece = text.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start);
    // The Redactor applies Url::redact too.
    out += secrets == nullptr || secrets->empty() ? Url::redact(piece) : (*secrets)(piece);
    if (nul == std::string_view::npos) return out;
    out += '\0';
    start = nul + 1;
  }
}

APPINFRA_DECL std::string Value::list_display(const List& items, const detail::Redactor* secrets) {
  std::string out = "[";
  for (const auto& s : items)
    out.append(out.size() == 1 ? "" : ", ").append(detail::shown(redacted_pieces(s, secrets)));
  return out + "]";
}

}  // namespace appinfra::db
