#pragma once
// The pool's slot table: a fixed array of entries, each empty, idle, held,
// reserved or being returned, claimed by compare-and-swap without a lock.

#include <appinfra/db/pool/options.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <thread>

namespace appinfra::db::detail {

// returning: a Lease is being given back; it pins the pool's state (the
// destructor waits for it), so put_back may still use the pool.
enum SlotState : std::uint8_t { empty, idle, held, reserved, returning };

/// The entry this thread returned last, per pool id: a checkout first tries it,
/// which keeps a thread on its own cache lines (HikariCP's thread-local list).
struct PoolHint {
  std::uint64_t pool = 0;
  std::uint32_t index = 0;
};
inline thread_local PoolHint pool_hint;

inline std::uint64_t next_pool_id() noexcept {
  static std::atomic<std::uint64_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) + 1;
}

/// One place for a connection; on a cache line of its own.
template <class Connection, class Rep>
struct alignas(64) PoolSlot {
  std::atomic<std::uint8_t> state{empty};
  std::atomic<Rep> returned_at{0};  // last put back: reuse order, idle time
  std::atomic<Rep> acquired_at{0};  // last checked out: diagnostics
  std::atomic<std::source_location> where{};
  std::atomic<bool> warned{false};
  // Invalidated by its holder: closed on return. Here rather than in the
  // Lease, so that status() can count them; cleared when the connection is
  // closed.
  std::atomic<bool> broken{false};
  std::atomic<std::uint64_t> checkouts{0};  // statistics; written only by the holder
  // Touched only by whoever owns the entry (held or reserved).
  std::optional<Connection> conn;
  Rep expires = 0;  // recycle deadline, jittered; 0: never
  std::uint64_t precise_acquired = 0;

  // For checkout_verdict: the times it may need, read only when it does.
  Rep acquired_time() const noexcept { return acquired_at.load(std::memory_order_relaxed); }
  Rep returned_time() const noexcept { return returned_at.load(std::memory_order_relaxed); }
};

/// `capacity` slots and the count of those not empty. The count's top bit
/// (orphan_bit) says the pool object is gone; the last returned connection then
/// deletes the state.
template <class Connection, class Rep>
class SlotTable {
 public:
  using Entry = PoolSlot<Connection, Rep>;
  static constexpr std::size_t orphan_bit = std::size_t{1} << (sizeof(std::size_t) * 8 - 1);

  SlotTable(std::size_t capacity, ReuseOrder reuse)
      : capacity(capacity), reuse_(reuse), entries_(new Entry[std::max<std::size_t>(capacity, 1)]) {}

  const std::size_t capacity;
  const std::uint64_t id = next_pool_id();
  std::atomic<std::size_t> open_count{0};  // entries not empty (+ orphan_bit)

  Entry& operator[](std::size_t i) noexcept { return entries_[i]; }
  const Entry& operator[](std::size_t i) const noexcept { return entries_[i]; }
  std::size_t index(const Entry& e) const noexcept { return static_cast<std::size_t>(&e - entries_.get()); }
  std::size_t open() const noexcept { return open_count.load(std::memory_order_relaxed) & ~orphan_bit; }

  /// Takes an idle entry (now held): first the one this thread returned last
  /// (LIFO), else the most (LIFO) or least (FIFO) recently returned; null if
  /// none.
  Entry* take_idle() noexcept {
    if (reuse_ == ReuseOrder::lifo && pool_hint.pool == id && pool_hint.index < capacity) {
      Entry& e = entries_[pool_hint.index];
      std::uint8_t expected = idle;
      if (e.state.load(std::memory_order_relaxed) == idle &&
          e.state.compare_exchange_strong(expected, held, std::memory_order_acquire))
        return &e;
    }
    for (int attempt = 0; attempt < 4; ++attempt) {
      Entry* best = nullptr;
      Rep best_t = 0;
      for (std::size_t i = 0; i < capacity; ++i) {
        Entry& e = entries_[i];
        if (e.state.load(std::memory_order_relaxed) != idle) continue;
        const Rep t = e.returned_at.load(std::memory_order_relaxed);
        if (best == nullptr || (reuse_ == ReuseOrder::lifo ? t > best_t : t < best_t)) {
          best = &e;
          best_t = t;
        }
      }
      if (best == nullptr) return nullptr;
      std::uint8_t expected = idle;
      if (best->state.compare_exchange_strong(expected, held, std::memory_order_acquire)) return best;
    }
    return nullptr;
  }

  /// Claims room for a new connection: an empty entry, reserved; null when the
  /// table is full (or orphaned).
  Entry* reserve_empty() noexcept {
    std::size_t n = open_count.load(std::memory_order_relaxed);
    do {
      if (n >= capacity) return nullptr;  // also when orphan_bit is set
    } while (!open_count.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
    for (;;) {
      for (std::size_t i = 0; i < capacity; ++i) {
        std::uint8_t expected = empty;
        if (entries_[i].state.compare_exchange_strong(expected, reserved, std::memory_order_acquire))
          return &entries_[i];
      }
      std::this_thread::yield();  // an entry is being emptied right now
    }
  }

  /// Makes the caller's entry empty and gives its room back; returns the count
  /// before (with orphan_bit).
  std::size_t release(Entry& e) noexcept {
    e.state.store(empty, std::memory_order_release);
    return open_count.fetch_sub(1, std::memory_order_acq_rel);
  }

  std::size_t count(SlotState s) const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < capacity; ++i) n += entries_[i].state.load(std::memory_order_relaxed) == s;
    return n;
  }

  /// Remembers `e` as this thread's entry of this table (see PoolHint).
  void hint(const Entry& e) const noexcept { pool_hint = {id, static_cast<std::uint32_t>(index(e))}; }

 private:
  const ReuseOrder reuse_;
  std::unique_ptr<Entry[]> entries_;
};

}  // namespace appinfra::db::detail
