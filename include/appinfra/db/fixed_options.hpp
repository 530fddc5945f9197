#pragma once
// Options fixed at compile time, for a database of a StaticManager:
//
//   constexpr auto primary_options = db::fixed_options(
//       db::option<"pool_size">(10), db::option<"pool_timeout">(5s), db::option<"url">("sqlite::memory:"));
//   using Service = db::StaticManager<db::Named<"primary", sqlite::SQLite<>, primary_options>>;
//
// The keys and rules are the configuration's own (db/config.hpp): an unknown key, a
// value of the wrong kind or out of range, and two keys that contradict each other
// fail to compile, with the database, the key, the value and the rule in the
// compiler's message. At run time the Config may still give any of these keys for
// that database: its value overrides the fixed one (a url from the environment, say),
// and the result is validated as any configuration is.

#include <appinfra/db/config.hpp>
#include <appinfra/db/config/keys.hpp>
#include <appinfra/db/detail/fixed_reason.hpp>
#include <appinfra/db/detail/fixed_string.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <ratio>
#include <string>
#include <string_view>
#include <type_traits>

namespace appinfra::db {

/// A duration fixed at compile time, in whole milliseconds (std::chrono's
/// durations cannot be template arguments: their member is private).
struct Milliseconds {
  std::int64_t count = 0;
};

/// One key and its value, fixed at compile time; made by option<"key">(value).
template <detail::FixedString Key, class V>
struct FixedOption {
  static constexpr auto key = Key;
  V value;
};

/// Fixed options: a list of FixedOption, usable as a template argument (a
/// structural type); made by fixed_options().
template <class... O>
struct FixedOptions {};
template <class O, class... Rest>
struct FixedOptions<O, Rest...> {
  O first;
  FixedOptions<Rest...> rest;
};

namespace detail {
template <FixedString Key>
constexpr Reason unknown_key_reason() {
  Reason r;
  r << "key '" << Key.view() << "' is not a configuration key; known keys:";
  const char* sep = " ";
  for (const KeySpec& spec : key_specs) r << sep << spec.name, sep = ", ";
  return r;
}

template <FixedString Key>
constexpr void require_known_key() {
  static_assert(fixed_options_valid<(is_key(Key.view()) ? Reason{} : unknown_key_reason<Key>())>::value,
                "appinfra::db::option<key>: unknown key (the note below names it and lists the known keys)");
}
}  // namespace detail

/// A key fixed to a value: a bool, an integer, a number, a text (string literal),
/// or a duration (Milliseconds or a std::chrono::duration of whole milliseconds
/// or coarser). An unknown key does not compile.
template <detail::FixedString Key, class V>
  requires std::same_as<V, bool> || std::integral<V> || std::floating_point<V> || std::same_as<V, Milliseconds>
constexpr auto option(V value) {
  detail::require_known_key<Key>();
  if constexpr (std::same_as<V, bool> || std::same_as<V, Milliseconds>) return FixedOption<Key, V>{value};
  else if constexpr (std::integral<V>) return FixedOption<Key, std::int64_t>{static_cast<std::int64_t>(value)};
  else return FixedOption<Key, double>{static_cast<double>(value)};
}
template <detail::FixedString Key, class Rep, class Period>
constexpr auto option(std::chrono::duration<Rep, Period> d) {
  static_assert(std::integral<Rep> && std::ratio_greater_equal_v<Period, std::milli>,
                "appinfra::db::option<key>(duration): fixed durations are whole milliseconds; use "
                "std::chrono::milliseconds or a coarser integral duration");
  detail::require_known_key<Key>();
  return FixedOption<Key, Milliseconds>{
      Milliseconds{std::chrono::duration_cast<std::chrono::milliseconds>(d).count()}};
}
template <detail::FixedString Key, std::size_t N>
constexpr auto option(const char (&text)[N]) {
  detail::require_known_key<Key>();
  return FixedOption<Key, detail::FixedString<N>>{detail::FixedString<N>(text)};
}

/// The options of one database, fixed at compile time: pass the result as the third
/// argument of Named (it must be a constexpr variable or a constant expression).
template <class... O>
constexpr FixedOptions<O...> fixed_options(O... options) {
  if constexpr (sizeof...(O) == 0) return {};
  else return [](auto first, auto... rest) { return FixedOptions<O...>{first, fixed_options(rest...)}; }(options...);
}

namespace detail {
template <class F, class... O>
constexpr void for_each_fixed(const FixedOptions<O...>& fixed, F&& f) {
  if constexpr (sizeof...(O) > 0) {
    f(fixed.first);
    for_each_fixed(fixed.rest, f);
  }
}

template <class V>
inline constexpr bool is_text = false;
template <std::size_t N>
inline constexpr bool is_text<FixedString<N>> = true;

/// The run-time form of a fixed value, as a configuration file would give it
/// (durations in seconds).
template <class V>
Value runtime_value(const V& v) {
  if constexpr (std::same_as<V, Milliseconds>) return Value(static_cast<double>(v.count) / 1000.0);
  else if constexpr (is_text<V>) return Value(std::string(v.view()));
  else return Value(v);
}

/// `runtime` (a Config's options for this database, or null) with every fixed key
/// it does not give. The runtime options are kept as they are, with any key they
/// were given twice, so that their own errors are still reported.
template <class... O>
Options with_fixed(const FixedOptions<O...>& fixed, const Options* runtime) {
  Options out = runtime ? *runtime : Options{};
  for_each_fixed(fixed, [&](const auto& o) {
    if (out.find(o.key.view()) == nullptr) out.set(std::string(o.key.view()), runtime_value(o.value));
  });
  return out;
}
}  // namespace detail

}  // namespace appinfra::db
