#include "../support/stub_backend.hpp"

#include <appinfra/db.hpp>

#include <catch2/catch.hpp>

#include <type_traits>

using namespace appinfra;
using Catch::Matchers::Contains;
using test::StubBackend;
using Service = db::StaticManager<db::Named<"primary", StubBackend<>>, db::Named<"replica", StubBackend<db::ReadOnly>>>;

namespace {
db::Config config() {
  test::stub_control("primary", true);
  test::stub_control("replica", true);
  return {{"primary", {{"url", "stub://ok/primary"}}}, {"replica", {{"url", "stub://ok/replica"}, {"readonly", true}}}};
}
}  // namespace

TEST_CASE("db<name>() returns the declared backend type") {
  Service s(log::Logger(log::Level::off), config());
  s.setup();
  static_assert(std::is_same_v<decltype(s.db<"primary">()), StubBackend<>&>);
  static_assert(std::is_same_v<decltype(s.db<"replica">()), StubBackend<db::ReadOnly>&>);
  CHECK(s.db<"primary">().name() == "primary");
  CHECK(s.db<"replica">().connect().execute("x").size() == 1);
  CHECK(s.list_databases() == std::vector<std::string>{"primary", "replica"});
}

TEST_CASE("a declared database missing from the configuration is a setup error") {
  test::stub_control("primary", true);
  Service s(log::Logger(log::Level::off), {{"primary", {{"url", "stub://ok/primary"}}}});
  s.setup();
  CHECK_THAT(s.get_setup_errors().at("replica"), Contains("no configuration"));
  CHECK_THROWS_AS(s.db<"replica">(), db::SetupError);
  CHECK(s.get_stats().total_configured == 1);
}

TEST_CASE("a configured database that is not declared is a setup error") {
  auto c = config();
  c.add("extra", {{"url", "stub://ok/extra"}});
  Service s(log::Logger(log::Level::off), c);
  s.setup();
  CHECK_THAT(s.get_setup_errors().at("extra"), Contains("not declared") && Contains("primary, replica"));
  CHECK(s.get_stats().total_configured == 3);
}

TEST_CASE("a url or readonly flag that the declared backend does not accept is a setup error") {
  test::stub_control("replica", true);
  Service s(log::Logger(log::Level::off), {{"primary", {{"url", "sqlite:///:memory:"}}},
                                           {"replica", {{"url", "stub://ok/replica"}, {"readonly", true}}}});
  s.setup();
  CHECK_THAT(s.get_setup_errors().at("primary"), Contains("does not suit its declared backend"));
}

TEST_CASE("the static manager's health, stats and close_all behave like Manager's") {
  Service s(log::Logger(log::Level::off), config());
  s.setup();
  CHECK(s.health_check().size() == 2);
  CHECK(s.health_check("primary").at("primary").healthy());
  CHECK(s.get_stats().successful_setups == 2);
  s.close_all();
  s.close_all();
  CHECK_THROWS_AS(s.db<"primary">(), db::ClosedError);
}
