#pragma once
// StaticPool: one connection, shared in turns, never replaced behind your back.

#include <appinfra/db/pool/queue_pool.hpp>

namespace appinfra::db {

/// One connection, opened at setup and kept: never recycled, never closed for
/// idleness, not pinged (closing it would lose state that lives in it). Callers take
/// it in turns, waiting first come first served. For SQLite `:memory:`, where every
/// other connection would be a different, empty database. A connection that breaks
/// is replaced by a new one. Thread safety and lifetime: as QueuePool.
template <Connector C, class Clock = CoarseClock, class Stats = PoolStats>
class StaticPool : public QueuePool<C, Clock, Stats> {
 public:
  StaticPool(C connector, PoolOptions options) : QueuePool<C, Clock, Stats>(std::move(connector), adjust(options)) {}

  static PoolOptions adjust(PoolOptions o) {
    o.pool_size = 1;
    o.max_overflow = 0;
    o.min_idle = 1;
    o.lazy_min_idle = false;
    o.recycle = std::chrono::duration<double>(-1.0);
    o.idle_timeout = std::chrono::duration<double>(-1.0);
    o.pre_ping = false;
    return o;
  }
};

/// Pool policy selecting StaticPool, with statistics or NoStats.
template <class Stats = PoolStats>
using UseStaticPool = UsePool<StaticPool, Stats>;

}  // namespace appinfra::db
