#pragma once
// Pool policies: how a backend names the pool it builds, without the pool's
// definition (a backend compiled into the library, APPINFRA_SEPARATE_COMPILATION,
// names its default policy without including the pool).

#include <appinfra/db/concepts/connector.hpp>
#include <appinfra/db/pool/clock.hpp>
#include <appinfra/db/pool/stats.hpp>

namespace appinfra::db {

template <Connector C, class Clock = CoarseClock, class Stats = PoolStats>
class QueuePool;  // <appinfra/db/pool/queue_pool.hpp>

/// A pool policy (see PoolPolicy): the pool template `Pool` with the statistics
/// policy `Stats`, bound by the backend to its connector and clock.
template <template <Connector, class, class> class Pool, class Stats>
struct UsePool {
  template <class C, class Clock>
  using pool = Pool<C, Clock, Stats>;
};

/// Pool policy selecting QueuePool (the default), with statistics or NoStats.
template <class Stats = PoolStats>
using UseQueuePool = UsePool<QueuePool, Stats>;

}  // namespace appinfra::db
