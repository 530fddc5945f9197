#pragma once
// QueuePool: SQLAlchemy's QueuePool semantics, with a lock-free checkout path,
// first-come-first-served waiting and the diagnostics other pools lack.

#include <appinfra/db/concepts/connector.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/clock.hpp>
#include <appinfra/db/pool/detail/core.hpp>
#include <appinfra/db/pool/options.hpp>
#include <appinfra/db/pool/policy.hpp>
#include <appinfra/db/pool/stats.hpp>
#include <appinfra/db/stats.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <source_location>
#include <thread>
#include <utility>

namespace appinfra::db {

/// Keeps up to `pool_size` idle connections and opens up to `max_overflow` more
/// under load. A caller that finds every connection busy waits, first come
/// first served among waiters, at most `timeout` (a returned connection goes to
/// whoever asks first until the longest waiter has waited `handoff_after`;
/// then to it), then gets a PoolTimeoutError that says
/// whether the pool is saturated (who holds the connections, for how long,
/// acquired where) or the database unreachable (the last connect error, the
/// failed attempts).
///
/// Checkout is lock-free when nobody waits: a compare-and-swap on the entry
/// this thread returned last, or on another idle one (LIFO or FIFO, an option).
/// With pre_ping, a checked-out connection gets the connector's socket-level
/// `alive()` check, unless it was checked out last less than `pre_ping_grace`
/// ago, and a `ping()` round trip only when it idled longer than
/// `pre_ping_window`. A returned connection is `reset()` by the connector (a
/// round trip only when it is dirty). Connections older than `recycle` (minus
/// jitter) are replaced at checkout; idle ones beyond `pool_size` close after
/// `overflow_idle_timeout`, beyond `min_idle` after `idle_timeout`; holders
/// past `hold_warning` are logged with where they acquired.
///
/// Template parameters: the Connector, the bookkeeping Clock (tests use a
/// manual one) and the statistics policy (PoolStats or NoStats).
///
/// Thread safety: every member function may be called concurrently, except the
/// destructor. Lifetime: a Lease may outlive its pool; the pool's state then
/// lives until the last Lease is returned, and that connection is closed.
/// Connections are opened and closed outside the pool's lock.
template <Connector C, class Clock, class Stats>  // defaults: db/pool/policy.hpp
class QueuePool {
 public:
  using connector_type = C;
  using connection_type = typename C::connection_type;
  using clock_type = Clock;
  using stats_type = Stats;
  /// Whether returned connections are kept (false for NullPool).
  static constexpr bool keeps_connections = true;

 private:
  using Core = detail::PoolCore<C, Clock, Stats>;
  using Entry = typename Core::Entry;
  using ticks = typename Core::ticks;
  using rep = typename ticks::rep;
  using precise_clock = std::chrono::steady_clock;
  using Verdict = detail::CheckoutVerdict;
  static constexpr std::size_t orphan_bit = Core::orphan_bit;
  static constexpr auto idle = detail::idle, held = detail::held, reserved = detail::reserved,
                        returning = detail::returning, empty = detail::empty;

 public:
  /// A checked-out connection; gives it back when destroyed. Move-only.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : core_(std::exchange(o.core_, nullptr)), entry_(std::exchange(o.entry_, nullptr)) {}
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        release();
        core_ = std::exchange(o.core_, nullptr);
        entry_ = std::exchange(o.entry_, nullptr);
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    [[nodiscard]] connection_type& get() noexcept { return *entry_->conn; }
    [[nodiscard]] const connection_type& get() const noexcept { return *entry_->conn; }
    [[nodiscard]] explicit operator bool() const noexcept { return core_ != nullptr; }
    /// The pool's connector; it lives as long as any lease.
    [[nodiscard]] C& connector() const noexcept { return core_->connector; }
    /// Which of the pool's connections this is (for diagnostics).
    [[nodiscard]] std::size_t id() const noexcept { return core_->slots.index(*entry_); }

    /// The connection is broken: it is closed on return, never handed out
    /// again. Counted in status().invalid until then.
    void invalidate() noexcept {
      if (entry_ != nullptr) entry_->broken.store(true, std::memory_order_relaxed);
    }

    /// Gives the connection back now; the lease becomes empty.
    void release() noexcept {
      if (core_ == nullptr) return;
      Core* core = std::exchange(core_, nullptr);
      Entry* e = std::exchange(entry_, nullptr);
      if (QueuePool::put_back(*core, *e)) delete core;
    }

