#pragma once
// Statistics: the Manager's setup counts and a pool's occupancy.

#include <cstddef>
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

/// The seed's get_pool_status(). Value type; a snapshot taken under the pool's lock,
/// so total_connections == checked_in + checked_out always holds.
struct PoolStatus {
  std::size_t pool_size = 0;         ///< connections the pool keeps
  std::size_t checked_out = 0;       ///< held by callers now
  std::size_t checked_in = 0;        ///< idle in the pool now
  std::size_t overflow = 0;          ///< open connections beyond pool_size (never negative)
  std::size_t total_connections = 0; ///< open connections, idle or held
};

}  // namespace appinfra::db
