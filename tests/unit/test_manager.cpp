#include "../support/capture_logger.hpp"
#include "../support/stub_backend.hpp"

#include <appinfra/db.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;
using test::StubBackend;
using Manager = db::Manager<StubBackend<>, StubBackend<db::ReadOnly>>;

namespace {
db::Options stub(const std::string& name, const char* host = "ok") {
  test::stub_control(name, true);
  return {{"url", std::string("stub://") + host + "/" + name}, {"max_retries", 0}};
}

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// A stub database whose server refuses connections until the test switches
// fail_open off, retried in the background every 10 ms doubling up to `cap` s.
db::Options down_at_start(const std::string& name, double cap = 0.05) {
  test::stub_control(name, true)->fail_open = true;
  return {{"url", "stub://ok/" + name},
          {"max_retries", 0},
          {"retry_delay", 0.01},
          {"setup_retry_max_interval", cap}};
}

// Polls `f` every millisecond until it is true or `limit` passes; how long it took.
template <class F>
Seconds time_until(F f, Seconds limit) {
  const auto start = Clock::now();
  while (!f() && Clock::now() - start < limit) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Clock::now() - start;
}

bool available(const Manager& m, const std::string& name) {
  for (const auto& n : m.list_databases())
    if (n == name) return true;
  return false;
}
}  // namespace

TEST_CASE("setup() builds every configured database, in configuration order") {
  auto [lg, cap] = test::capture_logger();
  Manager m(lg, {{"b", stub("b")}, {"a", stub("a")}});
  m.setup();
  CHECK(m.list_databases() == std::vector<std::string>{"b", "a"});
  CHECK(m.get_setup_errors().empty());
  const auto st = m.get_stats();
  CHECK(st.total_configured == 2);
  CHECK(st.successful_setups == 2);
  CHECK(st.failed_setups == 0);
  CHECK(st.available_databases == std::vector<std::string>{"b", "a"});
  CHECK(st.failed_databases.empty());
}

TEST_CASE("setup() goes on past a database that fails and records its error") {
  auto [lg, cap] = test::capture_logger();
  Manager m(lg, {{"down", stub("down", "down")}, {"up", stub("up")}});
  m.setup();
  CHECK(m.list_databases() == std::vector<std::string>{"up"});
  const auto errors = m.get_setup_errors();
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors.at("down"), Contains("stub refuses to connect"));
  const auto st = m.get_stats();
  CHECK(st.successful_setups == 1);
  CHECK(st.failed_setups == 1);
  CHECK(st.failed_databases == std::vector<std::string>{"down"});
  CHECK(cap->contains("failed to setup database 'down'"));
  CHECK(cap->contains("set up 1 of 2 databases"));
}

TEST_CASE("setup() throws only when no database could be set up and none is retried") {
  auto [lg, cap] = test::capture_logger();
  auto x = stub("x", "down");
  x.set("setup_retry", false);
  Manager m(lg, {{"x", x}, {"y", {{"url", "mysql://h/db"}}}});
  try {
    m.setup();
    FAIL("expected SetupError");
  } catch (const db::SetupError& e) {
    CHECK_THAT(e.what(), Contains("Failed to setup any database connections") && Contains("'x'") &&
                             Contains("'y'"));
  }
  CHECK(m.get_stats().failed_setups == 2);
}

TEST_CASE("setup() with no databases configured is an error") {
  Manager m(log::Logger(), {});
  CHECK_THROWS_WITH(m.setup(), Contains("no databases configured"));
}

