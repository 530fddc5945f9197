#include "../support/stub_backend.hpp"

#include <appinfra/db.hpp>
#include <appinfra/db/fixed_options.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <type_traits>

using namespace appinfra;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using test::StubBackend;

namespace {
constexpr auto primary_options = db::fixed_options(db::option<"url">("stub://ok/primary"), db::option<"pool_size">(3),
                                                   db::option<"pool_timeout">(2500ms), db::option<"pool_reuse">("fifo"),
                                                   db::option<"pool_recycle_jitter">(0.25));
constexpr auto replica_options = db::fixed_options(db::option<"readonly">(true), db::option<"pool_size">(2));
using Service = db::StaticManager<db::Named<"primary", StubBackend<>, primary_options>,
                                  db::Named<"replica", StubBackend<db::ReadOnly>, replica_options>>;
}  // namespace

TEST_CASE("fixed options are structural values of the configuration's kinds") {
  static_assert(std::is_same_v<decltype(db::option<"pool_size">(3).value), std::int64_t>);
  static_assert(db::option<"pool_timeout">(2s).value.count == 2000);
  static_assert(db::option<"pool_timeout">(db::Milliseconds{15}).value.count == 15);
  static_assert(db::option<"url">("sqlite::memory:").value.view() == "sqlite::memory:");
  static_assert(db::detail::fixed_number(primary_options, "pool_size") == 3.0);
  static_assert(db::detail::fixed_number(primary_options, "pool_timeout") == 2.5);
  static_assert(!db::detail::fixed_number(primary_options, "max_overflow"));
  STATIC_REQUIRE(Service::has_fixed_options);
}

TEST_CASE("a database with a fixed url needs no configuration; its fixed options are used") {
  test::stub_control("primary", true);
  test::stub_control("replica", true);
  Service s(log::Logger(log::Level::off), {{"replica", {{"url", "stub://ok/replica"}}}});
  s.setup();
  CHECK(s.get_setup_errors().empty());
  const db::DatabaseConfig& c = s.db<"primary">().config();
  CHECK(c.pool.pool_size == 3);
  CHECK(c.pool.timeout == std::chrono::duration<double>(2.5));
  CHECK(c.pool.reuse == db::ReuseOrder::fifo);
  CHECK(c.pool.recycle_jitter == 0.25);
  CHECK(c.pool.max_overflow == 10);  // not fixed: the default
  CHECK(s.db<"replica">().config().readonly);
  CHECK(s.db<"replica">().config().pool.pool_size == 2);
}

TEST_CASE("the run-time configuration overrides the keys it names and keeps the other fixed ones") {
  test::stub_control("primary", true);
  test::stub_control("other", true);
  test::stub_control("replica", true);
  Service s(log::Logger(log::Level::off), {{"primary", {{"url", "stub://ok/other"}, {"pool_size", "7"}}},
                                           {"replica", {{"url", "stub://ok/replica"}}}});
  s.setup();
  REQUIRE(s.get_setup_errors().empty());
  const db::DatabaseConfig& c = s.db<"primary">().config();
  CHECK(c.url.text() == "stub://ok/other");
  CHECK(c.pool.pool_size == 7);
  CHECK(c.pool.timeout == std::chrono::duration<double>(2.5));
}

TEST_CASE("an override the rules reject is a setup error naming the database, the key and the value") {
  test::stub_control("primary", true);
  test::stub_control("replica", true);
  Service s(log::Logger(log::Level::off), {{"primary", {{"min_idle", 4}}}, {"replica", {{"url", "stub://ok/replica"}}}});
  s.setup();
  CHECK_THAT(s.get_setup_errors().at("primary"),
             Contains("'min_idle'") && Contains("4") && Contains("must be at most pool_size (3)"));
}

TEST_CASE("a key given twice in the run-time configuration is still reported with fixed options") {
  test::stub_control("replica", true);
  db::Options twice;
  twice.add("pool_size", 1).add("pool_size", 2);
  Service s(log::Logger(log::Level::off), {{"primary", twice}, {"replica", {{"url", "stub://ok/replica"}}}});
  s.setup();
  CHECK_THAT(s.get_setup_errors().at("primary"), Contains("given twice"));
}

