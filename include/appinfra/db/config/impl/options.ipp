#pragma once
// The definitions of db/config/options.hpp (APPINFRA_DECL): included by it in
// header-only mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/db/config/options.hpp>
#include <appinfra/db/errors.hpp>

#include <fmt/core.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace appinfra::db {

APPINFRA_DECL Options::Options(std::initializer_list<Item> items) {
  for (const auto& [k, v] : items) add(k, v);
}

APPINFRA_DECL Options& Options::add(std::string key, Value value) {
  if (!duplicate_)
    if (const Value* earlier = find(key)) duplicate_.emplace(Duplicate{key, *earlier, value});
  return set(std::move(key), std::move(value));
}

APPINFRA_DECL Options& Options::set(std::string key, Value value) {
  for (auto& item : items_)
    if (item.first == key) {
      item.second = std::move(value);
      return *this;
    }
  items_.emplace_back(std::move(key), std::move(value));
  return *this;
}

APPINFRA_DECL Config::Config(std::initializer_list<Item> dbs) {
  for (const auto& [name, options] : dbs) add(name, options);
}

APPINFRA_DECL Config& Config::add(std::string name, Options options) {
  for (const auto& item : dbs_)
    if (item.first == name)
      throw ConfigError(name, "", "", fmt::format("database {} is configured twice", detail::shown(name)));
  dbs_.emplace_back(std::move(name), std::move(options));
  return *this;
}

}  // namespace appinfra::db
