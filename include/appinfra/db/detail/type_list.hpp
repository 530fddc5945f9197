#pragma once
// Compile-time helpers over the backend type list.

#include <boost/hana/basic_tuple.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/type.hpp>

#include <cstddef>
#include <type_traits>

namespace appinfra::db::detail {

template <class T, class... Ts>
inline constexpr bool unique_types = (!std::is_same_v<T, Ts> && ...) && unique_types<Ts...>;
template <class T>
inline constexpr bool unique_types<T> = true;

/// Calls f(hana::type<B>, index) for each B in Backends..., in order.
template <class... Backends, class F>
constexpr void for_each_type(F&& f) {
  std::size_t i = 0;
  boost::hana::for_each(boost::hana::make_basic_tuple(boost::hana::type_c<Backends>...), [&](auto t) { f(t, i++); });
}

/// The logger type shared by all backends (they must agree).
template <class B, class... Bs>
struct common_logger {
  static_assert((std::is_same_v<typename B::logger_type, typename Bs::logger_type> && ...),
                "appinfra: all backends of a Manager must use the same logger type");
  using type = typename B::logger_type;
};

}  // namespace appinfra::db::detail
