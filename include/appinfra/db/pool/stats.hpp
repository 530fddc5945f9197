#pragma once
// Pool statistics as a policy: PoolStats counts and times, NoStats costs nothing.

#include <appinfra/db/stats.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace appinfra::db {

/// A lock-free log-linear histogram of durations in nanoseconds: 4 sub-buckets per
/// power of two (quantiles within about 19%), 256 buckets up to 2^63 ns.
/// record() is two relaxed atomic additions (the bucket and the running sum, which
/// Prometheus' `_sum` needs). Thread-safe.
class Histogram {
 public:
  static constexpr int sub_bits = 2;
  static constexpr std::size_t buckets = 64 << sub_bits;

  void record(std::uint64_t ns) noexcept {
    counts_[index(ns)].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  }

  /// Adds this histogram's counts into `out`.
  void add_to(std::array<std::uint64_t, buckets>& out) const noexcept {
    for (std::size_t i = 0; i < buckets; ++i) out[i] += counts_[i].load(std::memory_order_relaxed);
  }
  /// The sum of the recorded values, in ns (wraps after 584 years of waiting).
  [[nodiscard]] std::uint64_t sum_ns() const noexcept { return sum_ns_.load(std::memory_order_relaxed); }

  /// `c` at the fixed bounds duration_bounds_s: each bucket counts under the first
  /// bound at or above its largest value.
  static DurationHistogram fixed(const std::array<std::uint64_t, buckets>& c, std::uint64_t sum_ns) noexcept {
    DurationHistogram h;
    std::size_t b = 0;
    for (std::size_t i = 0; i < buckets; ++i) {
      while (b < duration_bounds_s.size() && static_cast<double>(upper(i)) > duration_bounds_s[b] * 1e9) ++b;
      if (b < duration_bounds_s.size()) h.le[b] += c[i];
      h.count += c[i];
    }
    for (std::size_t j = 1; j < h.le.size(); ++j) h.le[j] += h.le[j - 1];
    h.sum_s = static_cast<double>(sum_ns) / 1e9;
    return h;
  }

  /// The q-quantile (0..1) of the counts, as the upper bound of its bucket, in ms.
  static double quantile_ms(const std::array<std::uint64_t, buckets>& c, double q) noexcept {
    std::uint64_t total = 0;
    for (auto n : c) total += n;
    if (total == 0) return 0.0;
    // Nearest rank: the smallest value with at least q of the counts at or below it.
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets; ++i) {
      seen += c[i];
      if (seen >= rank) return static_cast<double>(upper(i)) / 1e6;
    }
    return static_cast<double>(upper(buckets - 1)) / 1e6;
  }

  static constexpr std::size_t index(std::uint64_t ns) noexcept {
    if (ns < (1u << sub_bits)) return static_cast<std::size_t>(ns);
    const int msb = 63 - std::countl_zero(ns);
    const auto sub = static_cast<std::size_t>((ns >> (msb - sub_bits)) & ((1u << sub_bits) - 1));
    return (static_cast<std::size_t>(msb - sub_bits + 1) << sub_bits) + sub;
  }
  /// The largest value that falls in bucket i.
  static constexpr std::uint64_t upper(std::size_t i) noexcept {
    if (i < (1u << sub_bits)) return i;
    const std::size_t msb = (i >> sub_bits) + sub_bits - 1;
    if (msb >= 63) return UINT64_MAX;  // the last buckets reach the end of the range
    const std::uint64_t sub = i & ((1u << sub_bits) - 1);
    const std::uint64_t base = (std::uint64_t{1} << msb) | (sub << (msb - sub_bits));
    return base + (std::uint64_t{1} << (msb - sub_bits)) - 1;
  }

 private:
  std::array<std::atomic<std::uint64_t>, buckets> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

/// Statistics policy: no statistics. Every hook is an empty constexpr function, and
/// `enabled` lets the pool skip the clock reads that only statistics need.
struct NoStats {
  static constexpr bool enabled = false;
  static constexpr void waited(std::uint64_t) noexcept {}
  static constexpr bool sample() noexcept { return false; }
  static constexpr void held(std::uint64_t) noexcept {}
  static constexpr void timed_out() noexcept {}
  static constexpr void created() noexcept {}
  static constexpr void recycled() noexcept {}
  static constexpr void invalidated() noexcept {}
  static constexpr void fill(PoolStatus&) noexcept {}
};

