#include "../support/capture_logger.hpp"
#include "../support/stub_backend.hpp"

#include <appinfra/db.hpp>

#include <catch2/catch.hpp>

using namespace appinfra;
using Catch::Matchers::Contains;
using test::StubBackend;
using Manager = db::Manager<StubBackend<>, StubBackend<db::ReadOnly>>;

namespace {
db::Options stub(const std::string& name, const char* host = "ok") {
  test::stub_control(name, true);
  return {{"url", std::string("stub://") + host + "/" + name}, {"max_retries", 0}};
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

TEST_CASE("setup() throws only when no database could be set up") {
  auto [lg, cap] = test::capture_logger();
  Manager m(lg, {{"x", stub("x", "down")}, {"y", {{"url", "mysql://h/db"}}}});
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
  CHECK(h.at("up").response_time_ms >= 0.0);
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
