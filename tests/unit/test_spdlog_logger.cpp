// log::SpdlogLogger: records reach a spdlog sink at the mapped level, and the
// Manager's own records go through it. Built only when spdlog is found.
#include "../support/stub_backend.hpp"

#include <appinfra/db.hpp>
#include <appinfra/log/spdlog_logger.hpp>

#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;

static_assert(db::Logger<log::SpdlogLogger>);

namespace {
// A spdlog logger writing "<level>|<name>|<message>" lines to a string stream.
struct Captured {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;

  explicit Captured(spdlog::level::level_enum level = spdlog::level::trace) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    sink->set_pattern("%l|%n|%v");
    logger = std::make_shared<spdlog::logger>("appinfra", sink);
    logger->set_level(level);
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream in(out.str());
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};
}  // namespace

TEST_CASE("SpdlogLogger writes each record to the spdlog sink at the mapped level") {
  Captured c;
  const log::SpdlogLogger lg(c.logger);
  lg.write(log::Level::trace, "t");
  lg.write(log::Level::debug, "d");
  lg.write(log::Level::info, "i");
  lg.write(log::Level::warning, "w");
  lg.write(log::Level::error, "e");
  lg.write(log::Level::critical, "c");
  lg.write(log::Level::off, "never");
  CHECK(c.lines() == std::vector<std::string>{"trace|appinfra|t", "debug|appinfra|d", "info|appinfra|i",
                                              "warning|appinfra|w", "error|appinfra|e", "critical|appinfra|c"});
}

TEST_CASE("SpdlogLogger is enabled exactly where the spdlog logger's level lets a record through") {
  Captured c(spdlog::level::warn);
  const log::SpdlogLogger lg(c.logger);
  CHECK_FALSE(lg.enabled(log::Level::info));
  CHECK(lg.enabled(log::Level::warning));
  CHECK(lg.enabled(log::Level::critical));
  CHECK_FALSE(lg.enabled(log::Level::off));
  // Copies share the spdlog logger: a level set on it is seen by every copy.
  const auto copy = lg;
  c.logger->set_level(spdlog::level::info);
  CHECK(copy.enabled(log::Level::info));
}

TEST_CASE("SpdlogLogger escapes control characters so that a record stays one line") {
  Captured c;
  log::SpdlogLogger(c.logger).write(log::Level::error, "db 'a\nINFO forged'");
  CHECK(c.lines() == std::vector<std::string>{"error|appinfra|db 'a\\nINFO forged'"});
}

TEST_CASE("SpdlogLogger refuses a null spdlog logger") {
  CHECK_THROWS_WITH(log::SpdlogLogger(nullptr), Contains("null"));
}

TEST_CASE("a Manager with SpdlogLogger logs its setup through spdlog, warnings as warnings") {
  test::stub_control("spd_up", true);
  test::stub_control("spd_down", true);
  Captured c(spdlog::level::info);
  db::Manager<test::StubBackend<db::ReadWrite, log::SpdlogLogger>> m(
      log::SpdlogLogger(c.logger), {{"spd_up", {{"url", "stub://ok/spd_up"}, {"max_retries", 0}}},
                                    {"spd_down", {{"url", "stub://down/spd_down"}, {"max_retries", 0}}}});
  m.setup();
  const auto out = c.out.str();
  CHECK_THAT(out, Contains("error|appinfra|failed to setup database 'spd_down'"));
  CHECK_THAT(out, Contains("warning|appinfra|set up 1 of 2 databases"));
}
