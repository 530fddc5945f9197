#pragma once
// The validated configuration of one database (DatabaseConfig), nested by concern,
// and DatabaseConfig::from, which reads it from Options by the declarations of
// db/config/keys.hpp. Every rejected value is reported with the database, the key
// and the value; passwords are redacted, control characters escaped and long
// values shortened (detail::shown).

#include <appinfra/db/config/key.hpp>
#include <appinfra/db/config/options.hpp>
#include <appinfra/db/config/pg_options.hpp>
#include <appinfra/db/config/query_log.hpp>
#include <appinfra/db/config/setup_options.hpp>
#include <appinfra/db/config/value.hpp>
#include <appinfra/detail/decl.hpp>
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
  static APPINFRA_DECL DatabaseConfig from(std::string name, const Options& options);

  /// True when the url itself gives libpq a password: in its user info, a
  /// `password=` parameter or pair (an empty user-info password is none: libpq
  /// does not read it).
  [[nodiscard]] bool url_has_password() const noexcept {
    const auto* parse = url.libpq();
    return parse != nullptr ? parse->find("password") != nullptr : url.has_password();
  }
};

}  // namespace appinfra::db

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/db/config/impl/database_config.ipp>
#endif
