#pragma once
// Query logging: each statement, whitespace-normalised, with its duration.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/redact.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <type_traits>
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
/// off (the default) it reads no clock and formats nothing. The line is redacted
/// as the database's errors are (`redact`: its passwords, in the statement text,
/// the parameters and the error alike).
template <Logger L>
class QueryLog {
 public:
  QueryLog(L logger, std::string database, log::Level level, bool show_params = false, Redactor redact = {})
      : logger_(std::move(logger)),
        database_(std::move(database)),
        level_(level),
        show_params_(show_params),
        redact_(std::move(redact)) {}

  [[nodiscard]] bool active() const noexcept { return level_ != log::Level::off && logger_.enabled(level_); }

  /// Runs `f()` (which returns a Result-like object with size() and
  /// affected_rows()) and logs the statement with its parameters: their values
  /// when query_log_params is on, otherwise only how many (they may be secrets).
  template <class F, class... Args>
  decltype(auto) run(std::string_view sql, F&& f, const Args&... args) const {
    if (!active()) return std::forward<F>(f)();
    const auto start = std::chrono::steady_clock::now();
    const auto params = [&]() -> std::string {
      if constexpr (sizeof...(Args) == 0) {
        return "";
      } else {
        if (!show_params_) return fmt::format(" [{} parameters, values not logged]", sizeof...(Args));
        std::string out = " [";
        std::size_t i = 0;
        const auto one = [&](const auto& a) {
          ++i;
          out += fmt::format("{}${}={}", i > 1 ? ", " : "", i, param_text(a));
        };
        (one(args), ...);
        return out + "]";
      }
    };
    try {
      decltype(auto) r = std::forward<F>(f)();
      const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
      detail::log_at(logger_, level_, "[{}] {:.3f} ms, {} rows, {} affected: {}", database_, ms.count(), r.size(),
                     r.affected_rows(), redacted(normalize_sql(sql) + params()));
      return r;
    } catch (const std::exception& e) {
      const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
      detail::log_at(logger_, level_, "[{}] {:.3f} ms, failed: {}", database_, ms.count(),
                     redacted(normalize_sql(sql) + params() + ": " + e.what()));
      throw;
    }
  }

 private:
  template <class T>
  static std::string param_text(const T& v) {
    if constexpr (std::is_same_v<T, std::nullptr_t> || std::is_same_v<T, std::nullopt_t>) return "NULL";
    else if constexpr (requires { v.has_value(); *v; }) return v.has_value() ? param_text(*v) : "NULL";
    else if constexpr (std::is_arithmetic_v<T>) return fmt::format("{}", v);
    else return fmt::format("'{}'", std::string_view(v));
  }

  std::string redacted(std::string text) const { return redact_.empty() ? text : redact_(text); }

  L logger_;
  std::string database_;
  log::Level level_;
  bool show_params_;
  Redactor redact_;
};

}  // namespace appinfra::db::detail
