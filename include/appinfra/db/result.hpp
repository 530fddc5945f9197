#pragma once
// The rows a statement returned, in one form for every backend.

#include <appinfra/db/errors.hpp>

#include <fmt/core.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::db {

/// One value of a row: NULL or text, converted on request.
class Field {
 public:
  explicit Field(const std::optional<std::string>* v, std::string_view column) noexcept
      : value_(v), column_(column) {}
  [[nodiscard]] bool is_null() const noexcept { return !value_->has_value(); }
  /// The text; empty for NULL.
  [[nodiscard]] std::string_view view() const noexcept {
    return value_->has_value() ? std::string_view(**value_) : std::string_view();
  }
  /// The value as T (an integer, a floating-point type, bool, std::string or
  /// std::optional of one of those). Throws db::Error naming the column and value
  /// when it does not convert, or when it is NULL and T is not an optional.
  template <class T>
  [[nodiscard]] T as() const {
    if constexpr (is_optional<T>::value) {
      if (is_null()) return std::nullopt;
      return as<typename T::value_type>();
    } else {
      if (is_null()) throw Error(fmt::format("column '{}' is NULL", column_));
      const std::string& s = **value_;
      if constexpr (std::is_same_v<T, std::string>) {
        return s;
      } else if constexpr (std::is_same_v<T, bool>) {
        if (s == "t" || s == "true" || s == "1") return true;
        if (s == "f" || s == "false" || s == "0") return false;
        throw bad<T>();
      } else {
        static_assert(std::is_arithmetic_v<T>, "Field::as<T>: unsupported type");
        T out{};
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec != std::errc{} || p != s.data() + s.size()) throw bad<T>();
        return out;
      }
    }
  }

 private:
  template <class T> struct is_optional : std::false_type {};
  template <class T> struct is_optional<std::optional<T>> : std::true_type {};
  template <class T>
  Error bad() const {
    return Error(fmt::format("column '{}': value '{}' does not convert to the requested type",
                             column_, **value_));
  }
  const std::optional<std::string>* value_;
  std::string_view column_;
};

class Result;

/// One row of a Result; valid while the Result lives.
class Row {
 public:
  Row(const Result* r, std::size_t i) noexcept : result_(r), row_(i) {}
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] Field operator[](std::size_t col) const noexcept;
  /// Throws db::Error for an unknown column name.
  [[nodiscard]] Field operator[](std::string_view column) const;

 private:
  const Result* result_;
  std::size_t row_;
};

/// The columns and rows of a statement's result, and how many rows it changed.
/// Value type; owns its data, independent of the connection it came from.
class Result {
 public:
  Result() = default;
  Result(std::vector<std::string> columns, std::vector<std::optional<std::string>> cells,
         std::int64_t affected_rows)
      : columns_(std::move(columns)), cells_(std::move(cells)), affected_(affected_rows) {}

  [[nodiscard]] const std::vector<std::string>& columns() const noexcept { return columns_; }
  [[nodiscard]] std::size_t size() const noexcept {
    return columns_.empty() ? 0 : cells_.size() / columns_.size();
  }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /// Rows inserted, updated or deleted (backend's count; 0 for a query).
  [[nodiscard]] std::int64_t affected_rows() const noexcept { return affected_; }
  [[nodiscard]] Row operator[](std::size_t row) const noexcept { return Row(this, row); }
  /// The first column of the first row: for `SELECT count(*)` and friends.
  template <class T>
  [[nodiscard]] T scalar() const {
    if (empty()) throw Error("scalar(): the result has no rows");
    return (*this)[0][0].template as<T>();
  }

  class iterator {
   public:
    using difference_type = std::ptrdiff_t;
    using value_type = Row;
    iterator() = default;
    iterator(const Result* r, std::size_t i) : result_(r), row_(i) {}
    Row operator*() const noexcept { return Row(result_, row_); }
    iterator& operator++() noexcept { ++row_; return *this; }
    iterator operator++(int) noexcept { auto t = *this; ++row_; return t; }
    bool operator==(const iterator& o) const noexcept { return row_ == o.row_; }

   private:
    const Result* result_ = nullptr;
    std::size_t row_ = 0;
  };
  [[nodiscard]] iterator begin() const noexcept { return {this, 0}; }
  [[nodiscard]] iterator end() const noexcept { return {this, size()}; }

 private:
  friend class Row;
  std::vector<std::string> columns_;
  std::vector<std::optional<std::string>> cells_;  // row-major
  std::int64_t affected_ = 0;
};

inline std::size_t Row::size() const noexcept { return result_->columns_.size(); }
inline Field Row::operator[](std::size_t col) const noexcept {
  return Field(&result_->cells_[row_ * result_->columns_.size() + col], result_->columns_[col]);
}
inline Field Row::operator[](std::string_view column) const {
  for (std::size_t c = 0; c < result_->columns_.size(); ++c)
    if (result_->columns_[c] == column) return (*this)[c];
  throw Error(fmt::format("no column named '{}' in the result", column));
}

}  // namespace appinfra::db
