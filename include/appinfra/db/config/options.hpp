#pragma once
// The untyped form a service reads from its config source: the options of one
// database (Options) and the named databases (Config).

#include <appinfra/db/config/value.hpp>
#include <appinfra/db/errors.hpp>

#include <fmt/core.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::db {

/// The options of one database, in the order given. Value type.
///
/// Two ways in: add() for the keys of one mapping (the initializer list, one
/// section of a config file), where a key given twice is a mistake that
/// DatabaseConfig::from() reports, since one of the two would be silently
/// dropped; set() for an override from another source (the environment, a value
/// computed at run time over a declared one), which replaces the earlier value.
class Options {
 public:
  using Item = std::pair<std::string, Value>;
  /// A key given twice in one mapping, with both values.
  struct Duplicate {
    std::string key;
    Value first, second;
  };
  Options() = default;
  Options(std::initializer_list<Item> items) {
    for (const auto& [k, v] : items) add(k, v);
  }
  /// Adds `key` of the mapping being read. When it is there already, the later
  /// value is kept as before, and the first such key is recorded (duplicate()).
  Options& add(std::string key, Value value) {
    if (!duplicate_)
      if (const Value* earlier = find(key)) duplicate_.emplace(Duplicate{key, *earlier, value});
    return set(std::move(key), std::move(value));
  }
  /// Sets `key`, replacing an earlier value: an override, never a duplicate.
  Options& set(std::string key, Value value) {
    for (auto& item : items_)
      if (item.first == key) {
        item.second = std::move(value);
        return *this;
      }
    items_.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  [[nodiscard]] const Value* find(std::string_view key) const noexcept {
    for (const auto& item : items_)
      if (item.first == key) return &item.second;
    return nullptr;
  }
  [[nodiscard]] auto begin() const noexcept { return items_.begin(); }
  [[nodiscard]] auto end() const noexcept { return items_.end(); }
  /// The first key add() was given twice; null when none was.
  [[nodiscard]] const Duplicate* duplicate() const noexcept { return duplicate_ ? &*duplicate_ : nullptr; }

 private:
  std::vector<Item> items_;
  std::optional<Duplicate> duplicate_;
};

/// The seed's `dbs` section: named databases in configuration order. Value type.
class Config {
 public:
  using Item = std::pair<std::string, Options>;
  Config() = default;
  Config(std::initializer_list<Item> dbs) {
    for (const auto& [name, options] : dbs) add(name, options);
  }
  /// Adds a database; a name given twice is a ConfigError (it would silently drop one).
  Config& add(std::string name, Options options) {
    for (const auto& item : dbs_)
      if (item.first == name)
        throw ConfigError(name, "", "", fmt::format("database {} is configured twice", detail::shown(name)));
    dbs_.emplace_back(std::move(name), std::move(options));
    return *this;
  }
  [[nodiscard]] const Options* find(std::string_view name) const noexcept {
    for (const auto& item : dbs_)
      if (item.first == name) return &item.second;
    return nullptr;
  }
  [[nodiscard]] bool empty() const noexcept { return dbs_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return dbs_.size(); }
  [[nodiscard]] auto begin() const noexcept { return dbs_.begin(); }
  [[nodiscard]] auto end() const noexcept { return dbs_.end(); }

 private:
  std::vector<Item> dbs_;
};

}  // namespace appinfra::db
