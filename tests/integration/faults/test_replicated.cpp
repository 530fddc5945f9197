// pg::Replicated against a real primary and a streaming standby that the test
// starts itself (pg_cluster.hpp): where reads and writes go, a replica skipped
// while it lags or is down and taken back when it is fit again. The failover under
// load (the primary killed, the standby promoted) is a scenario of test_faults.cpp.

#include "../../support/laws/backend.hpp"
#include "../../support/pg_cluster.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

using namespace appinfra;
using namespace std::chrono_literals;

namespace {

// A primary and an asynchronous streaming standby, shared by the cases of this
// file (none promotes it): made at first use, stopped and removed at exit.
struct Pair {
  std::unique_ptr<test::PgCluster> primary, standby;
};
Pair& pair() {
  static Pair p;
  if (!p.primary) {
    auto primary = std::make_unique<test::PgCluster>();
    primary->start();
    primary->create_app_role();
    primary->sql("CREATE TABLE lag_probe (id serial PRIMARY KEY)");
    auto standby = primary->make_standby();
    standby->start();
    p.primary = std::move(primary);
    p.standby = std::move(standby);
  }
  if (p.standby->postmaster_pid() == 0) p.standby->start();  // a failed case left it down
  p.standby->sql("SELECT pg_wal_replay_resume()");
  return p;
}

db::DatabaseConfig config(const Pair& p, std::initializer_list<db::Options::Item> extra = {}) {
  db::Options o{{"url", p.primary->url()},
                {"replicas", db::Value::List{p.standby->url()}},
                {"replica_check_interval", 0.05},
                {"pool_timeout", 2}};
  for (const auto& [k, v] : extra) o.set(k, v);
  return db::DatabaseConfig::from("main", o);
}

template <class Handle>
bool in_recovery(Handle&& h) {
  return h.execute("SELECT pg_is_in_recovery()").template scalar<bool>();
}

// Polls `done` every 10 ms for up to 10 s.
bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

const log::Logger quiet(log::Level::off);

}  // namespace

TEST_CASE("pg::Replicated: connect() and session() go to the primary; connect(db::replica) and "
          "session(db::replica) to the standby, read-only",
          "[replicas]") {
  Pair& p = pair();
  pg::Replicated<> db(quiet, config(p));
  CHECK_FALSE(in_recovery(db.connect()));
  {
    auto s = db.session();
    CHECK_FALSE(in_recovery(s));
  }
  CHECK(in_recovery(db.connect(db::replica)));
  {
    auto s = db.session(db::replica, db::Deadline::in(5s));
    CHECK(in_recovery(s));
    CHECK_THROWS_AS(s.execute("CREATE TABLE never (i int)"), db::QueryError);
  }

  const db::PoolStatus status = db.get_pool_status();
  REQUIRE(status.hosts.size() == 2);
  const db::HostState& first = status.hosts[0].state;
  const db::HostState& second = status.hosts[1].state;
  CHECK(first.role == db::HostRole::primary);
  CHECK(first.writer);
  CHECK(first.configured_primary);
  CHECK(second.role == db::HostRole::standby);
  CHECK(second.fit);
  CHECK_FALSE(second.writer);
  CHECK(second.lag_s.has_value());
  CHECK(second.host.find(std::to_string(p.standby->port())) != std::string::npos);
  CHECK(second.host.find(":pw@") == std::string::npos);  // redacted
  CHECK(status.hosts[0].writes.has_value());
  CHECK(status.hosts[1].reads.has_value());
  CHECK(status.total_connections == status.checked_in + status.checked_out);

  const db::HealthResult health = db.health_check();
  CHECK(health.healthy());
  REQUIRE(health.hosts.size() == 2);
  CHECK(health.hosts[1].role == db::HostRole::standby);

  // In a Manager: the database's own connect() is the primary's, and PG<> does not
  // take a database with replicas.
  db::Manager<pg::PG<>, pg::Replicated<>> m(quiet, {{"main", {{"url", p.primary->url()},
                                                               {"replicas", p.standby->url()}}}});
  m.setup();
  REQUIRE(m.db("main").holds<pg::Replicated<>>());
  CHECK_FALSE(in_recovery(m.db("main").connect()));
  CHECK(in_recovery(m.db("main").get<pg::Replicated<>>().connect(db::replica)));
  db::Manager<pg::PG<>> without(quiet, {{"main", {{"url", p.primary->url()}, {"replicas", p.standby->url()}}}});
  CHECK_THROWS_AS(without.setup(), db::SetupError);
  REQUIRE(without.get_setup_errors().size() == 1);
  CHECK(without.get_setup_errors().begin()->second.find("pg::Replicated") != std::string::npos);
}

