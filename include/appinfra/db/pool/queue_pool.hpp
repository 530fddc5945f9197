#pragma once
// QueuePool: SQLAlchemy's QueuePool semantics, with a lock-free checkout path,
// first-come-first-served waiting and the diagnostics other pools lack.

#include <appinfra/db/concepts/connector.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/clock.hpp>
#include <appinfra/db/pool/options.hpp>
#include <appinfra/db/pool/stats.hpp>
#include <appinfra/db/stats.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace appinfra::db {

namespace detail {
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

inline std::string where_text(const std::source_location& w) {
  return fmt::format("{}:{} in {}", w.file_name(), w.line(), w.function_name());
}
}  // namespace detail

/// Keeps up to `pool_size` idle connections and opens up to `max_overflow` more under
/// load. A caller that finds every connection busy waits, first come first served,
/// at most `timeout`, then gets a PoolTimeoutError that says whether the pool is
/// saturated (who holds the connections, for how long, acquired where) or the
/// database unreachable (the last connect error, the failed attempts).
///
/// Checkout is lock-free when nobody waits: a compare-and-swap on the entry this
/// thread returned last, or on another idle one (LIFO or FIFO, an option). With
/// pre_ping, a checked-out connection gets the connector's socket-level `alive()`
/// check, unless it was checked out last less than `pre_ping_grace` ago, and a
/// `ping()` round trip only when it idled longer than `pre_ping_window`. A returned
/// connection is `reset()` by the connector (a round trip only when it is dirty). Connections older than `recycle` (minus jitter)
/// are replaced at checkout; idle ones beyond `min_idle` close after
/// `idle_timeout`; holders past `hold_warning` are logged with where they acquired.
///
/// Template parameters: the Connector, the bookkeeping Clock (tests use a manual
/// one) and the statistics policy (PoolStats or NoStats).
///
/// Thread safety: every member function may be called concurrently, except the
/// destructor. Lifetime: a Handle may outlive its pool; the pool's state then lives
/// until the last Handle is returned, and that connection is closed. Connections are
/// opened and closed outside the pool's lock.
template <Connector C, class Clock = CoarseClock, class Stats = PoolStats>
class QueuePool {
 public:
  using connector_type = C;
  using connection_type = typename C::connection_type;
  using clock_type = Clock;
  using stats_type = Stats;
  /// Whether returned connections are kept (false for NullPool).
  static constexpr bool keeps_connections = true;

 private:
  using rep = typename Clock::duration::rep;
  using precise_clock = std::chrono::steady_clock;
  // returning: a Handle is being given back; it pins the pool's state (the
  // destructor waits for it), so put_back may still use the pool.
  enum State : std::uint8_t { empty, idle, held, reserved, returning };
  // open_count's top bit: the pool object is gone; the last returned connection
  // deletes the state.
  static constexpr std::size_t orphan_bit = std::size_t{1} << (sizeof(std::size_t) * 8 - 1);

  static rep ticks(typename Clock::time_point t) noexcept { return t.time_since_epoch().count(); }
  static rep ticks(std::chrono::duration<double> d) noexcept {
    return std::chrono::duration_cast<typename Clock::duration>(d).count();
  }
  static double seconds(rep t) noexcept {
    return std::chrono::duration<double>(typename Clock::duration(t)).count();
  }

  struct alignas(64) Entry {
    std::atomic<std::uint8_t> state{empty};
    std::atomic<rep> returned_at{0};  // last put back: reuse order, idle time
    std::atomic<rep> acquired_at{0};  // last checked out: diagnostics
    std::atomic<std::source_location> where{};
    std::atomic<bool> warned{false};
    // Invalidated by its holder: closed on return. Here rather than in the Handle,
    // so that status() can count them; cleared when the connection is closed.
    std::atomic<bool> broken{false};
    std::atomic<std::uint64_t> checkouts{0};  // statistics; written only by the holder
    // Touched only by whoever owns the entry (held or reserved).
    std::optional<connection_type> conn;
    rep expires = 0;  // recycle deadline, jittered; 0: never
    std::uint64_t precise_acquired = 0;
  };

  struct Waiter {
    std::condition_variable cv;
    Entry* entry = nullptr;
    bool must_open = false;
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
  };

  struct Core {
    Core(C c, PoolOptions o)
        : connector(std::move(c)),
          options(bounded(o)),
          capacity(o.pool_size + o.max_overflow),
          entries(new Entry[std::max<std::size_t>(capacity, 1)]) {}

