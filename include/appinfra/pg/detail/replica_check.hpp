#pragma once
// The role and lag check of one host of a replicated database (pg::Replicated):
// the statement, and the rule that makes a host fit for reads. Pure: unit-tested
// without a server.

#include <appinfra/db/replica.hpp>
#include <appinfra/db/stats.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace appinfra::pg::detail {

/// One round trip: whether the server is in recovery; on a standby, whether it
/// has replayed all it received and the age of its last replayed transaction
/// (NULL when none was replayed yet); its WAL position in bytes (on a primary,
/// where it writes; on a standby, what it replayed). replica_lag() makes the lag
/// of them.
inline constexpr std::string_view replica_check_sql =
    "SELECT pg_is_in_recovery(), "
    "pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(), "
    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8, "
    "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END "
    "- '0/0'::pg_lsn)::float8";

/// A standby's lag in seconds: 0 when it has replayed all it received and is not
/// behind where the primary was at its last check (`primary_at`, 0 when unknown):
/// an idle primary sends nothing, so the last replayed transaction ages without
/// any lag. Otherwise the age of the last replayed transaction (none: unknown). A
/// standby cut off from the primary replays all it received too, and would look
/// current for ever without the comparison with the primary's position.
inline std::optional<double> replica_lag(bool all_replayed, std::optional<double> replay_age, double replayed_at,
                                         double primary_at) {
  if (all_replayed && replayed_at >= primary_at) return 0.0;
  return replay_age;
}

/// What one successful check found.
struct CheckVerdict {
  db::HostRole role = db::HostRole::unknown;
  bool fit = false;   ///< a standby within max_lag
  std::string error;  ///< why not fit; empty when fit, and on a primary
};

/// The rule: a standby is fit for reads when its lag is known and at most
/// `max_lag_s`; a primary takes reads only as the fallback (never "fit").
inline CheckVerdict judge(bool in_recovery, std::optional<double> lag_s, double max_lag_s) {
  CheckVerdict v;
  v.role = in_recovery ? db::HostRole::standby : db::HostRole::primary;
  if (!in_recovery) return v;
  if (!lag_s) {
    v.error = "lag unknown: it received WAL but has replayed no transaction yet";
  } else if (*lag_s > max_lag_s) {
    v.error = fmt::format("{:.3f} s behind, more than max_replica_lag ({} s)", *lag_s, max_lag_s);
  } else {
    v.fit = true;
  }
  return v;
}

/// Adds pool `s` to `sum` (a replicated database's get_pool_status(): its hosts'
/// pools together). Percentiles cannot be summed: the largest is kept.
inline void add_pool_status(db::PoolStatus& sum, const db::PoolStatus& s) {
  sum.pool_size += s.pool_size;
  sum.max_connections += s.max_connections;
  sum.checked_out += s.checked_out;
  sum.checked_in += s.checked_in;
  sum.overflow += s.overflow;
  sum.total_connections += s.total_connections;
  sum.waiting += s.waiting;
  sum.invalid += s.invalid;
  sum.statistics = sum.statistics || s.statistics;
  sum.acquired_total += s.acquired_total;
  sum.timeouts_total += s.timeouts_total;
  sum.created_total += s.created_total;
  sum.recycled_total += s.recycled_total;
  sum.invalidated_total += s.invalidated_total;
  sum.acquire_wait_p50_ms = std::max(sum.acquire_wait_p50_ms, s.acquire_wait_p50_ms);
  sum.acquire_wait_p99_ms = std::max(sum.acquire_wait_p99_ms, s.acquire_wait_p99_ms);
  sum.hold_time_p50_ms = std::max(sum.hold_time_p50_ms, s.hold_time_p50_ms);
  sum.hold_time_p99_ms = std::max(sum.hold_time_p99_ms, s.hold_time_p99_ms);
  const auto add_histogram = [](db::DurationHistogram& a, const db::DurationHistogram& b) {
    for (std::size_t i = 0; i < a.le.size(); ++i) a.le[i] += b.le[i];
    a.count += b.count;
    a.sum_s += b.sum_s;
  };
  add_histogram(sum.acquire_wait, s.acquire_wait);
  add_histogram(sum.hold_time, s.hold_time);
  sum.statement_cache_hits_total += s.statement_cache_hits_total;
  sum.statement_cache_misses_total += s.statement_cache_misses_total;
  sum.statement_cache_evictions_total += s.statement_cache_evictions_total;
  for (std::size_t i = 0; i < sum.errors_total.size(); ++i) sum.errors_total[i] += s.errors_total[i];
}

}  // namespace appinfra::pg::detail
