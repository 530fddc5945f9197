#pragma once
// A log::Logger whose records are kept for assertions.

#include <appinfra/log.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace appinfra::test {

struct Captured {
  std::mutex mutex;
  std::vector<std::string> lines;

  [[nodiscard]] std::string all() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
  [[nodiscard]] bool contains(const std::string& text) { return all().find(text) != std::string::npos; }
};

/// A logger at `level` that appends "level name: message" to the returned Captured.
inline std::pair<log::Logger, std::shared_ptr<Captured>> capture_logger(log::Level level = log::Level::trace) {
  auto cap = std::make_shared<Captured>();
  log::LogConfig cfg{level, "test", [cap](log::Level l, std::string_view name, std::string_view msg) {
                       std::lock_guard lock(cap->mutex);
                       cap->lines.push_back(std::string(log::to_string(l)) + " " + std::string(name) + ": " +
                                            std::string(msg));
                     }};
  return {log::LoggerFactory::create_root(cfg), cap};
}

}  // namespace appinfra::test
