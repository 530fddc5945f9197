#pragma once
// Statistics: the Manager's setup counts and a pool's occupancy.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace appinfra::db {

/// The seed's get_stats(): exactly these five. Value type.
struct ManagerStats {
  std::size_t total_configured = 0;
  std::size_t successful_setups = 0;
  std::size_t failed_setups = 0;
  std::vector<std::string> available_databases;
  std::vector<std::string> failed_databases;
};

/// The seed's get_pool_status(), and more. Value type. A snapshot: each connection is
/// counted once, so total_connections == checked_in + checked_out always holds.
struct PoolStatus {
  std::size_t pool_size = 0;         ///< connections the pool keeps
  std::size_t checked_out = 0;       ///< held by callers now
  std::size_t checked_in = 0;        ///< idle in the pool now
  std::size_t overflow = 0;          ///< open connections beyond pool_size (never negative)
  std::size_t total_connections = 0; ///< open connections, idle or held
  std::size_t waiting = 0;           ///< callers waiting for a connection now
  /// Of checked_out: connections their holder invalidated (Lease::invalidate(), a
  /// broken connection), to be closed when returned; not yet returned and closed.
  /// The Python original's `invalid`.
  std::size_t invalid = 0;

  // With the PoolStats policy (statistics == true); zero with NoStats.
  bool statistics = false;
  std::uint64_t acquired_total = 0;     ///< checkouts
  std::uint64_t timeouts_total = 0;     ///< checkouts that gave up after pool_timeout
  std::uint64_t created_total = 0;      ///< connections opened
  std::uint64_t recycled_total = 0;     ///< connections closed for age (pool_recycle) or idleness
  std::uint64_t invalidated_total = 0;  ///< connections closed as broken or failing their check
  double acquire_wait_p50_ms = 0, acquire_wait_p99_ms = 0;  ///< time to get a connection
  double hold_time_p50_ms = 0, hold_time_p99_ms = 0;        ///< time a caller kept it
};

}  // namespace appinfra::db
