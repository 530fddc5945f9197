#pragma once
// Where a sqlite:// url points.

#include <appinfra/db/config.hpp>
#include <appinfra/db/errors.hpp>

#include <fmt/core.h>

#include <string>

namespace appinfra::sqlite::detail {

/// Where a sqlite:// url points.
struct Target {
  std::string filename;  // as given to sqlite3_open_v2
  std::string path;      // the file, for messages and checks: the url's path, without its query
  bool memory = false;
  bool uri = false;

  /// How messages name the file: "the SQLite database '<path>' (key 'url')",
  /// the path escaped and shortened (detail::shown).
  [[nodiscard]] std::string described() const {
    return fmt::format("the SQLite database {} (key 'url')", db::detail::shown(path));
  }

  /// sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory: (and
  /// sqlite://, SQLAlchemy's spelling of in-memory). A query string is passed on as
  /// SQLite URI parameters (sqlite:///app.db?mode=ro).
  static Target from(const db::DatabaseConfig& c) {
    const db::Url& u = c.url;
    if (!u.host().empty())
      throw db::ConfigError(c.name, "url", db::detail::shown(u.redacted()),
                            fmt::format("database '{}': key 'url' has invalid value {}: a SQLite url "
                                        "has no host (sqlite:///relative/path, sqlite:////absolute/path "
                                        "or sqlite:///:memory:)",
                                        c.name, db::detail::shown(u.redacted())));
    // DatabaseConfig::from() rejects a NUL; a config built by hand may still hold one.
    if (u.text().find('\0') != std::string::npos)
      throw db::ConfigError(c.name, "url", db::detail::shown(u.redacted()),
                            fmt::format("database '{}': key 'url' has invalid value {}: a value must not hold a "
                                        "NUL character",
                                        c.name, db::detail::shown(u.redacted())));
    Target t;
    t.memory = u.path().empty() || u.path() == ":memory:";
    t.filename = u.path().empty() ? ":memory:" : u.path();
    t.path = t.filename;
    if (!u.query().empty()) {
      t.uri = true;
      t.filename = "file:" + t.filename + "?" + u.query();
    }
    return t;
  }
};

}  // namespace appinfra::sqlite::detail
