#pragma once
// A string usable as a template argument: db<"primary">().

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace appinfra::db::detail {

template <std::size_t N>
struct FixedString {
  char data[N]{};
  constexpr FixedString(const char (&s)[N]) noexcept { std::copy_n(s, N, data); }  // NOLINT: implicit by design
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, N - 1}; }
  template <std::size_t M>
  constexpr bool operator==(const FixedString<M>& o) const noexcept {
    return view() == o.view();
  }
};

}  // namespace appinfra::db::detail
