#pragma once
// Housekeeping: closing connections idle past overflow_idle_timeout (beyond
// pool_size) or idle_timeout (beyond min_idle), and warning about connections
// held past hold_warning. Runs on a return, at most every quarter of the
// shortest period.

#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/pool/detail/diagnostics.hpp>
#include <appinfra/db/pool/detail/slots.hpp>

#include <algorithm>
#include <chrono>
#include <initializer_list>

namespace appinfra::db::detail {

/// How often housekeeping runs, in seconds: a quarter of the shortest of the
/// periods given (negative: off), at most every second.
inline double housekeeping_period(std::initializer_list<double> periods_s) noexcept {
  double period = 1.0;
  for (const double p : periods_s)
    if (p >= 0) period = std::min(period, p / 4);
  return period;
}

/// Whether a holder stamped at `since` deserves a hold warning at `now`. A
/// holder whose entry was returned after `since` has just taken it and not
/// stamped it yet: its time is the last holder's.
template <class Rep>
bool overdue(Rep since, Rep returned_at, Rep now, Rep limit) noexcept {
  return returned_at <= since && now - since >= limit;
}

/// The housekeeping pass of `core` (a PoolCore), when due at `now`; one thread
/// does it, the others go on.
template <class Core, class Rep>
[[gnu::noinline]] void housekeeping_due(Core& core, Rep now) noexcept {
  using T = typename Core::ticks;
  Rep due = core.next_housekeeping.load(std::memory_order_relaxed);
  if (now < due) return;
  const PoolOptions& o = core.options;
  const double idle_s = o.idle_timeout.count(), hold_s = o.hold_warning.count();
  // overflow_idle_timeout 0 closes on return (see close_on_return): nothing to do here.
  const double overflow_s =
      o.max_overflow > 0 && o.overflow_idle_timeout.count() > 0 ? o.overflow_idle_timeout.count() : -1;
  const double period = housekeeping_period({idle_s, hold_s, overflow_s});
  if (!core.next_housekeeping.compare_exchange_strong(
          due, now + std::max<Rep>(1, T::of(std::chrono::duration<double>(period)))))
    return;  // another thread does it
  auto& slots = core.slots;
  if (hold_s >= 0) {
    const Rep limit = T::of(o.hold_warning);
    for (std::size_t i = 0; i < slots.capacity; ++i) {
      auto& e = slots[i];
      if (e.state.load(std::memory_order_acquire) != held) continue;
      const Rep since = e.acquired_at.load(std::memory_order_relaxed);
      if (overdue(since, e.returned_at.load(std::memory_order_relaxed), now, limit) &&
          !e.warned.exchange(true, std::memory_order_relaxed) && core.connector.logger().enabled(log::Level::warning))
        core.connector.logger().write(log::Level::warning,
                                      hold_warning_message(core.connector.name(), i, T::seconds(now - since), hold_s,
                                                           e.where.load(std::memory_order_relaxed)));
    }
  }
  if (idle_s >= 0 || overflow_s >= 0) {
    // A connection idle past a limit is closed while more than that limit's floor
    // are open: pool_size for overflow_idle_timeout, min_idle for idle_timeout.
    const auto limit_of = [](double s) { return s >= 0 ? T::of(std::chrono::duration<double>(s)) : Rep(-1); };
    const Rep idle_limit = limit_of(idle_s), overflow_limit = limit_of(overflow_s);
    const auto due = [&](Rep idle_for) {
      const std::size_t open = slots.open();
      return (idle_limit >= 0 && idle_for >= idle_limit && open > o.min_idle) ||
             (overflow_limit >= 0 && idle_for >= overflow_limit && open > o.pool_size);
    };
    for (std::size_t i = 0; i < slots.capacity; ++i) {
      auto& e = slots[i];
      if (e.state.load(std::memory_order_relaxed) != idle) continue;
      if (!due(now - e.returned_at.load(std::memory_order_relaxed))) continue;
      std::uint8_t expected = idle;
      if (!e.state.compare_exchange_strong(expected, reserved, std::memory_order_acquire)) continue;
      core.stats.recycled();
      core.discard(e);
    }
  }
}

}  // namespace appinfra::db::detail
