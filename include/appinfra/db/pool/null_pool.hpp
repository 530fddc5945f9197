#pragma once
// NullPool: a new connection per checkout, closed on return.

#include <appinfra/db/pool/queue_pool.hpp>

namespace appinfra::db {

/// SQLAlchemy's NullPool: nothing is kept; every checkout opens a connection and
/// every return closes it. At most pool_size + max_overflow are open at once, and
/// a caller waits for a free place like in QueuePool. For servers behind an
/// external pooler (PgBouncer) or processes that must hold nothing between uses.
/// Thread safety and lifetime: as QueuePool.
template <Connector C, class Clock = CoarseClock, class Stats = PoolStats>
class NullPool : public QueuePool<C, Clock, Stats> {
 public:
  static constexpr bool keeps_connections = false;
  NullPool(C connector, PoolOptions options) : QueuePool<C, Clock, Stats>(std::move(connector), adjust(options)) {}

 private:
  static PoolOptions adjust(PoolOptions o) {
    o.max_overflow += o.pool_size;  // the same limit on open connections
    o.pool_size = 0;                // none kept on return
    o.min_idle = 0;
    o.lazy_min_idle = true;
    return o;
  }
};

/// Pool policy selecting NullPool, with statistics or NoStats.
template <class Stats = PoolStats>
using UseNullPool = UsePool<NullPool, Stats>;

}  // namespace appinfra::db
