#pragma once
// The definitions of log/logger.hpp (APPINFRA_DECL): included by it in header-only
// mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/log/logger.hpp>

namespace appinfra::log {

APPINFRA_DECL void Logger::write(Level l, std::string_view message) const {
  // Escaped here, where every record passes, rather than at each call site.
  std::string escaped_message, escaped_name;
  if (has_control(message)) message = escaped_message = escape_control(message);
  const std::string_view name = has_control(name_) ? std::string_view(escaped_name = escape_control(name_))
                                                   : std::string_view(name_);
  if (state_->sink) {
    std::lock_guard lock(state_->mutex);
    state_->sink(l, name, message);
    return;
  }
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  ::gmtime_r(&ts.tv_sec, &t);
  auto line = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z {:<8} {}: {}\n",
                          t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                          ts.tv_nsec / 1000000, to_string(l), name, message);
  std::lock_guard lock(state_->mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace appinfra::log
