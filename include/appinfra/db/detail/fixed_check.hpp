#pragma once
// The compile-time check of a database's fixed options: the configuration's own
// key declarations and rules, evaluated on the fixed values.

#include <appinfra/db/config/keys.hpp>
#include <appinfra/db/detail/fixed_reason.hpp>
#include <appinfra/db/detail/fixed_string.hpp>
#include <appinfra/db/fixed_options.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace appinfra::db::detail {

/// A number as the run-time messages write it: whole numbers without a fraction,
/// others with up to three decimals (fixed durations are whole milliseconds).
constexpr Reason& put_number(Reason& r, double x) {
  if (x >= -9.0e18 && x <= 9.0e18) {
    const auto whole = static_cast<std::int64_t>(x);
    if (static_cast<double>(whole) == x) return r << whole;
  }
  if (x != x) return r << "nan";
  if (x < 0) r << "-", x = -x;
  if (x > 9.0e15) return r << "inf";
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

/// The kind a value must have for `spec`, in words; empty when `V` fits it.
template <class V>
constexpr std::string_view kind_mismatch(const KeySpec& spec) {
  switch (spec.kind) {
    case Kind::boolean: return std::same_as<V, bool> ? "" : "takes true or false";
    case Kind::integer: return std::same_as<V, std::int64_t> ? "" : "takes an integer";
    case Kind::number:
      return std::same_as<V, std::int64_t> || std::same_as<V, double> ? "" : "takes a number";
    case Kind::duration:
    case Kind::optional_duration:
      return std::same_as<V, Milliseconds> ? ""
                                           : "is a duration: give db::Milliseconds{n} or a std::chrono duration "
                                             "(a bare number would be ambiguous: seconds or milliseconds?)";
    case Kind::text:
    case Kind::choice:
    case Kind::level:
    case Kind::name:
    case Kind::name_list:
    case Kind::url_list: return is_text<V> ? "" : "takes a text";
  }
  return "";
}

/// The first name of a comma-separated list that key `k` rejects; empty when none.
constexpr std::string_view bad_name(const KeySpec& k, std::string_view list) {
  if (k.kind == Kind::name) return is_valid_name(k, list) ? std::string_view{} : list;
  for (std::size_t start = 0; start <= list.size();) {
    const std::size_t comma = list.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? list.size() : comma;
    std::string_view item = list.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty() && !is_valid_name(k, item)) return item;
    start = end + 1;
  }
  return {};
}

template <class O>
constexpr Reason check_option(std::string_view db, const O& o) {
  using V = decltype(o.value);
  Reason r;
  if (!is_key(O::key.view())) return r;  // option<>() has reported it already
  const KeySpec& spec = key_specs[key_position(O::key.view())];
  auto bad = [&]() -> Reason& { return r << "database '" << db << "': key '" << spec.name << "' "; };
  if (const std::string_view want = kind_mismatch<V>(spec); !want.empty()) {
    bad() << want;
    return r;
  }
  auto invalid = [&]() -> Reason& { return put_value(bad() << "has invalid value ", o.value) << ": "; };
  if constexpr (is_text<V>) {
    if ((spec.kind == Kind::choice || spec.kind == Kind::level) && !is_choice(spec, o.value.view()))
      expected_choice_words(spec, [&, &out = invalid()](std::string_view w) { out << w; });
    else if (spec.kind == Kind::name || spec.kind == Kind::name_list)
      if (const std::string_view name = bad_name(spec, o.value.view()); !name.empty())
        invalid() << "'" << name << "' is not a valid name";
  } else if (spec.kind != Kind::boolean) {
    if (const auto broken = check_number(spec, *number_of(o.value))) {
      invalid() << rule_words(broken->rule);
      if (has_bound(broken->rule)) put_number(r, broken->bound);
    }
  }
  return r;
}

/// The fixed value of `key` as a number; nothing when it is not fixed.
template <class... O>
constexpr std::optional<double> fixed_number(const FixedOptions<O...>& fixed, std::string_view key) {
  std::optional<double> out;
  for_each_fixed(fixed, [&](const auto& o) {
    if (o.key.view() != key) return;
    if constexpr (is_text<std::decay_t<decltype(o.value)>>) {  // a choice: its position, as at run time
      if (is_key(key) && key_specs[key_position(key)].kind == Kind::choice)
        if (const auto i = choice_index(key_specs[key_position(key)], o.value.view())) out = static_cast<double>(*i);
    } else {
      out = number_of(o.value);
    }
  });
  return out;
}

/// The fixed value of `key` as the run-time messages show it.
template <class... O>
constexpr Reason& put_fixed(Reason& r, const FixedOptions<O...>& fixed, std::string_view key) {
  for_each_fixed(fixed, [&](const auto& o) {
    if (o.key.view() == key) put_value(r, o.value);
  });
  return r;
}

/// The first cross rule broken by keys that are both fixed (one left to the run-time
/// configuration is checked there, with its value).
template <class... O>
constexpr Reason cross_violation(std::string_view db, const FixedOptions<O...>& fixed) {
  Reason r;
  for (const CrossRule& rule : cross_rules) {
    const auto key = fixed_number(fixed, rule.key), other = fixed_number(fixed, rule.other);
    if (!key || !other || !check_cross(rule, *key, *other)) continue;
    r << "database '" << db << "': key '" << rule.key << "' ";
    if (rule.relation == CrossRule::not_both) {
      if (key_specs[key_position(rule.key)].kind == Kind::boolean &&
          key_specs[key_position(rule.other)].kind == Kind::boolean)
        return r << "is true but '" << rule.other << "' is true too: " << rule.why;
      put_fixed(r << "is ", fixed, rule.key) << " but key '" << rule.other << "' is ";
      return put_fixed(r, fixed, rule.other) << ": " << rule.why;
    }
    put_number(r << "has invalid value ", *key) << ": must be at most " << rule.other << " (";
    return put_number(r, *other) << (key_specs[key_position(rule.other)].kind == Kind::duration ? " s)" : ")");
  }
  return r;
}

/// The first reason the fixed options of database `Db` served by `Backend` are
/// invalid; empty when they are valid.
template <FixedString Db, auto Fixed, class Backend>
constexpr Reason fixed_violation() {
  constexpr std::string_view db = Db.view();
  Reason r;
  std::string_view seen[key_specs.size()]{};
  std::size_t count = 0;
  for_each_fixed(Fixed, [&](const auto& o) {
    if (!r.empty()) return;
    for (std::size_t i = 0; i < count; ++i)
      if (seen[i] == o.key.view()) {
        r << "database '" << db << "': key '" << o.key.view() << "' is fixed twice; one would be silently dropped";
        return;
      }
    if (count < key_specs.size()) seen[count++] = o.key.view();
    r = check_option(db, o);
  });
  if (!r.empty()) return r;
  if (r = cross_violation(db, Fixed); !r.empty()) return r;
  if (const auto readonly = fixed_number(Fixed, "readonly"); readonly && (*readonly != 0.0) != Backend::access_type::read_only)
    return r << "database '" << db << "': key 'readonly' is " << (*readonly != 0.0 ? "true" : "false")
             << " but its declared backend is " << (Backend::access_type::read_only ? "read-only" : "read-write");
  return r;
}

}  // namespace appinfra::db::detail