   private:
    friend class QueuePool;
    Lease(Core* core, Entry* e) noexcept : core_(core), entry_(e) {}
    Core* core_ = nullptr;
    Entry* entry_ = nullptr;
  };
  using lease_type = Lease;

  QueuePool(C connector, PoolOptions options) : core_(new Core(std::move(connector), options)) {}
  QueuePool(const QueuePool&) = delete;
  QueuePool& operator=(const QueuePool&) = delete;
  /// Closes the pool; connections still held are closed when returned. Must not
  /// run concurrently with acquire() on this pool; leases may be returned
  /// concurrently, before or after.
  ~QueuePool() {
    close();
    Core& core = *core_;
    // Leases being returned right now still use the state: wait for them; what
    // they made idle after close() looked is closed here.
    for (std::size_t i = 0; i < core.slots.capacity; ++i)
      while (core.slots[i].state.load(std::memory_order_seq_cst) == returning) std::this_thread::yield();
    core.close_idle();
    std::size_t prev = 0;
    {
      std::lock_guard lock(core_->mutex);
      prev = core_->slots.open_count.fetch_or(orphan_bit, std::memory_order_acq_rel);
    }
    if (prev == 0) delete core_;
  }

  [[nodiscard]] const PoolOptions& options() const noexcept { return core_->options; }
  [[nodiscard]] C& connector() noexcept { return core_->connector; }
  [[nodiscard]] const C& connector() const noexcept { return core_->connector; }

  /// Opens min_idle connections (at least one), each with 1 + max_retries
  /// attempts and exponential backoff. Throws ConnectionError naming the
  /// attempts and the last error. With lazy_min_idle, opens just one: setup
  /// still reports an unreachable database at once.
  void warm_up() {
    Core& core = *core_;
    const std::size_t want = core.options.lazy_min_idle ? 1 : std::max<std::size_t>(core.options.min_idle, 1);
    for (std::size_t n = core.slots.count(idle); n < want; ++n) {
      Entry* e = core.slots.reserve_empty();
      if (e == nullptr) return;
      core.open_with_retries(*e);
      core.stats.created();
      if (core.options.pool_size == 0) {  // keeps nothing idle: the connect was the check
        core.discard(*e);
        return;
      }
      core.opened(*e, ticks::now());
      core.make_idle(*e);
    }
  }

  /// Checks a connection out, opening one if the pool may grow; waits at most
  /// options().timeout. `where` is recorded for diagnostics (leave the
  /// default). Throws PoolTimeoutError (saturated or unreachable; when
  /// unreachable, the last connect error is nested in it) or ClosedError.
  [[nodiscard]] Lease acquire(std::source_location where = std::source_location::current()) {
    return checkout(where, Deadline{});
  }

  /// acquire(where), waiting no later than `deadline` either: at most the
  /// earlier of options().timeout and the deadline. A deadline already passed
  /// fails at once, without taking a connection. When the deadline is what ran
  /// out, the PoolTimeoutError says so. An open or a ping under way is not
  /// interrupted by it. `Deadline{}` (none) is acquire(where).
  [[nodiscard]] Lease acquire(std::source_location where, Deadline deadline) {
    if (deadline) {
      const auto now = Deadline::clock::now();
      if (now >= deadline.at) [[unlikely]]
        passed_before(*core_, now - deadline.at);
    }
    return checkout(where, deadline);
  }

