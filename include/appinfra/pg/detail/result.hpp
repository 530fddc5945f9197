#pragma once
// libpqxx results in appinfra's form, and parameters in libpqxx's.

#include <appinfra/db/result.hpp>

#include <pqxx/result>

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

/// Adapts a parameter to what libpqxx 6 binds.
template <class T>
decltype(auto) param(const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) return std::string(v);
  else if constexpr (std::is_same_v<T, std::nullopt_t>) return nullptr;
  else return (v);
}

}  // namespace appinfra::pg::detail
