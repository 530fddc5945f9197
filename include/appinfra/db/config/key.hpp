#pragma once
// How a configuration key is declared (KeySpec, Key) and checked: its name, kind,
// range, choices, the backends that take it, one line of documentation and the
// field it sets. The keys themselves are declared where their options are (core
// and pool keys in db/config/keys.hpp, PostgreSQL's in db/config/pg_options.hpp).
// The checks here are constexpr and free of fmt, so that options fixed at compile
// time are checked by the same rules.

#include <appinfra/db/detail/identifier.hpp>
#include <appinfra/log/level.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>

namespace appinfra::db {
struct DatabaseConfig;
}  // namespace appinfra::db

namespace appinfra::db::detail {

/// What a key's value is. The field it sets has the matching type.
enum class Kind {
  text,               ///< a text (url)
  boolean,            ///< true or false; also "true"/"1"/"yes"/"on", 1 and 0
  integer,            ///< an integer, at least `min`, at most max_integer
  number,             ///< a finite number, at most max_number
  duration,           ///< a number of seconds: 0 or at least resolution_seconds in size
  optional_duration,  ///< a duration, unset unless given
  choice,             ///< one of `choices`
  level,              ///< a log level name (log::find_level)
  name,               ///< an SQL name: [a-z][a-z0-9_]*
  name_list,          ///< SQL names, [a-z][a-z0-9_-]*: comma-separated, or a list
  url_list,           ///< database urls: a list, or one url as a text (commas belong to a multi-host url)
};

/// Where a key is documented (the README groups its table by these).
enum class Section { core, pool, query_log, setup, postgresql, sqlite };

/// Which backends take a key; one for PostgreSQL only is rejected on a sqlite: url.
enum class Backends { all, postgresql };

/// The largest value an integer key takes.
inline constexpr double max_integer = 1'000'000;
/// The largest value a number or duration key takes (durations: seconds, about 115
/// days): durations become nanosecond counts, and this keeps every conversion in range.
inline constexpr double max_number = 1e7;
/// The smallest non-zero duration, in seconds: durations are used in whole
/// milliseconds (SQLite's busy timeout, PostgreSQL's statement_timeout), so a
/// smaller one would silently become 0, which often means "off" or "at once".
inline constexpr double resolution_seconds = 0.001;

/// One key's declaration, without the field it sets (Key adds that).
struct KeySpec {
  std::string_view name{};
  Kind kind = Kind::boolean;
  Section section = Section::core;
  double min = 0;                   ///< integer, number, duration: the lower bound
  bool min_inclusive = true;        ///< false: the value must be greater than min
  std::optional<double> max{};      ///< a bound of its own, below the kind's limit
  std::string_view choices{};       ///< choice, level: the names, '|'-separated
  Backends backends = Backends::all;
  bool required = false;
  std::string_view doc{};           ///< one line, for the README table
};

/// The type of duration fields: seconds.
using Seconds = std::chrono::duration<double>;

/// Reaches the field of type T that a key sets in a DatabaseConfig. Every key of
/// one field type has this one type, so that DatabaseConfig::from's per-key
/// templates are instantiated (and compiled) once per field type, not once per key.
template <class T>
struct Field {
  T& (*get)(DatabaseConfig&) = nullptr;
  T& operator()(DatabaseConfig& c) const { return get(c); }
  // Read only: the const overload shares the one accessor.
  const T& operator()(const DatabaseConfig& c) const { return get(const_cast<DatabaseConfig&>(c)); }
};

// The accessor of `Get` (a generic lambda: its body needs the complete DatabaseConfig,
// so it is instantiated at the end of the translation unit, when it is there).
template <class T, class Get>
T& field_of(DatabaseConfig& c) {
  return Get{}(c);
}

/// The field of type T that `get(config)` returns a reference to.
template <class T, class Get>
constexpr Field<T> field(Get) noexcept {
  return {&field_of<T, Get>};
}

/// A declaration: the spec and the field it sets.
template <class F>
struct Key {
  KeySpec spec{};
  F field{};
};
// Aggregate deduction (P1816) is not in clang before 17: the guide says it.
template <class F>
Key(KeySpec, F) -> Key<F>;

/// A broken rule: which one, and the bound it names.
struct Violation {
  enum Rule { not_finite, not_integer, below, not_above, above, below_resolution, both } rule;
  double bound = 0;
};

/// Checks a number given for key `k` (integer, number or duration kinds), in the
/// order DatabaseConfig::from reports them.
constexpr std::optional<Violation> check_number(const KeySpec& k, double x) noexcept {
  constexpr double huge = std::numeric_limits<double>::max();
  if (k.kind == Kind::integer) {
    const bool whole = x >= -9.0e18 && x <= 9.0e18 && static_cast<double>(static_cast<std::int64_t>(x)) == x;
    if (!whole) return Violation{Violation::not_integer};
    if (x < k.min) return Violation{Violation::below, k.min};
    if (x > max_integer) return Violation{Violation::above, max_integer};
    return std::nullopt;
  }
  if (x != x || x > huge || x < -huge) return Violation{Violation::not_finite};
  if (x > max_number) return Violation{Violation::above, max_number};
  if (k.min_inclusive ? x < k.min : x <= k.min)
    return Violation{k.min_inclusive ? Violation::below : Violation::not_above, k.min};
  if (k.max && x > *k.max) return Violation{Violation::above, *k.max};
  const bool duration = k.kind == Kind::duration || k.kind == Kind::optional_duration;
  if (duration && x != 0 && (x < 0 ? -x : x) < resolution_seconds)
    return Violation{Violation::below_resolution, resolution_seconds};
  return std::nullopt;
}

/// The words of a broken rule; those with a bound are followed by it ("must be at
/// least " 1). The run-time messages (detail::describe) and the compile-time ones
/// (fixed options) are both written from these.
constexpr std::string_view rule_words(Violation::Rule rule) noexcept {
  switch (rule) {
    case Violation::not_finite: return "expected a finite number";
    case Violation::not_integer: return "expected an integer";
    case Violation::below: return "must be at least ";
    case Violation::not_above: return "must be greater than ";
    case Violation::above: return "must be at most ";
    case Violation::below_resolution: return "below the resolution of durations, 1 ms";
    case Violation::both: return "not together";  // a not_both rule; its message is the rule's own
  }
  return "invalid";
}
constexpr bool has_bound(Violation::Rule rule) noexcept {
  return rule == Violation::below || rule == Violation::not_above || rule == Violation::above;
}

/// The position of `text` among the '|'-separated choices of `k`, if there.
constexpr std::optional<std::size_t> choice_index(const KeySpec& k, std::string_view text) noexcept {
  std::string_view rest = k.choices;
  for (std::size_t i = 0;; ++i) {
    const std::size_t bar = rest.find('|');
    if (rest.substr(0, bar) == text) return i;
    if (bar == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(bar + 1);
  }
}

/// How many choices key `k` has, and the name of choice `i`.
constexpr std::size_t choice_count(const KeySpec& k) noexcept {
  std::size_t n = k.choices.empty() ? 0 : 1;
  for (char c : k.choices) n += c == '|';
  return n;
}
constexpr std::string_view choice_name(const KeySpec& k, std::size_t i) noexcept {
  std::string_view rest = k.choices;
  for (; i > 0 && rest.find('|') != std::string_view::npos; --i) rest.remove_prefix(rest.find('|') + 1);
  return rest.substr(0, rest.find('|'));
}

/// What a choice key expects ("expected 'lifo' or 'fifo'", "expected one of trace,
/// debug, ..."), given piece by piece to `put(std::string_view)`: constexpr, so the
/// compile-time messages of fixed options use the same words.
template <class Put>
constexpr void expected_choice_words(const KeySpec& k, Put&& put) {
  put(k.kind == Kind::level ? "expected one of " : "expected ");
  for (std::size_t i = 0, n = choice_count(k); i < n; ++i) {
    if (k.kind == Kind::level) {
      put(i == 0 ? "" : ", ");
      put(choice_name(k, i));
    } else {
      put(i == 0 ? "'" : i + 1 == n ? " or '" : ", '");
      put(choice_name(k, i));
      put("'");
    }
  }
}

/// True when `text` is a value key `k` (a choice or a level) accepts.
constexpr bool is_choice(const KeySpec& k, std::string_view text) noexcept {
  if (k.kind == Kind::level) return log::find_level(text).has_value();
  return choice_index(k, text).has_value();
}

/// True when `item` is a name key `k` accepts (schema; one of the extensions).
constexpr bool is_valid_name(const KeySpec& k, std::string_view item) noexcept {
  return is_identifier(item, k.kind == Kind::name_list);
}

/// True when a database with this url scheme rejects key `k`.
constexpr bool rejected_on(const KeySpec& k, std::string_view scheme) noexcept {
  return k.backends == Backends::postgresql && scheme == "sqlite";
}

/// A rule between two keys.
struct CrossRule {
  enum Relation {
    at_most,   ///< key ≤ other, checked when key is read (other is read before it)
    not_both,  ///< key and other not both true (non-zero), checked after every key is read
  } relation;
  std::string_view key{}, other{};
  /// at_most: when key is not given, its default is lowered to other; not_both: when
  /// key is not given and other is true (not its first choice), key's default is 0.
  bool clamp_default = false;
  std::string_view why{};      ///< not_both: the reason, for the message
};

/// Checks a cross rule on the two values (booleans as 0 and 1).
constexpr std::optional<Violation> check_cross(const CrossRule& r, double key, double other) noexcept {
  if (r.relation == CrossRule::at_most && key > other) return Violation{Violation::above, other};
  if (r.relation == CrossRule::not_both && key != 0 && other != 0) return Violation{Violation::both};
  return std::nullopt;
}

}  // namespace appinfra::db::detail