 private:
  // The common case, small enough to inline: nobody waits, an idle connection
  // is there, and it needs no round trip. Everything else is acquire_slow().
  // Reads no clock but the pool's (the deadline is looked at only when
  // waiting).
  [[gnu::always_inline]] Lease checkout(const std::source_location& where, Deadline deadline) {
    Core& core = *core_;
    if ((core.barging || core.waiters.load(std::memory_order_seq_cst) == 0) &&
        !core.closed.load(std::memory_order_relaxed)) {
      if (Entry* e = core.slots.take_idle()) {
        const rep now = ticks::now();
        const auto v = detail::checkout_verdict(core.rule, e->expires, times(*e), now);
        if (v == Verdict::use || (v == Verdict::needs_alive && core.connector.alive(*e->conn)))
          return hand(core, *e, now, where, 0);
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
  static Limit limit(const Core& core, Deadline caller) noexcept {
    Limit l;
    l.since = precise_clock::now();
    l.at = l.since + std::chrono::duration_cast<precise_clock::duration>(core.options.timeout);
    if (caller.at < l.at) {
      l.at = caller.at;
      l.by_caller = true;
    }
    return l;
  }

  // Everything acquire() does not do inline: checking `first` (an idle entry
  // taken already, or null) fully, opening, waiting, retrying, timing out.
  [[gnu::noinline]] Lease acquire_slow(std::source_location where, Entry* first, Deadline caller) {
    Core& core = *core_;
    std::uint64_t waited_since = 0;  // statistics: when this caller started to wait, if it did
    const auto waiting = [&] {
      if constexpr (Stats::enabled)
        if (waited_since == 0) waited_since = precise_now();
    };
    std::optional<Limit> deadline;
    for (;;) {
      Entry* e = std::exchange(first, nullptr);
      bool must_open = false;
      if (e == nullptr && core.closed.load(std::memory_order_acquire))
        throw ClosedError(fmt::format("database '{}': pool is closed", core.connector.name()));
      if (e == nullptr && (core.barging || core.waiters.load(std::memory_order_seq_cst) == 0)) {
        e = core.slots.take_idle();
        if (e == nullptr && (e = core.slots.reserve_empty()) != nullptr) must_open = true;
      }
      if (e == nullptr) {
        waiting();
        if (!deadline) deadline = limit(core, caller);
        auto [w, open] = wait(*deadline);
        e = w;
        must_open = open;
      }
      if (!must_open) {
        const rep now = ticks::now();
        if (usable(core, *e, now, waiting)) return hand(core, *e, now, where, waited_since);
        e->state.store(reserved, std::memory_order_relaxed);
        e->conn.reset();  // keep its place and open a replacement
      }
      waiting();
      if (core.open_into(*e)) return hand(core, *e, ticks::now(), where, waited_since);
      // Unreachable for now: try again until the deadline, a little later each
      // time.
      if (!deadline) deadline = limit(core, caller);
      const auto pause = detail::connect_pause<precise_clock::duration>(core.failed_attempts.load(),
                                                                        deadline->at - precise_clock::now());
      if (pause <= precise_clock::duration::zero()) {
        core.stats.timed_out();
        throw_timeout(core, true, *deadline);
      }
      std::this_thread::sleep_for(pause);
    }
  }

 public:
  /// A snapshot of the pool: each connection counted once.
  [[nodiscard]] PoolStatus status() const { return core_->status(); }

  /// Stops handing out connections, wakes the waiters (they get ClosedError),
  /// closes idle connections, and waits until every checked-out connection is
  /// returned or `deadline` passes. Returns how many are still out; they are
  /// closed when returned. Idempotent.
  std::size_t drain(std::chrono::steady_clock::time_point deadline) noexcept { return core_->drain(deadline); }

  /// drain() without waiting for checked-out connections.
  void close() noexcept { (void)drain(std::chrono::steady_clock::time_point::min()); }

 private:
  static std::uint64_t precise_now() noexcept {
    return static_cast<std::uint64_t>(precise_clock::now().time_since_epoch().count());
  }

  // The entry's times, for checkout_verdict (read only when it needs them).
  struct Times {
    const Entry& e;
    rep acquired_at() const noexcept { return e.acquired_time(); }
    rep returned_at() const noexcept { return e.returned_time(); }
  };
  static Times times(const Entry& e) noexcept { return {e}; }

  // Whether an idle connection may be handed out (checkout_verdict, with the
  // checks it asks for); a connection that may not is counted (recycled or
  // invalidated) and its place kept for a new one. `waiting` is called before a
  // round trip: the caller waits for it.
  template <class Waiting>
  static bool usable(Core& core, Entry& e, rep now, Waiting&& waiting) noexcept {
    const auto v = detail::checkout_verdict(core.rule, e.expires, times(e), now);
    if (v == Verdict::expired) {
      core.stats.recycled();
      return false;
    }
    if (v == Verdict::use) return true;
    bool ok = core.connector.alive(*e.conn);
    if (ok && v == Verdict::needs_ping) {
      waiting();
      ok = core.connector.ping(*e.conn);
    }
    if (!ok) core.stats.invalidated();
    return ok;
  }

  Lease hand(Core& core, Entry& e, rep now, const std::source_location& where, std::uint64_t waited_since) noexcept {
    e.acquired_at.store(now, std::memory_order_relaxed);
    e.state.store(held,
                  std::memory_order_relaxed);  // from reserved, when just opened
    e.where.store(where, std::memory_order_relaxed);
    e.warned.store(false, std::memory_order_relaxed);
    if constexpr (Stats::enabled) {
      e.checkouts.store(e.checkouts.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      std::uint64_t now_precise = 0;
      if (waited_since != 0) {
        now_precise = precise_now();
        core.stats.waited(now_precise - waited_since);
      }
      e.precise_acquired = Stats::sample() ? (now_precise != 0 ? now_precise : precise_now()) : 0;
    }
    return Lease(core_, &e);
  }

  // Returns true when the caller must delete the core.
  static bool put_back(Core& core, Entry& e) noexcept {
    // Pin the state before looking at `closed`; the destructor does the
    // opposite.
    e.state.store(returning, std::memory_order_seq_cst);
    const rep now = ticks::now();
    if constexpr (Stats::enabled)
      if (e.precise_acquired != 0) core.stats.held(precise_now() - e.precise_acquired);
    if (e.warned.load(std::memory_order_relaxed)) [[unlikely]]
      core.log_late_return(e, now);
    bool broken = e.broken.load(std::memory_order_relaxed);
    if (!broken && !core.connector.reset(*e.conn)) broken = true;
    if (broken) core.stats.invalidated();
    if (broken || core.closed.load(std::memory_order_seq_cst) || core.close_on_return())
      return core.discard(e);
    e.returned_at.store(now, std::memory_order_relaxed);
    core.housekeeping(now);
    core.make_idle(e);  // last: unpins
    return false;
  }

  // Waits, first come first served among waiters, for an entry: {entry, must_open}.
  [[gnu::noinline]] std::pair<Entry*, bool> wait(const Limit& deadline) {
    Core& core = *core_;
    std::unique_lock lock(core.mutex);
    core.waiters.fetch_add(1, std::memory_order_seq_cst);
    struct Leave {
      Core& core;
      ~Leave() { core.waiters.fetch_sub(1, std::memory_order_seq_cst); }
    } leave{core};
    if (core.barging || core.queue.head == nullptr) {  // look again now that waiters > 0
      if (Entry* e = core.slots.take_idle()) return {e, false};
      if (Entry* e = core.slots.reserve_empty()) return {e, true};
    }
    detail::Waiter<Entry> w;
    w.since = precise_clock::now();
    core.queue.enqueue(w);
    const auto leave_queue = [&] {
      core.queue.unlink(w);
      core.wake_next();
    };
    while (w.entry == nullptr) {
      if (core.closed.load(std::memory_order_acquire)) {
        leave_queue();
        throw ClosedError(fmt::format("database '{}': pool is closed", core.connector.name()));
      }
      // Wakes when handed an entry or woken to look for an idle one (see
      // make_idle), and now and then to look for one made idle unseen. Only the
      // first waiter takes one, so the others look rarely: a wake costs a
      // context switch, and many waiters looking often crowd out the threads
      // that run queries (the first wakes every 5 ms, the others every 50).
      const auto look = std::chrono::milliseconds(core.queue.first(w) ? 5 : 50);
      const auto until = std::min(deadline.at, precise_clock::now() + look);
      w.cv.wait_until(lock, until);
      if (w.entry != nullptr) break;
      if (core.closed.load(std::memory_order_acquire)) continue;  // the loop's check throws ClosedError
      if (core.queue.first(w)) {
        core.queue.woken = false;
        Entry* e = core.slots.take_idle();
        bool must_open = false;
        if (e == nullptr && (e = core.slots.reserve_empty()) != nullptr) must_open = true;
        if (e != nullptr) {
          leave_queue();
          return {e, must_open};
        }
      }
      if (precise_clock::now() >= deadline.at) {
        leave_queue();
        core.stats.timed_out();
        const bool unreachable = core.failed_attempts.load(std::memory_order_relaxed) > 0;
        lock.unlock();
        throw_timeout(core, unreachable, deadline);
      }
    }
    return {w.entry, w.must_open};
  }

  // A deadline that had passed before the checkout began: nothing taken,
  // nothing waited for.
  [[noreturn, gnu::noinline]] static void passed_before(Core& core, Deadline::clock::duration late) {
    core.stats.timed_out();
    throw PoolTimeoutError(
        detail::passed_before_message(core.connector.name(), std::chrono::duration<double>(late).count()));
  }

  // Throws the PoolTimeoutError of a checkout that gave up, saying what ran
  // out.
  [[noreturn]] static void throw_timeout(Core& core, bool unreachable, const Limit& l) {
    core.throw_timeout(unreachable, detail::timeout_cause(
                                     l.by_caller, std::chrono::duration<double>(precise_clock::now() - l.since).count(),
                                     core.options.timeout.count()));
  }

  Core* core_;
};

}  // namespace appinfra::db
