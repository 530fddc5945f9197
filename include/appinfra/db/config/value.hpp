#pragma once
// One configuration value (Value), where it was written (Origin), and how a text
// is shown in an error message (detail::shown).

#include <appinfra/detail/decl.hpp>


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
class Redactor;  // db/detail/redact.hpp

/// How a text (a value, a key, a path) is shown in an error message: quoted, its
/// control characters escaped (a NUL would cut what() short, a newline would
/// forge a log line) and, when longer than `max_shown` bytes, cut to its first 60
/// with its size after it: 'abc...' (1048576 bytes). The one place that shortens
/// displayed values, so a 1 MB value makes a short message. Redact before: a
/// shortened URL may have lost the '@' that marks its password.
inline constexpr std::size_t max_shown = 80;
APPINFRA_DECL std::string shown(std::string_view text);
}  // namespace detail

/// Where a value was written: a file and a 1-based line and column. A loader that
/// knows it (a YAML file, say) attaches it to the Value; error messages about the
/// value then start with it, as a compiler's do.
struct Origin {
  std::string file;
  int line = 0;
  int column = 0;

  /// "config.yaml:12:5", control characters escaped.
  [[nodiscard]] APPINFRA_DECL std::string display() const;
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
  [[nodiscard]] APPINFRA_DECL bool holds_nul() const noexcept;

  /// The value as written, for error messages (texts are redacted, then quoted
  /// and shortened by detail::shown). The value of a key that names a secret is
  /// shown as *** (not that of a key naming the file a secret is in: its path,
  /// `password_file`). `secrets` (the database's Redactor) also removes that
  /// database's own passwords wherever else they are written (a password given to another key
  /// by mistake, or by the same ${VAR}).
  [[nodiscard]] APPINFRA_DECL std::string display(std::string_view key) const;
  [[nodiscard]] APPINFRA_DECL std::string display(std::string_view key, const detail::Redactor& secrets) const;
  /// The value as written (texts redacted with `secrets`, or Url::redact).
  [[nodiscard]] APPINFRA_DECL std::string display() const;
  [[nodiscard]] APPINFRA_DECL std::string display(const detail::Redactor& secrets) const;
  // Each NUL-separated piece redacted on its own: a NUL ends the text for libpq, and
  // a text holding one is no connection string to redact as a whole (it would show
  // as postgresql://***, hiding the value the error is about).
  static APPINFRA_DECL std::string redacted_pieces(std::string_view text, const detail::Redactor* secrets);

 private:
  static APPINFRA_DECL std::string list_display(const List& items, const detail::Redactor* secrets);

  Storage v_;
  std::optional<Origin> origin_;
};

}  // namespace appinfra::db

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/db/config/impl/value.ipp>
#endif
