#pragma once
// What the fuzz targets share: FUZZ_CHECK, which reports a broken invariant and
// aborts (libFuzzer saves the input as a crash file; the corpus runner names the
// file), and a few string helpers.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace appinfra_fuzz {

/// The corpus file being run, set by corpus_main.cpp (null under libFuzzer,
/// which prints the input itself).
inline const char* current_input = nullptr;

/// The text with control and non-ASCII bytes as \xNN, for messages.
inline std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

[[noreturn]] inline void fail(const char* file, int line, const char* cond, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n%s\n", file, line, cond, detail.c_str());
  if (current_input != nullptr) std::fprintf(stderr, "input file: %s\n", current_input);
  std::fflush(stderr);
  std::abort();
}

inline bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

}  // namespace appinfra_fuzz

// `detail` is evaluated only when the check fails.
#define FUZZ_CHECK(cond, detail)                                               \
  do {                                                                         \
    if (!(cond)) ::appinfra_fuzz::fail(__FILE__, __LINE__, #cond, (detail));   \
  } while (false)
