#pragma once
// The README's option table, rendered from the key declarations
// (db/config/keys.hpp); a unit test checks that README.md holds it.

#include <appinfra/db/config/database_config.hpp>
#include <appinfra/db/config/keys.hpp>

#include <fmt/core.h>

#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace appinfra::db::detail {

/// The at_most rule bounding key `name` from above, if any.
inline const CrossRule* upper_rule(std::string_view name) noexcept {
  for (const auto& r : cross_rules)
    if (r.relation == CrossRule::at_most && r.key == name) return &r;
  return nullptr;
}

/// What a key takes, as the table's "type" column says it.
inline std::string type_text(const KeySpec& k) {
  const CrossRule* upper = upper_rule(k.name);
  switch (k.kind) {
    case Kind::text: return "text";
    case Kind::boolean: return "bool";
    case Kind::integer:
      return upper ? fmt::format("int, {} to `{}`", k.min, upper->other) : fmt::format("int ≥ {}", k.min);
    case Kind::number: return k.max ? fmt::format("{} to {}", k.min, *k.max) : fmt::format("number ≥ {}", k.min);
    case Kind::duration:
    case Kind::optional_duration:
      if (upper) return fmt::format("seconds, {} to `{}`", k.min, upper->other);
      return fmt::format("seconds {} {}", k.min_inclusive ? "≥" : ">", k.min);
    case Kind::choice: {
      std::string out;
      for (std::size_t i = 0, n = choice_count(k); i < n; ++i)
        out.append(i == 0 ? "" : i + 1 == n ? " or " : ", ").append("`").append(choice_name(k, i)).append("`");
      return out;
    }
    case Kind::level: return "level name";
    case Kind::name: return "name";
    case Kind::name_list: return "comma-separated names";
    case Kind::url_list: return "list of urls";
  }
  return "";
}

/// A field's default as the table shows it.
template <class T>
std::string default_text(const KeySpec& k, const T& f) {
  if constexpr (std::is_same_v<T, bool>)
    return f ? "true" : "false";
  else if constexpr (std::is_arithmetic_v<T>)
    return fmt::format("{}", f);
  else if constexpr (std::is_same_v<T, std::chrono::duration<double>>)
    return fmt::format("{}", f.count());
  else if constexpr (std::is_enum_v<T>)
    return std::string(choice_name(k, static_cast<std::size_t>(f)));
  else if constexpr (std::is_same_v<T, std::optional<log::Level>>) {
    return std::string(log::to_string(f.value_or(log::Level::off)));  // unset: off, unless echo
  } else if constexpr (requires { f.has_value(); }) {
    return f ? fmt::format("{}", f->count()) : "none";
  } else if constexpr (requires { f.empty(); }) {
    return f.empty() ? "none" : "set";  // a text or a list
  } else {
    return "required";  // the url
  }
}

/// One row of the table.
template <class Key>
std::string option_row(const Key& key, const DatabaseConfig& defaults) {
  const KeySpec& k = key.spec;
  std::string dflt = k.required ? "required" : default_text(k, key.field(defaults));
  if (const CrossRule* upper = upper_rule(k.name); upper && upper->clamp_default)
    dflt += fmt::format(" (at most `{}`)", upper->other);
  for (const auto& r : cross_rules)
    if (r.relation == CrossRule::not_both && r.clamp_default && r.key == k.name) {
      const KeySpec& other = *find_key(r.other);
      dflt += other.kind == Kind::choice ? fmt::format(" (0 with `{}: {}`)", r.other, choice_name(other, 1))
                                         : fmt::format(" (0 with `{}`)", r.other);
    }
  std::string doc(k.doc);
  if (k.section == Section::postgresql) doc = "PostgreSQL: " + doc;
  if (k.backends == Backends::postgresql) doc += "; rejected on a `sqlite:` url";
  return fmt::format("| `{}` | {} | {} | {} |\n", k.name, type_text(k), dflt, doc);
}

/// The README's option table (Markdown), grouped by section in declaration order.
inline std::string options_table_markdown() {
  const DatabaseConfig defaults;
  std::string out = "| key | type | default | |\n|---|---|---|---|\n";
  for (auto section :
       {Section::core, Section::pool, Section::query_log, Section::setup, Section::postgresql, Section::sqlite})
    std::apply(
        [&](const auto&... k) { ((k.spec.section == section ? (void)(out += option_row(k, defaults)) : void()), ...); },
        keys);
  return out;
}

}  // namespace appinfra::db::detail
