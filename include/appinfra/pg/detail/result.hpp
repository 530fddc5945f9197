#pragma once
// libpqxx results in appinfra's form, and parameters in libpqxx's.

#include <appinfra/db/param.hpp>
#include <appinfra/db/result.hpp>

#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/strconv>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace appinfra::pg::detail {

/// A db::Result holding a copy of `r`; `query`: its row count is not a change count.
inline db::Result to_result(const pqxx::result& r, bool query) {
  std::vector<std::string> columns;
  const auto ncols = r.columns();
  columns.reserve(ncols);
  for (pqxx::row::size_type c = 0; c < ncols; ++c) columns.emplace_back(r.column_name(c));
  std::vector<std::optional<std::string>> cells;
  cells.reserve(r.size() * ncols);
  for (const auto& row : r)
    for (const auto& f : row) {
      if (f.is_null()) cells.emplace_back();
      else cells.emplace_back(std::string(f.c_str(), f.size()));
    }
  return db::Result(std::move(columns), std::move(cells), query ? 0 : static_cast<std::int64_t>(r.affected_rows()));
}

/// Adapts a parameter to what libpqxx 6 binds (a db::Param through the
/// string_traits below; db::Params as libpqxx's dynamic parameters).
template <class T>
decltype(auto) param(const T& v) {
  if constexpr (db::detail::is_params<T>) return pqxx::prepare::make_dynamic_params(v.begin(), v.end());
  else if constexpr (std::is_same_v<T, std::string_view>) return std::string(v);
  else if constexpr (std::is_same_v<T, std::nullopt_t>) return nullptr;
  else return (v);
}

}  // namespace appinfra::pg::detail

/// A db::Param as libpqxx converts parameters: each kind as libpqxx converts a
/// value of that kind, so that a parameter binds the same text in either mode.
template <>
struct pqxx::string_traits<appinfra::db::Param> {
  using Param = appinfra::db::Param;
  static constexpr const char* name() noexcept { return "appinfra::db::Param"; }
  static constexpr bool has_null() noexcept { return true; }
  static bool is_null(const Param& p) noexcept { return p.is_null(); }
  static Param null() { return Param(); }
  [[noreturn]] static void from_string(const char[], Param&) {
    internal::throw_null_conversion("appinfra::db::Param (parameters only)");
  }
  static std::string to_string(const Param& p) {
    switch (p.kind()) {
      case Param::Kind::boolean: return pqxx::to_string(p.boolean());
      case Param::Kind::integer: return pqxx::to_string(static_cast<long long>(p.integer()));
      case Param::Kind::unsigned_integer: return pqxx::to_string(static_cast<unsigned long long>(p.unsigned_integer()));
      case Param::Kind::real: return pqxx::to_string(p.real());
      case Param::Kind::real32: return pqxx::to_string(p.real32());
      case Param::Kind::null:  // is_null(): not asked
      case Param::Kind::text: break;
    }
    return std::string(p.text());
  }
};
