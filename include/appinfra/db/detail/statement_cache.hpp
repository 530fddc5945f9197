#pragma once
// A connection's statement cache: statement text -> what the backend keeps for it
// (a prepared statement's name, a sqlite3_stmt*, a use count), least recently used
// first out. Shared by the PostgreSQL automatic preparation and the SQLite cache.

#include <appinfra/db/stats.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace appinfra::db::detail {

/// A bounded map from statement text to `V`, evicting the least recently used
/// entry. Not thread-safe: a connection's cache is used by its one holder. find()
/// and insert() are O(1) on average; the keys are not copied for lookups.
template <class V>
class StatementCache {
 public:
  using Entry = std::pair<std::string, V>;

  /// capacity 0: nothing is kept (insert() hands the entry straight back).
  explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  StatementCache(StatementCache&&) noexcept = default;
  StatementCache& operator=(StatementCache&&) noexcept = default;

  /// The entry for `sql`, made the most recently used; null when absent.
  [[nodiscard]] V* find(std::string_view sql) {
    const auto it = index_.find(sql);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, it->second);
    return &it->second->second;
  }

  /// Adds `sql` (absent) as the most recently used entry. When the cache was full,
  /// returns the entry evicted to make room, for the caller to release on the
  /// server (DEALLOCATE, sqlite3_finalize). With capacity 0, returns the new entry.
  [[nodiscard]] std::optional<Entry> insert(std::string sql, V value) {
    if (capacity_ == 0) return Entry{std::move(sql), std::move(value)};
    std::optional<Entry> evicted;
    if (entries_.size() == capacity_) {
      index_.erase(entries_.back().first);
      evicted = std::move(entries_.back());
      entries_.pop_back();
    }
    entries_.emplace_front(std::move(sql), std::move(value));
    index_.emplace(entries_.front().first, entries_.begin());
    return evicted;
  }

  /// Removes `sql`'s entry and returns it, if present.
  std::optional<Entry> erase(std::string_view sql) {
    const auto it = index_.find(sql);
    if (it == index_.end()) return std::nullopt;
    std::optional<Entry> out = std::move(*it->second);
    entries_.erase(it->second);
    index_.erase(it);
    return out;
  }

  /// Calls `f(sql, value)` on each entry, most recent first (to release them on
  /// close), then forgets them all.
  template <class F>
  void drain(F&& f) {
    for (auto& [sql, value] : entries_) f(std::as_const(sql), value);
    clear();
  }
  /// Forgets every entry (the server already dropped them: a reconnect, DISCARD ALL).
  void clear() noexcept {
    index_.clear();
    entries_.clear();
  }

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t capacity_;
  std::list<Entry> entries_;  // most recently used first; nodes never move
  std::unordered_map<std::string_view, typename std::list<Entry>::iterator> index_;  // keys view entries_
};

/// A database's statement cache counters, summed over its connections: each
/// connection's cache counts into the one its connector owns. Thread-safe (relaxed
/// atomics: totals, not synchronisation).
struct StatementCacheCounters {
  std::atomic<std::uint64_t> hits{0}, misses{0}, evictions{0};

  void hit() noexcept { hits.fetch_add(1, std::memory_order_relaxed); }
  void miss() noexcept { misses.fetch_add(1, std::memory_order_relaxed); }
  void evicted() noexcept { evictions.fetch_add(1, std::memory_order_relaxed); }

  /// Adds the totals to a pool status (a connector's `add_to`).
  void add_to(PoolStatus& s) const noexcept {
    s.statement_cache_hits_total += hits.load(std::memory_order_relaxed);
    s.statement_cache_misses_total += misses.load(std::memory_order_relaxed);
    s.statement_cache_evictions_total += evictions.load(std::memory_order_relaxed);
  }
};

}  // namespace appinfra::db::detail
