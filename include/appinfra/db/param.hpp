#pragma once
// db::Param: one statement parameter in a form that needs no template.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <type_traits>

namespace appinfra::db {

class Param;
template <class T>
constexpr Param to_param(const T& v) noexcept;

namespace detail {
template <class T>
concept optional_like = requires(const T& v) {
  v.has_value();
  *v;
};
template <class T>
inline constexpr bool is_params =
    std::is_same_v<T, std::span<const Param>> || std::is_same_v<T, std::span<Param>>;
}  // namespace detail

/// One statement parameter, as a value of one of six kinds. Backends compiled into
/// the library (APPINFRA_SEPARATE_COMPILATION) are given their parameters this
/// way, converted in the caller's code by to_param() and bound or formatted in
/// the library. A caller whose number of parameters is known only at run time
/// passes a `db::Params` (a span of them) where the parameters go, in either mode:
/// `conn.execute(sql, db::Params(values))`.
///
/// A text parameter refers to the caller's characters: a Param lives no longer
/// than the argument it was made from (keep the strings of a `std::vector<Param>`
/// alive while it is used; one from a temporary std::string does not compile).
/// Binary data (bytea, BLOB) has no kind: in compiled mode, use a backend of your
/// own policy header-only, or native().
class Param {
 public:
  enum class Kind : unsigned char { null, boolean, integer, unsigned_integer, real, real32, text };

  constexpr Param() noexcept = default;  ///< NULL
  /// Any value to_param() takes: `std::vector<db::Param> values{42, "text", nullptr}`.
  template <class T>
    requires(!std::is_same_v<std::remove_cvref_t<T>, Param> && !detail::is_params<std::remove_cvref_t<T>>)
  constexpr Param(const T& v) noexcept : Param(to_param(v)) {}  // NOLINT: implicit by design
  // A text refers to its characters: a temporary string's would be gone at once.
  Param(std::string&&) = delete;
  Param(std::optional<std::string>&&) = delete;

  [[nodiscard]] constexpr Kind kind() const noexcept { return kind_; }
  [[nodiscard]] constexpr bool is_null() const noexcept { return kind_ == Kind::null; }
  /// The value, for its kind only.
  [[nodiscard]] constexpr bool boolean() const noexcept { return b_; }
  [[nodiscard]] constexpr std::int64_t integer() const noexcept { return i_; }
  [[nodiscard]] constexpr std::uint64_t unsigned_integer() const noexcept { return u_; }
  [[nodiscard]] constexpr double real() const noexcept { return kind_ == Kind::real32 ? f_ : d_; }
  [[nodiscard]] constexpr float real32() const noexcept { return f_; }
  [[nodiscard]] constexpr std::string_view text() const noexcept { return s_; }

 private:
  template <class T>
  friend constexpr Param to_param(const T& v) noexcept;
  struct Boolean {};
  constexpr Param(Boolean, bool v) noexcept : kind_(Kind::boolean), b_(v) {}
  constexpr explicit Param(std::int64_t v) noexcept : kind_(Kind::integer), i_(v) {}
  constexpr explicit Param(std::uint64_t v) noexcept : kind_(Kind::unsigned_integer), u_(v) {}
  constexpr explicit Param(double v) noexcept : kind_(Kind::real), d_(v) {}
  constexpr explicit Param(float v) noexcept : kind_(Kind::real32), f_(v) {}
  constexpr explicit Param(std::string_view v) noexcept : kind_(Kind::text), s_(v) {}

