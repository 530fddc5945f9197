#pragma once
#include <appinfra/db/concepts/connector.hpp>
#include <appinfra/db/stats.hpp>

#include <concepts>
#include <utility>

namespace appinfra::db {

/// Pool strategy, the policy a backend is instantiated with.
/// Requirements: `P::handle_type` is a move-only RAII handle that gives the
/// connection back when destroyed, with `get()` (the connection) and `invalidate()`
/// (never hand this connection out again) and `connector()` (the pool's
/// connector, alive as long as the handle); `p.acquire()` returns one, waiting at
/// most the pool timeout; `p.status()` a PoolStatus snapshot; `p.close()` closes
/// idle connections and makes the rest close when returned.
/// Laws: thread-safe; a connection has at most one holder; close() is idempotent.
/// Models: QueuePool.
/// Minimal definition: the three calls above and a constructor
/// `P(Connector, PoolOptions)`.
template <class P>
concept Pool = requires(P& p, const P& cp, typename P::handle_type& h) {
  typename P::connection_type;
  typename P::connector_type;
  { p.acquire() } -> std::same_as<typename P::handle_type>;
  { h.get() } -> std::same_as<typename P::connection_type&>;
  { h.connector() } -> std::same_as<typename P::connector_type&>;
  h.invalidate();
  { cp.status() } -> std::same_as<PoolStatus>;
  p.close();
};

/// Pool policy: a type with a member template `pool<Connector, Clock>` naming a
/// Pool. The backend binds its own connector and clock.
template <class Policy, class C, class Clock>
concept PoolPolicy = Connector<C> && Pool<typename Policy::template pool<C, Clock>>;

}  // namespace appinfra::db
