#pragma once
// Query logging: each statement, whitespace-normalised, with its duration.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/redact.hpp>
#include <appinfra/db/param.hpp>

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
      const std::size_t count = param_count(args...);
      if (count == 0) return "";
      if (!show_params_) return fmt::format(" [{} parameters, values not logged]", count);
      std::string out = " [";
      std::size_t i = 0;
      for_each_param([&](const auto& a) {
        ++i;
        out += fmt::format("{}${}={}", i > 1 ? ", " : "", i, param_text(a));
      }, args...);
      return out + "]";
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
    if constexpr (std::is_same_v<T, Param>) return param_text_of(v);
    else if constexpr (std::is_same_v<T, std::nullptr_t> || std::is_same_v<T, std::nullopt_t>) return "NULL";
    else if constexpr (requires { v.has_value(); *v; }) return v.has_value() ? param_text(*v) : "NULL";
    else if constexpr (std::is_arithmetic_v<T>) return fmt::format("{}", v);
    else if constexpr (std::is_pointer_v<T>) return v == nullptr ? "NULL" : param_text(std::string_view(v));
    else return fmt::format("'{}'", std::string_view(v));
  }
  static std::string param_text_of(const Param& p) {
    switch (p.kind()) {
      case Param::Kind::null: return "NULL";
      case Param::Kind::boolean: return param_text(p.boolean());
      case Param::Kind::integer: return param_text(p.integer());
      case Param::Kind::unsigned_integer: return param_text(p.unsigned_integer());
      case Param::Kind::real: return param_text(p.real());
      case Param::Kind::real32: return param_text(p.real32());
      case Param::Kind::text: break;
    }
    return param_text(p.text());
  }

  std::string redacted(std::string text) const { return redact_.empty() ? text : redact_(text); }

  L logger_;
  std::string database_;
  log::Level level_;
  bool show_params_;
  Redactor redact_;
};

}  // namespace appinfra::db::detail
