#include <appinfra/db/pool/detail/backoff.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <set>

using namespace appinfra;
using namespace std::chrono_literals;
using Seconds = std::chrono::duration<double>;

TEST_CASE("random fractions lie in [0, 1) and differ from call to call", "[pool][backoff]") {
  std::set<double> seen;
  for (int i = 0; i < 1000; ++i) {
    const double f = db::detail::random_fraction(7, 12345);  // same pool, same time
    CHECK(f >= 0.0);
    CHECK(f < 1.0);
    seen.insert(f);
  }
  CHECK(seen.size() == 1000);
  CHECK(db::detail::unit_fraction(0) == 0.0);
  CHECK(db::detail::unit_fraction(~std::uint64_t{0}) < 1.0);
}

TEST_CASE("the recycle age is shortened by up to the jitter; negative recycle never expires", "[pool][backoff]") {
  CHECK(db::detail::recycle_age(Seconds(100), 0.1, 0.0).count() == Approx(100));
  CHECK(db::detail::recycle_age(Seconds(100), 0.1, 0.5).count() == Approx(95));
  CHECK(db::detail::recycle_age(Seconds(100), 0.0, 0.99).count() == Approx(100));
  CHECK(db::detail::recycle_age(Seconds(-1), 0.1, 0.5).count() < 0);
  CHECK(db::detail::expiry_at<std::int64_t>(1000, 500, false) == 1500);
  CHECK(db::detail::expiry_at<std::int64_t>(1000, 0, false) == 1001);  // at least one tick: 0 means never
  CHECK(db::detail::expiry_at<std::int64_t>(1000, 500, true) == 0);
}

TEST_CASE("warm-up retries back off exponentially, with half to all of each step", "[pool][backoff]") {
  CHECK(db::detail::warm_up_delay(Seconds(1), 1, 0.0).count() == Approx(0.5));
  CHECK(db::detail::warm_up_delay(Seconds(1), 1, 0.999).count() == Approx(1.0).epsilon(0.01));
  CHECK(db::detail::warm_up_delay(Seconds(1), 3, 0.0).count() == Approx(2.0));
  CHECK(db::detail::warm_up_delay(Seconds(0.1), 4, 0.5).count() == Approx(0.6));
}

TEST_CASE("the slow path's connect pause doubles from 10 ms up to 640 ms and never passes the deadline",
          "[pool][backoff]") {
  using D = std::chrono::steady_clock::duration;
  CHECK(db::detail::connect_pause<D>(0, D(10s)) == 10ms);
  CHECK(db::detail::connect_pause<D>(1, D(10s)) == 20ms);
  CHECK(db::detail::connect_pause<D>(6, D(10s)) == 640ms);
  CHECK(db::detail::connect_pause<D>(60, D(10s)) == 640ms);
  CHECK(db::detail::connect_pause<D>(3, D(5ms)) == 5ms);
  CHECK(db::detail::connect_pause<D>(3, D(-5ms)) == D(-5ms));  // passed: the caller times out
}
