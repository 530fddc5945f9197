#pragma once
// Failures counted by kind, for a database's statistics and its
// appinfra_errors_total metric.

#include <appinfra/db/errors.hpp>
#include <appinfra/db/stats.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace appinfra::db::detail {

/// One relaxed counter per Failure kind, counted where an error leaves a
/// connector's one statement path, its open() or its health check: only failures
/// pay, and a fixed array keeps the count free of allocation and locks.
/// Thread-safe; moved only before use (a connector is moved into its pool).
class FailureCounter {
 public:
  FailureCounter() = default;
  FailureCounter(FailureCounter&& o) noexcept {
    for (std::size_t i = 0; i < failure_kinds; ++i)
      counts_[i].store(o.counts_[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  FailureCounter& operator=(FailureCounter&&) = delete;

  void record(Failure f) const noexcept {
    const auto i = static_cast<std::size_t>(f);
    if (i < failure_kinds) counts_[i].fetch_add(1, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t count(Failure f) const noexcept {
    return counts_[static_cast<std::size_t>(f)].load(std::memory_order_relaxed);
  }
  /// Adds the counts to a pool status (PooledBackend::get_pool_status()).
  void add_to(PoolStatus& s) const noexcept {
    for (std::size_t i = 0; i < failure_kinds; ++i) s.errors_total[i] += counts_[i].load(std::memory_order_relaxed);
  }

  /// Runs `f()`; an error with a Failure kind (QueryError, ConnectionError) that
  /// leaves it is counted, then goes on as it came.
  template <class F>
  decltype(auto) counting(F&& f) const {
    try {
      return std::forward<F>(f)();
    } catch (const Classified& e) {
      record(e.failure());
      throw;
    }
  }

 private:
  mutable std::array<std::atomic<std::uint64_t>, failure_kinds> counts_{};
};

}  // namespace appinfra::db::detail
