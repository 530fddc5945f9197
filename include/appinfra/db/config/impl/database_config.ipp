#pragma once
// DatabaseConfig::from(): reading and checking one database's options against the
// key table (db/config/keys.hpp). Included by database_config.hpp in header-only
// mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION
// (appinfra/db/src.hpp), so that no caller's translation unit instantiates the
// key table.

#include <appinfra/db/config/database_config.hpp>
#include <appinfra/db/config/detail/reader.hpp>
#include <appinfra/db/config/keys.hpp>
#include <appinfra/db/detail/redact.hpp>
#include <appinfra/log/escape.hpp>

#include <fmt/core.h>

#include <exception>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace appinfra::db {
namespace detail::config_reading {

inline double number_of(const DatabaseConfig& c, std::string_view name);
inline std::string field_text(const DatabaseConfig& c, std::string_view name);

// The passwords of the url given, to remove from every value an error shows: a
// password can reach another key by mistake or through the same ${VAR}. Read
// before anything is checked (a duplicate key's values are shown first); a url
// that does not parse is reported by its own check, with Url::redact.
inline Redactor secrets_of(const Options& options) {
  const Value* url = options.find("url");
  const auto* text = url ? std::get_if<std::string>(&url->storage()) : nullptr;
  if (text == nullptr || text->empty()) return {};
  try {
    return Redactor(Url::parse(*text));
  } catch (const std::exception&) {
    return {};
  }
}

inline void check_name(const std::string& name) {
  if (log::has_control(name))
    throw ConfigError(name, "", "",
                      fmt::format("database {}: a database name must not hold control characters",
                                  shown(name)));
}

// Unknown keys, then keys given twice, then NULs: an unknown key's value is
// never shown (it may well hold a secret).
inline void check_keys(const Reader& r, const Options& options) {
  for (const auto& [key, value] : options)
    if (!find_key(key)) {
      std::string list;
      for (const auto& k : key_specs) list.append(list.empty() ? "" : ", ").append(k.name);
      throw ConfigError(std::string(r.database), key, "***",
                        fmt::format("{}database '{}': unknown key {}; known keys: {}", where(value),
                                    r.database, shown(key), list));
    }
  if (const auto* d = options.duplicate())
    throw ConfigError(std::string(r.database), d->key, d->second.display(d->key, r.secrets),
                      fmt::format("{}database '{}': key {} is given twice (values {} and {}); one would be "
                                  "silently dropped: give it once",
                                  where(d->second), r.database, shown(d->key),
                                  d->first.display(d->key, r.secrets), d->second.display(d->key, r.secrets)));
  // Texts reach C APIs (libpq, sqlite3_open_v2) that stop at a NUL, silently
  // dropping what follows (an sslmode, the end of a path).
  for (const auto& [key, value] : options)
    if (value.holds_nul()) throw r.bad(key, value, "a value must not hold a NUL character");
}

template <class K>
inline void read_required(DatabaseConfig& c, const Reader& r, const Options& options, const K& k) {
  if (!k.spec.required) return;
  const Value* v = options.find(k.spec.name);
  if (v == nullptr)
    throw ConfigError(c.name, std::string(k.spec.name), "",
                      fmt::format("database '{}': key '{}' is missing", c.name, k.spec.name));
  r.read(k.field(c), k.spec, *v);
}

inline void check_backend(const Reader& r, const Options& options, std::string_view scheme) {
  for (const auto& k : key_specs)
    if (const Value* v = options.find(k.name); v && rejected_on(k, scheme))
      throw r.bad(k.name, *v, fmt::format("this key is for PostgreSQL; a SQLite database takes no {}", k.name));
}

// Reads key `k` when given, then checks the at_most rules on it (or lowers its
// default to the bound when a rule says so).
template <class K>
inline void read_key(DatabaseConfig& c, const Reader& r, const Options& options, const K& k) {
  if (k.spec.required) return;  // read first
  const Value* v = options.find(k.spec.name);
  if (v != nullptr) r.read(k.field(c), k.spec, *v);
  for (const auto& rule : cross_rules) {
    if (rule.relation != CrossRule::at_most || rule.key != k.spec.name) continue;
    const double bound = number_of(c, rule.other);
    if (v == nullptr && rule.clamp_default) {
      lower_to(k.field(c), bound);
    } else if (v != nullptr && check_cross(rule, *as_number(k.field(c)), bound)) {
      const bool seconds = find_key(rule.other)->kind == Kind::duration;
      throw r.bad(k.spec.name, *v, fmt::format("must be at most {} ({}{})", rule.other, bound, seconds ? " s" : ""));
    }
  }
}

inline void check_not_both(const DatabaseConfig& c, const Options& options, const CrossRule& rule) {
  if (!check_cross(rule, number_of(c, rule.key), number_of(c, rule.other))) return;
  const Value* v = options.find(rule.key);
  const std::string key_value = field_text(c, rule.key), other_value = field_text(c, rule.other);
  if (key_value == "true" && other_value == "true")
    throw ConfigError(c.name, std::string(rule.key), "true",
                      fmt::format("{}database '{}': key '{}' is true but '{}' is true too: {}",
                                  v ? where(*v) : "", c.name, rule.key, rule.other, rule.why));
  throw ConfigError(c.name, std::string(rule.key), key_value,
                    fmt::format("{}database '{}': key '{}' is {} but key '{}' is {}: {}", v ? where(*v) : "",
                                c.name, rule.key, key_value, rule.other, other_value, rule.why));
}

/// Sets the number field of key `name` to 0 (a not_both rule's default).
inline void set_zero(DatabaseConfig& c, std::string_view name) {
  std::apply([&](const auto&... k) { ((k.spec.name == name ? lower_to(k.field(c), 0) : void()), ...); },
             keys);
}

/// The value of a boolean, number or choice field, as messages show it (a choice quoted).
inline std::string field_text(const DatabaseConfig& c, std::string_view name) {
  std::string out;
  const auto one = [&](const auto& k) {
    const auto& f = k.field(c);
    using F = std::decay_t<decltype(f)>;
    if constexpr (std::is_same_v<F, bool>) out = f ? "true" : "false";
    else if constexpr (std::is_enum_v<F>) out = fmt::format("'{}'", choice_name(k.spec, static_cast<std::size_t>(f)));
    else if constexpr (std::is_arithmetic_v<F>) out = fmt::format("{}", f);
  };
  std::apply([&](const auto&... k) { ((k.spec.name == name ? one(k) : void()), ...); }, keys);
  return out;
}

// Two passwords: which one is meant? The url's would never be re-read, so a
// rotated secret would silently stop working.
inline void check_password_file(const DatabaseConfig& c, const Options& options) {
  if (c.pg.password_file.empty() || !c.url_has_password()) return;
  const Value* v = options.find("password_file");
  throw ConfigError(c.name, "password_file", shown(c.pg.password_file),
                    fmt::format("{}database '{}': key 'password_file' ({}) is given but key 'url' ('{}') holds a "
                                "password too: give the password in one place (password_file is read for each new "
                                "connection; remove the password from the url)",
                                v ? where(*v) : "", c.name, shown(c.pg.password_file),
                                c.url.redacted()));
}

/// The number field of key `name` (booleans as 0 and 1).
inline double number_of(const DatabaseConfig& c, std::string_view name) {
  double out = 0;
  std::apply(
      [&](const auto&... k) {
        ((k.spec.name == name ? (void)(out = as_number(k.field(c)).value_or(0)) : void()), ...);
      },
      keys);
  return out;
}

}  // namespace detail::config_reading

APPINFRA_DECL DatabaseConfig DatabaseConfig::from(std::string name, const Options& options) {
using namespace detail::config_reading;
  DatabaseConfig c;
  c.name = std::move(name);
  const detail::Redactor secrets = secrets_of(options);
  const detail::Reader r{c.name, secrets};
  check_name(c.name);
  check_keys(r, options);
  std::apply([&](const auto&... k) { (read_required(c, r, options, k), ...); }, detail::keys);
  check_backend(r, options, c.url.scheme());
  std::apply([&](const auto&... k) { (read_key(c, r, options, k), ...); }, detail::keys);
  for (const auto& rule : detail::cross_rules)
    if (rule.relation == detail::CrossRule::not_both && rule.clamp_default && options.find(rule.key) == nullptr &&
        number_of(c, rule.other) != 0)
      set_zero(c, rule.key);
  for (const auto& rule : detail::cross_rules)
    if (rule.relation == detail::CrossRule::not_both) check_not_both(c, options, rule);
  check_password_file(c, options);
  return c;
}

}  // namespace appinfra::db
