#pragma once
// Randomness and backoff: recycle jitter, retry delays, the slow path's pauses.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace appinfra::db::detail {

/// splitmix64's finaliser: spreads every bit of `x` over the result.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// The top 53 bits of `x` as a fraction in [0, 1).
constexpr double unit_fraction(std::uint64_t x) noexcept {
  return static_cast<double>(x >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

/// A cheap random fraction in [0, 1), different for every call: a process-wide
/// counter, the pool's id and the time `now_ticks`, mixed.
inline double random_fraction(std::uint64_t pool_id, std::uint64_t now_ticks) noexcept {
  static std::atomic<std::uint64_t> salt{0x9E3779B97F4A7C15ull};
  return unit_fraction(
      mix64(salt.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed) ^ (pool_id << 32) ^ now_ticks));
}

/// The age at which a connection is recycled: `recycle` less the part
/// `fraction` of `jitter`, so that connections opened together expire apart.
/// Negative `recycle`: never (returns a negative age).
inline std::chrono::duration<double> recycle_age(std::chrono::duration<double> recycle, double jitter,
                                                 double fraction) noexcept {
  if (recycle.count() < 0) return recycle;
  return std::chrono::duration<double>(recycle.count() * (1.0 - jitter * fraction));
}

/// The deadline, in clock ticks, of a connection opened at `now` that is
/// recycled at `age` (see recycle_age): at least one tick later; 0 (never) for
/// a negative age.
template <class Rep>
Rep expiry_at(Rep now, Rep age_ticks, bool never) noexcept {
  if (never) return 0;
  return now + std::max<Rep>(1, age_ticks);
}

/// Warm-up's delay before retry `attempt` (1, 2, ...): `step` doubled each
/// time, with jitter (half to all of it, `fraction` in [0, 1)), so that
/// processes restarted together do not retry in lockstep.
inline std::chrono::duration<double> warm_up_delay(std::chrono::duration<double> step, int attempt,
                                                   double fraction) noexcept {
  return step * std::pow(2.0, attempt - 1) * (0.5 + 0.5 * fraction);
}

/// The slow path's pause after a failed connect: 10 ms doubled per failed
/// attempt (at most 64 times), never past `left` (the time to the deadline).
template <class Duration>
Duration connect_pause(std::size_t failed_attempts, Duration left) noexcept {
  return std::min<Duration>(std::chrono::milliseconds(10) * (1 << std::min<std::size_t>(failed_attempts, 6)), left);
}

}  // namespace appinfra::db::detail