    // The grace never reaches past the window: pre_ping_window 0 checks every checkout.
    static PoolOptions bounded(PoolOptions o) noexcept {
      o.pre_ping_grace = std::min(o.pre_ping_grace, o.pre_ping_window);
      return o;
    }

    C connector;
    const PoolOptions options;
    const std::size_t capacity;
    const std::uint64_t id = detail::next_pool_id();
    std::unique_ptr<Entry[]> entries;
    [[no_unique_address]] Stats stats;

    std::atomic<std::size_t> open_count{0};  // entries not empty (+ orphan_bit)
    std::atomic<std::size_t> waiters{0};
    std::atomic<bool> closed{false};
    std::atomic<rep> next_housekeeping{0};

    std::mutex mutex;  // guards the waiter queue, last_error, last_exception, drain_cv
    Waiter* head = nullptr;
    Waiter* tail = nullptr;
    std::condition_variable drain_cv;
    std::string last_error;
    std::exception_ptr last_exception;  // the last connect error itself, nested in the timeout
    std::atomic<std::size_t> failed_attempts{0};  // since the last successful connect

    std::size_t index(const Entry& e) const noexcept { return static_cast<std::size_t>(&e - entries.get()); }

    // --- the waiter queue (mutex held) ---
    void enqueue(Waiter& w) noexcept {
      w.prev = tail;
      if (tail) tail->next = &w;
      else head = &w;
      tail = &w;
    }
    void unlink(Waiter& w) noexcept {
      (w.prev ? w.prev->next : head) = w.next;
      (w.next ? w.next->prev : tail) = w.prev;
      w.prev = w.next = nullptr;
    }
    // Gives `e` to the longest waiter; false when nobody waits (mutex held).
    bool hand_to_waiter(Entry& e, bool must_open) noexcept {
      Waiter* w = head;
      if (w == nullptr) return false;
      unlink(*w);
      e.state.store(must_open ? reserved : held, std::memory_order_relaxed);
      w->entry = &e;
      w->must_open = must_open;
      w->cv.notify_one();
      return true;
    }

