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
  bool memory = false;
  bool uri = false;

  /// sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory: (and
  /// sqlite://, SQLAlchemy's spelling of in-memory). A query string is passed on as
  /// SQLite URI parameters (sqlite:///app.db?mode=ro).
  static Target from(const db::DatabaseConfig& c) {
    const db::Url& u = c.url;
    if (!u.host().empty())
      throw db::ConfigError(c.name, "url", "'" + u.redacted() + "'",
                            fmt::format("database '{}': key 'url' has invalid value '{}': a SQLite url "
                                        "has no host (sqlite:///relative/path, sqlite:////absolute/path "
                                        "or sqlite:///:memory:)",
                                        c.name, u.redacted()));
    Target t;
    t.memory = u.path().empty() || u.path() == ":memory:";
    t.filename = u.path().empty() ? ":memory:" : u.path();
    if (!u.query().empty()) {
      t.uri = true;
      t.filename = "file:" + t.filename + "?" + u.query();
    }
    return t;
  }
};

}  // namespace appinfra::sqlite::detail