TEST_CASE("an unknown url scheme is an UnknownDBTypeException, recorded for that database only") {
  auto [lg, cap] = test::capture_logger();
  Manager m(lg, {{"legacy", {{"url", "mysql://root:topsecret@h/db"}}}, {"ok", stub("ok")}});
  m.setup();
  const std::string err = m.get_setup_errors().at("legacy");
  CHECK_THAT(err, Contains("unknown database type 'mysql'") && Contains("stub") && !Contains("topsecret"));
  try {
    (void)m.db("legacy");
    FAIL("expected SetupError");
  } catch (const db::SetupError& e) {
    CHECK_THAT(e.what(), Contains("Database 'legacy' setup failed") && Contains("mysql"));
    CHECK_THROWS_AS(std::rethrow_if_nested(e), db::UnknownDBTypeException);
  }
  CHECK_FALSE(cap->contains("topsecret"));
}

TEST_CASE("a bad option is recorded with the database, key and value") {
  Manager m(log::Logger(log::Level::off), {{"bad", {{"url", "stub://ok/bad"}, {"pool_size", 0}}}, {"ok", stub("ok")}});
  m.setup();
  CHECK_THAT(m.get_setup_errors().at("bad"), Contains("'bad'") && Contains("'pool_size'") && Contains("0"));
}

TEST_CASE("db() before setup() says to call setup() first") {
  Manager m(log::Logger(log::Level::off), {{"a", stub("a")}});
  CHECK_THROWS_AS(m.db("a"), db::UsageError);
  CHECK_THROWS_WITH(m.db("a"), Contains("Database 'a'") && Contains("call setup() first"));
  CHECK_THROWS_WITH(m.db("nope"), Contains("call setup() first"));
  m.setup();
  CHECK(m.db("a").name() == "a");
}

TEST_CASE("db() on an unknown name names it") {
  Manager m(log::Logger(log::Level::off), {{"a", stub("a")}});
  m.setup();
  CHECK_THROWS_AS(m.db("nope"), db::NotFoundError);
  CHECK_THROWS_WITH(m.db("nope"), "Database connection 'nope' not found");
}

TEST_CASE("readonly: true picks the backend instantiated with ReadOnly") {
  Manager m(log::Logger(log::Level::off), {{"rw", stub("rw")}, {"ro", [] {
                                              auto o = stub("ro");
                                              o.set("readonly", true);
                                              return o;
                                            }()}});
  m.setup();
  CHECK(m.db("rw").holds<StubBackend<>>());
  CHECK(m.db("ro").holds<StubBackend<db::ReadOnly>>());
  CHECK_THROWS_AS(m.db("ro").get<StubBackend<>>(), db::Error);
  CHECK(m.db("ro").get<StubBackend<db::ReadOnly>>().name() == "ro");
}

TEST_CASE("readonly: true without a read-only backend in the Manager is a clear error") {
  db::Manager<StubBackend<>> m(log::Logger(log::Level::off), {{"ro", {{"url", "stub://ok/ro"}, {"readonly", true}}},
                                                              {"rw", stub("rw")}});
  m.setup();
  CHECK_THAT(m.get_setup_errors().at("ro"), Contains("'readonly'") && Contains("no read-only backend"));
}

TEST_CASE("connect() hands out a pooled connection that goes back when destroyed") {
  Manager m(log::Logger(log::Level::off), {{"a", stub("a")}});
  m.setup();
  auto& d = m.db("a");
  {
    auto c = d.connect();
    CHECK(c.execute("SELECT 1").scalar<int>() == 1);
    CHECK(d.get_pool_status().checked_out == 1);
  }
  CHECK(d.get_pool_status().checked_out == 0);
  CHECK(d.get_pool_status().checked_in == 1);
}

TEST_CASE("a session rolls back unless committed") {
  Manager m(log::Logger(log::Level::off), {{"s", stub("s")}});
  m.setup();
  auto ctl = test::stub_control("s");
  {
    auto s = m.db("s").session();
    s.execute("INSERT");
  }
  CHECK(ctl->rollbacks == 1);
  CHECK(ctl->commits == 0);
  {
    auto s = m.db("s").session();
    s.execute("INSERT");
    s.commit();
  }
  CHECK(ctl->commits == 1);
  CHECK(ctl->rollbacks == 1);
}

