// db/deadline.hpp on its own.

#include <appinfra/db/deadline.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using appinfra::db::Deadline;
using namespace std::chrono_literals;

TEST_CASE("Deadline{} is no deadline: not set, never passed") {
  const Deadline none;
  CHECK_FALSE(static_cast<bool>(none));
  CHECK_FALSE(none.passed());
}

TEST_CASE("Deadline::in() is set; passed() once its time has come") {
  const Deadline later = Deadline::in(1h);
  CHECK(static_cast<bool>(later));
  CHECK_FALSE(later.passed());
  const Deadline past = Deadline::in(-1ms);
  CHECK(static_cast<bool>(past));
  CHECK(past.passed());
  CHECK(Deadline::in(std::chrono::duration<double>(0.5)).at > Deadline::clock::now());
}

TEST_CASE("earliest() picks the earlier deadline; no deadline loses to any") {
  const Deadline a = Deadline::in(1s), b = Deadline::in(1h), none;
  CHECK(earliest(a, b).at == a.at);
  CHECK(earliest(b, a).at == a.at);
  CHECK(earliest(none, b).at == b.at);
  CHECK(earliest(a, none).at == a.at);
  CHECK_FALSE(static_cast<bool>(earliest(none, none)));
}
