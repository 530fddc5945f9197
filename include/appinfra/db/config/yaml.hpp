#pragma once
// The databases of a YAML file (the original's etc/infra.yaml, its `dbs:` section)
// as a db::Config: config_from_yaml_file() and config_from_yaml().
//
// The one header that includes yaml-cpp (0.7, Debian's libyaml-cpp-dev): db.hpp does
// not include it, and a program that includes it links yaml-cpp itself
// (`pkg-config yaml-cpp`, Meson `dependency('yaml-cpp')`).
//
// Free functions rather than Config::from_yaml_file(): Config's header must not
// include yaml-cpp, and a static member declared there but defined only here would
// be a link error for every program that calls it without this header.
//
//   dbs:
//     primary:
//       url: postgresql://app:${PGPASSWORD}@db.internal/app
//       pool_size: 10
//       extensions: [pg_trgm, uuid-ossp]
//     cache:
//       url: sqlite:////var/lib/app/cache.db
//       create_db: true
//
// Keys and validation are those of DatabaseConfig::from(), which the Manager runs;
// every Value carries its Origin (file:line:column), so that its errors start with
// it: "etc/infra.yaml:4:18: database 'primary': key 'pool_size' has invalid value ...".
// Plain scalars are typed as YAML 1.2 does (true/false, integers, numbers), quoted
// ones stay texts; a sequence is a Value::List. In scalar values ${VAR},
// ${VAR:-default} and $$ are replaced from the environment
// (detail::substitute_env); a substituted value is a text. Every mapping is
// checked for keys given twice (yaml-cpp 0.7 keeps the first one silently).
// Errors are ConfigError; none shows a value, and the values DatabaseConfig::from()
// shows go through Value::display, which redacts passwords.

#include <appinfra/db/config/detail/env_substitution.hpp>
#include <appinfra/db/config/options.hpp>
#include <appinfra/db/config/value.hpp>
#include <appinfra/db/errors.hpp>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::db {

namespace detail::yaml {

inline Origin origin_of(const std::string& file, const YAML::Mark& m) {
  if (m.is_null()) return Origin{file, 0, 0};
  return Origin{file, m.line + 1, m.column + 1};  // yaml-cpp counts from 0
}

/// "etc/infra.yaml:12:5: database 'primary': key 'url': " and what follows.
inline ConfigError error(const Origin& at, std::string_view database, std::string_view key, std::string_view why) {
  std::string what = at.display() + ": ";
  if (!database.empty()) what += fmt::format("database {}: ", shown(database));
  if (!key.empty()) what += fmt::format("key {}: ", shown(key));
  return ConfigError(std::string(database), std::string(key), "", what + std::string(why));
}

// A plain (unquoted) scalar typed as YAML 1.2's core schema does; quoted scalars and
// anything not recognised stay texts.
inline bool is_null_word(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }
inline std::optional<Value> typed_plain(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return Value(true);
  if (s == "false" || s == "False" || s == "FALSE") return Value(false);
  const char* b = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  const char* e = s.data() + s.size();
  if (b == e) return std::nullopt;
  std::int64_t i = 0;
  if (auto [p, ec] = std::from_chars(b, e, i); ec == std::errc() && p == e) return Value(i);
  // Out of int64's range: kept as a text, which validation reports as out of range.
  if (auto [p, ec] = std::from_chars(b, e, i); ec == std::errc::result_out_of_range && p == e) return Value(s);
  const char* digits = b + (*b == '-' ? 1 : 0);  // not inf or nan: texts in YAML 1.2
  const bool numeric_start = digits != e && ((*digits >= '0' && *digits <= '9') || *digits == '.');
  double d = 0;
  if (numeric_start)
    if (auto [p, ec] = std::from_chars(b, e, d, std::chars_format::general); ec == std::errc() && p == e)
      return Value(d);
  return std::nullopt;
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  Config load(std::string_view text) const {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      throw error(origin_of(file_, e.mark), "", "", "YAML syntax error: " + e.msg);
    }
    if (!root.IsMap())
      throw error(origin_of(file_, root.Mark()), "", "", "expected a mapping with a 'dbs' section");
    std::optional<YAML::Node> dbs;
    check_mapping(root, "", false, [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
      if (key == "dbs") dbs.emplace(value);
    });
    if (!dbs) throw error(origin_of(file_, root.Mark()), "", "", "no 'dbs' section");
    Config config;
    if (dbs->IsNull()) return config;  // `dbs:` with nothing: the Manager says no database is configured
    if (!dbs->IsMap()) throw error(origin_of(file_, dbs->Mark()), "", "dbs", "expected a mapping of database names");
    check_mapping(*dbs, "", true, [&](const std::string& name, const YAML::Node& key, const YAML::Node& value) {
      config.add(name, database(name, key, value));
    });
    return config;
  }

