// The replica keys and the rule that makes a replica fit for reads (pg::Replicated):
// no server needed.

#include <appinfra/db/config.hpp>
#include <appinfra/pg/detail/replica_check.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace appinfra;
using appinfra::pg::detail::judge;

TEST_CASE("a standby within max_replica_lag is fit; one further behind or with an unknown lag is not") {
  CHECK(judge(true, 0.0, 10).fit);
  CHECK(judge(true, 10.0, 10).fit);
  const auto behind = judge(true, 12.5, 10);
  CHECK_FALSE(behind.fit);
  CHECK(behind.role == db::HostRole::standby);
  CHECK(behind.error.find("12.500 s behind") != std::string::npos);
  CHECK(behind.error.find("max_replica_lag") != std::string::npos);
  const auto unknown = judge(true, std::nullopt, 10);
  CHECK_FALSE(unknown.fit);
  CHECK(unknown.error.find("lag unknown") != std::string::npos);
  CHECK(judge(true, 0.0, 0).fit);  // max_replica_lag 0: only a standby that has replayed all it received
}

TEST_CASE("a standby's lag is 0 only when it replayed all it received and is not behind the primary's last position") {
  using appinfra::pg::detail::replica_lag;
  CHECK(replica_lag(true, 600.0, 1000, 1000) == 0.0);  // an idle primary: the last transaction is old, no lag
  CHECK(replica_lag(true, 600.0, 1000, 0) == 0.0);     // the primary's position not known yet
  // Cut off from the primary: it replayed all it received, but the primary went on.
  CHECK(replica_lag(true, 600.0, 1000, 5000) == 600.0);
  CHECK(replica_lag(false, 2.5, 1000, 1000) == 2.5);  // still replaying
  CHECK_FALSE(replica_lag(false, std::nullopt, 1000, 1000).has_value());
}

TEST_CASE("a primary is never a fit replica: it takes reads only as the fallback") {
  const auto v = judge(false, 0.0, 10);
  CHECK(v.role == db::HostRole::primary);
  CHECK_FALSE(v.fit);
  CHECK(v.error.empty());
}

namespace {
db::ConfigError rejected(const db::Options& o) {
  try {
    (void)db::DatabaseConfig::from("main", o);
  } catch (const db::ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  return db::ConfigError("", "", "", "");
}
}  // namespace

TEST_CASE("replicas take a list of urls, or one url as a text whose commas are its hosts") {
  const auto c = db::DatabaseConfig::from(
      "main", {{"url", "postgresql://app:pw@p/db"},
               {"replicas", db::Value::List{"postgresql://app:pw@r1/db", "postgresql://app:pw@r2,r3/db"}},
               {"max_replica_lag", 2.5},
               {"replica_check_interval", 0.2},
               {"replica_fallback", "error"}});
  REQUIRE(c.pg.replicas.size() == 2);
  CHECK(c.pg.replicas[1].host() == "r2,r3");
  CHECK(c.pg.max_replica_lag.count() == 2.5);
  CHECK(c.pg.replica_check_interval.count() == 0.2);
  CHECK(c.pg.replica_fallback == db::PgOptions::ReplicaFallback::error);
  const auto one = db::DatabaseConfig::from(
      "main", {{"url", "postgresql://p/db"}, {"replicas", "postgresql://r1,r2/db?target_session_attrs=any"}});
  REQUIRE(one.pg.replicas.size() == 1);
  CHECK(one.pg.replicas[0].host() == "r1,r2");
  const auto none = db::DatabaseConfig::from("main", {{"url", "postgresql://p/db"}});
  CHECK(none.pg.replicas.empty());
  CHECK(none.pg.replica_fallback == db::PgOptions::ReplicaFallback::primary);
}

TEST_CASE("a bad replica url is rejected naming the database and the key, never its password") {
  const auto e = rejected({{"url", "postgresql://p/db"},
                           {"replicas", db::Value::List{"postgresql://app:s3cretpw@r1/db", "mysql://app:s3cretpw@r2/db"}}});
  CHECK(e.database() == "main");
  CHECK(e.key() == "replicas");
  CHECK(std::string(e.what()).find("not a postgresql:// url") != std::string::npos);
  CHECK(std::string(e.what()).find("s3cretpw") == std::string::npos);
  CHECK(rejected({{"url", "sqlite:///x.db"}, {"replicas", "postgresql://r/db"}}).key() == "replicas");
  CHECK(rejected({{"url", "postgresql://p/db"}, {"replica_check_interval", 0}}).key() == "replica_check_interval");
  CHECK(rejected({{"url", "postgresql://p/db"}, {"max_replica_lag", -1}}).key() == "max_replica_lag");
  CHECK(rejected({{"url", "postgresql://p/db"}, {"replica_fallback", "nowhere"}}).key() == "replica_fallback");
}
