#pragma once
// Why a fixed option is rejected, built during constant evaluation.
//
// C++20 takes only a string literal as a static_assert message (a computed one
// comes with C++26, P2741). So the computed reason is a template argument of
// fixed_options_valid<>: the compiler prints it beside the static_assert's
// message ("note: 'fixed_options_valid<Reason{"database 'primary': key
// 'pool_size' has invalid value 0: must be at least 1"}>::value' evaluates to false").

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace appinfra::db::detail {

/// A short text of fixed capacity, usable as a template argument; empty: no reason.
struct Reason {
  char text[600]{};  // room for the list of known keys
  std::size_t size = 0;

  [[nodiscard]] constexpr bool empty() const noexcept { return size == 0; }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {text, size}; }

  constexpr Reason& operator<<(std::string_view s) noexcept {
    for (char c : s)
      if (size + 1 < sizeof text) text[size++] = c;  // the last byte stays a NUL
    return *this;
  }
  constexpr Reason& operator<<(std::int64_t v) noexcept {
    char digits[24]{};
    std::size_t n = 0;
    const bool negative = v < 0;
    // In unsigned arithmetic: -INT64_MIN does not fit an int64.
    std::uint64_t u = negative ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    do digits[n++] = static_cast<char>('0' + u % 10);
    while ((u /= 10) != 0);
    if (negative) *this << "-";
    while (n > 0) *this << std::string_view(&digits[--n], 1);
    return *this;
  }
};

/// true when `R` is empty; its name and argument are what the compiler shows.
template <Reason R>
struct fixed_options_valid {
  static constexpr bool value = R.empty();
};

}  // namespace appinfra::db::detail