TEST_CASE("health_check() reports every database, failed ones unhealthy with their error") {
  Manager m(log::Logger(log::Level::off), {{"up", stub("up")}, {"down", stub("down", "down")}});
  m.setup();
  const auto h = m.health_check();
  REQUIRE(h.size() == 2);
  CHECK(h.at("up").healthy());
  CHECK(h.at("up").error.empty());
  CHECK_FALSE(h.at("down").healthy());
  CHECK_THAT(h.at("down").error, Contains("refuses to connect"));
  CHECK(test::stub_control("up")->statements >= 1);  // a real round trip
}

TEST_CASE("health_check(name) checks one; an unknown name gives an empty result") {
  Manager m(log::Logger(log::Level::off), {{"up", stub("up")}, {"other", stub("other")}});
  m.setup();
  CHECK(m.health_check("up").size() == 1);
  CHECK(m.health_check("nope").empty());
}

TEST_CASE("health_check() reports a database that stops answering as unhealthy") {
  Manager m(log::Logger(log::Level::off), {{"flaky", stub("flaky")}});
  m.setup();
  test::stub_control("flaky")->fail_query = true;
  const auto r = m.health_check("flaky").at("flaky");
  CHECK_FALSE(r.healthy());
  CHECK_THAT(r.error, Contains("stub query failed"));
}

TEST_CASE("close_all() closes every pool, is safe twice, and keeps setup errors") {
  auto [lg, cap] = test::capture_logger();
  Manager m(lg, {{"a", stub("a")}, {"down", stub("down", "down")}});
  m.setup();
  auto ctl = test::stub_control("a");
  m.close_all();
  CHECK(ctl->closed == ctl->opened);
  m.close_all();
  CHECK(m.list_databases().empty());
  CHECK(m.get_setup_errors().size() == 1);
  CHECK_THROWS_AS(m.db("a"), db::ClosedError);
}

TEST_CASE("the destructor closes everything") {
  auto ctl = test::stub_control("d", true);
  {
    Manager m(log::Logger(log::Level::off), {{"d", {{"url", "stub://ok/d"}}}});
    m.setup();
    auto c = m.db("d").connect();
    CHECK(ctl->opened == 1);
  }
  CHECK(ctl->closed == 1);
}

TEST_CASE("setup() twice is a usage error") {
  Manager m(log::Logger(log::Level::off), {{"a", stub("a")}});
  m.setup();
  CHECK_THROWS_AS(m.setup(), db::UsageError);
}

TEST_CASE("the Manager works with the null logger") {
  db::Manager<StubBackend<db::ReadWrite, log::NullLogger>> m(log::NullLogger{}, {{"n", stub("n")}});
  m.setup();
  CHECK(m.db("n").connect().execute("x").size() == 1);
}

// ---- A database that was down at setup() recovers without a new Manager ----

TEST_CASE("which setup failures may pass by themselves, and are retried") {
  using db::detail::setup_failure_may_pass;
  CHECK(setup_failure_may_pass(std::make_exception_ptr(db::ConnectionError("refused"))));
  CHECK(setup_failure_may_pass(std::make_exception_ptr(db::ConnectionError("starting", "57P03"))));
  CHECK(setup_failure_may_pass(std::make_exception_ptr(db::ReadOnlyServerError("a standby"))));
  CHECK(setup_failure_may_pass(std::make_exception_ptr(db::PoolTimeoutError("no answer"))));
  CHECK_FALSE(setup_failure_may_pass(std::make_exception_ptr(db::ConfigError("a", "pool_size", "0", "bad"))));
  CHECK_FALSE(setup_failure_may_pass(std::make_exception_ptr(db::UnknownDBTypeException("a", "url", "'x'", "x"))));
  CHECK_FALSE(setup_failure_may_pass(std::make_exception_ptr(db::QueryError("syntax", "42601"))));
  CHECK_FALSE(setup_failure_may_pass(std::make_exception_ptr(std::runtime_error("other"))));
  CHECK_FALSE(setup_failure_may_pass(std::make_exception_ptr(42)));
  CHECK_FALSE(setup_failure_may_pass(nullptr));
}

