#include "../support/stub_backend.hpp"

#include <appinfra/db.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
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

TEST_CASE("db<name>() before setup() says to call setup() first") {
  Service s(log::Logger(log::Level::off), config());
  CHECK_THROWS_AS(s.db<"primary">(), db::UsageError);
  CHECK_THROWS_WITH(s.db<"primary">(), Contains("call setup() first"));
}

TEST_CASE("a declared database down at setup() becomes available once its server is up") {
  test::stub_control("primary", true);
  test::stub_control("replica", true)->fail_open = true;
  Service s(log::Logger(log::Level::off),
            {{"primary", {{"url", "stub://ok/primary"}}},
             {"replica",
              {{"url", "stub://ok/replica"}, {"readonly", true}, {"max_retries", 0}, {"retry_delay", 0.01},
               {"setup_retry_max_interval", 0.05}}}});
  s.setup();
  CHECK_THROWS_AS(s.db<"replica">(), db::SetupError);
  CHECK_THROWS_WITH(s.db<"replica">(), Contains("retrying"));
  CHECK_THAT(s.health_check("replica").at("replica").error, Contains("retrying"));
  CHECK(s.get_stats().failed_databases == std::vector<std::string>{"replica"});

  test::stub_control("replica")->fail_open = false;
  const auto start = std::chrono::steady_clock::now();
  while (s.list_databases().size() < 2 && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(550));
  CHECK(s.db<"replica">().connect().execute("x").size() == 1);
  const auto st = s.get_stats();
  CHECK(st.successful_setups == 2);
  CHECK(st.failed_setups == 0);
  CHECK(s.get_setup_errors().empty());
}

TEST_CASE("an undeclared database is a configuration error, never retried") {
  auto c = config();
  c.add("extra", {{"url", "stub://ok/extra"}});
  Service s(log::Logger(log::Level::off), c);
  s.setup();
  CHECK_THAT(s.health_check("extra").at("extra").error, Contains("not declared") && !Contains("retrying"));
}