TEST_CASE("the compile-time check names the database, the key, the value and the rule") {
  using namespace db::detail;
  constexpr auto zero = db::fixed_options(db::option<"pool_size">(0));
  STATIC_REQUIRE(fixed_violation<"primary", zero, StubBackend<>>().view() ==
                 "database 'primary': key 'pool_size' has invalid value 0: must be at least 1");
  constexpr auto negative = db::fixed_options(db::option<"pool_timeout">(-5ms));
  STATIC_REQUIRE(fixed_violation<"primary", negative, StubBackend<>>().view() ==
                 "database 'primary': key 'pool_timeout' has invalid value -5 ms: must be greater than 0");
  constexpr auto both = db::fixed_options(db::option<"readonly">(true), db::option<"create_db">(true));
  STATIC_REQUIRE(fixed_violation<"r", both, StubBackend<db::ReadOnly>>().view().find("read-only database cannot create itself") !=
                 std::string_view::npos);
  constexpr auto jitter = db::fixed_options(db::option<"pool_recycle_jitter">(1.5));
  STATIC_REQUIRE(fixed_violation<"p", jitter, StubBackend<>>().view() ==
                 "database 'p': key 'pool_recycle_jitter' has invalid value 1.5: must be at most 1");
  constexpr auto reuse = db::fixed_options(db::option<"pool_reuse">("newest"));
  STATIC_REQUIRE(fixed_violation<"p", reuse, StubBackend<>>().view() ==
                 "database 'p': key 'pool_reuse' has invalid value 'newest': expected 'lifo' or 'fifo'");
  constexpr auto seconds_as_int = db::fixed_options(db::option<"pool_timeout">(30));
  STATIC_REQUIRE(fixed_violation<"p", seconds_as_int, StubBackend<>>().view().find("is a duration") !=
                 std::string_view::npos);
  constexpr auto twice = db::fixed_options(db::option<"pool_size">(2), db::option<"pool_size">(3));
  STATIC_REQUIRE(fixed_violation<"p", twice, StubBackend<>>().view().find("fixed twice") != std::string_view::npos);
  constexpr auto access = db::fixed_options(db::option<"readonly">(true));
  STATIC_REQUIRE(fixed_violation<"p", access, StubBackend<>>().view() ==
                 "database 'p': key 'readonly' is true but its declared backend is read-write");
  constexpr auto pooled = db::fixed_options(db::option<"pooler">("transaction"), db::option<"prepare_threshold">(5));
  STATIC_REQUIRE(fixed_violation<"p", pooled, StubBackend<>>().view().starts_with(
      "database 'p': key 'prepare_threshold' is 5 but key 'pooler' is 'transaction': "));
  constexpr auto pooled_off = db::fixed_options(db::option<"pooler">("transaction"), db::option<"prepare_threshold">(0));
  STATIC_REQUIRE(fixed_violation<"p", pooled_off, StubBackend<>>().empty());
  STATIC_REQUIRE(fixed_violation<"p", primary_options, StubBackend<>>().empty());
}

TEST_CASE("a fixed value is rejected in the words the run-time configuration uses for it") {
  using namespace db::detail;
  const auto runtime_message = [](db::Options o) {
    o.set("url", "stub://ok/p");
    try {
      (void)db::DatabaseConfig::from("p", o);
    } catch (const db::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  constexpr auto zero = db::fixed_options(db::option<"pool_size">(0));
  CHECK(fixed_violation<"p", zero, StubBackend<>>().view() == runtime_message({{"pool_size", 0}}));
  constexpr auto reuse = db::fixed_options(db::option<"pool_reuse">("newest"));
  CHECK(fixed_violation<"p", reuse, StubBackend<>>().view() == runtime_message({{"pool_reuse", "newest"}}));
  constexpr auto level = db::fixed_options(db::option<"query_lg_level">("loud"));
  CHECK(fixed_violation<"p", level, StubBackend<>>().view() == runtime_message({{"query_lg_level", "loud"}}));
  constexpr auto idle = db::fixed_options(db::option<"pool_size">(2), db::option<"min_idle">(3));
  CHECK(fixed_violation<"p", idle, StubBackend<>>().view() == runtime_message({{"pool_size", 2}, {"min_idle", 3}}));
  constexpr auto both = db::fixed_options(db::option<"readonly">(true), db::option<"create_db">(true));
  CHECK(fixed_violation<"p", both, StubBackend<db::ReadOnly>>().view() ==
        runtime_message({{"readonly", true}, {"create_db", true}}));
  constexpr auto schema = db::fixed_options(db::option<"schema">("Bad-Name"));
  CHECK_THAT(std::string(fixed_violation<"p", schema, StubBackend<>>().view()), Contains("key 'schema' has invalid value 'Bad-Name'"));
  constexpr auto ok = db::fixed_options(db::option<"query_lg_level">("debug"), db::option<"extensions">("pgcrypto, uuid-ossp"),
                                        db::option<"statement_timeout">(250ms), db::option<"pre_ping_grace">(0ms));
  CHECK(fixed_violation<"p", ok, StubBackend<>>().empty());
}