TEST_CASE("a replica further behind than max_replica_lag gets no reads until it has caught up; with "
          "replica_fallback = error, reads then fail naming the database and the host",
          "[replicas]") {
  Pair& p = pair();
  pg::Replicated<> db(quiet, config(p, {{"max_replica_lag", 0.3}}));
  pg::Replicated<> strict(quiet, config(p, {{"max_replica_lag", 0.3}, {"replica_fallback", "error"}}));
  REQUIRE(eventually([&] { return db.host_states()[1].fit && strict.host_states()[1].fit; }));
  CHECK(in_recovery(db.connect(db::replica)));

  struct Resume {  // never leave the shared standby paused
    Pair& p;
    ~Resume() { p.standby->sql("SELECT pg_wal_replay_resume()"); }
  } resume{p};
  // A transaction replayed before the pause, whose timestamp then ages.
  const std::string n = p.primary->sql("INSERT INTO lag_probe DEFAULT VALUES RETURNING id");
  REQUIRE(eventually([&] { return p.standby->sql("SELECT count(*) FROM lag_probe WHERE id = " + n) == "1"; }));
  p.standby->sql("SELECT pg_wal_replay_pause()");
  // Received but not replayed: the lag is the age of the last replayed transaction.
  p.primary->sql("INSERT INTO lag_probe DEFAULT VALUES");
  REQUIRE(eventually([&] { return !db.host_states()[1].fit && !strict.host_states()[1].fit; }));
  const db::HostState s = db.host_states()[1];
  INFO(s.error);
  CHECK(s.role == db::HostRole::standby);
  CHECK(s.error.find("max_replica_lag") != std::string::npos);
  REQUIRE(s.lag_s.has_value());
  CHECK(*s.lag_s > 0.3);
  CHECK_FALSE(in_recovery(db.connect(db::replica)));  // the fallback: the primary
  try {
    (void)strict.connect(db::replica);
    FAIL("expected a ConnectionError");
  } catch (const db::ConnectionError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("database 'main'") != std::string::npos);
    CHECK(what.find("127.0.0.1:" + std::to_string(p.standby->port())) != std::string::npos);
    CHECK(what.find(":pw@") == std::string::npos);
  }

  p.standby->sql("SELECT pg_wal_replay_resume()");
  REQUIRE(eventually([&] { return db.host_states()[1].fit; }));
  CHECK(in_recovery(db.connect(db::replica)));
}

TEST_CASE("reads go to the primary while the standby is down, and back to the standby once it is up again",
          "[replicas]") {
  Pair& p = pair();
  pg::Replicated<> db(quiet, config(p));
  REQUIRE(eventually([&] { return db.host_states()[1].fit; }));
  auto held = db.connect(db::replica);  // a read connection when it goes down
  p.standby->stop("fast");
  REQUIRE(eventually([&] { return db.host_states()[1].role == db::HostRole::down; }));
  const db::HostState s = db.host_states()[1];
  CHECK_FALSE(s.fit);
  CHECK(s.check_failures_total > 0);
  CHECK(s.error.find(":pw@") == std::string::npos);
  CHECK_THROWS_AS(held.execute("SELECT 1"), db::ConnectionError);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(in_recovery(db.connect(db::replica)));
  CHECK(db.health_check().healthy());  // the primary's

  p.standby->start();
  REQUIRE(eventually([&] { return db.host_states()[1].fit; }));
  CHECK(in_recovery(db.connect(db::replica)));
}

TEST_CASE("a primary that rejoins as a standby of the promoted replica is noticed: writes stay on the new primary, "
          "reads go to the old one", "[replicas]") {
  test::PgCluster a;
  a.start();
  a.create_app_role();
  auto b = a.make_standby();
  b->start();
  db::Options o{{"url", a.url()},
                {"replicas", db::Value::List{b->url()}},
                {"replica_check_interval", 0.05},
                {"pool_timeout", 2}};
  pg::Replicated<> db(quiet, db::DatabaseConfig::from("main", o));
  REQUIRE(eventually([&] { return db.host_states()[1].fit; }));
  a.stop("fast");
  b->promote();
  REQUIRE(eventually([&] { return db.host_states()[1].writer; }));
  CHECK_FALSE(in_recovery(db.connect()));
  a.rebuild_as_standby_of(*b);  // the configured primary comes back, following b
  a.start();
  REQUIRE(eventually([&] {
    const db::HostState s = db.host_states()[0];
    return s.role == db::HostRole::standby && s.fit;
  }));
  CHECK(db.host_states()[1].writer);  // writes do not go back
  CHECK_FALSE(db.host_states()[0].writer);
  CHECK_FALSE(in_recovery(db.connect()));
  CHECK(in_recovery(db.connect(db::replica)));  // reads: the old primary, a standby now
}

TEST_CASE("pg::Replicated keeps the laws of db::Interface", "[replicas]") {
  Pair& p = pair();
  // Checks only at construction (a check holds a connection for a moment, which
  // the laws' exact counts would see).
  const auto make = [&] { return std::make_unique<pg::Replicated<>>(quiet, config(p, {{"replica_check_interval", 600}})); };
  test::laws::backend_laws<pg::Replicated<>>(make);
  test::laws::backend_session_rolls_back_unless_committed<pg::Replicated<>>(make, "replicated_laws");
}

TEST_CASE("a database with replicas is pg::Replicated's, read-write only; PG<> takes those without", "[replicas]") {
  const auto with = db::DatabaseConfig::from("main", {{"url", "postgresql://p/db"}, {"replicas", "postgresql://r/db"}});
  const auto without = db::DatabaseConfig::from("main", {{"url", "postgresql://p/db"}});
  const auto readonly =
      db::DatabaseConfig::from("main", {{"url", "postgresql://p/db"}, {"replicas", "postgresql://r/db"}, {"readonly", true}});
  CHECK(pg::Replicated<>::accepts(with));
  CHECK_FALSE(pg::Replicated<>::accepts(without));
  CHECK_FALSE(pg::Replicated<>::accepts(readonly));
  CHECK_FALSE(pg::PG<>::accepts(with));
  CHECK_FALSE(pg::PG<db::ReadOnly>::accepts(readonly));
  CHECK(pg::PG<>::accepts(without));
}
