#include <appinfra/db/pool/detail/diagnostics.hpp>
#include <appinfra/db/pool/detail/housekeeping.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <source_location>
#include <string>

using namespace appinfra;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

TEST_CASE("the saturated timeout names the three longest holders, longest first", "[pool][diagnostics]") {
  const auto here = std::source_location::current();
  const std::string holders =
      db::detail::longest_holders({{0, 1.0, here}, {1, 4.0, here}, {2, 3.0, here}, {3, 2.0, here}});
  CHECK_THAT(holders, StartsWith("; #1 held 4.000 s, acquired at "));
  CHECK_THAT(holders,
             Contains("; #2 held 3.000 s") && Contains("; #3 held 2.000 s") && Contains("test_diagnostics.cpp:"));
  CHECK(holders.find("#0 held") == std::string::npos);
  CHECK(holders.find("#2") < holders.find("#3"));
  CHECK(db::detail::longest_holders({}).empty());
  const std::string msg = db::detail::saturated_message("main", " after waiting 30 s", 15, 15, 5, 10, 2, holders);
  CHECK_THAT(msg, StartsWith("database 'main': no connection after waiting 30 s: the pool is saturated: 15 of 15 "
                             "connections checked out (pool_size 5, max_overflow 10), 2 waiting; #1 held"));
}

TEST_CASE("the unreachable timeout counts the attempts and drops the repeated database name", "[pool][diagnostics]") {
  CHECK(db::detail::unreachable_message("main", " after waiting 1 s", 1, "database 'main': connection refused") ==
        "database 'main': no connection after waiting 1 s: the database is unreachable: 1 connection attempt "
        "failed since the last success; last error: connection refused");
  CHECK_THAT(db::detail::unreachable_message("main", "", 3, "boom"), Contains("3 connection attempts failed"));
}

TEST_CASE("the timeout says whether the caller's deadline or pool_timeout ran out", "[pool][diagnostics]") {
  CHECK(db::detail::timeout_cause(false, 0.2, 30) == " after waiting 30 s");
  CHECK(db::detail::timeout_cause(true, 0.25, 30) == ": the deadline passed after waiting 0.250 s (pool_timeout 30 s)");
  CHECK(db::detail::passed_before_message("main", 1.5) ==
        "database 'main': no connection: the deadline had passed 1.500 s before the checkout began");
}

TEST_CASE("hold warnings and late returns name the connection and where it was acquired", "[pool][diagnostics]") {
  const auto here = std::source_location::current();
  CHECK_THAT(db::detail::hold_warning_message("main", 2, 61.04, 60, here),
             StartsWith("database 'main': connection #2 held for 61.0 s (hold_warning 60 s), acquired at ") &&
                 Contains("test_diagnostics.cpp:"));
  CHECK_THAT(db::detail::late_return_message("main", 2, 75.0, here),
             StartsWith("database 'main': connection #2 returned after 75.0 s, acquired at "));
  CHECK_THAT(db::detail::where_text(here), Contains("test_diagnostics.cpp:") && Contains(" in "));
}

TEST_CASE("housekeeping runs every quarter of the shortest period, at most every second", "[pool][housekeeping]") {
  CHECK(db::detail::housekeeping_period({600, 60}) == Approx(1.0));
  CHECK(db::detail::housekeeping_period({2, 60}) == Approx(0.5));
  CHECK(db::detail::housekeeping_period({600, 0.4}) == Approx(0.1));
  CHECK(db::detail::housekeeping_period({-1, -1}) == Approx(1.0));
  CHECK(db::detail::housekeeping_period({-1, 2}) == Approx(0.5));
  CHECK(db::detail::housekeeping_period({600, 60, 0.8}) == Approx(0.2));
  CHECK(db::detail::housekeeping_period({600, 60, -1}) == Approx(1.0));
}

TEST_CASE("a holder is overdue past the limit, unless just taken and not yet stamped", "[pool][housekeeping]") {
  CHECK(db::detail::overdue<std::int64_t>(100, 50, 200, 100));
  CHECK_FALSE(db::detail::overdue<std::int64_t>(100, 50, 199, 100));
  CHECK_FALSE(db::detail::overdue<std::int64_t>(100, 150, 300, 100));  // returned after the stamp: a new holder
  CHECK(db::detail::overdue<std::int64_t>(100, 100, 300, 100));
}
