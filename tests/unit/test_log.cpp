#include "../support/capture_logger.hpp"
#include "../support/stub_backend.hpp"

#include <appinfra/db.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/log.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <type_traits>

#include <unistd.h>

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
  db::detail::log_at(lg, log::Level::debug, "{}", [&] { return ++formatted; }());
  db::detail::log_at(lg, log::Level::info, "visible {}", 1);
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

TEST_CASE("the default sink writes one line to stderr: UTC time to the millisecond, level, name, message") {
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  std::fflush(stderr);
  // A time zone far from UTC (a POSIX TZ, no tzdata needed): local time would show.
  const char* tz = std::getenv("TZ");
  const std::string saved_tz = tz != nullptr ? tz : "";
  ::setenv("TZ", "JST-9", 1);
  ::tzset();
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(::fileno(tmp), STDERR_FILENO);
  const auto before = std::chrono::system_clock::now();
  log::Logger(log::Level::info, "svc").write(log::Level::warning, "disk almost full");
  const auto after = std::chrono::system_clock::now();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  if (tz != nullptr) ::setenv("TZ", saved_tz.c_str(), 1);
  else ::unsetenv("TZ");
  ::tzset();
  std::rewind(tmp);
  char buf[256] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, tmp);
  std::fclose(tmp);
  const std::string line(buf, n);
  INFO(line);
  std::tm t{};
  int ms = -1;
  char rest[128] = {};
  REQUIRE(std::sscanf(line.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %127[^\n]", &t.tm_year, &t.tm_mon, &t.tm_mday,
                      &t.tm_hour, &t.tm_min, &t.tm_sec, &ms, rest) == 8);
  CHECK(line.size() == std::string_view("2026-11-27T12:00:00.000Z warning  svc: disk almost full\n").size());
  CHECK(std::string_view(rest) == "warning  svc: disk almost full");
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  const auto stamp = std::chrono::system_clock::from_time_t(::timegm(&t)) + std::chrono::milliseconds(ms);
  CHECK(stamp >= std::chrono::floor<std::chrono::milliseconds>(before));
  CHECK(stamp <= after);
}

TEST_CASE("control characters are escaped before any sink sees them, so a record is always one line") {
  CHECK(log::escape_control("a\nb\r\tc") == "a\\nb\\r\\tc");
  CHECK(log::escape_control(std::string("x\0y\x1b[2J\x7f", 8)) == "x\\x00y\\x1b[2J\\x7f");
  CHECK(log::escape_control("caf\xc3\xa9 C:\\path") == "caf\xc3\xa9 C:\\path");  // UTF-8 and backslashes kept

  auto [lg, cap] = test::capture_logger(log::Level::info);
  lg.child("orders\n2026-01-01T00:00:00.000Z info     root").write(
      log::Level::warning, "database 'orders\n2026-01-01T00:00:00.000Z critical root: forged': failed");
  REQUIRE(cap->lines.size() == 1);
  CHECK(cap->lines[0].find('\n') == std::string::npos);
  CHECK_THAT(cap->lines[0], Contains("orders\\n2026") && Contains("'orders\\n2026-01-01T00:00:00.000Z critical"));

  // The stderr sink: one line, the same escaping.
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(::fileno(tmp), STDERR_FILENO);
  log::Logger(log::Level::info, "svc\r").write(log::Level::error, "first\nsecond\0third");
  log::Logger(log::Level::info, "svc").write(log::Level::error, std::string_view("first\nsecond\0third", 18));
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::rewind(tmp);
  char buf[512] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, tmp);
  std::fclose(tmp);
  const std::string out(buf, n);
  INFO(out);
  CHECK(std::count(out.begin(), out.end(), '\n') == 2);
  CHECK_THAT(out, Contains("svc\\r: first\\nsecond\n") && Contains("svc: first\\nsecond\\x00third\n"));
}

TEST_CASE("a database name with a newline cannot forge a log line in setup's error") {
  auto [lg, cap] = test::capture_logger(log::Level::info);
  const std::string name = "x\n2026-01-01T00:00:00.000Z critical root: all is well";
  db::Manager<test::StubBackend<>> m(lg, {{name, {{"url", "stub://ok/x"}, {"pool_size", 0}}}});
  CHECK_THROWS(m.setup());
  const std::string all = cap->all();
  INFO(all);
  CHECK(std::count(all.begin(), all.end(), '\n') == static_cast<long>(cap->lines.size()));
  CHECK_THAT(all, Contains("failed to setup database 'x\\n2026-01-01T00:00:00.000Z critical root: all is well'"));
}