TEST_CASE("the setup retry interval doubles from retry_delay, jittered, never above its cap") {
  using db::detail::setup_retry_interval;
  const auto c = db::DatabaseConfig::from("a", {{"url", "stub://ok/a"}, {"retry_delay", 0.5}});
  CHECK(setup_retry_interval(c, 0, 0.0).count() == Approx(0.25));  // jitter: half to all of the step
  CHECK(setup_retry_interval(c, 0, 1.0).count() == Approx(0.5));
  CHECK(setup_retry_interval(c, 1, 1.0).count() == Approx(1.0));
  CHECK(setup_retry_interval(c, 2, 1.0).count() == Approx(2.0));  // the default cap, 2 s
  CHECK(setup_retry_interval(c, 3, 1.0).count() == Approx(2.0));
  CHECK(setup_retry_interval(c, 1000, 0.99).count() <= 2.0);
  const auto zero = db::DatabaseConfig::from("a", {{"url", "stub://ok/a"}, {"retry_delay", 0}});
  CHECK(setup_retry_interval(zero, 0, 1.0).count() == Approx(0.01));  // retry_delay 0 does not spin
  const auto capped = db::DatabaseConfig::from("a", {{"url", "stub://ok/a"}, {"setup_retry_max_interval", 0.3}});
  CHECK(setup_retry_interval(capped, 0, 1.0).count() == Approx(0.3));
}

TEST_CASE("a database down at setup() becomes available once its server is up, with the same Manager") {
  auto [lg, cap] = test::capture_logger();
  const double interval = 0.05;
  Manager m(lg, {{"late", down_at_start("late", interval)}, {"up", stub("up")}});
  m.setup();
  CHECK(m.list_databases() == std::vector<std::string>{"up"});
  CHECK_THAT(m.get_setup_errors().at("late"), Contains("stub refuses to connect"));
  CHECK(cap->contains("retrying in the background"));
  try {
    (void)m.db("late");
    FAIL("expected SetupError");
  } catch (const db::SetupError& e) {
    CHECK_THAT(e.what(), Contains("Database 'late' setup failed") && Contains("stub refuses to connect") &&
                             Contains("retrying"));
    CHECK_THROWS_AS(std::rethrow_if_nested(e), db::ConnectionError);
  }
  const auto h = m.health_check("late").at("late");
  CHECK_FALSE(h.healthy());
  CHECK_THAT(h.error, Contains("setup failed: ") && Contains("stub refuses to connect") && Contains("; retrying"));

  // The server comes up: the database is available within one interval (plus margin).
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // a few attempts fail first
  test::stub_control("late")->fail_open = false;
  const Seconds took = time_until([&] { return available(m, "late"); }, Seconds(5));
  CHECK(took.count() < interval + 0.5);
  REQUIRE(available(m, "late"));
  CHECK(m.db("late").connect().execute("SELECT 1").size() == 1);
  CHECK(m.get_setup_errors().empty());
  CHECK(m.health_check("late").at("late").healthy());
  CHECK(cap->contains("database 'late' is set up and available"));
}

TEST_CASE("get_stats() keeps its five keys: a retried database counts as failed until it is up") {
  Manager m(log::Logger(log::Level::off), {{"late", down_at_start("late")}, {"up", stub("up")}});
  m.setup();
  // Exactly five members: this binding does not compile otherwise.
  auto [total, ok, failed, available_dbs, failed_dbs] = m.get_stats();
  CHECK(total == 2);
  CHECK(ok == 1);
  CHECK(failed == 1);
  CHECK(available_dbs == std::vector<std::string>{"up"});
  CHECK(failed_dbs == std::vector<std::string>{"late"});

  test::stub_control("late")->fail_open = false;
  REQUIRE(time_until([&] { return available(m, "late"); }, Seconds(5)) < Seconds(5));
  const auto after = m.get_stats();
  CHECK(after.total_configured == 2);
  CHECK(after.successful_setups == 2);
  CHECK(after.failed_setups == 0);
  CHECK(after.available_databases == std::vector<std::string>{"late", "up"});
  CHECK(after.failed_databases.empty());
}

