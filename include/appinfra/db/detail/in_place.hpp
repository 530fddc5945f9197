#pragma once
// Room in place for an object whose type only the compiled library knows.

#include <cstddef>
#include <new>

namespace appinfra::db::detail {

/// `Size` bytes, aligned for any object, holding an object of a type the caller's
/// code does not see (a connection handle of a backend compiled into the library:
/// APPINFRA_SEPARATE_COMPILATION). The library constructs and destroys it and
/// checks at compile time that it fits; a checkout allocates nothing for it.
template <std::size_t Size>
struct InPlace {
  template <class T>
  [[nodiscard]] T& as() noexcept {
    return *std::launder(reinterpret_cast<T*>(bytes));
  }
  template <class T>
  [[nodiscard]] const T& as() const noexcept {
    return *std::launder(reinterpret_cast<const T*>(bytes));
  }
  alignas(std::max_align_t) unsigned char bytes[Size];
};

}  // namespace appinfra::db::detail
