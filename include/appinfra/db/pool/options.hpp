#pragma once
// The pool's options: a plain value type with its defaults. The keys that set
// them are declared and parsed on the configuration side (db/config/keys.hpp),
// so the pool does not depend on the parser.

#include <chrono>
#include <cstddef>

namespace appinfra::db {

/// Which idle connection a checkout takes.
enum class ReuseOrder {
  lifo,  ///< the most recently returned: few connections stay warm, the rest can idle out
  fifo,  ///< the least recently returned: load spreads over all of them
};

/// The pool's share of a DatabaseConfig (its `pool`). Value type.
struct PoolOptions {
  using Seconds = std::chrono::duration<double>;

  std::size_t pool_size = 5;
  std::size_t max_overflow = 10;
  Seconds timeout{30.0};
  /// Maximum age of a connection; negative: never recycled.
  Seconds recycle{3600.0};
  /// Each connection's maximum age is shortened by up to this fraction, at random,
  /// so that connections opened together do not all expire together.
  double recycle_jitter = 0.1;
  bool pre_ping = true;
  /// With pre_ping, a connection idle for less than this gets only the socket-level
  /// check; a longer idle one also gets a `SELECT 1` round trip.
  Seconds pre_ping_window{1.0};
  /// With pre_ping, a connection checked out last less than this ago (held and idle
  /// together) is handed out with no check at all (HikariCP's aliveBypassWindowMs,
  /// 500 ms there): it was in use a moment ago, and a check would cost a system call
  /// per checkout under load. At most pre_ping_window; 0 checks every checkout.
  Seconds pre_ping_grace{0.005};
  ReuseOrder reuse = ReuseOrder::lifo;
  /// Connections kept open even when idle; opened at setup unless lazy_min_idle.
  std::size_t min_idle = 1;
  bool lazy_min_idle = false;
  /// Idle connections beyond min_idle are closed after this long; negative: never.
  Seconds idle_timeout{600.0};
  /// Idle connections beyond pool_size (those a burst opened past it) are closed
  /// after this long, so that a steady load over pool_size keeps its overflow open
  /// instead of closing and reopening it on every return; 0: closed when returned
  /// while pool_size are idle (SQLAlchemy's rule); negative: only idle_timeout.
  Seconds overflow_idle_timeout{10.0};
  /// When callers wait: a waiter that has waited this long is handed the next
  /// connection returned. Until then a returned connection is left idle for the
  /// first caller that asks (a running thread takes it without sleeping, which
  /// keeps the connections busy when threads outnumber them) and the longest
  /// waiter is woken to try too. 0: every returned connection goes to the
  /// longest waiter (strict first come, first served).
  Seconds handoff_after{0.005};
  /// A connection held longer than this is reported (a warning naming where it was
  /// acquired), and again when it is returned; negative: never.
  Seconds hold_warning{60.0};
  /// Connection attempts at warm-up: 1 + max_retries, sleeping retry_delay * 2^n.
  int max_retries = 3;
  Seconds retry_delay{1.0};
};

}  // namespace appinfra::db
