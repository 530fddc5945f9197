#pragma once
// The result of a health check.

#include <appinfra/db/ordered_map.hpp>
#include <appinfra/db/replica.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace appinfra::db {

enum class HealthStatus { healthy, unhealthy };

constexpr std::string_view to_string(HealthStatus s) noexcept {
  return s == HealthStatus::healthy ? "healthy" : "unhealthy";
}

/// One database's health: a real `SELECT 1` round trip, timed. Value type.
struct HealthResult {
  HealthStatus status = HealthStatus::unhealthy;
  /// Wall time of the round trip, including taking a pooled connection.
  double response_time_ms = 0.0;
  /// Empty when healthy; otherwise why not (never a password).
  std::string error;
  /// A replicated database's hosts (pg::Replicated), as its last checks found them;
  /// empty for other databases. status is that of the writes (the primary).
  std::vector<HostState> hosts;

  [[nodiscard]] bool healthy() const noexcept { return status == HealthStatus::healthy; }
};

/// Health by database name, in configuration order.
using HealthReport = OrderedMap<HealthResult>;

}  // namespace appinfra::db
