// A database that is down when setup() runs recovers without a new Manager: the
// test starts with its own PostgreSQL cluster stopped (tests/support/pg_cluster.hpp),
// sets the Manager up, starts the server, and uses the database through the same
// Manager.

#include "../../support/capture_logger.hpp"
#include "../../support/pg_cluster.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;

namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// A cluster with the app role, stopped: what a service starting before its database sees.
std::unique_ptr<test::PgCluster> stopped_cluster() {
  auto c = std::make_unique<test::PgCluster>();
  c->start();
  c->create_app_role();
  c->stop("fast");
  return c;
}

}  // namespace

TEST_CASE("a PostgreSQL database down at setup() is usable through the same Manager once the server starts", "[own_server]") {
  auto cluster = stopped_cluster();
  auto [lg, cap] = test::capture_logger(log::Level::info);
  const double interval = 0.5;  // setup_retry_max_interval: the longest wait between attempts
  db::Manager<pg::PG<>> m(lg, {{"late",
                                {{"url", cluster->url()},
                                 {"max_retries", 0},
                                 {"retry_delay", 0.1},
                                 {"setup_retry_max_interval", interval},
                                 {"pool_timeout", 2}}}});
  m.setup();  // the only database failed, but it is retried: setup() does not throw

  CHECK(m.list_databases().empty());
  try {
    (void)m.db("late");
    FAIL("expected SetupError");
  } catch (const db::SetupError& e) {
    CHECK_THAT(e.what(), Contains("Database 'late' setup failed") && Contains("retrying"));
    CHECK_THROWS_AS(std::rethrow_if_nested(e), db::ConnectionError);
  }
  CHECK_THAT(m.health_check("late").at("late").error, Contains("setup failed") && Contains("; retrying"));
  CHECK(m.get_stats().failed_databases == std::vector<std::string>{"late"});

  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the backoff reaches its cap meanwhile
  cluster->start();
  const auto up = Clock::now();
  bool usable = false;
  while (!usable && Clock::now() - up < Seconds(10)) {
    try {
      usable = m.db("late").connect().execute("SELECT 1").scalar<int>() == 1;
    } catch (const db::SetupError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const Seconds took = Clock::now() - up;
  INFO("usable " << took.count() << " s after the server accepted connections");
  CHECK(usable);
  CHECK(took.count() < interval + 1.0);

  const auto st = m.get_stats();
  CHECK(st.successful_setups == 1);
  CHECK(st.failed_setups == 0);
  CHECK(st.available_databases == std::vector<std::string>{"late"});
  CHECK(m.get_setup_errors().empty());
  CHECK(m.health_check("late").at("late").healthy());
  CHECK(cap->contains("database 'late' is set up and available"));
}

TEST_CASE("with setup_retry: false a PostgreSQL database down at setup() stays failed", "[own_server]") {
  auto cluster = stopped_cluster();
  db::Manager<pg::PG<>> m(log::Logger(log::Level::off),
                          {{"late", {{"url", cluster->url()}, {"max_retries", 0}, {"setup_retry", false}}}});
  CHECK_THROWS_WITH(m.setup(), Contains("Failed to setup any database connections"));
  cluster->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(m.list_databases().empty());
  CHECK_THROWS_WITH(m.db("late"), Contains("setup failed") && !Contains("retrying"));
}
