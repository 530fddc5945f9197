#pragma once
// Statistics: the Manager's setup counts and a pool's occupancy.

#include <appinfra/db/errors.hpp>
#include <appinfra/db/replica.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

/// The fixed upper bounds, in seconds, of the duration histograms a PoolStatus
/// carries (the `le` labels of the Prometheus histograms); +Inf is implied.
inline constexpr std::array<double, 16> duration_bounds_s{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

/// A duration histogram at duration_bounds_s, as Prometheus wants it. Value type.
struct DurationHistogram {
  /// le[i]: observations at or below duration_bounds_s[i] (cumulative). The pool's
  /// own buckets are log-linear (4 per power of two); one that straddles a bound is
  /// counted under the next bound, so a count may be short by part of one bucket.
  std::array<std::uint64_t, duration_bounds_s.size()> le{};
  std::uint64_t count = 0;  ///< all observations (the +Inf bucket)
  double sum_s = 0;         ///< their sum, in seconds
};

struct HostPoolStatus;

/// The seed's get_pool_status(), and more. Value type. A snapshot: each connection is
/// counted once, so total_connections == checked_in + checked_out always holds.
struct PoolStatus {
  std::size_t pool_size = 0;         ///< connections the pool keeps
  std::size_t max_connections = 0;   ///< the most it opens at once: pool_size + max_overflow
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
  /// Time to get a connection, every checkout (one that did not wait counts as 0).
  DurationHistogram acquire_wait;
  /// Time a caller kept a connection: sampled, one checkout in the policy's
  /// HoldSample (64 by default), so its count is about acquired_total / 64.
  DurationHistogram hold_time;

  /// The statement cache of each connection, summed (PostgreSQL's automatic
  /// preparation, SQLite's cache of compiled statements); zero without one.
  std::uint64_t statement_cache_hits_total = 0;       ///< statements found prepared
  std::uint64_t statement_cache_misses_total = 0;     ///< statements prepared anew
  std::uint64_t statement_cache_evictions_total = 0;  ///< dropped to make room (LRU)

  /// Failures of statements, connects and health checks on this database, by kind
  /// (errors_total[static_cast<std::size_t>(Failure::...)]): each QueryError and
  /// ConnectionError its connector raised since setup, counted once, whatever the
  /// pool's statistics policy. A failed setup attempt's connector is gone with it
  /// (see DatabaseState::setup_failure).
  std::array<std::uint64_t, failure_kinds> errors_total{};

  /// A replicated database's hosts (pg::Replicated), each with its own pools; the
  /// figures above are their sums. Empty for other databases.
  std::vector<HostPoolStatus> hosts;
};

/// One host of a replicated database in get_pool_status(). Value type.
struct HostPoolStatus {
  HostState state;
  std::optional<PoolStatus> writes;  ///< its read-write pool, once it has been the writer
  std::optional<PoolStatus> reads;   ///< its read-only pool (reads, and the role and lag checks), once opened
};

/// Where a database's setup stands.
enum class SetupState {
  pending,   ///< setup() not called yet
  up,        ///< set up and open
  failed,    ///< setup failed for good (not retried)
  retrying,  ///< setup failed; retried in the background
  closed,    ///< set up, then closed by close_all()
};

constexpr std::string_view to_string(SetupState s) noexcept {
  constexpr std::string_view names[] = {"pending", "up", "failed", "retrying", "closed"};
  return names[static_cast<int>(s)];
}

/// One database as a monitoring system sees it: a snapshot from
/// get_database_states(). Value type; never holds a url or a password.
struct DatabaseState {
  std::string name;  ///< as configured
  SetupState state = SetupState::pending;
  int attempts = 0;  ///< setup attempts made (setup() is the first)
  /// Why the last setup attempt failed, when it did and the error carried a
  /// Failure kind (a connection or query error); empty otherwise.
  std::optional<Failure> setup_failure;
  bool has_pool = false;  ///< pool is meaningful: the database is set up
  PoolStatus pool;
};

}  // namespace appinfra::db
