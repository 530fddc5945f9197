#pragma once
// The validated configuration of one database (DatabaseConfig), nested by concern,
// and DatabaseConfig::from, which reads it from Options by the declarations of
// db/config/keys.hpp. Every rejected value is reported with the database, the key
// and the value; passwords are redacted, control characters escaped and long
// values shortened (detail::shown).

#include <appinfra/db/config/detail/reader.hpp>
#include <appinfra/db/config/keys.hpp>
#include <appinfra/db/config/options.hpp>
#include <appinfra/db/config/pg_options.hpp>
#include <appinfra/db/config/query_log.hpp>
#include <appinfra/db/config/setup_options.hpp>
#include <appinfra/db/config/value.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/options.hpp>
#include <appinfra/db/url.hpp>
#include <appinfra/log/escape.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace appinfra::db {

/// The validated configuration of one database, with the seed's defaults (each
/// field's default member initializer is its key's default). Value type; built by
/// DatabaseConfig::from().
struct DatabaseConfig {
  using Seconds = std::chrono::duration<double>;

  std::string name;
  Url url;
  bool readonly = false;
  bool create_db = false;
  PoolOptions pool;
  QueryLogOptions query_log;
  SetupOptions setup;
  PgOptions pg;  ///< PostgreSQL only (pg::Options)
  /// Statements kept prepared per connection (PostgreSQL's automatic preparation,
  /// SQLite's statement cache), the least recently used dropped first; 0: none.
  std::size_t prepared_cache_size = 100;

  /// The largest number of seconds any duration option takes (about 115 days).
  static constexpr double max_seconds = detail::max_number;
  /// The smallest non-zero duration, in seconds (see detail::resolution_seconds).
  static constexpr double resolution_seconds = detail::resolution_seconds;

  /// Level at which statements are logged, or Level::off.
  [[nodiscard]] log::Level query_log_level() const noexcept { return query_log.effective_level(); }

  /// The pool's options as the pool is given them: no connect retries when
  /// auto_reconnect is off.
  [[nodiscard]] PoolOptions pool_options() const noexcept {
    PoolOptions o = pool;
    if (!setup.auto_reconnect) o.max_retries = 0;
    return o;
  }

