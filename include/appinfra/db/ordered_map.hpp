#pragma once
// A small map that keeps insertion order: results are reported in configuration order.

#include <appinfra/db/errors.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::db {

/// Names to values in insertion (configuration) order. Linear lookup: it holds
/// one entry per configured database. Value type.
template <class V>
class OrderedMap {
 public:
  using value_type = std::pair<std::string, V>;

  V& insert_or_assign(std::string key, V value) {
    if (V* v = find(key)) return *v = std::move(value);
    return items_.emplace_back(std::move(key), std::move(value)).second;
  }
  [[nodiscard]] V* find(std::string_view key) noexcept {
    for (auto& [k, v] : items_)
      if (k == key) return &v;
    return nullptr;
  }
  [[nodiscard]] const V* find(std::string_view key) const noexcept {
    return const_cast<OrderedMap*>(this)->find(key);
  }
  [[nodiscard]] bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
  /// Throws NotFoundError naming the key.
  [[nodiscard]] const V& at(std::string_view key) const {
    if (const V* v = find(key)) return *v;
    throw NotFoundError("no entry named '" + std::string(key) + "'");
  }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
  [[nodiscard]] auto begin() const noexcept { return items_.begin(); }
  [[nodiscard]] auto end() const noexcept { return items_.end(); }
  void clear() noexcept { items_.clear(); }

 private:
  std::vector<value_type> items_;
};

}  // namespace appinfra::db
