#pragma once
// config_from_environment(): one database from DATABASE_URL, for a service
// configured by its environment alone (no file).

#include <appinfra/db/config/options.hpp>
#include <appinfra/db/errors.hpp>

#include <cstdlib>
#include <string>

namespace appinfra::db {

/// One database named `primary` whose url is DATABASE_URL (the twelve-factor
/// convention; all other keys take their defaults). Explicit on purpose: a service
/// chooses between this and config_from_yaml_file() (db/config/yaml.hpp), rather
/// than a loader that falls back to the environment when a file is missing and so
/// hides a mistyped path. Throws ConfigError when DATABASE_URL is unset or empty.
/// Reads the environment (std::getenv): not thread-safe against a concurrent setenv().
[[nodiscard]] inline Config config_from_environment() {
  const char* url = std::getenv("DATABASE_URL");
  if (url == nullptr || *url == '\0')
    throw ConfigError("primary", "url", "",
                      "DATABASE_URL is not set: set it (postgresql://user@host/db, sqlite:////path/to.db) "
                      "or give a configuration file");
  return Config{{"primary", Options{{"url", std::string(url)}}}};
}

}  // namespace appinfra::db