TEST_CASE("setup() does not throw when every database failed but one is being retried") {
  auto [lg, cap] = test::capture_logger();
  Manager m(lg, {{"only", down_at_start("only")}, {"legacy", {{"url", "mysql://h/db"}}}});
  CHECK_NOTHROW(m.setup());
  CHECK(m.list_databases().empty());
  CHECK(cap->contains("no database is available yet"));
  CHECK(cap->contains("1 retried in the background"));
  CHECK_THROWS_WITH(m.db("only"), Contains("retrying"));
  test::stub_control("only")->fail_open = false;
  CHECK(time_until([&] { return available(m, "only"); }, Seconds(5)) < Seconds(5));
  CHECK(m.db("only").connect().execute("x").size() == 1);
}

TEST_CASE("a configuration error is never retried") {
  auto [lg, cap] = test::capture_logger();
  Manager m(lg, {{"bad", {{"url", "stub://ok/bad"}, {"pool_size", 0}}},
                 {"legacy", {{"url", "mysql://h/db"}}},
                 {"late", down_at_start("late")}});
  m.setup();
  for (const char* name : {"bad", "legacy"}) {
    CHECK_THAT(m.health_check(name).at(name).error, !Contains("retrying"));
    CHECK_THROWS_WITH(m.db(name), !Contains("retrying"));
  }
  CHECK_THAT(m.health_check("late").at("late").error, Contains("retrying"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(m.get_stats().failed_setups == 3);
  CHECK_FALSE(cap->contains("failed to setup database 'bad': database 'bad': key 'pool_size' has invalid value 0; retrying"));

  // Nothing retryable failed: setup() throws, as before.
  Manager only_config(log::Logger(log::Level::off), {{"bad", {{"url", "stub://ok/bad"}, {"pool_size", 0}}}});
  CHECK_THROWS_AS(only_config.setup(), db::SetupError);
}

TEST_CASE("setup_retry: false keeps the fail-fast behaviour") {
  auto ff = down_at_start("ff");
  ff.set("setup_retry", false);
  Manager m(log::Logger(log::Level::off), {{"ff", ff}, {"up", stub("up")}});
  m.setup();
  CHECK_THAT(m.health_check("ff").at("ff").error, Contains("stub refuses to connect") && !Contains("retrying"));
  test::stub_control("ff")->fail_open = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(m.list_databases() == std::vector<std::string>{"up"});
  CHECK(test::stub_control("ff")->opened == 0);
  CHECK_THROWS_AS(m.db("ff"), db::SetupError);
  CHECK_THROWS_WITH(m.db("ff"), !Contains("retrying"));

  auto alone = down_at_start("alone");
  alone.set("setup_retry", false);
  Manager fails(log::Logger(log::Level::off), {{"alone", alone}});
  CHECK_THROWS_WITH(fails.setup(), Contains("Failed to setup any database connections"));
}

TEST_CASE("health_check() says when the next attempt is, counting attempts") {
  Manager m(log::Logger(log::Level::off), {{"late", down_at_start("late", 0.4)}});
  m.setup();
  // retry_delay 10 ms doubling to the 0.4 s cap: after 0.3 s, several attempts were made.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string e = m.health_check("late").at("late").error;
  CHECK_THAT(e, Contains("; retrying, "));
  CHECK_THAT(e, Contains("next attempt in") || Contains("under way"));
  CHECK_THAT(e, !Contains("(attempt 2)") && !Contains("attempt 2 under way"));
}

TEST_CASE("close_all() stops the background retry at once, whatever the interval") {
  Manager m(log::Logger(log::Level::off), {{"late", [] {
                                              auto o = down_at_start("late", 60);
                                              o.set("retry_delay", 30);
                                              return o;
                                            }()},
                                           {"up", stub("up")}});
  m.setup();
  const auto start = Clock::now();
  m.close_all();
  CHECK(Clock::now() - start < std::chrono::milliseconds(500));
  test::stub_control("late")->fail_open = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(test::stub_control("late")->opened == 0);
  CHECK_THROWS_AS(m.db("late"), db::SetupError);
  CHECK_THROWS_WITH(m.db("late"), !Contains("retrying"));
  CHECK_THAT(m.health_check("late").at("late").error, !Contains("retrying"));
}

TEST_CASE("the destructor stops the background retry at once") {
  const auto start = Clock::now();
  {
    Manager m(log::Logger(log::Level::off), {{"late", [] {
                                                auto o = down_at_start("late", 60);
                                                o.set("retry_delay", 30);
                                                return o;
                                              }()}});
    m.setup();
  }
  CHECK(Clock::now() - start < std::chrono::milliseconds(500));
}

TEST_CASE("callers on other threads see a database come up safely") {
  // Run under TSan: the backend is published by the retry thread while these read.
  Manager m(log::Logger(log::Level::off), {{"late", down_at_start("late", 0.02)}, {"up", stub("up")}});
  m.setup();
  std::atomic<bool> go{true};
  std::atomic<int> used{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      while (go) {
        try {
          auto c = m.db("late").connect();
          (void)c.execute("SELECT 1");
          ++used;
        } catch (const db::SetupError&) {
        }
        (void)m.get_stats();
        (void)m.get_setup_errors();
        (void)m.health_check();
        (void)m.list_databases();
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  test::stub_control("late")->fail_open = false;
  CHECK(time_until([&] { return used.load() > 100; }, Seconds(10)) < Seconds(10));
  go = false;
  for (auto& t : threads) t.join();
  CHECK(m.get_stats().failed_setups == 0);
}

TEST_CASE("a Manager's database forwards deadlines to its backend's connect(), session() and statements") {
  auto opts = stub("dl");
  opts.set("pool_size", 1).set("max_overflow", 0).set("pool_timeout", 30);
  Manager m(log::Logger(log::Level::off), {{"dl", opts}});
  m.setup();
  auto& d = m.db("dl");
  const auto passed = db::Deadline::in(std::chrono::milliseconds(-1));
  const auto canceled = [](auto f) {
    try {
      f();
      FAIL("a statement past its deadline was sent");
    } catch (const db::QueryError& e) {
      CHECK(e.failure() == db::Failure::query_canceled);
    }
  };
  {
    auto c = d.connect(db::Deadline::in(std::chrono::seconds(30)));
    canceled([&] { c.execute(passed, "SELECT 1"); });
    CHECK(c.execute(db::Deadline::in(std::chrono::seconds(1)), "SELECT 1").size() == 1);
    // The one connection is held: a checkout with a deadline gives up at it, not at pool_timeout.
    const auto start = Clock::now();
    CHECK_THROWS_AS(d.session(db::Deadline::in(std::chrono::milliseconds(50))), db::PoolTimeoutError);
    CHECK_THROWS_AS(d.connect(db::Deadline::in(std::chrono::milliseconds(50))), db::PoolTimeoutError);
    CHECK(Clock::now() - start < std::chrono::seconds(5));
  }
  {
    auto s = d.session(db::Deadline::in(std::chrono::milliseconds(50)));
    CHECK_NOTHROW(s.execute("SELECT 1"));
    canceled([&] { s.execute(passed, "SELECT 1"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    canceled([&] { s.execute("SELECT 1"); });  // the session's own deadline
  }
  auto c = d.connect(db::Deadline{});  // none: connect() as before
  CHECK(c.execute("SELECT 1").size() == 1);
}
