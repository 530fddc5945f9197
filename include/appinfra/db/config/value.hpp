#pragma once
// One configuration value (Value), where it was written (Origin), and how a text
// is shown in an error message (detail::shown).

#include <appinfra/db/detail/redact.hpp>
#include <appinfra/db/url.hpp>
#include <appinfra/log/escape.hpp>

#include <fmt/core.h>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace appinfra::db {

namespace detail {
/// How a text (a value, a key, a path) is shown in an error message: quoted, its
/// control characters escaped (a NUL would cut what() short, a newline would
/// forge a log line) and, when longer than `max_shown` bytes, cut to its first 60
/// with its size after it: 'abc...' (1048576 bytes). The one place that shortens
/// displayed values, so a 1 MB value makes a short message. Redact before: a
/// shortened URL may have lost the '@' that marks its password.
inline constexpr std::size_t max_shown = 80;
inline std::string shown(std::string_view text) {
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
}  // namespace detail

/// Where a value was written: a file and a 1-based line and column. A loader that
/// knows it (a YAML file, say) attaches it to the Value; error messages about the
/// value then start with it, as a compiler's do.
struct Origin {
  std::string file;
  int line = 0;
  int column = 0;

  /// "config.yaml:12:5", control characters escaped.
  [[nodiscard]] std::string display() const {
    return fmt::format("{}:{}:{}", log::escape_control(file), line, column);
  }
};

/// One configuration value: a boolean, an integer, a number, a text or a list of
/// texts. Texts are accepted where numbers or booleans are expected ("10",
/// "true"), since environment variables and many config files only carry texts;
/// a list is accepted where a comma-separated text is (`extensions`).
class Value {
 public:
  using List = std::vector<std::string>;
  using Storage = std::variant<bool, std::int64_t, double, std::string, List>;

  // Implicit by design: options are written as {"pool_size", 10}.
  Value(bool b) : v_(b) {}  // NOLINT
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>)
  Value(I i) {  // NOLINT
    // An unsigned value too large for int64 is kept as a number, so that it is
    // reported as out of range rather than wrapped to a negative one.
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
      if (i > static_cast<I>(INT64_MAX)) {
        v_ = static_cast<double>(i);
        return;
      }
    }
    v_ = static_cast<std::int64_t>(i);
  }
  Value(char) = delete;  // '5' is not 5: write 5 or "5"
  template <std::floating_point F>
  Value(F d) : v_(static_cast<double>(d)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}                // NOLINT
  Value(std::string s) : v_(std::move(s)) {}                 // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}           // NOLINT
  Value(List l) : v_(std::move(l)) {}                        // NOLINT

  [[nodiscard]] const Storage& storage() const noexcept { return v_; }

  /// Where the value was written, when its loader knows.
  [[nodiscard]] const std::optional<Origin>& origin() const noexcept { return origin_; }
  Value& set_origin(Origin o) {
    origin_ = std::move(o);
    return *this;
  }

  /// True when a text (or an item of a list) holds a NUL character.
  [[nodiscard]] bool holds_nul() const noexcept {
    if (const auto* s = std::get_if<std::string>(&v_)) return s->find('\0') != std::string::npos;
    if (const auto* l = std::get_if<List>(&v_))
      for (const auto& s : *l)
        if (s.find('\0') != std::string::npos) return true;
    return false;
  }

  /// The value as written, for error messages (texts are redacted, then quoted
  /// and shortened by detail::shown). The value of a key that names a secret is
  /// shown as *** (not that of a key naming the file a secret is in: its path,
  /// `password_file`). `secrets` (the database's Redactor) also removes that
  /// database's own passwords wherever else they are written (a password given to another key
  /// by mistake, or by the same ${VAR}).
  [[nodiscard]] std::string display(std::string_view key, const detail::Redactor& secrets = {}) const {
    // A key naming a file holds its path, not the secret in it (password_file).
    if (key.ends_with("_file")) return display(secrets);
    for (std::string_view secret : {"pass", "secret", "token", "credential"})
      if (key.find(secret) != std::string_view::npos) return "***";
    return display(secrets);
  }
  // Each NUL-separated piece redacted on its own: a NUL ends the text for libpq, and
  // a text holding one is no connection string to redact as a whole (it would show
  // as postgresql://***, hiding the value the error is about).
  static std::string redacted_pieces(std::string_view text, const detail::Redactor& secrets = {}) {
    std::string out;
    for (std::size_t start = 0;;) {
      const std::size_t nul = text.find('\0', start);
      const std::string_view piece = text.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start);
      out += secrets.empty() ? Url::redact(piece) : secrets(piece);  // the Redactor applies Url::redact too
      if (nul == std::string_view::npos) return out;
      out += '\0';
      start = nul + 1;
    }
  }
  // get_if rather than std::visit: visit's dispatch table is instantiated in every
  // translation unit, for five alternatives.
  [[nodiscard]] std::string display(const detail::Redactor& secrets = {}) const {
    if (const auto* b = std::get_if<bool>(&v_)) return *b ? "true" : "false";
    if (const auto* s = std::get_if<std::string>(&v_)) return detail::shown(redacted_pieces(*s, secrets));
    if (const auto* l = std::get_if<List>(&v_)) return list_display(*l, secrets);
    if (const auto* i = std::get_if<std::int64_t>(&v_)) return fmt::format("{}", *i);
    return fmt::format("{}", std::get<double>(v_));
  }

 private:
  static std::string list_display(const List& items, const detail::Redactor& secrets) {
    std::string out = "[";
    for (const auto& s : items)
      out.append(out.size() == 1 ? "" : ", ").append(detail::shown(redacted_pieces(s, secrets)));
    return out + "]";
  }

  Storage v_;
  std::optional<Origin> origin_;
};

}  // namespace appinfra::db
