// The key declarations and their constexpr checks, and what the configuration
// model adds for later loaders: list values and source positions.
#include <appinfra/db/config.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace appinfra;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using db::detail::check_number;
using db::detail::find_key;
using db::detail::Violation;

namespace {
// The rules hold at compile time, as options fixed in a template argument need.
constexpr const auto& pool_size = *find_key("pool_size");
static_assert(check_number(pool_size, 0)->rule == Violation::below);
static_assert(!check_number(pool_size, 5));
static_assert(check_number(pool_size, 2.5)->rule == Violation::not_integer);
static_assert(check_number(*find_key("pool_timeout"), 0)->rule == Violation::not_above);
static_assert(check_number(*find_key("pool_timeout"), 0.0005)->rule == Violation::below_resolution);
static_assert(check_number(*find_key("pool_recycle_jitter"), 1.5)->bound == 1.0);
static_assert(db::detail::is_choice(*find_key("pool_reuse"), "fifo"));
static_assert(!db::detail::is_choice(*find_key("pool_reuse"), "stack"));
static_assert(db::detail::is_choice(*find_key("query_lg_level"), "WARN"));
static_assert(db::detail::rejected_on(*find_key("schema"), "sqlite"));
static_assert(!db::detail::rejected_on(*find_key("statement_timeout"), "sqlite"));
static_assert(db::detail::check_cross(db::detail::cross_rules[0], 9, 5).has_value());

db::ConfigError rejected(const db::Options& o) {
  try {
    (void)db::DatabaseConfig::from("primary", o);
  } catch (const db::ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  throw;
}
}  // namespace

TEST_CASE("the known keys are listed the core's first, then PostgreSQL's, each in declaration order") {
  std::string list;
  for (const auto& k : db::detail::key_specs) list.append(list.empty() ? "" : ", ").append(k.name);
  CHECK(list ==
        "url, readonly, create_db, pool_size, max_overflow, pool_timeout, pool_recycle, pool_pre_ping, echo, "
        "auto_reconnect, max_retries, retry_delay, query_lg_level, pool_reuse, pool_recycle_jitter, pre_ping_window, "
        "pre_ping_grace, min_idle, lazy_min_idle, idle_timeout, overflow_idle_timeout, handoff_after, hold_warning, "
        "query_log_params, setup_retry, setup_retry_max_interval, prepared_cache_size, statement_timeout, "
        "keepalives, extensions, schema, password_file, prepare_threshold, "
        "replicas, max_replica_lag, replica_check_interval, replica_fallback, pooler");
  CHECK_THAT(rejected({{"url", "sqlite://"}, {"pool_sise", 1}}).what(), Contains("known keys: " + list));
}

TEST_CASE("extensions take a list as well as a comma-separated text") {
  const auto c = db::DatabaseConfig::from(
      "p", {{"url", "postgresql://h/db"}, {"extensions", db::Value::List{"pgcrypto", "uuid-ossp"}}});
  CHECK(c.pg.extensions == std::vector<std::string>{"pgcrypto", "uuid-ossp"});
  const auto e = rejected({{"url", "postgresql://h/db"}, {"extensions", db::Value::List{"pgcrypto", "Bad;DROP"}}});
  CHECK(e.key() == "extensions");
  CHECK(e.value() == "['pgcrypto', 'Bad;DROP']");
  CHECK_THAT(e.what(), Contains("'Bad;DROP' is not a valid extension name"));
  CHECK(rejected({{"url", "sqlite://"}, {"pool_size", db::Value::List{"1"}}}).key() == "pool_size");
  CHECK(rejected({{"url", "postgresql://h/db"}, {"extensions", db::Value::List{std::string("a\0b", 3)}}}).key() ==
        "extensions");
}

TEST_CASE("a value's source position, when known, starts the message about it") {
  db::Value v(0);
  v.set_origin({"config.yaml", 12, 5});
  const auto e = rejected({{"url", "sqlite://"}, {"pool_size", v}});
  CHECK(e.key() == "pool_size");
  CHECK(e.value() == "0");
  CHECK_THAT(e.what(), StartsWith("config.yaml:12:5: database 'primary': key 'pool_size' has invalid value 0"));
  // Without one, the message is as it always was.
  CHECK_THAT(rejected({{"url", "sqlite://"}, {"pool_size", 0}}).what(),
             StartsWith("database 'primary': key 'pool_size' has invalid value 0: must be at least 1"));
}

TEST_CASE("the pool is given no connect retries when auto_reconnect is off") {
  const auto c = db::DatabaseConfig::from("p", {{"url", "sqlite://"}, {"auto_reconnect", false}, {"max_retries", 5}});
  CHECK(c.pool.max_retries == 5);
  CHECK(c.pool_options().max_retries == 0);
  CHECK(db::DatabaseConfig::from("p", {{"url", "sqlite://"}, {"max_retries", 5}}).pool_options().max_retries == 5);
}