/// Statistics policy: counters and wait/hold histograms, sharded so that threads do
/// not share cache lines on the hot path. Checkouts are counted by the pool in each
/// connection's own entry, a line the holder writes anyway (no atomic increment);
/// a checkout that waited (for a connection, a connect or a ping) is timed; hold
/// times are timed for one checkout in `HoldSample` per thread (an unbiased
/// sample), which keeps the
/// clock off the hot path (1 sets it to every checkout). Thread-safe.
template <unsigned HoldSample = 64>
class BasicPoolStats {
  static_assert(HoldSample > 0, "BasicPoolStats: sample at least one checkout in HoldSample");

 public:
  static constexpr bool enabled = true;
  static constexpr unsigned hold_sample = HoldSample;

  void waited(std::uint64_t ns) noexcept {
    Shard& s = shard();
    s.waited.fetch_add(1, std::memory_order_relaxed);
    s.wait.record(ns);
  }
  static bool sample() noexcept {
    thread_local unsigned n = 0;
    return ++n % hold_sample == 0;
  }
  void held(std::uint64_t ns) noexcept { shard().hold.record(ns); }
  void timed_out() noexcept { shard().timeouts.fetch_add(1, std::memory_order_relaxed); }
  void created() noexcept { shard().created.fetch_add(1, std::memory_order_relaxed); }
  void recycled() noexcept { shard().recycled.fetch_add(1, std::memory_order_relaxed); }
  void invalidated() noexcept { shard().invalidated.fetch_add(1, std::memory_order_relaxed); }

  /// Fills the statistics of `st`, whose acquired_total the pool has set.
  void fill(PoolStatus& st) const noexcept {
    std::array<std::uint64_t, Histogram::buckets> wait{}, hold{};
    std::uint64_t waited = 0, wait_sum = 0, hold_sum = 0;
    for (const Shard& s : shards_) {
      waited += s.waited.load(std::memory_order_relaxed);
      st.timeouts_total += s.timeouts.load(std::memory_order_relaxed);
      st.created_total += s.created.load(std::memory_order_relaxed);
      st.recycled_total += s.recycled.load(std::memory_order_relaxed);
      st.invalidated_total += s.invalidated.load(std::memory_order_relaxed);
      s.wait.add_to(wait);
      s.hold.add_to(hold);
      wait_sum += s.wait.sum_ns();
      hold_sum += s.hold.sum_ns();
    }
    // Checkouts that did not wait waited (next to) nothing: the first bucket.
    wait[0] += st.acquired_total > waited ? st.acquired_total - waited : 0;
    st.acquire_wait_p50_ms = Histogram::quantile_ms(wait, 0.50);
    st.acquire_wait_p99_ms = Histogram::quantile_ms(wait, 0.99);
    st.hold_time_p50_ms = Histogram::quantile_ms(hold, 0.50);
    st.hold_time_p99_ms = Histogram::quantile_ms(hold, 0.99);
    st.acquire_wait = Histogram::fixed(wait, wait_sum);
    st.hold_time = Histogram::fixed(hold, hold_sum);
    st.statistics = true;
  }

 private:
  struct alignas(64) Shard {
    std::atomic<std::uint64_t> waited{0}, timeouts{0}, created{0}, recycled{0}, invalidated{0};
    Histogram wait, hold;
  };
  static constexpr std::size_t shard_count = 8;

  Shard& shard() noexcept {
    // Threads take shards in turn, so a few busy threads never share one.
    thread_local std::size_t mine = shard_count;
    if (mine == shard_count) {
      static std::atomic<std::size_t> next{0};
      mine = next.fetch_add(1, std::memory_order_relaxed) % shard_count;
    }
    return shards_[mine];
  }

  std::array<Shard, shard_count> shards_{};
};

/// The default statistics policy: hold times sampled one checkout in 64.
using PoolStats = BasicPoolStats<>;

}  // namespace appinfra::db