    // --- lock-free checkout ---
    Entry* take_idle() noexcept {
      if (options.reuse == ReuseOrder::lifo && detail::pool_hint.pool == id && detail::pool_hint.index < capacity) {
        Entry& e = entries[detail::pool_hint.index];
        std::uint8_t expected = idle;
        if (e.state.load(std::memory_order_relaxed) == idle &&
            e.state.compare_exchange_strong(expected, held, std::memory_order_acquire))
          return &e;
      }
      for (int attempt = 0; attempt < 4; ++attempt) {
        Entry* best = nullptr;
        rep best_t = 0;
        for (std::size_t i = 0; i < capacity; ++i) {
          Entry& e = entries[i];
          if (e.state.load(std::memory_order_relaxed) != idle) continue;
          const rep t = e.returned_at.load(std::memory_order_relaxed);
          if (best == nullptr || (options.reuse == ReuseOrder::lifo ? t > best_t : t < best_t)) {
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

    // Claims room for a new connection: an empty entry, reserved.
    Entry* reserve_empty() noexcept {
      std::size_t n = open_count.load(std::memory_order_relaxed);
      do {
        if (n >= capacity) return nullptr;  // also when orphan_bit is set
      } while (!open_count.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
      for (;;) {
        for (std::size_t i = 0; i < capacity; ++i) {
          std::uint8_t expected = empty;
          if (entries[i].state.compare_exchange_strong(expected, reserved, std::memory_order_acquire))
            return &entries[i];
        }
        std::this_thread::yield();  // an entry is being emptied right now
      }
    }

    std::size_t count(State s) const noexcept {
      std::size_t n = 0;
      for (std::size_t i = 0; i < capacity; ++i) n += entries[i].state.load(std::memory_order_relaxed) == s;
      return n;
    }

    // --- opening and closing ---
    // Opens a connection into reserved entry `e`. On failure `e` is freed and the
    // error recorded; returns false.
    bool open_into(Entry& e) noexcept {
      try {
        e.conn.emplace(connector.open());
      } catch (const std::exception& ex) {
        failed(ex.what(), std::current_exception());
        free_entry(e);
        return false;
      } catch (...) {
        failed("unknown error", std::current_exception());
        free_entry(e);
        return false;
      }
      const rep now = ticks(Clock::now());
      e.expires = expiry(now);
      e.returned_at.store(now, std::memory_order_relaxed);
      failed_attempts.store(0, std::memory_order_relaxed);
      stats.created();
      return true;
    }

    // A cheap random fraction in [0, 1), different for every call.
    double random_fraction() const noexcept {
      static std::atomic<std::uint64_t> salt{0x9E3779B97F4A7C15ull};
      std::uint64_t x = salt.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed) ^ (id << 32) ^
                        static_cast<std::uint64_t>(ticks(Clock::now()));
      x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;  // splitmix64's finaliser
      x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
      x ^= x >> 31;
      return static_cast<double>(x >> 11) / static_cast<double>(std::uint64_t{1} << 53);
    }

    // When a connection opened at `now` is to be recycled: its maximum age less a
    // random part of the jitter, so that connections opened together expire apart.
    rep expiry(rep now) const noexcept {
      if (options.recycle.count() < 0) return 0;
      const double age = options.recycle.count() * (1.0 - options.recycle_jitter * random_fraction());
      return now + std::max<rep>(1, ticks(std::chrono::duration<double>(age)));
    }

    void failed(const std::string& what, std::exception_ptr cause) {
      failed_attempts.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(mutex);
      last_error = what;
      last_exception = std::move(cause);
    }

    // Closes the connection of owned entry `e` and frees its place: to the longest
    // waiter (who opens a new one) or back to empty. Returns true when the caller
    // must delete the core (the pool is gone and this was its last connection);
    // after a true or a false, `this` is not touched again by this call.
    [[gnu::noinline]] bool discard(Entry& e) noexcept {
      e.conn.reset();
      e.broken.store(false, std::memory_order_relaxed);
      return free_entry(e);
    }
    bool free_entry(Entry& e) noexcept {
      std::size_t prev = 0;
      {
        std::lock_guard lock(mutex);
        if (!closed.load(std::memory_order_relaxed) && hand_to_waiter(e, true)) return false;
        e.state.store(empty, std::memory_order_release);
        prev = open_count.fetch_sub(1, std::memory_order_acq_rel);
        drain_cv.notify_all();
      }
      return prev == (orphan_bit | 1);
    }

    // Puts owned entry `e` back as idle, or gives it to the longest waiter. The
    // store that makes it idle is the last use of the pool's state. A caller that
    // starts waiting just before that store finds the entry when it next looks
    // (waiters look again every few milliseconds).
    void make_idle(Entry& e) noexcept {
      if (waiters.load(std::memory_order_seq_cst) > 0) {
        std::lock_guard lock(mutex);
        if (hand_to_waiter(e, false)) return;
      }
      detail::pool_hint = {id, static_cast<std::uint32_t>(index(e))};
      e.state.store(idle, std::memory_order_release);
    }

    // Closes idle connections left in a closed pool (mutex not held).
    void close_idle() noexcept {
      for (std::size_t i = 0; i < capacity; ++i) {
        std::uint8_t expected = idle;
        if (entries[i].state.compare_exchange_strong(expected, reserved, std::memory_order_acquire))
          discard(entries[i]);  // never the last one: the pool object still exists
      }
    }

    // Idle timeout and hold warnings, at most every quarter of the shorter period.
    void housekeeping(rep now) noexcept {
      if (now >= next_housekeeping.load(std::memory_order_relaxed)) [[unlikely]]
        housekeeping_due(now);
    }
    [[gnu::noinline]] void housekeeping_due(rep now) noexcept {
      rep due = next_housekeeping.load(std::memory_order_relaxed);
      if (now < due) return;
      const double idle_s = options.idle_timeout.count(), hold_s = options.hold_warning.count();
      double period = 1.0;
      if (idle_s >= 0) period = std::min(period, idle_s / 4);
      if (hold_s >= 0) period = std::min(period, hold_s / 4);
      if (!next_housekeeping.compare_exchange_strong(due, now + std::max<rep>(1, ticks(std::chrono::duration<double>(period)))))
        return;  // another thread does it
      if (hold_s >= 0) {
        const rep limit = ticks(options.hold_warning);
        for (std::size_t i = 0; i < capacity; ++i) {
          Entry& e = entries[i];
          if (e.state.load(std::memory_order_acquire) != held) continue;
          const rep since = e.acquired_at.load(std::memory_order_relaxed);
          // Taken a moment ago and not stamped yet: its time is the last holder's.
          if (e.returned_at.load(std::memory_order_relaxed) > since) continue;
          const rep held_for = now - since;
          if (held_for >= limit && !e.warned.exchange(true, std::memory_order_relaxed))
            detail::log(connector.logger(), log::Level::warning,
                        "database '{}': connection #{} held for {:.1f} s (hold_warning {} s), acquired at {}",
                        connector.name(), i, seconds(held_for), hold_s,
                        detail::where_text(e.where.load(std::memory_order_relaxed)));
        }
      }
      if (idle_s >= 0) {
        const rep limit = ticks(options.idle_timeout);
        for (std::size_t i = 0; i < capacity; ++i) {
          Entry& e = entries[i];
          if (e.state.load(std::memory_order_relaxed) != idle) continue;
          if (now - e.returned_at.load(std::memory_order_relaxed) < limit) continue;
          if ((open_count.load(std::memory_order_relaxed) & ~orphan_bit) <= options.min_idle) break;
          std::uint8_t expected = idle;
          if (!e.state.compare_exchange_strong(expected, reserved, std::memory_order_acquire)) continue;
          stats.recycled();
          discard(e);
        }
      }
    }
  };

 public:
  /// A checked-out connection; gives it back when destroyed. Move-only.
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& o) noexcept : core_(std::exchange(o.core_, nullptr)), entry_(std::exchange(o.entry_, nullptr)) {}
    Handle& operator=(Handle&& o) noexcept {
      if (this != &o) {
        release();
        core_ = std::exchange(o.core_, nullptr);
        entry_ = std::exchange(o.entry_, nullptr);
      }
      return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { release(); }

    [[nodiscard]] connection_type& get() noexcept { return *entry_->conn; }
    [[nodiscard]] const connection_type& get() const noexcept { return *entry_->conn; }
    [[nodiscard]] explicit operator bool() const noexcept { return core_ != nullptr; }
    /// The pool's connector; it lives as long as any handle.
    [[nodiscard]] C& connector() const noexcept { return core_->connector; }
    /// Which of the pool's connections this is (for diagnostics).
    [[nodiscard]] std::size_t id() const noexcept { return core_->index(*entry_); }

    /// The connection is broken: it is closed on return, never handed out again.
    /// Counted in status().invalid until then.
    void invalidate() noexcept {
      if (entry_ != nullptr) entry_->broken.store(true, std::memory_order_relaxed);
    }

    /// Gives the connection back now; the handle becomes empty.
    void release() noexcept {
      if (core_ == nullptr) return;
      Core* core = std::exchange(core_, nullptr);
      Entry* e = std::exchange(entry_, nullptr);
      if (QueuePool::put_back(*core, *e)) delete core;
    }

   private:
    friend class QueuePool;
    Handle(Core* core, Entry* e) noexcept : core_(core), entry_(e) {}
    Core* core_ = nullptr;
    Entry* entry_ = nullptr;
  };
  using handle_type = Handle;

  QueuePool(C connector, PoolOptions options) : core_(new Core(std::move(connector), options)) {}
  QueuePool(const QueuePool&) = delete;
  QueuePool& operator=(const QueuePool&) = delete;
  /// Closes the pool; connections still held are closed when returned. Must not
  /// run concurrently with acquire() on this pool; handles may be returned
  /// concurrently, before or after.
  ~QueuePool() {
    close();
    Core& k = *core_;
    // Handles being returned right now still use the state: wait for them; what
    // they made idle after close() looked is closed here.
    for (std::size_t i = 0; i < k.capacity; ++i)
      while (k.entries[i].state.load(std::memory_order_seq_cst) == returning) std::this_thread::yield();
    k.close_idle();
    std::size_t prev = 0;
    {
      std::lock_guard lock(core_->mutex);
      prev = core_->open_count.fetch_or(orphan_bit, std::memory_order_acq_rel);
    }
    if (prev == 0) delete core_;
  }

  [[nodiscard]] const PoolOptions& options() const noexcept { return core_->options; }
  [[nodiscard]] C& connector() noexcept { return core_->connector; }

  /// Opens min_idle connections (at least one), each with 1 + max_retries attempts
  /// and exponential backoff. Throws ConnectionError naming the attempts and the
  /// last error. With lazy_min_idle, opens just one: setup still reports an
  /// unreachable database at once.
  void warm_up() {
    Core& k = *core_;
    const std::size_t want = k.options.lazy_min_idle ? 1 : std::max<std::size_t>(k.options.min_idle, 1);
    const int attempts = 1 + std::max(0, k.options.max_retries);
    for (std::size_t n = k.count(idle); n < want; ++n) {
      Entry* e = k.reserve_empty();
      if (e == nullptr) return;
      for (int attempt = 1;; ++attempt) {
        try {
          e->conn.emplace(k.connector.open());
          break;
        } catch (const std::exception& ex) {
          if (attempt >= attempts) {
            k.free_entry(*e);
            // The last attempt's error goes with it, nested (std::rethrow_if_nested
            // finds a ReadOnlyServerError, say), and its SQLSTATE too, so that
            // failure() says what kind of failure it was.
            std::string what = fmt::format("database '{}': cannot connect after {} attempt{}: {}", k.connector.name(),
                                           attempts, attempts == 1 ? "" : "s",
                                           detail::without_db(ex.what(), k.connector.name()));
            if (const auto* ce = dynamic_cast<const ConnectionError*>(&ex))
              std::throw_with_nested(ConnectionError(what, ce->sqlstate()));
            std::throw_with_nested(ConnectionError(what));
          }
          // Exponential backoff with jitter (half to all of the step), so that
          // processes restarted together do not retry in lockstep.
          const double jitter = 0.5 + 0.5 * k.random_fraction();
          const auto delay = k.options.retry_delay * std::pow(2.0, attempt - 1) * jitter;
          detail::log(k.connector.logger(), log::Level::warning,
                      "database '{}': connect attempt {} of {} failed ({}); retrying in {:.3f} s", k.connector.name(),
                      attempt, attempts, detail::without_db(ex.what(), k.connector.name()), delay.count());
          std::this_thread::sleep_for(delay);
        } catch (...) {
          // Not a std::exception (a thread's forced unwinding, say): nothing to
          // retry or describe; give the place back and let it through.
          k.free_entry(*e);
          throw;
        }
      }
      k.stats.created();
      if (k.options.pool_size == 0) {  // keeps nothing idle: the connect was the check
        k.discard(*e);
        return;
      }
      const rep now = ticks(Clock::now());
      e->expires = k.expiry(now);
      e->returned_at.store(now, std::memory_order_relaxed);
      k.make_idle(*e);
    }
  }

  /// Checks a connection out, opening one if the pool may grow; waits at most
  /// options().timeout. `where` is recorded for diagnostics (leave the default).
  /// Throws PoolTimeoutError (saturated or unreachable; when unreachable, the last
  /// connect error is nested in it) or ClosedError.
  [[nodiscard]] Handle acquire(std::source_location where = std::source_location::current()) {
    return checkout(where, Deadline{});
  }

  /// acquire(where), waiting no later than `deadline` either: at most the earlier
  /// of options().timeout and the deadline. A deadline already passed fails at
  /// once, without taking a connection. When the deadline is what ran out, the
  /// PoolTimeoutError says so. An open or a ping under way is not interrupted by
  /// it. `Deadline{}` (none) is acquire(where).
  [[nodiscard]] Handle acquire(std::source_location where, Deadline deadline) {
    if (deadline) {
      const auto now = Deadline::clock::now();
      if (now >= deadline.at) [[unlikely]]
        passed_before(*core_, now - deadline.at);
    }
    return checkout(where, deadline);
  }

 private:
  // Usable without a round trip: not due for recycling, and with pre_ping, checked
  // out last less than pre_ping_grace ago (held and idle together: a connection
  // held for minutes without a statement gets checked), or idle for less than
  // pre_ping_window and alive.
  static bool fresh(Core& k, Entry& e, rep now) noexcept {
    if (e.expires != 0 && now >= e.expires) return false;
    if (!k.options.pre_ping || in_grace(k, e, now)) return true;
    return now - e.returned_at.load(std::memory_order_relaxed) < ticks(k.options.pre_ping_window) &&
           k.connector.alive(*e.conn);
  }
  static bool in_grace(Core& k, Entry& e, rep now) noexcept {
    return now - e.acquired_at.load(std::memory_order_relaxed) < ticks(k.options.pre_ping_grace);
  }

  // The common case, small enough to inline: nobody waits, an idle connection is
  // there, and it needs no round trip. Everything else is acquire_slow(). Reads
  // no clock but the pool's (the deadline is looked at only when waiting).
  [[gnu::always_inline]] Handle checkout(const std::source_location& where, Deadline deadline) {
    Core& k = *core_;
    if (k.waiters.load(std::memory_order_seq_cst) == 0 && !k.closed.load(std::memory_order_relaxed)) {
      if (Entry* e = k.take_idle()) {
        const rep now = ticks(Clock::now());
        if (fresh(k, *e, now)) return hand(k, *e, now, where, 0);
        return acquire_slow(where, e, deadline);
      }
    }
    return acquire_slow(where, nullptr, deadline);
  }

  // How long a checkout may wait: options().timeout from its first wait, or the
  // caller's deadline when that comes first.
  struct Limit {
    precise_clock::time_point since;  // the first wait
    precise_clock::time_point at;
    bool by_caller = false;  // `at` is the caller's deadline
  };
  static Limit limit(const Core& k, Deadline caller) noexcept {
    Limit l;
    l.since = precise_clock::now();
    l.at = l.since + std::chrono::duration_cast<precise_clock::duration>(k.options.timeout);
    if (caller.at < l.at) {
      l.at = caller.at;
      l.by_caller = true;
    }
    return l;
  }

  // Everything acquire() does not do inline: checking `first` (an idle entry taken
  // already, or null) fully, opening, waiting, retrying, timing out.
  [[gnu::noinline]] Handle acquire_slow(std::source_location where, Entry* first, Deadline caller) {
    Core& k = *core_;
    std::uint64_t waited_since = 0;  // statistics: when this caller started to wait, if it did
    const auto waiting = [&] {
      if constexpr (Stats::enabled)
        if (waited_since == 0) waited_since = precise_now();
    };
    std::optional<Limit> deadline;
    for (;;) {
      Entry* e = std::exchange(first, nullptr);
      bool must_open = false;
      if (e == nullptr && k.closed.load(std::memory_order_acquire))
        throw ClosedError(fmt::format("database '{}': pool is closed", k.connector.name()));
      if (e == nullptr && k.waiters.load(std::memory_order_seq_cst) == 0) {
        e = k.take_idle();
        if (e == nullptr && (e = k.reserve_empty()) != nullptr) must_open = true;
      }
      if (e == nullptr) {
        waiting();
        if (!deadline) deadline = limit(k, caller);
        auto [w, open] = wait(*deadline);
        e = w;
        must_open = open;
      }
      if (!must_open) {
        const rep now = ticks(Clock::now());
        if (usable(k, *e, now, waiting)) return hand(k, *e, now, where, waited_since);
        e->state.store(reserved, std::memory_order_relaxed);
        e->conn.reset();  // keep its place and open a replacement
      }
      waiting();
      if (k.open_into(*e)) return hand(k, *e, ticks(Clock::now()), where, waited_since);
      // Unreachable for now: try again until the deadline, a little later each time.
      if (!deadline) deadline = limit(k, caller);
      const auto pause = std::min<precise_clock::duration>(
          std::chrono::milliseconds(10) * (1 << std::min<std::size_t>(k.failed_attempts.load(), 6)),
          deadline->at - precise_clock::now());
      if (pause <= precise_clock::duration::zero()) {
        k.stats.timed_out();
        throw_timeout(k, true, *deadline);
      }
      std::this_thread::sleep_for(pause);
    }
  }

 public:
  /// A snapshot of the pool: each connection counted once.
  [[nodiscard]] PoolStatus status() const {
    const Core& k = *core_;
    PoolStatus s;
    s.pool_size = k.options.pool_size;
    for (std::size_t i = 0; i < k.capacity; ++i) {
      const auto st = k.entries[i].state.load(std::memory_order_relaxed);
      if (st == idle) ++s.checked_in;
      else if (st != empty) {
        ++s.checked_out;
        s.invalid += k.entries[i].broken.load(std::memory_order_relaxed);
      }
    }
    s.total_connections = s.checked_in + s.checked_out;
    s.overflow = s.total_connections > s.pool_size ? s.total_connections - s.pool_size : 0;
    s.waiting = k.waiters.load(std::memory_order_relaxed);
    if constexpr (Stats::enabled) {
      for (std::size_t i = 0; i < k.capacity; ++i) s.acquired_total += k.entries[i].checkouts.load(std::memory_order_relaxed);
      k.stats.fill(s);
    }
    return s;
  }

  /// Stops handing out connections, wakes the waiters (they get ClosedError), closes
  /// idle connections, and waits until every checked-out connection is returned or
  /// `deadline` passes. Returns how many are still out; they are closed when
  /// returned. Idempotent.
  std::size_t drain(std::chrono::steady_clock::time_point deadline) noexcept {
    Core& k = *core_;
    {
      std::lock_guard lock(k.mutex);
      k.closed.store(true, std::memory_order_seq_cst);
      for (Waiter* w = k.head; w != nullptr; w = w->next) w->cv.notify_one();
    }
    for (;;) {
      k.close_idle();
      std::unique_lock lock(k.mutex);
      const std::size_t open = k.open_count.load(std::memory_order_acquire) & ~orphan_bit;
      if (open == 0 || std::chrono::steady_clock::now() >= deadline) return open;
      // Also wakes up now and then: a connection can be returned as idle just
      // after close_idle() looked at it.
      k.drain_cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(10)));
    }
  }

