// std::source_location for clang 14 with libstdc++ 12, force-included (-include)
// into the fuzz build only; users' code and the library's headers stay as they are.
//
// Why: libstdc++ 12's <source_location> defines the class only when the compiler
// has __builtin_source_location (GCC 11+, clang 15+): under
//   #ifndef _GLIBCXX_SRCLOC / #if __cplusplus > 201703L && __has_builtin(__builtin_source_location)
// clang 14 lacks it, so the header is empty and std::source_location is unknown.
// clang 14 does have __builtin_FILE/__builtin_LINE/__builtin_COLUMN/__builtin_FUNCTION,
// which, used in a default argument, give the caller's location: enough to build
// the same class. Defining _GLIBCXX_SRCLOC first makes libstdc++'s header a no-op
// when the library includes it later. Does nothing where the builtin exists (the
// real header works there) or with another standard library.
#pragma once

#if defined(__cplusplus) && __cplusplus > 201703L && defined(__clang__) && !__has_builtin(__builtin_source_location)
#include <version>  // defines __GLIBCXX__ for libstdc++, and no __cpp_lib_source_location here
#if defined(__GLIBCXX__) && !defined(_GLIBCXX_SRCLOC)
#define _GLIBCXX_SRCLOC 1
#define __cpp_lib_source_location 201907L

namespace std {
_GLIBCXX_BEGIN_NAMESPACE_VERSION

struct source_location {
  // constexpr, not consteval as in the standard: clang 14 rejects a consteval
  // call in a default argument ("cannot take address of consteval function").
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           unsigned line = __builtin_LINE(),
                                           unsigned column = __builtin_COLUMN()) noexcept {
    source_location loc;
    loc.file_ = file;
    loc.function_ = function;
    loc.line_ = line;
    loc.column_ = column;
    return loc;
  }

  constexpr source_location() noexcept = default;

  constexpr __UINT_LEAST32_TYPE__ line() const noexcept { return line_; }
  constexpr __UINT_LEAST32_TYPE__ column() const noexcept { return column_; }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  __UINT_LEAST32_TYPE__ line_ = 0;
  __UINT_LEAST32_TYPE__ column_ = 0;
};

_GLIBCXX_END_NAMESPACE_VERSION
}  // namespace std

#endif
#endif
