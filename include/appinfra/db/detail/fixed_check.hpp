#pragma once
// The compile-time check of a database's fixed options: the configuration's own
// key declarations and rules, evaluated on the fixed values.

#include <appinfra/db/detail/fixed_reason.hpp>
#include <appinfra/db/detail/fixed_string.hpp>
#include <appinfra/db/detail/key_spec_tmp.hpp>
#include <appinfra/db/fixed_options.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace appinfra::db::detail {

/// A number as the run-time messages write it: whole numbers without a fraction,
/// others with up to three decimals (fixed durations are whole milliseconds).
constexpr Reason& put_number(Reason& r, double x) {
  const auto whole = static_cast<std::int64_t>(x);
  if (static_cast<double>(whole) == x) return r << whole;
  if (x < 0) r << "-", x = -x;
  const auto thousandths = static_cast<std::int64_t>(x * 1000.0 + 0.5);
  r << thousandths / 1000 << ".";
  std::int64_t frac = thousandths % 1000;
  for (std::int64_t div = 100; div > 0 && frac > 0; frac %= div, div /= 10) r << frac / div;
  return r;
}

/// The value of a fixed option as a number (durations in seconds, booleans 0 or
/// 1); nothing for texts.
template <class V>
constexpr std::optional<double> number_of(const V& v) {
  if constexpr (std::same_as<V, Milliseconds>) return static_cast<double>(v.count) / 1000.0;
  else if constexpr (std::same_as<V, bool> || std::same_as<V, std::int64_t> || std::same_as<V, double>)
    return static_cast<double>(v);
  else return std::nullopt;
}

template <class V>
constexpr Reason& put_value(Reason& r, const V& v) {
  if constexpr (std::same_as<V, bool>) return r << (v ? "true" : "false");
  else if constexpr (std::same_as<V, Milliseconds>) return r << v.count << " ms";
  else if constexpr (is_text<V>) return r << "'" << v.view() << "'";
  else return put_number(r, static_cast<double>(v));
}

constexpr bool is_choice(std::string_view choices, std::string_view text) {
  for (std::size_t start = 0; start <= choices.size();) {
    const std::size_t bar = choices.find('|', start);
    const std::size_t end = bar == std::string_view::npos ? choices.size() : bar;
    if (choices.substr(start, end - start) == text) return true;
    start = end + 1;
  }
  return false;
}

/// The kind a value must have for `spec`, in words; empty when `V` fits it.
template <class V>
constexpr std::string_view kind_mismatch(const KeySpec& spec) {
  switch (spec.kind) {
    case Kind::boolean: return std::same_as<V, bool> ? "" : "takes true or false";
    case Kind::integer: return std::same_as<V, std::int64_t> ? "" : "takes an integer";
    case Kind::number:
      return std::same_as<V, std::int64_t> || std::same_as<V, double> ? "" : "takes a number";
    case Kind::duration:
      return std::same_as<V, Milliseconds> ? ""
                                           : "is a duration: give db::Milliseconds{n} or a std::chrono duration "
                                             "(a bare number would be ambiguous: seconds or milliseconds?)";
    case Kind::text:
    case Kind::choice:
    case Kind::list: return is_text<V> ? "" : "takes a text";
  }
  return "";
}

template <class O>
constexpr Reason check_option(std::string_view db, const O& o) {
  using V = decltype(o.value);
  Reason r;
  const KeySpec* found = find_key_spec(O::key.view());
  if (found == nullptr) return r;  // option<>() has reported it already
  const KeySpec& spec = *found;
  auto bad = [&]() -> Reason& { return r << "database '" << db << "': key '" << spec.name << "' "; };
  if (const std::string_view want = kind_mismatch<V>(spec); !want.empty()) {
    bad() << want;
    return r;
  }
  auto invalid = [&]() -> Reason& { return put_value(bad() << "has invalid value ", o.value) << ": "; };
  if constexpr (is_text<V>) {
    if (spec.kind == Kind::choice && !is_choice(spec.choices, o.value.view())) invalid() << "expected one of " << spec.choices;
  } else if (spec.kind != Kind::boolean) {
    const double x = *number_of(o.value);
    if (spec.min_inclusive ? x < spec.min : x <= spec.min)
      put_number(invalid() << (spec.min_inclusive ? "must be at least " : "must be greater than "), spec.min);
    else if (x > spec.max)
      put_number(invalid() << "must be at most ", spec.max);
  }
  return r;
}

/// The fixed value of `key` as a number; nothing when it is not fixed.
template <class... O>
constexpr std::optional<double> fixed_number(const FixedOptions<O...>& fixed, std::string_view key) {
  std::optional<double> out;
  for_each_fixed(fixed, [&](const auto& o) {
    if (o.key.view() == key) out = number_of(o.value);
  });
  return out;
}

/// The first reason the fixed options of database `Db` served by `Backend` are
/// invalid; empty when they are valid.
template <FixedString Db, auto Fixed, class Backend>
constexpr Reason fixed_violation() {
  constexpr std::string_view db = Db.view();
  Reason r;
  std::string_view seen[64]{};
  std::size_t count = 0;
  for_each_fixed(Fixed, [&](const auto& o) {
    if (!r.empty()) return;
    for (std::size_t i = 0; i < count; ++i)
      if (seen[i] == o.key.view()) {
        r << "database '" << db << "': key '" << o.key.view() << "' is fixed twice; one would be silently dropped";
        return;
      }
    if (count < 64) seen[count++] = o.key.view();
    r = check_option(db, o);
  });
  if (!r.empty()) return r;
  const auto readonly = fixed_number(Fixed, "readonly");
  if (readonly && *readonly != 0.0 && fixed_number(Fixed, "create_db").value_or(0.0) != 0.0)
    return r << "database '" << db
             << "': key 'create_db' is true but 'readonly' is true too: a read-only database cannot create itself";
  if (readonly && (*readonly != 0.0) != Backend::access_type::read_only)
    return r << "database '" << db << "': key 'readonly' is " << (*readonly != 0.0 ? "true" : "false")
             << " but its declared backend is " << (Backend::access_type::read_only ? "read-only" : "read-write");
  const auto min_idle = fixed_number(Fixed, "min_idle");
  const auto pool_size = fixed_number(Fixed, "pool_size");
  if (min_idle && pool_size && *min_idle > *pool_size)
    return put_number(r << "database '" << db << "': key 'min_idle' has invalid value ", *min_idle)
           << ": must be at most pool_size (" << static_cast<std::int64_t>(*pool_size) << ")";
  return r;
}

}  // namespace appinfra::db::detail