  /// Validates `options` of database `name`. Throws ConfigError naming the
  /// database, the key and the value for the first bad one.
  static DatabaseConfig from(std::string name, const Options& options) {
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

  /// True when the url itself gives libpq a password: in its user info, a
  /// `password=` parameter or pair (an empty user-info password is none: libpq
  /// does not read it).
  [[nodiscard]] bool url_has_password() const noexcept {
    const auto* parse = url.libpq();
    return parse != nullptr ? parse->find("password") != nullptr : url.has_password();
  }

 private:
  // The passwords of the url given, to remove from every value an error shows: a
  // password can reach another key by mistake or through the same ${VAR}. Read
  // before anything is checked (a duplicate key's values are shown first); a url
  // that does not parse is reported by its own check, with Url::redact.
  static detail::Redactor secrets_of(const Options& options) {
    const Value* url = options.find("url");
    const auto* text = url ? std::get_if<std::string>(&url->storage()) : nullptr;
    if (text == nullptr || text->empty()) return {};
    try {
      return detail::Redactor(Url::parse(*text));
    } catch (const std::exception&) {
      return {};
    }
  }

  static void check_name(const std::string& name) {
    if (log::has_control(name))
      throw ConfigError(name, "", "",
                        fmt::format("database {}: a database name must not hold control characters",
                                    detail::shown(name)));
  }

  // Unknown keys, then keys given twice, then NULs: an unknown key's value is
  // never shown (it may well hold a secret).
  static void check_keys(const detail::Reader& r, const Options& options) {
    for (const auto& [key, value] : options)
      if (!detail::find_key(key)) {
        std::string list;
        for (const auto& k : detail::key_specs) list.append(list.empty() ? "" : ", ").append(k.name);
        throw ConfigError(std::string(r.database), key, "***",
                          fmt::format("{}database '{}': unknown key {}; known keys: {}", detail::where(value),
                                      r.database, detail::shown(key), list));
      }
    if (const auto* d = options.duplicate())
      throw ConfigError(std::string(r.database), d->key, d->second.display(d->key, r.secrets),
                        fmt::format("{}database '{}': key {} is given twice (values {} and {}); one would be "
                                    "silently dropped: give it once",
                                    detail::where(d->second), r.database, detail::shown(d->key),
                                    d->first.display(d->key, r.secrets), d->second.display(d->key, r.secrets)));
    // Texts reach C APIs (libpq, sqlite3_open_v2) that stop at a NUL, silently
    // dropping what follows (an sslmode, the end of a path).
    for (const auto& [key, value] : options)
      if (value.holds_nul()) throw r.bad(key, value, "a value must not hold a NUL character");
  }

  template <class K>
  static void read_required(DatabaseConfig& c, const detail::Reader& r, const Options& options, const K& k) {
    if (!k.spec.required) return;
    const Value* v = options.find(k.spec.name);
    if (v == nullptr)
      throw ConfigError(c.name, std::string(k.spec.name), "",
                        fmt::format("database '{}': key '{}' is missing", c.name, k.spec.name));
    r.read(k.field(c), k.spec, *v);
  }

  static void check_backend(const detail::Reader& r, const Options& options, std::string_view scheme) {
    for (const auto& k : detail::key_specs)
      if (const Value* v = options.find(k.name); v && detail::rejected_on(k, scheme))
        throw r.bad(k.name, *v, fmt::format("this key is for PostgreSQL; a SQLite database takes no {}", k.name));
  }

  // Reads key `k` when given, then checks the at_most rules on it (or lowers its
  // default to the bound when a rule says so).
  template <class K>
  static void read_key(DatabaseConfig& c, const detail::Reader& r, const Options& options, const K& k) {
    if (k.spec.required) return;  // read first
    const Value* v = options.find(k.spec.name);
    if (v != nullptr) r.read(k.field(c), k.spec, *v);
    for (const auto& rule : detail::cross_rules) {
      if (rule.relation != detail::CrossRule::at_most || rule.key != k.spec.name) continue;
      const double bound = number_of(c, rule.other);
      if (v == nullptr && rule.clamp_default) {
        detail::lower_to(k.field(c), bound);
      } else if (v != nullptr && detail::check_cross(rule, *detail::as_number(k.field(c)), bound)) {
        const bool seconds = detail::find_key(rule.other)->kind == detail::Kind::duration;
        throw r.bad(k.spec.name, *v, fmt::format("must be at most {} ({}{})", rule.other, bound, seconds ? " s" : ""));
      }
    }
  }

  static void check_not_both(const DatabaseConfig& c, const Options& options, const detail::CrossRule& rule) {
    if (!detail::check_cross(rule, number_of(c, rule.key), number_of(c, rule.other))) return;
    const Value* v = options.find(rule.key);
    const std::string key_value = field_text(c, rule.key), other_value = field_text(c, rule.other);
    if (key_value == "true" && other_value == "true")
      throw ConfigError(c.name, std::string(rule.key), "true",
                        fmt::format("{}database '{}': key '{}' is true but '{}' is true too: {}",
                                    v ? detail::where(*v) : "", c.name, rule.key, rule.other, rule.why));
    throw ConfigError(c.name, std::string(rule.key), key_value,
                      fmt::format("{}database '{}': key '{}' is {} but key '{}' is {}: {}", v ? detail::where(*v) : "",
                                  c.name, rule.key, key_value, rule.other, other_value, rule.why));
  }

  /// Sets the number field of key `name` to 0 (a not_both rule's default).
  static void set_zero(DatabaseConfig& c, std::string_view name) {
    std::apply([&](const auto&... k) { ((k.spec.name == name ? detail::lower_to(k.field(c), 0) : void()), ...); },
               detail::keys);
  }

  /// The value of a boolean, number or choice field, as messages show it (a choice quoted).
  static std::string field_text(const DatabaseConfig& c, std::string_view name) {
    std::string out;
    const auto one = [&](const auto& k) {
      const auto& f = k.field(c);
      using F = std::decay_t<decltype(f)>;
      if constexpr (std::is_same_v<F, bool>) out = f ? "true" : "false";
      else if constexpr (std::is_enum_v<F>) out = fmt::format("'{}'", detail::choice_name(k.spec, static_cast<std::size_t>(f)));
      else if constexpr (std::is_arithmetic_v<F>) out = fmt::format("{}", f);
    };
    std::apply([&](const auto&... k) { ((k.spec.name == name ? one(k) : void()), ...); }, detail::keys);
    return out;
  }

  // Two passwords: which one is meant? The url's would never be re-read, so a
  // rotated secret would silently stop working.
  static void check_password_file(const DatabaseConfig& c, const Options& options) {
    if (c.pg.password_file.empty() || !c.url_has_password()) return;
    const Value* v = options.find("password_file");
    throw ConfigError(c.name, "password_file", detail::shown(c.pg.password_file),
                      fmt::format("{}database '{}': key 'password_file' ({}) is given but key 'url' ('{}') holds a "
                                  "password too: give the password in one place (password_file is read for each new "
                                  "connection; remove the password from the url)",
                                  v ? detail::where(*v) : "", c.name, detail::shown(c.pg.password_file),
                                  c.url.redacted()));
  }

  /// The number field of key `name` (booleans as 0 and 1).
  static double number_of(const DatabaseConfig& c, std::string_view name) {
    double out = 0;
    std::apply(
        [&](const auto&... k) {
          ((k.spec.name == name ? (void)(out = detail::as_number(k.field(c)).value_or(0)) : void()), ...);
        },
        detail::keys);
    return out;
  }
};

}  // namespace appinfra::db
