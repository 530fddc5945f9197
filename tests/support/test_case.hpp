#pragma once
// The name of the running Catch2 test case: the key that keeps the stub registry
// and the manual clock per test, so tests do not depend on the order they run in.

#include <catch2/catch.hpp>

#include <string>

namespace appinfra::test {

/// Empty outside a test case.
inline std::string current_test_case() {
  try {
    return Catch::getResultCapture().getCurrentTestName();
  } catch (...) {  // no run context (not under the Catch2 runner)
    return {};
  }
}

}  // namespace appinfra::test
