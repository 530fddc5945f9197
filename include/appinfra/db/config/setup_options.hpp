#pragma once
// How a database's setup copes with failure: connect retries and background
// setup retries. (The connect retries' count and first delay, `max_retries` and
// `retry_delay`, are the pool's: PoolOptions.)

#include <chrono>

namespace appinfra::db {

/// A DatabaseConfig's `setup`. Value type.
struct SetupOptions {
  using Seconds = std::chrono::duration<double>;

  /// Retry a failed connect at setup (pool.max_retries times); false: no retries.
  bool auto_reconnect = true;
  /// A database whose setup failed for a reason that may pass (ConnectionError,
  /// PoolTimeoutError) is set up again in the background, with the backoff of
  /// retry_delay, until it succeeds; false: it stays failed (fail fast). Key `setup_retry`.
  bool retry = true;
  /// The longest wait between two background setup attempts. Key `setup_retry_max_interval`.
  Seconds retry_max_interval{2.0};
};

}  // namespace appinfra::db
