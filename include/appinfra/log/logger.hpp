#pragma once
// The default logger: levels, a name, one line per record, written with {fmt}.

#include <appinfra/detail/decl.hpp>
#include <appinfra/log/escape.hpp>
#include <appinfra/log/level.hpp>

#include <fmt/core.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <time.h>

namespace appinfra::log {

/// A line-oriented logger. Copies share one sink and one level, so a level change
/// through any copy is seen by all. Thread-safe: each record is written whole under
/// a lock. The sink is stderr unless a callback is given (tests capture with one).
/// Control characters in the name and the message are escaped (\n, \xNN) before
/// either sink sees them: a record is always one line, whatever a database name,
/// a value or a server's message holds.
class Logger {
 public:
  using Sink = std::function<void(Level, std::string_view name, std::string_view message)>;

  explicit Logger(Level level = Level::info, std::string name = "root", Sink sink = {})
      : state_(std::make_shared<State>(level, std::move(sink))), name_(std::move(name)) {}

  /// A logger writing to the same sink under `name_.child`.
  [[nodiscard]] Logger child(std::string_view child) const {
    Logger l(*this);
    l.name_ = name_ + "." + std::string(child);
    return l;
  }

  [[nodiscard]] bool enabled(Level l) const noexcept {
    return l != Level::off && l >= state_->level.load(std::memory_order_relaxed);
  }
  void set_level(Level l) noexcept { state_->level.store(l, std::memory_order_relaxed); }
  [[nodiscard]] Level level() const noexcept { return state_->level.load(std::memory_order_relaxed); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  APPINFRA_DECL void write(Level l, std::string_view message) const;

 private:
  struct State {
    State(Level l, Sink s) : level(l), sink(std::move(s)) {}
    std::atomic<Level> level;
    Sink sink;
    std::mutex mutex;
  };
  std::shared_ptr<State> state_;
  std::string name_;
};

}  // namespace appinfra::log

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/log/impl/logger.ipp>
#endif