  Kind kind_ = Kind::null;
  union {
    bool b_;
    std::int64_t i_ = 0;
    std::uint64_t u_;
    double d_;
    float f_;
  };
  std::string_view s_;
};

/// Parameters whose number is known at run time: bound to $1, $2, ... in order.
using Params = std::span<const Param>;

/// `v` as a Param: nullptr and std::nullopt are NULL, an empty std::optional too;
/// bool, integers (char included: a number, as SQLite binds it), floating point and
/// texts (anything a std::string_view is made from; a null `const char*` is NULL).
/// Any other type fails to compile here; in header-only mode the PostgreSQL
/// backend also takes libpqxx's own conversions (pqxx::string_traits).
template <class T>
constexpr Param to_param(const T& v) noexcept {
  using U = std::remove_cvref_t<T>;
  static_assert(!std::is_same_v<U, char> && !std::is_same_v<U, wchar_t> && !std::is_same_v<U, char8_t> &&
                    !std::is_same_v<U, char16_t> && !std::is_same_v<U, char32_t>,
                "appinfra: a character is not a statement parameter (a number or a one-character text?): pass "
                "an integer or a std::string_view");
  static_assert(!std::is_same_v<U, long double>,
                "appinfra: long double parameters are not taken (they would lose precision): pass a double");
  static_assert(!detail::is_params<U>, "appinfra: a db::Params must be the statement's only parameter argument");
  if constexpr (std::is_same_v<U, Param>) {
    return v;
  } else if constexpr (std::is_same_v<U, std::nullptr_t> || std::is_same_v<U, std::nullopt_t>) {
    return Param();
  } else if constexpr (detail::optional_like<U>) {
    return v.has_value() ? to_param(*v) : Param();
  } else if constexpr (std::is_same_v<U, bool>) {
    return Param(Param::Boolean{}, v);
  } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    return Param(static_cast<std::int64_t>(v));
  } else if constexpr (std::is_integral_v<U>) {
    return Param(static_cast<std::uint64_t>(v));
  } else if constexpr (std::is_same_v<U, float>) {
    return Param(v);
  } else if constexpr (std::is_floating_point_v<U>) {
    return Param(static_cast<double>(v));
  } else if constexpr (std::is_pointer_v<U> && std::is_convertible_v<U, const char*>) {
    return v == nullptr ? Param() : Param(std::string_view(v));
  } else {
    static_assert(std::is_convertible_v<const U&, std::string_view>,
                  "appinfra: a statement parameter must be NULL (nullptr, std::nullopt), bool, an integer, a "
                  "floating-point number, a text (convertible to std::string_view) or a std::optional of one; "
                  "convert other types to one of these first");
    return Param(std::string_view(v));
  }
}

namespace detail {

/// Whether a Params, if any, is the only argument: parameters are given one by one,
/// or all in one Params.
template <class... Args>
inline constexpr bool params_alone = sizeof...(Args) <= 1 || !(is_params<Args> || ...);

/// How many parameters `args` hold: a Params counts as its elements.
template <class... Args>
constexpr std::size_t param_count(const Args&... args) noexcept {
  static_assert(params_alone<Args...>, "appinfra: a db::Params must be the statement's only parameter argument");
  std::size_t n = 0;
  [[maybe_unused]] const auto one = [&](const auto& a) {
    if constexpr (is_params<std::remove_cvref_t<decltype(a)>>) n += a.size();
    else ++n;
  };
  (one(args), ...);
  return n;
}

/// Calls `f` on each parameter of `args` in order, a Params' elements one by one.
template <class F, class... Args>
constexpr void for_each_param(F&& f, const Args&... args) {
  static_assert(params_alone<Args...>, "appinfra: a db::Params must be the statement's only parameter argument");
  [[maybe_unused]] const auto one = [&](const auto& a) {
    if constexpr (is_params<std::remove_cvref_t<decltype(a)>>)
      for (const Param& p : a) f(p);
    else f(a);
  };
  (one(args), ...);
}

/// Whether `args` is one Params: what the backends compiled into the library pass.
template <class... Args>
inline constexpr bool one_params = sizeof...(Args) == 1 && (is_params<Args> && ...);

/// Calls `f(Params)` with `args` converted (to_param) in an array on the stack; a
/// single Params is passed on as it is. What the handles of the backends compiled
/// into the library do in the caller's code, before calling the library.
template <class F, class... Args>
decltype(auto) with_params(F&& f, const Args&... args) {
  if constexpr (one_params<Args...>) {
    return f(Params(args...));
  } else {
    const Param params[sizeof...(Args) + 1] = {to_param(args)...};  // + 1: never an empty array
    return f(Params(params, sizeof...(Args)));
  }
}

}  // namespace detail
}  // namespace appinfra::db
