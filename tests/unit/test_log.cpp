#include "../support/capture_logger.hpp"

#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/log.hpp>

#include <catch2/catch.hpp>

#include <type_traits>

using namespace appinfra;
using Catch::Matchers::Contains;

TEST_CASE("LogConfig::from_params parses level names and rejects others naming them") {
  CHECK(log::LogConfig::from_params("info").level == log::Level::info);
  CHECK(log::LogConfig::from_params("DEBUG").level == log::Level::debug);
  CHECK(log::LogConfig::from_params("warn").level == log::Level::warning);
  CHECK_THROWS_WITH(log::LogConfig::from_params("loud"), Contains("'loud'") && Contains("info"));
}

TEST_CASE("LoggerFactory::create_root makes a logger at the configured level") {
  const auto lg = log::LoggerFactory::create_root(log::LogConfig::from_params("warning"));
  CHECK_FALSE(lg.enabled(log::Level::info));
  CHECK(lg.enabled(log::Level::warning));
  CHECK(lg.enabled(log::Level::error));
  CHECK_FALSE(lg.enabled(log::Level::off));
}

TEST_CASE("records below the level are neither formatted nor written") {
  auto [lg, cap] = test::capture_logger(log::Level::info);
  int formatted = 0;
  struct Counting {
    int* n;
  };
  db::detail::log(lg, log::Level::debug, "{}", [&] { return ++formatted; }());
  db::detail::log(lg, log::Level::info, "visible {}", 1);
  CHECK(cap->lines.size() == 1);
  CHECK(cap->lines[0] == "info test: visible 1");
}

TEST_CASE("child loggers share the level and the sink") {
  auto [lg, cap] = test::capture_logger(log::Level::info);
  auto child = lg.child("db");
  lg.set_level(log::Level::error);
  CHECK_FALSE(child.enabled(log::Level::info));
  child.write(log::Level::error, "x");
  CHECK(cap->lines.back() == "error test.db: x");
}

TEST_CASE("the null logger is constant-false, so its log statements compile away") {
  static_assert(!log::NullLogger::enabled(log::Level::critical));
  static_assert(std::is_empty_v<log::NullLogger>);
  static_assert(db::Logger<log::NullLogger>);
  static_assert(db::Logger<log::Logger>);
}

TEST_CASE("query logging writes the normalised statement and its duration at the configured level") {
  auto [lg, cap] = test::capture_logger(log::Level::debug);
  db::detail::QueryLog<log::Logger> ql(lg, "primary", log::Level::debug);
  auto r = ql.run("SELECT   1\n\t FROM  t ", [] { return db::Result({"a"}, {std::string("1")}, 0); });
  CHECK(r.size() == 1);
  REQUIRE(cap->lines.size() == 1);
  CHECK_THAT(cap->lines[0], Contains("debug") && Contains("[primary]") && Contains(" ms") && Contains("1 rows") &&
                                Contains("SELECT 1 FROM t"));
}

TEST_CASE("query logging off writes nothing") {
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  db::detail::QueryLog<log::Logger> ql(lg, "primary", log::Level::off);
  (void)ql.run("SELECT 1", [] { return db::Result(); });
  CHECK(cap->lines.empty());
}

TEST_CASE("a failed statement is logged with its error, and the error still reaches the caller") {
  auto [lg, cap] = test::capture_logger(log::Level::info);
  db::detail::QueryLog<log::Logger> ql(lg, "primary", log::Level::info);
  CHECK_THROWS_AS(ql.run("BAD", []() -> db::Result { throw db::QueryError("syntax", "42601"); }), db::QueryError);
  CHECK(cap->contains("failed: BAD: syntax"));
}
