#include <appinfra/db/config.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

using namespace appinfra;
using db::ConfigError;
using db::DatabaseConfig;
using db::Options;
using Catch::Matchers::Contains;

namespace {
ConfigError rejected(const Options& o, const char* name = "primary") {
  try {
    (void)DatabaseConfig::from(name, o);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  throw;
}
}  // namespace

TEST_CASE("defaults are the seed's") {
  const auto c = DatabaseConfig::from("primary", {{"url", "postgresql://h/db"}});
  CHECK(c.name == "primary");
  CHECK(c.readonly == false);
  CHECK(c.create_db == false);
  CHECK(c.pool.pool_size == 5);
  CHECK(c.pool.max_overflow == 10);
  CHECK(c.pool.timeout.count() == 30.0);
  CHECK(c.pool.recycle.count() == 3600.0);
  CHECK(c.pool.pre_ping == true);
  CHECK(c.query_log.echo == false);
  CHECK(c.setup.auto_reconnect == true);
  CHECK(c.pool.max_retries == 3);
  CHECK(c.pool.retry_delay.count() == 1.0);
  CHECK(c.query_log_level() == log::Level::off);
  CHECK(c.setup.retry == true);
  CHECK(c.setup.retry_max_interval.count() == 2.0);
}

TEST_CASE("every option is read") {
  const auto c = DatabaseConfig::from("ro", {{"url", "postgresql://h/db"},
                                              {"readonly", true},
                                              {"pool_size", 3},
                                              {"max_overflow", 0},
                                              {"pool_timeout", 2.5},
                                              {"pool_recycle", -1},
                                              {"pool_pre_ping", false},
                                              {"echo", true},
                                              {"auto_reconnect", false},
                                              {"max_retries", 0},
                                              {"retry_delay", 0},
                                              {"query_lg_level", "debug"}});
  CHECK(c.readonly);
  CHECK(c.pool.pool_size == 3);
  CHECK(c.pool.max_overflow == 0);
  CHECK(c.pool.timeout.count() == 2.5);
  CHECK(c.pool.recycle.count() == -1.0);
  CHECK_FALSE(c.pool.pre_ping);
  CHECK(c.query_log.echo);
  CHECK_FALSE(c.setup.auto_reconnect);
  CHECK(c.pool.max_retries == 0);
  CHECK(c.query_log_level() == log::Level::debug);
}

TEST_CASE("echo: true logs queries at info unless query_lg_level says otherwise") {
  CHECK(DatabaseConfig::from("a", {{"url", "sqlite://"}, {"echo", true}}).query_log_level() == log::Level::info);
}

TEST_CASE("values given as text, as from environment variables, are accepted") {
  const auto c = DatabaseConfig::from("a", {{"url", "sqlite://"}, {"pool_size", "7"}, {"readonly", "true"},
                                            {"pool_timeout", "0.5"}});
  CHECK(c.pool.pool_size == 7);
  CHECK(c.readonly);
  CHECK(c.pool.timeout.count() == 0.5);
}

TEST_CASE("a missing url is an error naming the database and the key") {
  const auto e = rejected({{"pool_size", 5}});
  CHECK(e.database() == "primary");
  CHECK(e.key() == "url");
  CHECK_THAT(e.what(), Contains("'primary'") && Contains("'url'") && Contains("missing"));
}

TEST_CASE("an empty url is an error") {
  const auto e = rejected({{"url", ""}});
  CHECK(e.key() == "url");
  CHECK_THAT(e.what(), Contains("empty"));
}

TEST_CASE("pool_size 0 is an error naming database, key and value") {
  const auto e = rejected({{"url", "sqlite://"}, {"pool_size", 0}});
  CHECK(e.key() == "pool_size");
  CHECK(e.value() == "0");
  CHECK_THAT(e.what(), Contains("'primary'") && Contains("'pool_size'") && Contains("0") && Contains("at least 1"));
}

TEST_CASE("negative max_overflow and pool_timeout are errors") {
  CHECK(rejected({{"url", "sqlite://"}, {"max_overflow", -1}}).key() == "max_overflow");
  CHECK(rejected({{"url", "sqlite://"}, {"pool_timeout", -3}}).key() == "pool_timeout");
  CHECK(rejected({{"url", "sqlite://"}, {"pool_timeout", 0}}).key() == "pool_timeout");
  CHECK(rejected({{"url", "sqlite://"}, {"pool_recycle", -2}}).key() == "pool_recycle");
  CHECK(rejected({{"url", "sqlite://"}, {"max_retries", -1}}).key() == "max_retries");
}

TEST_CASE("readonly together with create_db is an error") {
  const auto e = rejected({{"url", "postgresql://h/db"}, {"readonly", true}, {"create_db", true}});
  CHECK(e.key() == "create_db");
  CHECK_THAT(e.what(), Contains("readonly"));
}

TEST_CASE("a value of the wrong type is an error naming it") {
  const auto e = rejected({{"url", "sqlite://"}, {"pool_size", "ten"}});
  CHECK(e.value() == "'ten'");
  CHECK_THAT(e.what(), Contains("integer"));
  CHECK(rejected({{"url", "sqlite://"}, {"readonly", "maybe"}}).key() == "readonly");
  CHECK(rejected({{"url", 5}}).key() == "url");
  CHECK(rejected({{"url", "sqlite://"}, {"query_lg_level", "loud"}}).key() == "query_lg_level");
}

TEST_CASE("a misspelled key is an error listing the known ones") {
  const auto e = rejected({{"url", "sqlite://"}, {"pool_sise", 3}});
  CHECK(e.key() == "pool_sise");
  CHECK_THAT(e.what(), Contains("unknown key") && Contains("pool_size"));
}

TEST_CASE("a password in the url never appears in a configuration error") {
  const auto e = rejected({{"url", "postgresql://u:hunter2@h/db"}, {"pool_size", 0}});
  CHECK_THAT(e.what(), !Contains("hunter2"));
  const auto e2 = rejected({{"url", "postgresql://u:hunter2@h/db"}, {"bogus", "postgresql://u:hunter2@h/db"}});
  CHECK_THAT(e2.what(), !Contains("hunter2"));
}

TEST_CASE("a database configured twice is an error") {
  CHECK_THROWS_AS((db::Config{{"a", {{"url", "sqlite://"}}}, {"a", {{"url", "sqlite://"}}}}), ConfigError);
}

TEST_CASE("Config keeps configuration order") {
  db::Config c{{"z", {{"url", "sqlite://"}}}, {"a", {{"url", "sqlite://"}}}};
  std::vector<std::string> names;
  for (const auto& [n, o] : c) names.push_back(n);
  CHECK(names == std::vector<std::string>{"z", "a"});
}

TEST_CASE("options accept every integer and floating-point type") {
  const auto c = DatabaseConfig::from("a", {{"url", "sqlite://"}, {"pool_size", std::size_t{4}},
                                            {"max_overflow", short{2}}, {"pool_timeout", 1.5f}});
  CHECK(c.pool.pool_size == 4);
  CHECK(c.pool.max_overflow == 2);
  CHECK(c.pool.timeout.count() == 1.5);
}

TEST_CASE("the value of an unknown key, or of a key naming a secret, is never shown") {
  const auto e = rejected({{"url", "sqlite://"}, {"password", "Sekr1tA"}});
  CHECK(e.key() == "password");
  CHECK_THAT(e.what(), !Contains("Sekr1tA"));
  CHECK(e.value() == "***");
  CHECK(db::Value("Sekr1tA").display("db_password") == "***");
  CHECK(db::Value("x").display("pool_size") == "'x'");
}

TEST_CASE("infinite, not-a-number and absurdly large durations are rejected") {
  CHECK(rejected({{"url", "sqlite://"}, {"pool_timeout", "inf"}}).key() == "pool_timeout");
  CHECK(rejected({{"url", "sqlite://"}, {"pool_timeout", "nan"}}).key() == "pool_timeout");
  CHECK(rejected({{"url", "sqlite://"}, {"pool_recycle", 1e300}}).key() == "pool_recycle");
  CHECK_THAT(rejected({{"url", "sqlite://"}, {"idle_timeout", 1e10}}).what(), Contains("at most"));
}

TEST_CASE("an unsigned value too large for the option is reported, not wrapped") {
  const auto e = rejected({{"url", "sqlite://"}, {"pool_size", std::numeric_limits<std::uint64_t>::max()}});
  CHECK(e.key() == "pool_size");
  CHECK_THAT(e.what(), !Contains("-1"));
}

TEST_CASE("the pool options are read and checked") {
  const auto c = DatabaseConfig::from("p", {{"url", "sqlite://"}, {"pool_reuse", "fifo"}, {"min_idle", 2},
                                            {"lazy_min_idle", true}, {"idle_timeout", -1}, {"hold_warning", 5},
                                            {"pre_ping_window", 0.5}, {"pool_recycle_jitter", 0.2}});
  CHECK(c.pool.reuse == db::ReuseOrder::fifo);
  CHECK(c.pool.min_idle == 2);
  CHECK(c.pool.lazy_min_idle);
  CHECK(c.pool.idle_timeout.count() == -1);
  CHECK(c.pool.hold_warning.count() == 5);
  CHECK(c.pool.pre_ping_window.count() == 0.5);
  CHECK(c.pool.recycle_jitter == 0.2);
  CHECK(rejected({{"url", "sqlite://"}, {"pool_reuse", "random"}}).key() == "pool_reuse");
  CHECK(rejected({{"url", "sqlite://"}, {"min_idle", 9}}).key() == "min_idle");
  CHECK(rejected({{"url", "sqlite://"}, {"pool_recycle_jitter", 1.5}}).key() == "pool_recycle_jitter");
}

TEST_CASE("pre_ping_grace: 5 ms by default, never past pre_ping_window") {
  CHECK(DatabaseConfig::from("p", {{"url", "sqlite://"}}).pool.pre_ping_grace.count() == 0.005);
  CHECK(DatabaseConfig::from("p", {{"url", "sqlite://"}, {"pre_ping_grace", 0}}).pool.pre_ping_grace.count() == 0);
  // A window of 0 asks for a round trip on every checkout: the default grace follows it.
  CHECK(DatabaseConfig::from("p", {{"url", "sqlite://"}, {"pre_ping_window", 0}}).pool.pre_ping_grace.count() == 0);
  const auto e = rejected({{"url", "sqlite://"}, {"pre_ping_window", 0.5}, {"pre_ping_grace", 2}});
  CHECK(e.key() == "pre_ping_grace");
  CHECK(e.value() == "2");
  CHECK_THAT(e.what(), Contains("at most pre_ping_window (0.5 s)"));
  CHECK(rejected({{"url", "sqlite://"}, {"pre_ping_grace", -1}}).key() == "pre_ping_grace");
}

TEST_CASE("setup_retry and setup_retry_max_interval are read and checked like the other durations") {
  const auto c = DatabaseConfig::from("p", {{"url", "sqlite://"}, {"setup_retry", "false"},
                                            {"setup_retry_max_interval", 0.25}});
  CHECK_FALSE(c.setup.retry);
  CHECK(c.setup.retry_max_interval.count() == 0.25);
  CHECK(DatabaseConfig::from("p", {{"url", "sqlite://"}, {"setup_retry_max_interval", "30"}})
            .setup.retry_max_interval.count() == 30.0);
  // 0 would retry without pause: the cap must be positive.
  const auto zero = rejected({{"url", "sqlite://"}, {"setup_retry_max_interval", 0}});
  CHECK(zero.key() == "setup_retry_max_interval");
  CHECK(zero.value() == "0");
  CHECK_THAT(zero.what(), Contains("'primary'") && Contains("'setup_retry_max_interval'"));
  CHECK_THAT(zero.what(), Contains("greater than 0"));
  CHECK(rejected({{"url", "sqlite://"}, {"setup_retry_max_interval", -1}}).key() == "setup_retry_max_interval");
  CHECK(rejected({{"url", "sqlite://"}, {"setup_retry_max_interval", "inf"}}).key() == "setup_retry_max_interval");
  CHECK(rejected({{"url", "sqlite://"}, {"setup_retry_max_interval", 1e10}}).key() == "setup_retry_max_interval");
  CHECK(rejected({{"url", "sqlite://"}, {"setup_retry", "sometimes"}}).key() == "setup_retry");
}

TEST_CASE("a key given twice in one mapping is an error naming the database, the key and both values") {
  const auto e = rejected({{"url", "sqlite://"}, {"pool_size", 1}, {"pool_size", 7}}, "orders");
  CHECK(e.database() == "orders");
  CHECK(e.key() == "pool_size");
  CHECK(e.value() == "7");
  CHECK_THAT(e.what(), Contains("'orders'") && Contains("'pool_size'") && Contains("1 and 7") && Contains("twice"));
  // A secret's values stay hidden.
  const auto secret = rejected({{"url", "postgresql://u:pw1@h/db"}, {"url", "postgresql://u:pw2@h/db"}});
  CHECK_THAT(secret.what(), !Contains("pw1") && !Contains("pw2"));
}

TEST_CASE("an override with set() replaces a value: it is not a duplicate") {
  Options o{{"url", "sqlite://"}, {"pool_size", 1}};
  o.set("pool_size", 7);  // from the environment, say
  CHECK(o.duplicate() == nullptr);
  CHECK(DatabaseConfig::from("orders", o).pool.pool_size == 7);
  // add() is for the keys of one mapping, as a config file reader gives them.
  Options read;
  read.add("url", "sqlite://").add("max_overflow", 2).add("max_overflow", 3);
  REQUIRE(read.duplicate() != nullptr);
  CHECK(read.duplicate()->key == "max_overflow");
  CHECK(rejected(read).key() == "max_overflow");
}

TEST_CASE("a non-zero duration below 1 ms is an error: it would become 0") {
  // statement_timeout 0.0001 used to become 0 (off); pool_timeout 0.0005 a SQLite busy timeout of 0.
  const auto e = rejected({{"url", "postgresql://h/db"}, {"statement_timeout", 0.0001}});
  CHECK(e.key() == "statement_timeout");
  CHECK(e.value() == "0.0001");
  CHECK_THAT(e.what(), Contains("'primary'") && Contains("resolution") && Contains("1 ms"));
  CHECK(rejected({{"url", "sqlite://"}, {"pool_timeout", "0.0005"}}).key() == "pool_timeout");
  CHECK(rejected({{"url", "sqlite://"}, {"pool_recycle", -0.0005}}).key() == "pool_recycle");
  // 1 ms itself, and 0 where 0 is allowed, are fine.
  CHECK(DatabaseConfig::from("a", {{"url", "postgresql://h/db"}, {"statement_timeout", 0.001}})
            .pg.statement_timeout->count() == 0.001);
  CHECK(DatabaseConfig::from("a", {{"url", "sqlite://"}, {"retry_delay", 0}}).pool.retry_delay.count() == 0);
}

TEST_CASE("a NUL in a value or a key is an error, shown escaped so what() is not cut short") {
  using namespace std::string_literals;
  const auto url = rejected({{"url", "postgresql://h/db\0?sslmode=require"s}});
  CHECK(url.key() == "url");
  CHECK_THAT(std::string(url.what()), Contains("db\\x00?sslmode=require") && Contains("NUL"));
  const auto key = rejected({{"url", "sqlite://"}, {"pool\0size"s, 1}});
  CHECK(key.key() == "pool\0size"s);
  CHECK_THAT(std::string(key.what()), Contains("'pool\\x00size'") && Contains("known keys"));
}

TEST_CASE("a database name with control characters is an error showing it escaped") {
  const auto e = rejected({{"url", "sqlite://"}}, "a\nb");
  CHECK(e.database() == "a\nb");
  CHECK_THAT(e.what(), Contains("'a\\nb'"));
}

TEST_CASE("long values are shown once, shortened to 60 characters and their size") {
  const std::string mb(1 << 20, 'x');
  const auto e = rejected({{"url", "sqlite://"}, {"pool_reuse", mb}});
  CHECK(e.value() == "'" + std::string(60, 'x') + "...' (1048576 bytes)");
  CHECK(std::string_view(e.what()).size() < 300);
  CHECK(db::detail::shown(std::string(80, 'y')) == "'" + std::string(80, 'y') + "'");
  // Never inside a UTF-8 character.
  CHECK(db::detail::shown(std::string(59, 'a') + "\xc3\xa9" + std::string(40, 'b')) ==
        "'" + std::string(59, 'a') + "...' (101 bytes)");
}

TEST_CASE("PostgreSQL's keys on a SQLite url are errors showing the value") {
  const auto e = rejected({{"url", "sqlite:///app.db"}, {"schema", "app"}});
  CHECK(e.key() == "schema");
  CHECK(e.value() == "'app'");
  CHECK_THAT(e.what(), Contains("PostgreSQL"));
  CHECK(rejected({{"url", "sqlite:///app.db"}, {"extensions", "pgcrypto"}}).key() == "extensions");
  CHECK(rejected({{"url", "sqlite:///app.db"}, {"keepalives", true}}).key() == "keepalives");
  CHECK(DatabaseConfig::from("p", {{"url", "postgresql://h/db"}, {"schema", "app"}}).pg.schema == "app");
}

TEST_CASE("the url's password given to another key is not shown in the error about that key") {
  // The same ${VAR} in two places, or a password pasted into the wrong key: the
  // message about the other key must not carry it.
  const auto message = [](Options o) {
    try {
      (void)DatabaseConfig::from("p", o);
    } catch (const ConfigError& e) {
      CHECK(std::string(e.value()).find("s3cretPW") == std::string::npos);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string url = "postgresql://app:s3cretPW@127.0.0.1:1/app";
  for (const auto& what : {message({{"url", url}, {"pool_timeout", "s3cretPW"}}),
                           message({{"url", url}, {"schema", "s3cretPWx"}}),
                           message({{"url", url}, {"extensions", db::Value::List{"ok", "S3cretPW", "s3cretPW"}}}),
                           message({{"url", "postgresql://app@h/db?password=s3cretPW"}, {"query_lg_level", "s3cretPW"}}),
                           message({{"url", "host=h password=s3cretPW"}, {"pool_reuse", "s3cretPW"}})}) {
    INFO(what);
    CHECK(what.find("s3cretPW") == std::string::npos);
    CHECK_THAT(what, Contains("database 'p': key '"));
  }
  Options twice;
  twice.add("url", url).add("pool_timeout", "s3cretPW").add("pool_timeout", 1);
  const std::string dup = message(twice);
  CHECK_THAT(dup, Contains("given twice"));
  CHECK(dup.find("s3cretPW") == std::string::npos);
}

TEST_CASE("pooler: none by default; transaction turns automatic preparation off unless it is set") {
  CHECK(DatabaseConfig::from("primary", {{"url", "postgresql://h/db"}}).pg.pooler == db::Pooler::none);
  const auto c = DatabaseConfig::from("primary", {{"url", "postgresql://h/db"}, {"pooler", "transaction"}});
  CHECK(c.pg.pooler == db::Pooler::transaction);
  CHECK(c.pg.prepare_threshold == 0);
  CHECK(DatabaseConfig::from("primary", {{"url", "postgresql://h/db"}, {"pooler", "none"}}).pg.prepare_threshold == 5);
  CHECK(DatabaseConfig::from("primary", {{"url", "postgresql://h/db"}, {"pooler", "transaction"}, {"prepare_threshold", 0}})
            .pg.prepare_threshold == 0);
}

TEST_CASE("a bad pooler, or one with prepare_threshold or create_db, is a ConfigError naming the keys") {
  const auto bad = rejected({{"url", "postgresql://h/db"}, {"pooler", "session"}}, "orders");
  CHECK(bad.database() == "orders");
  CHECK(bad.key() == "pooler");
  CHECK(bad.value() == "'session'");
  CHECK_THAT(bad.what(), Contains("'orders'") && Contains("'pooler'") && Contains("'session'") &&
                             Contains("'none' or 'transaction'"));
  const auto both = rejected({{"url", "postgresql://h/db"}, {"pooler", "transaction"}, {"prepare_threshold", 5}});
  CHECK(both.key() == "prepare_threshold");
  CHECK(both.value() == "5");
  CHECK_THAT(both.what(), Contains("key 'prepare_threshold' is 5 but key 'pooler' is 'transaction'"));
  const auto create = rejected({{"url", "postgresql://h/db"}, {"pooler", "transaction"}, {"create_db", true}});
  CHECK(create.key() == "create_db");
  CHECK_THAT(create.what(), Contains("'pooler' is 'transaction'") && Contains("directly"));
  CHECK_THAT(rejected({{"url", "sqlite:///x.db"}, {"pooler", "transaction"}}).what(), Contains("for PostgreSQL"));
}