  /// drain() without waiting for checked-out connections.
  void close() noexcept { (void)drain(std::chrono::steady_clock::time_point::min()); }

 private:
  static std::uint64_t precise_now() noexcept {
    return static_cast<std::uint64_t>(precise_clock::now().time_since_epoch().count());
  }

  // Whether an idle connection may be handed out; a connection that may not is
  // counted (recycled or invalidated) and its place kept for a new one. `waiting`
  // is called before a round trip: the caller waits for it.
  template <class Waiting>
  static bool usable(Core& k, Entry& e, rep now, Waiting&& waiting) noexcept {
    if (e.expires != 0 && now >= e.expires) {
      k.stats.recycled();
      return false;
    }
    if (k.options.pre_ping && !in_grace(k, e, now)) {
      bool ok = k.connector.alive(*e.conn);
      if (ok && now - e.returned_at.load(std::memory_order_relaxed) >= ticks(k.options.pre_ping_window)) {
        waiting();
        ok = k.connector.ping(*e.conn);
      }
      if (!ok) {
        k.stats.invalidated();
        return false;
      }
    }
    return true;
  }

  Handle hand(Core& k, Entry& e, rep now, const std::source_location& where, std::uint64_t waited_since) noexcept {
    e.acquired_at.store(now, std::memory_order_relaxed);
    e.state.store(held, std::memory_order_relaxed);  // from reserved, when just opened
    e.where.store(where, std::memory_order_relaxed);
    e.warned.store(false, std::memory_order_relaxed);
    if constexpr (Stats::enabled) {
      e.checkouts.store(e.checkouts.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      std::uint64_t now_precise = 0;
      if (waited_since != 0) {
        now_precise = precise_now();
        k.stats.waited(now_precise - waited_since);
      }
      e.precise_acquired = Stats::sample() ? (now_precise != 0 ? now_precise : precise_now()) : 0;
    }
    return Handle(core_, &e);
  }

  // Returns true when the caller must delete the core.
  static bool put_back(Core& k, Entry& e) noexcept {
    // Pin the state before looking at `closed`; the destructor does the opposite.
    e.state.store(returning, std::memory_order_seq_cst);
    const rep now = ticks(Clock::now());
    if constexpr (Stats::enabled)
      if (e.precise_acquired != 0) k.stats.held(precise_now() - e.precise_acquired);
    if (e.warned.load(std::memory_order_relaxed)) [[unlikely]]
      log_late_return(k, e, now);
    bool broken = e.broken.load(std::memory_order_relaxed);
    if (!broken && !k.connector.reset(*e.conn)) broken = true;
    if (broken) k.stats.invalidated();
    if (broken || k.closed.load(std::memory_order_seq_cst) ||
        ((k.open_count.load(std::memory_order_relaxed) & ~orphan_bit) > k.options.pool_size &&
         k.count(idle) >= k.options.pool_size))
      return k.discard(e);
    e.returned_at.store(now, std::memory_order_relaxed);
    k.housekeeping(now);
    k.make_idle(e);  // last: unpins
    return false;
  }

  [[gnu::noinline]] static void log_late_return(Core& k, Entry& e, rep now) noexcept {
    detail::log(k.connector.logger(), log::Level::warning,
                "database '{}': connection #{} returned after {:.1f} s, acquired at {}", k.connector.name(), k.index(e),
                seconds(now - e.acquired_at.load(std::memory_order_relaxed)),
                detail::where_text(e.where.load(std::memory_order_relaxed)));
  }

  // Waits, first come first served, for an entry: {entry, must_open}.
  [[gnu::noinline]] std::pair<Entry*, bool> wait(const Limit& deadline) {
    Core& k = *core_;
    std::unique_lock lock(k.mutex);
    k.waiters.fetch_add(1, std::memory_order_seq_cst);
    struct Leave {
      Core& k;
      ~Leave() { k.waiters.fetch_sub(1, std::memory_order_seq_cst); }
    } leave{k};
    if (k.head == nullptr) {  // nobody ahead: look again now that waiters > 0
      if (Entry* e = k.take_idle()) return {e, false};
      if (Entry* e = k.reserve_empty()) return {e, true};
    }
    Waiter w;
    k.enqueue(w);
    while (w.entry == nullptr) {
      if (k.closed.load(std::memory_order_acquire)) {
        k.unlink(w);
        throw ClosedError(fmt::format("database '{}': pool is closed", k.connector.name()));
      }
      // Wakes when handed an entry, and every few milliseconds to look for one made
      // idle without a hand-over (see make_idle); only the first waiter takes it.
      const auto until = std::min(deadline.at, precise_clock::now() + std::chrono::milliseconds(5));
      w.cv.wait_until(lock, until);
      if (w.entry != nullptr) break;
      if (k.closed.load(std::memory_order_acquire)) continue;  // the loop's check throws ClosedError
      if (&w == k.head) {
        Entry* e = k.take_idle();
        bool must_open = false;
        if (e == nullptr && (e = k.reserve_empty()) != nullptr) must_open = true;
        if (e != nullptr) {
          k.unlink(w);
          return {e, must_open};
        }
      }
      if (precise_clock::now() >= deadline.at) {
        k.unlink(w);
        k.stats.timed_out();
        const bool unreachable = k.failed_attempts.load(std::memory_order_relaxed) > 0;
        lock.unlock();
        throw_timeout(k, unreachable, deadline);
      }
    }
    return {w.entry, w.must_open};
  }

  // A deadline that had passed before the checkout began: nothing taken, nothing waited for.
  [[noreturn, gnu::noinline]] static void passed_before(Core& k, Deadline::clock::duration late) {
    k.stats.timed_out();
    throw PoolTimeoutError(fmt::format(
        "database '{}': no connection: the deadline had passed {:.3f} s before the checkout began", k.connector.name(),
        std::chrono::duration<double>(late).count()));
  }

  // Throws the PoolTimeoutError of a checkout that gave up; when the database is
  // unreachable, with the last connect error nested (std::rethrow_if_nested).
  [[noreturn, gnu::noinline]] static void throw_timeout(Core& k, bool unreachable, const Limit& l) {
    std::exception_ptr cause;
    std::string last;
    if (unreachable) {
      std::lock_guard lock(k.mutex);
      last = k.last_error;
      cause = k.last_exception;
    }
    PoolTimeoutError error = timeout_error(k, unreachable, l, last);
    if (!cause) throw error;
    try {
      std::rethrow_exception(cause);
    } catch (...) {
      std::throw_with_nested(std::move(error));
    }
  }

  static PoolTimeoutError timeout_error(Core& k, bool unreachable, const Limit& l, const std::string& last) {
    // What ran out: the pool's timeout, or the caller's deadline (then how long it
    // did wait, which is less).
    const std::string after =
        l.by_caller
            ? fmt::format(": the deadline passed after waiting {:.3f} s (pool_timeout {} s)",
                          std::chrono::duration<double>(precise_clock::now() - l.since).count(),
                          k.options.timeout.count())
            : fmt::format(" after waiting {} s", k.options.timeout.count());
    if (unreachable) {
      return PoolTimeoutError(fmt::format(
          "database '{}': no connection{}: the database is unreachable: {} connection "
          "attempt{} failed since the last success; last error: {}",
          k.connector.name(), after, k.failed_attempts.load(), k.failed_attempts.load() == 1 ? "" : "s",
          detail::without_db(last, k.connector.name())));
    }
    // Saturated: who holds the connections, longest first.
    struct Holder {
      std::size_t index;
      rep since;
      std::source_location where;
    };
    std::vector<Holder> holders;
    for (std::size_t i = 0; i < k.capacity; ++i)
      if (k.entries[i].state.load(std::memory_order_acquire) == held)
        holders.push_back({i, k.entries[i].acquired_at.load(std::memory_order_relaxed),
                           k.entries[i].where.load(std::memory_order_relaxed)});
    std::sort(holders.begin(), holders.end(), [](const Holder& a, const Holder& b) { return a.since < b.since; });
    const rep now = ticks(Clock::now());
    std::string longest;
    for (std::size_t i = 0; i < std::min<std::size_t>(holders.size(), 3); ++i)
      longest += fmt::format("; #{} held {:.3f} s, acquired at {}", holders[i].index, seconds(now - holders[i].since),
                             detail::where_text(holders[i].where));
    return PoolTimeoutError(fmt::format(
        "database '{}': no connection{}: the pool is saturated: {} of {} connections checked out "
        "(pool_size {}, max_overflow {}), {} waiting{}",
        k.connector.name(), after, k.capacity - k.count(idle) - k.count(empty), k.capacity, k.options.pool_size,
        k.options.max_overflow, k.waiters.load(), longest));
  }

  Core* core_;
};

/// Pool policy selecting QueuePool (the default), with statistics or NoStats.
template <class Stats = PoolStats>
struct UseQueuePool {
  template <class C, class Clock>
  using pool = QueuePool<C, Clock, Stats>;
};

}  // namespace appinfra::db
