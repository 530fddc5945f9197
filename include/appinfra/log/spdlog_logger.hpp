#pragma once
/// @file appinfra/log/spdlog_logger.hpp
/// A logger policy that writes through a spdlog::logger, for services that log with
/// spdlog already. The only appinfra header that includes spdlog (an optional
/// dependency: Debian's libspdlog-dev; link with spdlog, e.g. `pkg-config spdlog`);
/// not included by appinfra/log.hpp.
///
///   auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
///   log::SpdlogLogger logger(std::make_shared<spdlog::logger>("db", sink));
///   db::Manager<sqlite::SQLite<db::ReadWrite, db::UseQueuePool<>, log::SpdlogLogger>> m(logger, config);

#include <appinfra/log/escape.hpp>
#include <appinfra/log/level.hpp>

#include <spdlog/logger.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::log {

/// spdlog's level for ours: warning is spdlog's `warn`, error its `err`.
constexpr spdlog::level::level_enum to_spdlog(Level l) noexcept {
  switch (l) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warning: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
    case Level::critical: return spdlog::level::critical;
    case Level::off: break;
  }
  return spdlog::level::off;
}

/// Models db::Logger by writing each record through a spdlog::logger: its level,
/// sinks, pattern and flushing decide what is written and how. Copies share the
/// spdlog logger (a shared_ptr), so a level set on it is seen by every copy.
/// Thread-safe as far as the spdlog logger's sinks are (the `_mt` sinks are).
/// Control characters in a message are escaped (\n, \xNN) as log::Logger does, so
/// that a database name, a value or a server's message cannot forge a line.
class SpdlogLogger {
 public:
  /// Writes through `logger`; throws std::invalid_argument when it is null.
  explicit SpdlogLogger(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {
    if (!logger_) throw std::invalid_argument("SpdlogLogger: the spdlog logger is null");
  }

  /// Writes through spdlog's default logger (spdlog::default_logger(), stdout in colour
  /// unless the application replaced it), as it is when this is called.
  static SpdlogLogger default_logger() { return SpdlogLogger(spdlog::default_logger()); }

  [[nodiscard]] bool enabled(Level l) const noexcept {
    return l != Level::off && logger_->should_log(to_spdlog(l));
  }

  void write(Level l, std::string_view message) const {
    if (l == Level::off) return;
    std::string escaped;
    if (has_control(message)) message = escaped = escape_control(message);
    logger_->log(to_spdlog(l), spdlog::string_view_t(message.data(), message.size()));
  }

  [[nodiscard]] const std::shared_ptr<spdlog::logger>& logger() const noexcept { return logger_; }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace appinfra::log
