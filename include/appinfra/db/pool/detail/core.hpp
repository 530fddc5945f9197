#pragma once
// The state a QueuePool shares with its leases: the slot table, the waiter
// queue, the connector, the statistics. It outlives the pool while leases are
// out.

#include <appinfra/db/concepts/connector.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/detail/backoff.hpp>
#include <appinfra/db/pool/detail/checkout_rule.hpp>
#include <appinfra/db/pool/detail/diagnostics.hpp>
#include <appinfra/db/pool/detail/housekeeping.hpp>
#include <appinfra/db/pool/detail/slots.hpp>
#include <appinfra/db/pool/detail/ticks.hpp>
#include <appinfra/db/pool/detail/waiters.hpp>
#include <appinfra/db/pool/options.hpp>
#include <appinfra/db/pool/stats.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <fmt/core.h>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace appinfra::db::detail {

template <Connector C, class Clock, class Stats>
struct PoolCore {
  using ticks = Ticks<Clock>;
  using rep = typename ticks::rep;
  using Table = SlotTable<typename C::connection_type, rep>;
  using Entry = typename Table::Entry;
  static constexpr std::size_t orphan_bit = Table::orphan_bit;

  PoolCore(C c, PoolOptions o)
      : connector(std::move(c)),
        options(o),
        rule(CheckoutRule<rep>::template from<Clock>(options)),
        handoff_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(o.handoff_after)),
        barging(handoff_after > handoff_after.zero()),
        slots(o.pool_size + o.max_overflow, o.reuse) {}

  C connector;
  const PoolOptions options;
  const CheckoutRule<rep> rule;
  // options.handoff_after; when positive, a checkout may take an idle connection
  // while others wait (see make_idle).
  const std::chrono::steady_clock::duration handoff_after;
  const bool barging;
  Table slots;
  [[no_unique_address]] Stats stats;

  std::atomic<std::size_t> waiters{0};
  std::atomic<bool> closed{false};
  std::atomic<rep> next_housekeeping{0};

  std::mutex mutex;  // guards queue, last_error, last_exception, drain_cv
  WaiterQueue<Entry> queue;
  std::condition_variable drain_cv;
  std::string last_error;
  std::exception_ptr last_exception;            // the last connect error itself, nested in the timeout
  std::atomic<std::size_t> failed_attempts{0};  // since the last successful connect

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
    opened(e, ticks::now());
    failed_attempts.store(0, std::memory_order_relaxed);
    stats.created();
    return true;
  }
  // Stamps a connection just opened into `e` at `now`.
  void opened(Entry& e, rep now) noexcept {
    e.expires = expiry(now);
    e.returned_at.store(now, std::memory_order_relaxed);
  }

  // Opens a connection into reserved entry `e`, with 1 + max_retries attempts
  // and exponential backoff (warm-up). On failure frees `e` and throws
  // ConnectionError naming the attempts and the last error.
  void open_with_retries(Entry& e) {
    const int attempts = 1 + std::max(0, options.max_retries);
    for (int attempt = 1;; ++attempt) {
      try {
        e.conn.emplace(connector.open());
        break;
      } catch (const std::exception& ex) {
        if (attempt >= attempts) {
          free_entry(e);
          // The last attempt's error goes with it, nested
          // (std::rethrow_if_nested finds a ReadOnlyServerError, say), and its
          // SQLSTATE too, so that failure() says what kind of failure it was.
          std::string what = fmt::format("database '{}': cannot connect after {} attempt{}: {}", connector.name(),
                                         attempts, attempts == 1 ? "" : "s", without_db(ex.what(), connector.name()));
          if (const auto* ce = dynamic_cast<const ConnectionError*>(&ex))
            std::throw_with_nested(ConnectionError(what, ce->sqlstate()));
          std::throw_with_nested(ConnectionError(what));
        }
        // Exponential backoff with jitter (see warm_up_delay).
        const auto delay = warm_up_delay(options.retry_delay, attempt, random_fraction());
        detail::log_at(connector.logger(), log::Level::warning,
                       "database '{}': connect attempt {} of {} failed ({}); "
                       "retrying in {:.3f} s",
                       connector.name(), attempt, attempts, without_db(ex.what(), connector.name()), delay.count());
        std::this_thread::sleep_for(delay);
      } catch (...) {
        // Not a std::exception (a thread's forced unwinding, say): nothing to
        // retry or describe; give the place back and let it through.
        free_entry(e);
        throw;
      }
    }
  }

  double random_fraction() const noexcept {
    return detail::random_fraction(slots.id, static_cast<std::uint64_t>(ticks::now()));
  }

  // When a connection opened at `now` is to be recycled (see recycle_age).
  rep expiry(rep now) const noexcept {
    if (options.recycle.count() < 0) return 0;
    const auto age = recycle_age(options.recycle, options.recycle_jitter, random_fraction());
    return expiry_at<rep>(now, ticks::of(age), false);
  }

  void failed(const std::string& what, std::exception_ptr cause) {
    failed_attempts.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex);
    last_error = what;
    last_exception = std::move(cause);
  }

  // Closes the connection of owned entry `e` and frees its place: to the
  // longest waiter (who opens a new one) or back to empty. Returns true when
  // the caller must delete the core (the pool is gone and this was its last
  // connection); after a true or a false, `this` is not touched again by this
  // call.
  [[gnu::noinline]] bool discard(Entry& e) noexcept {
    e.conn.reset();
    e.broken.store(false, std::memory_order_relaxed);
    return free_entry(e);
  }
  bool free_entry(Entry& e) noexcept {
    std::size_t prev = 0;
    {
      std::lock_guard lock(mutex);
      if (!closed.load(std::memory_order_relaxed) && queue.hand_to_waiter(e, true)) return false;
      prev = slots.release(e);
      drain_cv.notify_all();
    }
    return prev == (orphan_bit | 1);
  }

  // Puts owned entry `e` back as idle, or gives it to the longest waiter when
  // that one has waited handoff_after. Otherwise, with waiters, it is left idle
  // for whoever asks first and the longest waiter is woken to try: a running
  // thread takes it at once instead of the connection idling until a sleeping
  // one runs, and no waiter waits past handoff_after plus one hold (the next
  // return is its). Without waiters, the store that makes it idle is the last
  // use of the pool's state. A caller that starts waiting just before that
  // store finds the entry when it next looks (waiters look again every few
  // milliseconds).
  void make_idle(Entry& e) noexcept {
    if (waiters.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard lock(mutex);
      if (queue.head_due(handoff_after)) {
        queue.hand_to_waiter(e, false);
        wake_next();
        return;
      }
      slots.hint(e);
      e.state.store(idle, std::memory_order_release);
      queue.wake_head();  // none when nobody has queued yet
      return;
    }
    slots.hint(e);
    e.state.store(idle, std::memory_order_release);
  }

  // After the head waiter left the queue (mutex held): the new head was not
  // woken, so it would find entries left idle for it (several returned at
  // once, say) only at its next look; wake it now.
  void wake_next() noexcept {
    if (barging && queue.head != nullptr && slots.count(idle) > 0) queue.wake_head();
  }

  // Whether a connection being returned is closed rather than kept: always
  // when the pool keeps none (NullPool), and with overflow_idle_timeout 0 when
  // it is an overflow one and pool_size are idle already (SQLAlchemy's rule).
  // Otherwise overflow connections retire in housekeeping, after idling.
  bool close_on_return() const noexcept {
    if (options.pool_size == 0) return true;
    return options.overflow_idle_timeout.count() == 0 && slots.open() > options.pool_size &&
           slots.count(idle) >= options.pool_size;
  }

  // Closes idle connections left in a closed pool (mutex not held).
  void close_idle() noexcept {
    for (std::size_t i = 0; i < slots.capacity; ++i) {
      std::uint8_t expected = idle;
      if (slots[i].state.compare_exchange_strong(expected, reserved, std::memory_order_acquire))
        discard(slots[i]);  // never the last one: the pool object still exists
    }
  }

  // Idle timeout and hold warnings, when due (see housekeeping.hpp).
  void housekeeping(rep now) noexcept {
    if (now >= next_housekeeping.load(std::memory_order_relaxed)) [[unlikely]]
      housekeeping_due(*this, now);
  }

  // QueuePool::status(): each connection counted once.
  PoolStatus status() const {
    PoolStatus s;
    s.pool_size = options.pool_size;
    s.max_connections = options.pool_size + options.max_overflow;
    for (std::size_t i = 0; i < slots.capacity; ++i) {
      const auto st = slots[i].state.load(std::memory_order_relaxed);
      if (st == idle)
        ++s.checked_in;
      else if (st != empty) {
        ++s.checked_out;
        s.invalid += slots[i].broken.load(std::memory_order_relaxed);
      }
    }
    s.total_connections = s.checked_in + s.checked_out;
    s.overflow = s.total_connections > s.pool_size ? s.total_connections - s.pool_size : 0;
    s.waiting = waiters.load(std::memory_order_relaxed);
    if constexpr (Stats::enabled) {
      for (std::size_t i = 0; i < slots.capacity; ++i)
        s.acquired_total += slots[i].checkouts.load(std::memory_order_relaxed);
      stats.fill(s);
    }
    return s;
  }

  // QueuePool::drain(): close, wake the waiters, wait for the connections out.
  std::size_t drain(std::chrono::steady_clock::time_point deadline) noexcept {
    {
      std::lock_guard lock(mutex);
      closed.store(true, std::memory_order_seq_cst);
      queue.wake_all();
    }
    for (;;) {
      close_idle();
      std::unique_lock lock(mutex);
      const std::size_t open = slots.open_count.load(std::memory_order_acquire) & ~orphan_bit;
      if (open == 0 || std::chrono::steady_clock::now() >= deadline) return open;
      // Also wakes up now and then: a connection can be returned as idle just
      // after close_idle() looked at it.
      drain_cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(10)));
    }
  }

  // --- diagnostics ---
  [[gnu::noinline]] void log_late_return(Entry& e, rep now) noexcept {
    if (connector.logger().enabled(log::Level::warning))
      connector.logger().write(log::Level::warning,
                               late_return_message(connector.name(), slots.index(e),
                                                   ticks::seconds(now - e.acquired_at.load(std::memory_order_relaxed)),
                                                   e.where.load(std::memory_order_relaxed)));
  }

  // The PoolTimeoutError of a checkout that gave up; `after` from
  // timeout_cause().
  PoolTimeoutError timeout_error(bool unreachable, const std::string& after, const std::string& last) {
    if (unreachable)
      return PoolTimeoutError(unreachable_message(connector.name(), after, failed_attempts.load(), last));
    // Saturated: who holds the connections, longest first.
    const rep now = ticks::now();
    std::vector<Holder> holders;
    for (std::size_t i = 0; i < slots.capacity; ++i)
      if (slots[i].state.load(std::memory_order_acquire) == held)
        holders.push_back({i, ticks::seconds(now - slots[i].acquired_at.load(std::memory_order_relaxed)),
                           slots[i].where.load(std::memory_order_relaxed)});
    return PoolTimeoutError(saturated_message(
        connector.name(), after, slots.capacity - slots.count(idle) - slots.count(empty), slots.capacity,
        options.pool_size, options.max_overflow, waiters.load(), longest_holders(std::move(holders))));
  }

  // Throws the PoolTimeoutError of a checkout that gave up; when the database
  // is unreachable, with the last connect error nested
  // (std::rethrow_if_nested).
  [[noreturn, gnu::noinline]] void throw_timeout(bool unreachable, const std::string& after) {
    std::exception_ptr cause;
    std::string last;
    if (unreachable) {
      std::lock_guard lock(mutex);
      last = last_error;
      cause = last_exception;
    }
    PoolTimeoutError error = timeout_error(unreachable, after, last);
    if (!cause) throw error;
    try {
      std::rethrow_exception(cause);
    } catch (...) {
      std::throw_with_nested(std::move(error));
    }
  }
};

}  // namespace appinfra::db::detail
