#pragma once
// Reads from a replica, asked for in the code (db::replica), and what a replicated
// database reports about each of its hosts (HostState).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace appinfra::db {

/// The type of db::replica.
struct ReplicaTag {
  explicit constexpr ReplicaTag() = default;
};

/// Asks a replicated database (pg::Replicated) for a read-only connection or
/// session on a fit replica: `db.connect(db::replica)`, `db.session(db::replica)`.
/// The choice is in the code, where a reader sees it; a backend without replicas
/// has no such overload, so asking one for a replica does not compile.
inline constexpr ReplicaTag replica{};

/// What a host of a replicated database is, as its last check found it.
enum class HostRole {
  unknown,   ///< not checked yet
  primary,   ///< takes writes (not in recovery)
  standby,   ///< in recovery: a streaming replica
  starting,  ///< the server is starting up (57P03)
  down,      ///< unreachable, or its check failed
};

constexpr std::string_view to_string(HostRole r) noexcept {
  constexpr std::string_view names[] = {"unknown", "primary", "standby", "starting", "down"};
  return names[static_cast<int>(r)];
}

/// One host of a replicated database: what health_check() and get_pool_status()
/// report for it. Value type; never holds a password.
struct HostState {
  std::string host;                   ///< its url, password redacted
  bool configured_primary = false;    ///< the database's `url` (else one of `replicas`)
  HostRole role = HostRole::unknown;
  bool writer = false;                ///< writes go here now
  bool fit = false;                   ///< reads asked for with db::replica may go here now
  std::optional<double> lag_s;        ///< seconds behind its primary, when known (0 on a primary)
  std::uint64_t checks_total = 0;     ///< role and lag checks made
  std::uint64_t check_failures_total = 0;  ///< of them, failed
  std::string error;                  ///< why it is not fit (down, too far behind), empty when fit
};

}  // namespace appinfra::db
