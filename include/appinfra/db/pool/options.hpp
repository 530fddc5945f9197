#pragma once
#include <appinfra/db/config.hpp>

#include <chrono>
#include <cstddef>

namespace appinfra::db {

/// The pool's share of a DatabaseConfig. Value type.
struct PoolOptions {
  std::size_t pool_size = 5;
  std::size_t max_overflow = 10;
  std::chrono::duration<double> timeout{30.0};
  /// Maximum age of a connection; negative: never recycled.
  std::chrono::duration<double> recycle{3600.0};
  bool pre_ping = true;

  static PoolOptions from(const DatabaseConfig& c) {
    return {static_cast<std::size_t>(c.pool_size), static_cast<std::size_t>(c.max_overflow),
            c.pool_timeout, c.pool_recycle, c.pool_pre_ping};
  }
};

}  // namespace appinfra::db
