// The bad-configuration corpus: configurations a careless or hostile user could
// write, each of which must be rejected by DatabaseConfig::from() with a
// ConfigError naming the database, the key and the value (shortened when long).
// The SQLite-dependent cases (files, open flags) are in
// tests/integration/sqlite/test_bad_sqlite_config.cpp.

#include "../support/bad_config.hpp"

#include <appinfra/db/config.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

using namespace appinfra;
using namespace std::string_literals;
using test::BadConfig;
using test::Raises;

namespace {

const std::string pg = "postgresql://app@db.internal/orders";
const std::string lite = "sqlite:///app.db";
const std::string mb(1 << 20, 'x');  // a 1 MB value
constexpr auto cfg = Raises::config;

std::vector<BadConfig> corpus() {
  return {
      // The url.
      {"no url", "orders", {{"pool_size", 5}}, cfg, "url", ""},
      {"an empty url", "orders", {{"url", ""}}, cfg, "url", "''"},
      {"a url that is a number", "orders", {{"url", 5}}, cfg, "url", "5"},
      {"a url that is a boolean", "orders", {{"url", true}}, cfg, "url", "true"},
      {"a NUL in a PostgreSQL url (drops the sslmode after it)", "orders",
       {{"url", pg + "\0?sslmode=require"s}}, cfg, "url", "orders\\x00?sslmode=require"},
      {"a NUL in a SQLite url (cuts the path)", "cache", {{"url", "sqlite:///app.db\0.bak"s}}, cfg, "url",
       "app.db\\x00.bak"},
      // Unknown keys: the value may be a secret, so it is withheld.
      {"a misspelled key", "orders", {{"url", pg}, {"pool_sise", 3}}, cfg, "pool_sise", ""},
      {"an empty key", "orders", {{"url", pg}, {"", 3}}, cfg, "", "key ''"},
      {"a NUL in a key", "orders", {{"url", pg}, {"pool\0size"s, 3}}, cfg, "pool\\x00size", ""},
      {"a key in upper case", "orders", {{"url", pg}, {"POOL_SIZE", 3}}, cfg, "POOL_SIZE", ""},
      {"a key with a trailing space", "orders", {{"url", pg}, {"pool_size ", 3}}, cfg, "pool_size ", ""},
      {"a key with a newline", "orders", {{"url", pg}, {"pool_size\n", 3}}, cfg, "pool_size\\n", ""},
      {"an unknown key holding a secret", "orders", {{"url", pg}, {"password", "Hunter2Hunter2"}}, cfg, "password",
       "", "Hunter2Hunter2"},
      {"a 1 MB key", "orders", {{"url", pg}, {mb, 1}}, cfg, "", "(1048576 bytes)"},
      // Booleans.
      {"readonly: maybe", "orders", {{"url", pg}, {"readonly", "maybe"}}, cfg, "readonly", "'maybe'"},
      {"readonly: 2", "orders", {{"url", pg}, {"readonly", 2}}, cfg, "readonly", "2"},
      {"readonly: 1.0", "orders", {{"url", pg}, {"readonly", 1.0}}, cfg, "readonly", "1"},
      {"readonly with a NUL", "orders", {{"url", pg}, {"readonly", "true\0x"s}}, cfg, "readonly", "'true\\x00x'"},
      {"create_db: ''", "orders", {{"url", pg}, {"create_db", ""}}, cfg, "create_db", "''"},
      {"pool_pre_ping: nope", "orders", {{"url", pg}, {"pool_pre_ping", "nope"}}, cfg, "pool_pre_ping", "'nope'"},
      {"auto_reconnect: -1", "orders", {{"url", pg}, {"auto_reconnect", -1}}, cfg, "auto_reconnect", "-1"},
      {"echo: loud", "orders", {{"url", pg}, {"echo", "loud"}}, cfg, "echo", "'loud'"},
      {"setup_retry: sometimes", "orders", {{"url", pg}, {"setup_retry", "sometimes"}}, cfg, "setup_retry",
       "'sometimes'"},
      {"lazy_min_idle: y", "orders", {{"url", pg}, {"lazy_min_idle", "y"}}, cfg, "lazy_min_idle", "'y'"},
      {"keepalives: enable", "orders", {{"url", pg}, {"keepalives", "enable"}}, cfg, "keepalives", "'enable'"},
      {"query_log_params: 3", "orders", {{"url", pg}, {"query_log_params", 3}}, cfg, "query_log_params", "3"},
      // Integers.
      {"pool_size: 0", "orders", {{"url", pg}, {"pool_size", 0}}, cfg, "pool_size", "0"},
      {"pool_size: -1", "orders", {{"url", pg}, {"pool_size", -1}}, cfg, "pool_size", "-1"},
      {"pool_size: ten", "orders", {{"url", pg}, {"pool_size", "ten"}}, cfg, "pool_size", "'ten'"},
      {"pool_size: 2.5", "orders", {{"url", pg}, {"pool_size", 2.5}}, cfg, "pool_size", "2.5"},
      {"pool_size: ''", "orders", {{"url", pg}, {"pool_size", ""}}, cfg, "pool_size", "''"},
      {"pool_size with a trailing space", "orders", {{"url", pg}, {"pool_size", "5 "}}, cfg, "pool_size", "'5 '"},
      {"pool_size: 1000001", "orders", {{"url", pg}, {"pool_size", 1000001}}, cfg, "pool_size", "1000001"},
      {"pool_size: UINT64_MAX", "orders", {{"url", pg}, {"pool_size", std::numeric_limits<std::uint64_t>::max()}},
       cfg, "pool_size", "1.8446744073709552e+19"},
      {"pool_size: true", "orders", {{"url", pg}, {"pool_size", true}}, cfg, "pool_size", "true"},
      {"pool_size: 0x10", "orders", {{"url", pg}, {"pool_size", "0x10"}}, cfg, "pool_size", "'0x10'"},
      {"pool_size with a NUL", "orders", {{"url", pg}, {"pool_size", "7\0"s}}, cfg, "pool_size", "'7\\x00'"},
      {"max_overflow: -1", "orders", {{"url", pg}, {"max_overflow", -1}}, cfg, "max_overflow", "-1"},
      {"max_overflow: many", "orders", {{"url", pg}, {"max_overflow", "many"}}, cfg, "max_overflow", "'many'"},
      {"max_retries: -1", "orders", {{"url", pg}, {"max_retries", -1}}, cfg, "max_retries", "-1"},
      {"max_retries: 10000000", "orders", {{"url", pg}, {"max_retries", 10000000}}, cfg, "max_retries", "10000000"},
      {"min_idle above pool_size", "orders", {{"url", pg}, {"min_idle", 9}}, cfg, "min_idle", "9"},
      {"min_idle: -1", "orders", {{"url", pg}, {"min_idle", -1}}, cfg, "min_idle", "-1"},
      // Durations.
      {"pool_timeout: 0", "orders", {{"url", pg}, {"pool_timeout", 0}}, cfg, "pool_timeout", "0"},
      {"pool_timeout: -3", "orders", {{"url", pg}, {"pool_timeout", -3}}, cfg, "pool_timeout", "-3"},
      {"pool_timeout: inf", "orders", {{"url", pg}, {"pool_timeout", "inf"}}, cfg, "pool_timeout", "'inf'"},
      {"pool_timeout: nan", "orders", {{"url", pg}, {"pool_timeout", "nan"}}, cfg, "pool_timeout", "'nan'"},
      {"pool_timeout below 1 ms (a SQLite busy timeout of 0)", "orders", {{"url", lite}, {"pool_timeout", 0.0005}},
       cfg, "pool_timeout", "0.0005"},
      {"pool_timeout: 30s", "orders", {{"url", pg}, {"pool_timeout", "30s"}}, cfg, "pool_timeout", "'30s'"},
      {"pool_timeout: true", "orders", {{"url", pg}, {"pool_timeout", true}}, cfg, "pool_timeout", "true"},
      {"pool_recycle: -2", "orders", {{"url", pg}, {"pool_recycle", -2}}, cfg, "pool_recycle", "-2"},
      {"pool_recycle: 1e300", "orders", {{"url", pg}, {"pool_recycle", 1e300}}, cfg, "pool_recycle", "1e+300"},
      {"pool_recycle below 1 ms", "orders", {{"url", pg}, {"pool_recycle", 0.0001}}, cfg, "pool_recycle", "0.0001"},
      {"retry_delay: -1", "orders", {{"url", pg}, {"retry_delay", -1}}, cfg, "retry_delay", "-1"},
      {"retry_delay below 1 ms", "orders", {{"url", pg}, {"retry_delay", 0.0002}}, cfg, "retry_delay", "0.0002"},
      {"retry_delay: 1 second", "orders", {{"url", pg}, {"retry_delay", "1 second"}}, cfg, "retry_delay",
       "'1 second'"},
      {"setup_retry_max_interval: 0", "orders", {{"url", pg}, {"setup_retry_max_interval", 0}}, cfg,
       "setup_retry_max_interval", "0"},
      {"setup_retry_max_interval below 1 ms", "orders", {{"url", pg}, {"setup_retry_max_interval", 0.0009}}, cfg,
       "setup_retry_max_interval", "0.0009"},
      {"pre_ping_window: -0.5", "orders", {{"url", pg}, {"pre_ping_window", -0.5}}, cfg, "pre_ping_window", "-0.5"},
      {"pre_ping_window below 1 ms", "orders", {{"url", pg}, {"pre_ping_window", 0.0001}}, cfg, "pre_ping_window",
       "0.0001"},
      {"pre_ping_grace past pre_ping_window", "orders", {{"url", pg}, {"pre_ping_window", 0.5}, {"pre_ping_grace", 2}},
       cfg, "pre_ping_grace", "2"},
      {"pre_ping_grace below 1 ms", "orders", {{"url", pg}, {"pre_ping_grace", 0.00001}}, cfg, "pre_ping_grace",
       "1e-05"},
      {"idle_timeout: 1e10", "orders", {{"url", pg}, {"idle_timeout", 1e10}}, cfg, "idle_timeout", "10000000000"},
      {"idle_timeout: -5", "orders", {{"url", pg}, {"idle_timeout", -5}}, cfg, "idle_timeout", "-5"},
      {"idle_timeout below 1 ms", "orders", {{"url", pg}, {"idle_timeout", 0.0004}}, cfg, "idle_timeout", "0.0004"},
      {"hold_warning: -2", "orders", {{"url", pg}, {"hold_warning", -2}}, cfg, "hold_warning", "-2"},
      {"hold_warning below 1 ms", "orders", {{"url", pg}, {"hold_warning", 0.0001}}, cfg, "hold_warning", "0.0001"},
      {"statement_timeout: 0", "orders", {{"url", pg}, {"statement_timeout", 0}}, cfg, "statement_timeout", "0"},
      {"statement_timeout below 1 ms (truncated to 0, off)", "orders", {{"url", pg}, {"statement_timeout", 0.0001}},
       cfg, "statement_timeout", "0.0001"},
      {"statement_timeout: -1", "orders", {{"url", pg}, {"statement_timeout", -1}}, cfg, "statement_timeout", "-1"},
      {"statement_timeout: 5m", "orders", {{"url", pg}, {"statement_timeout", "5m"}}, cfg, "statement_timeout",
       "'5m'"},
      {"statement_timeout with a NUL", "orders", {{"url", pg}, {"statement_timeout", "5\0"s}}, cfg,
       "statement_timeout", "'5\\x00'"},
      {"pool_recycle_jitter: 1.5", "orders", {{"url", pg}, {"pool_recycle_jitter", 1.5}}, cfg, "pool_recycle_jitter",
       "1.5"},
      {"pool_recycle_jitter: -0.1", "orders", {{"url", pg}, {"pool_recycle_jitter", -0.1}}, cfg,
       "pool_recycle_jitter", "-0.1"},
      {"pool_recycle_jitter: lots", "orders", {{"url", pg}, {"pool_recycle_jitter", "lots"}}, cfg,
       "pool_recycle_jitter", "'lots'"},
      // Texts.
      {"query_lg_level: loud", "orders", {{"url", pg}, {"query_lg_level", "loud"}}, cfg, "query_lg_level", "'loud'"},
      {"query_lg_level: 3", "orders", {{"url", pg}, {"query_lg_level", 3}}, cfg, "query_lg_level", "3"},
      {"query_lg_level: ''", "orders", {{"url", pg}, {"query_lg_level", ""}}, cfg, "query_lg_level", "''"},
      {"query_lg_level with a NUL", "orders", {{"url", pg}, {"query_lg_level", "info\0"s}}, cfg, "query_lg_level",
       "'info\\x00'"},
      {"query_lg_level of 1 MB", "orders", {{"url", pg}, {"query_lg_level", mb}}, cfg, "query_lg_level",
       "(1048576 bytes)"},
      {"pool_reuse: stack", "orders", {{"url", pg}, {"pool_reuse", "stack"}}, cfg, "pool_reuse", "'stack'"},
      {"pool_reuse: 1", "orders", {{"url", pg}, {"pool_reuse", 1}}, cfg, "pool_reuse", "1"},
      {"pool_reuse of 1 MB", "orders", {{"url", pg}, {"pool_reuse", mb}}, cfg, "pool_reuse", "(1048576 bytes)"},
      {"pool_reuse with a NUL", "orders", {{"url", pg}, {"pool_reuse", "fifo\0"s}}, cfg, "pool_reuse",
       "'fifo\\x00'"},
      {"an extension name with a space", "orders", {{"url", pg}, {"extensions", "pg crypto"}}, cfg, "extensions",
       "'pg crypto'"},
      {"an extension list with SQL in it", "orders", {{"url", pg}, {"extensions", "pgcrypto; DROP TABLE x"}}, cfg,
       "extensions", "'pgcrypto; DROP TABLE x'"},
      {"extensions: 5", "orders", {{"url", pg}, {"extensions", 5}}, cfg, "extensions", "5"},
      {"an extension list with a NUL", "orders", {{"url", pg}, {"extensions", "pgcrypto,\0evil"s}}, cfg,
       "extensions", "'pgcrypto,\\x00evil'"},
      {"an extension name of 1 MB", "orders", {{"url", pg}, {"extensions", mb}}, cfg, "extensions",
       "(1048576 bytes)"},
      {"schema: Public", "orders", {{"url", pg}, {"schema", "Public"}}, cfg, "schema", "'Public'"},
      {"schema: 1abc", "orders", {{"url", pg}, {"schema", "1abc"}}, cfg, "schema", "'1abc'"},
      {"schema: a;drop", "orders", {{"url", pg}, {"schema", "a;drop"}}, cfg, "schema", "'a;drop'"},
      {"schema: ''", "orders", {{"url", pg}, {"schema", ""}}, cfg, "schema", "''"},
      {"schema: 7", "orders", {{"url", pg}, {"schema", 7}}, cfg, "schema", "7"},
      {"schema with a NUL", "orders", {{"url", pg}, {"schema", "app\0x"s}}, cfg, "schema", "'app\\x00x'"},
      {"schema of 1 MB", "orders", {{"url", pg}, {"schema", mb}}, cfg, "schema", "(1048576 bytes)"},
      {"password_file: ''", "orders", {{"url", pg}, {"password_file", ""}}, cfg, "password_file", "''"},
      {"password_file: 5", "orders", {{"url", pg}, {"password_file", 5}}, cfg, "password_file", "5"},
      {"password_file with a NUL", "orders", {{"url", pg}, {"password_file", "/run/secrets/pw\0x"s}}, cfg,
       "password_file", "'/run/secrets/pw\\x00x'"},
      {"password_file on SQLite", "cache", {{"url", lite}, {"password_file", "/run/secrets/pw"}}, cfg,
       "password_file", "'/run/secrets/pw'"},
      // Combinations.
      {"password_file with a password in the url", "orders",
       {{"url", "postgresql://app:Hunter2Hunter2@db.internal/orders"}, {"password_file", "/run/secrets/pw"}}, cfg,
       "password_file", "'/run/secrets/pw'", "Hunter2Hunter2"},
      {"password_file with ?password= in the url", "orders",
       {{"url", pg + "?password=Hunter2Hunter2"}, {"password_file", "/run/secrets/pw"}}, cfg, "url",
       "password=***", "Hunter2Hunter2"},
      {"password_file with a key/value password", "orders",
       {{"url", "host=db dbname=orders password='Hunter2Hunter2'"}, {"password_file", "/run/secrets/pw"}}, cfg,
       "password_file", "'/run/secrets/pw'", "Hunter2Hunter2"},
      {"readonly with create_db", "orders", {{"url", pg}, {"readonly", true}, {"create_db", true}}, cfg, "create_db",
       "true"},
      // The same key twice in one mapping: the last would silently win.
      {"pool_size twice", "orders", {{"url", pg}, {"pool_size", 1}, {"pool_size", 7}}, cfg, "pool_size", "7"},
      {"url twice", "orders", {{"url", pg}, {"url", "postgresql://other/db"}}, cfg, "url", "other/db"},
      {"readonly twice", "orders", {{"url", pg}, {"readonly", true}, {"readonly", false}}, cfg, "readonly", "false"},
      {"an unknown key twice", "orders", {{"url", pg}, {"colour", 1}, {"colour", 2}}, cfg, "colour", ""},
      // Other database names are named too.
      {"another database's name", "billing-replica", {{"url", pg}, {"max_overflow", -4}}, cfg, "max_overflow", "-4"},
  };
}

}  // namespace

TEST_CASE("every configuration in the bad-configuration corpus is rejected naming the database, key and value") {
  const auto cases = corpus();
  CHECK(cases.size() >= 80);
  test::run_corpus("bad configuration (DatabaseConfig::from)", cases, [](const BadConfig& c) {
    return test::judge(c, [&] { (void)db::DatabaseConfig::from(c.db, c.options); });
  });
}
