#pragma once
// Query logging: each statement, whitespace-normalised, with its duration.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/detail/log.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::db::detail {

/// Collapses runs of white space into one space and trims both ends.
inline std::string normalize_sql(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

/// Times a statement and logs it at the configured level; when that level is
/// off (the default) it reads no clock and formats nothing.
template <Logger L>
class QueryLog {
 public:
  QueryLog(L logger, std::string database, log::Level level)
      : logger_(std::move(logger)), database_(std::move(database)), level_(level) {}

  [[nodiscard]] bool active() const noexcept { return level_ != log::Level::off && logger_.enabled(level_); }

  /// Runs `f()` (which returns a Result-like object with size() and
  /// affected_rows()) and logs the statement.
  template <class F>
  decltype(auto) run(std::string_view sql, F&& f) const {
    if (!active()) return std::forward<F>(f)();
    const auto start = std::chrono::steady_clock::now();
    try {
      decltype(auto) r = std::forward<F>(f)();
      const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
      detail::log(logger_, level_, "[{}] {:.3f} ms, {} rows, {} affected: {}", database_, ms.count(),
                  r.size(), r.affected_rows(), normalize_sql(sql));
      return r;
    } catch (const std::exception& e) {
      const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
      detail::log(logger_, level_, "[{}] {:.3f} ms, failed: {}: {}", database_, ms.count(),
                  normalize_sql(sql), e.what());
      throw;
    }
  }

 private:
  L logger_;
  std::string database_;
  log::Level level_;
};

}  // namespace appinfra::db::detail
