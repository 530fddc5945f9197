#pragma once
// LogConfig and LoggerFactory, as in the seed:
//   auto logger = LoggerFactory::create_root(LogConfig::from_params("info"));

#include <appinfra/log/level.hpp>
#include <appinfra/log/logger.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace appinfra::log {

/// How the root logger is made. Plain value type.
struct LogConfig {
  Level level = Level::info;
  std::string name = "root";
  Logger::Sink sink{};  ///< empty: stderr

  /// From a level name such as "info"; throws std::invalid_argument on a bad name.
  static LogConfig from_params(std::string_view level, std::string name = "root") {
    return LogConfig{parse_level(level), std::move(name), {}};
  }
};

/// Makes loggers from a LogConfig.
struct LoggerFactory {
  static Logger create_root(const LogConfig& config) {
    return Logger(config.level, config.name, config.sink);
  }
};

}  // namespace appinfra::log