 private:
  // Calls f(key text, key node, value node) for each entry, in order, after checking
  // that every key is a scalar given once. `database` names the mapping's owner, for
  // messages ("" for the file's top level and for `dbs` itself).
  // Calls f(key text, key node, value node) for each entry, in order, after checking
  // that every key is a scalar given once. `database` names the mapping's owner
  // ("" for the file's top level and for `dbs`, whose keys are database names).
  template <class F>
  void check_mapping(const YAML::Node& map, std::string_view database, bool keys_are_databases, F&& f) const {
    std::vector<std::pair<std::string, YAML::Mark>> seen;
    for (const auto& entry : map) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) throw error(origin_of(file_, key.Mark()), database, "", "a key must be a plain text");
      const std::string& name = key.Scalar();
      for (const auto& [earlier, mark] : seen) {
        if (earlier != name) continue;
        const std::string why = fmt::format("given twice (first at {}); one would be silently dropped: give it once",
                                            origin_of(file_, mark).display());
        if (keys_are_databases)  // "database 'primary': given twice"
          throw error(origin_of(file_, key.Mark()), name, "", why);
        throw error(origin_of(file_, key.Mark()), database, name, why);
      }
      seen.emplace_back(name, key.Mark());
      f(name, key, entry.second);
    }
  }

  Options database(const std::string& name, const YAML::Node& key, const YAML::Node& body) const {
    if (!body.IsMap())
      throw error(origin_of(file_, body.IsNull() ? key.Mark() : body.Mark()), name, "",
                  "expected a mapping of keys (url, pool_size, ...)");
    Options options;
    check_mapping(body, name, false, [&](const std::string& k, const YAML::Node& knode, const YAML::Node& v) {
      options.add(k, value(name, k, knode, v));
    });
    return options;
  }

  Value value(const std::string& database, const std::string& key, const YAML::Node& knode,
              const YAML::Node& node) const {
    // A null value's mark is where the next token starts: point at its key instead.
    const Origin at = origin_of(file_, node.IsNull() || node.Mark().is_null() ? knode.Mark() : node.Mark());
    if (node.IsNull()) throw error(at, database, key, "has no value");
    if (node.IsMap()) throw error(at, database, key, "expected a value or a list, found a mapping");
    if (node.IsSequence()) {
      Value::List items;
      for (const auto& item : node) {
        const Origin item_at = origin_of(file_, item.Mark());
        if (!item.IsScalar()) throw error(item_at, database, key, "a list item must be a plain value");
        items.push_back(substituted(item_at, database, key, item.Scalar()).text);
      }
      return Value(std::move(items)).set_origin(at);
    }
    const std::string& s = node.Scalar();
    Substituted sub = substituted(at, database, key, s);
    if (sub.changed) return Value(std::move(sub.text)).set_origin(at);
    // yaml-cpp 0.7 tags a plain scalar "?" and a quoted one "!".
    if (node.Tag() == "?") {
      if (is_null_word(s)) throw error(at, database, key, "has no value");
      if (auto v = typed_plain(s)) return std::move(v->set_origin(at));
    }
    return Value(s).set_origin(at);
  }

  Substituted substituted(const Origin& at, const std::string& database, const std::string& key,
                          const std::string& s) const {
    Substituted sub = substitute_env(s, [](const char* n) { return std::getenv(n); });
    if (!sub.error.empty()) throw error(at, database, key, sub.error);
    return sub;
  }

  std::string file_;
};

}  // namespace detail::yaml

/// The databases of the `dbs:` section of YAML `text`, read as from a file named
/// `origin_name` (the name error messages start with). Other top-level sections are
/// ignored (a service's infra.yaml holds more than its databases). Throws
/// ConfigError on a syntax error, a key given twice, an unset ${VAR} or a value of
/// the wrong shape; the keys' values are validated later, by DatabaseConfig::from()
/// (the Manager's setup), with the same positions. Reads the environment
/// (std::getenv): not thread-safe against a concurrent setenv().
[[nodiscard]] inline Config config_from_yaml(std::string_view text, std::string origin_name = "<yaml>") {
  return detail::yaml::Loader(std::move(origin_name)).load(text);
}

/// config_from_yaml() of the file at `path`; errors name the path as given.
/// Throws ConfigError when the file cannot be read.
[[nodiscard]] inline Config config_from_yaml_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw ConfigError("", "", "",
                      fmt::format("{}: cannot read the configuration file: {}", detail::shown(path.string()),
                                  std::strerror(err)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return config_from_yaml(text.str(), path.string());
}

}  // namespace appinfra::db
