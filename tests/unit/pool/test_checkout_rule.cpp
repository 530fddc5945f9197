#include <appinfra/db/pool/detail/checkout_rule.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

using namespace appinfra;
using db::detail::checkout_verdict;
using db::detail::CheckoutRule;
using db::detail::CheckoutVerdict;

namespace {
// Times in ticks; counts which of them the rule read.
struct Times {
  std::int64_t acquired = 0, returned = 0;
  mutable int acquired_reads = 0, returned_reads = 0;
  std::int64_t acquired_at() const {
    ++acquired_reads;
    return acquired;
  }
  std::int64_t returned_at() const {
    ++returned_reads;
    return returned;
  }
};
// A clock in milliseconds; only its types matter here.
struct Ms {
  using duration = std::chrono::milliseconds;
  using time_point = std::chrono::time_point<Ms>;
};
// pre_ping on, grace 10 ticks, window 100 ticks.
constexpr CheckoutRule<std::int64_t> rule{true, 10, 100};
}  // namespace

TEST_CASE("a connection past its recycle deadline is expired, whatever else holds", "[pool][checkout_rule]") {
  Times t{995, 995};
  CHECK(checkout_verdict(rule, std::int64_t{1000}, t, std::int64_t{1000}) == CheckoutVerdict::expired);
  CHECK(checkout_verdict(rule, std::int64_t{1000}, t, std::int64_t{1500}) == CheckoutVerdict::expired);
  CHECK(checkout_verdict(CheckoutRule<std::int64_t>{false, 0, 0}, std::int64_t{1000}, t, std::int64_t{1000}) ==
        CheckoutVerdict::expired);
  CHECK(t.acquired_reads == 0);
  CHECK(t.returned_reads == 0);
}

TEST_CASE("expires 0 means never recycled", "[pool][checkout_rule]") {
  Times t{1'000'000, 1'000'000};
  CHECK(checkout_verdict(rule, std::int64_t{0}, t, std::int64_t{1'000'005}) == CheckoutVerdict::use);
}

TEST_CASE("without pre_ping a connection not expired is used unchecked, reading no time", "[pool][checkout_rule]") {
  Times t{0, 0};
  CHECK(checkout_verdict(CheckoutRule<std::int64_t>{false, 10, 100}, std::int64_t{0}, t, std::int64_t{1'000'000}) ==
        CheckoutVerdict::use);
  CHECK(t.acquired_reads == 0);
  CHECK(t.returned_reads == 0);
}

TEST_CASE("a connection checked out less than the grace ago is used unchecked", "[pool][checkout_rule]") {
  Times t{1000, 1005};
  CHECK(checkout_verdict(rule, std::int64_t{0}, t, std::int64_t{1009}) == CheckoutVerdict::use);
  CHECK(t.returned_reads == 0);  // the idle time is not even looked at
  // At the grace exactly: checked.
  CHECK(checkout_verdict(rule, std::int64_t{0}, t, std::int64_t{1010}) == CheckoutVerdict::needs_alive);
}

TEST_CASE("past the grace, a short idle gets the alive check and a long one a ping too", "[pool][checkout_rule]") {
  Times t{1000, 1000};
  CHECK(checkout_verdict(rule, std::int64_t{0}, t, std::int64_t{1099}) == CheckoutVerdict::needs_alive);
  CHECK(checkout_verdict(rule, std::int64_t{0}, t, std::int64_t{1100}) == CheckoutVerdict::needs_ping);
  // Held long, returned a moment ago: the grace counts from the checkout, the window from the return.
  Times held_long{1000, 5000};
  CHECK(checkout_verdict(rule, std::int64_t{0}, held_long, std::int64_t{5001}) == CheckoutVerdict::needs_alive);
}

TEST_CASE("the rule in ticks bounds the grace by the window", "[pool][checkout_rule]") {
  db::PoolOptions o;
  o.pre_ping_window = std::chrono::duration<double>(0.5);
  o.pre_ping_grace = std::chrono::duration<double>(2.0);
  const auto r = CheckoutRule<std::int64_t>::from<Ms>(o);
  CHECK(r.pre_ping);
  CHECK(r.window == 500);
  CHECK(r.grace == 500);
  o.pre_ping_window = std::chrono::duration<double>(0);
  CHECK(CheckoutRule<std::int64_t>::from<Ms>(o).grace == 0);  // window 0: every checkout is checked
}
