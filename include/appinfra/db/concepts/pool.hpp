#pragma once
#include <appinfra/db/concepts/connector.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/pool/options.hpp>
#include <appinfra/db/stats.hpp>

#include <chrono>
#include <concepts>
#include <source_location>
#include <utility>

namespace appinfra::db {

/// Pool strategy, the policy a backend is instantiated with.
/// Requirements:
/// - `P(Connector, PoolOptions)`; `p.connector()`; `P::keeps_connections` (false
///   when every connection is closed on return, as NullPool does);
/// - `P::lease_type`: what a checkout hands out, a move-only RAII lease that gives
///   the connection back when destroyed or release()d, with `get()` (the
///   connection), `invalidate()` (never hand this connection out again),
///   `connector()` (the pool's connector, alive as long as the lease) and a
///   conversion to bool (holds a connection);
/// - `p.acquire(where)`: a lease, waiting at most the pool timeout;
/// - `p.acquire(where, deadline)` (a db::Deadline): the same, waiting no later than
///   `deadline` either; a deadline already passed throws PoolTimeoutError at once,
///   and so does one that runs out, saying that the deadline did; `Deadline{}` is
///   no deadline;
/// - `p.warm_up()`: open what the pool keeps from the start, or throw
///   ConnectionError (the stock pools nest the last attempt's error in it);
/// - `p.status()`: a PoolStatus snapshot (fields a pool does not track stay 0);
/// - `p.drain(deadline)`: stop handing out, wait for checked-out connections until
///   `deadline`, close everything; returns how many were still out;
///   `p.close()`: the same without waiting.
/// Laws: thread-safe; a connection has at most one holder; close() and drain() are
/// idempotent; leases may outlive the pool.
/// Models: QueuePool, NullPool, StaticPool (and a user-defined one in the tests).
template <class P>
concept Pool = std::constructible_from<P, typename P::connector_type, PoolOptions> &&
               std::movable<typename P::lease_type> &&
               requires(P& p, const P& cp, typename P::lease_type& h, std::source_location where,
                        std::chrono::steady_clock::time_point deadline, Deadline call_deadline) {
  typename P::connection_type;
  { P::keeps_connections } -> std::convertible_to<bool>;
  { p.acquire(where) } -> std::same_as<typename P::lease_type>;
  { p.acquire(where, call_deadline) } -> std::same_as<typename P::lease_type>;
  { p.connector() } -> std::same_as<typename P::connector_type&>;
  { h.get() } -> std::same_as<typename P::connection_type&>;
  { h.connector() } -> std::same_as<typename P::connector_type&>;
  { static_cast<bool>(h) };
  { h.invalidate() } noexcept;
  { h.release() } noexcept;
  p.warm_up();
  { cp.status() } -> std::same_as<PoolStatus>;
  { p.drain(deadline) } -> std::convertible_to<std::size_t>;
  p.close();
};

/// Pool policy: a type with a member template `pool<Connector, Clock>` naming a
/// Pool. The backend binds its own connector and clock.
template <class Policy, class C, class Clock>
concept PoolPolicy = Connector<C> && Pool<typename Policy::template pool<C, Clock>>;

}  // namespace appinfra::db
