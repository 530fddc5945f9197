#pragma once
// Where appinfra-db's databases come from: a YAML file (--config, or etc/infra.yaml
// when it exists) or DATABASE_URL; which of them a run uses (--db); and the
// overrides a one-shot run needs.

#include <appinfra/db.hpp>
#include <appinfra/db/config/yaml.hpp>

#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace appinfra_db {

/// A mistake in how the tool was called or configured: exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* default_config_path = "etc/infra.yaml";

/// The configuration and where it came from (a path or "DATABASE_URL": never a url).
struct ConfigSource {
  appinfra::db::Config config;
  std::string origin;
};

/// An explicit --config must exist (a mistyped path is an error, not a fallback);
/// without one, etc/infra.yaml if it exists, else DATABASE_URL as `primary`.
inline ConfigSource load_config(const std::optional<std::string>& path) {
  namespace db = appinfra::db;
  if (path) return {db::config_from_yaml_file(*path), *path};
  std::error_code ec;
  if (std::filesystem::exists(default_config_path, ec)) return {db::config_from_yaml_file(default_config_path), default_config_path};
  const char* url = std::getenv("DATABASE_URL");
  if (url == nullptr || *url == '\0')
    throw UsageError(fmt::format("no configuration: {} does not exist and DATABASE_URL is not set (give --config PATH, "
                                 "or set DATABASE_URL)",
                                 default_config_path));
  return {db::config_from_environment(), "DATABASE_URL"};
}

struct Overrides {
  bool create_db = false;  ///< create-db: set create_db on every read-write database
};

/// The databases this run works on (all, or `only`), each validated now so that a
/// bad key is reported before anything connects, and set up once: a command-line
/// run ends before a background setup retry could help, so `setup_retry` is off.
/// Throws UsageError naming every database and key that is wrong.
inline appinfra::db::Config select(const ConfigSource& source, const std::optional<std::string>& only,
                                   Overrides overrides = {}) {
  namespace db = appinfra::db;
  db::Config out;
  std::string names, errors;
  for (const auto& [name, options] : source.config) {
    names += (names.empty() ? "" : ", ") + ("'" + name + "'");
    if (only && *only != name) continue;
    db::Options o = options;
    o.set("setup_retry", false);
    try {
      if (overrides.create_db && !db::DatabaseConfig::from(name, o).readonly) o.set("create_db", true);
      (void)db::DatabaseConfig::from(name, o);
    } catch (const db::ConfigError& e) {
      errors += fmt::format("\n  {}", e.what());
      continue;
    }
    out.add(name, std::move(o));
  }
  if (!errors.empty()) throw UsageError(fmt::format("invalid configuration in {}:{}", source.origin, errors));
  if (only && out.empty())
    throw UsageError(fmt::format("no database '{}' in {} (configured: {})", *only, source.origin,
                                 names.empty() ? "none" : names));
  if (out.empty()) throw UsageError(fmt::format("no database configured in {} (its 'dbs' section is empty)", source.origin));
  return out;
}

}  // namespace appinfra_db
